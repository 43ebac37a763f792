package netplan

import (
	"net/netip"
	"testing"
)

// allows evaluates a table the way a network ACL does: the lowest-numbered matching rule of the
// direction wins, and nothing matching means deny (every rule in these tables allows).
func allows(rules []AclRule, egress bool, peer string, port int) bool {
	ip := netip.MustParseAddr(peer)
	best := -1
	for _, r := range rules {
		if r.Egress == egress && r.Peer.Contains(ip) && port >= r.FromPort && port <= r.ToPort {
			if best == -1 || r.Number < best {
				best = r.Number
			}
		}
	}
	return best != -1
}

func TestAclTables(t *testing.T) {
	tiers, _ := DefaultTiers(netip.MustParsePrefix("10.0.0.0/16"))
	plan := Plan{Vpc: netip.MustParsePrefix("10.0.0.0/16"), Tiers: tiers}
	acls := Acls(plan, AclOptions{DatabasePort: 3306, AdminSSH: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
	const (
		internet = "198.51.100.7"
		admin    = "203.0.113.9"
		pub      = "10.0.0.10"
		app      = "10.0.128.10"
		mgmt     = "10.0.16.10"
		data     = "10.0.32.10"
	)
	in, out := false, true
	cases := []struct {
		tier   Tier
		egress bool
		peer   string
		port   int
		want   bool
	}{
		{TierPublic, in, internet, 443, true},
		{TierPublic, in, internet, 80, true},
		{TierPublic, in, internet, 22, false},
		{TierPublic, in, admin, 22, true},
		{TierPublic, in, internet, 25, false},
		{TierPublic, out, app, 22, true},
		{TierPublic, out, data, 22, false},
		{TierApplication, out, internet, 443, true},
		{TierApplication, out, internet, 80, false},
		{TierApplication, out, data, 3306, true},
		{TierApplication, in, internet, 443, false},
		{TierApplication, in, internet, 1024, true}, // a reply to a Lambda function's connection
		{TierApplication, in, pub, 9443, true},
		{TierApplication, in, internet, 40000, true},
		{TierApplication, in, pub, 22, true},
		{TierApplication, in, internet, 22, false},
		{TierManagement, out, internet, 443, true},
		{TierManagement, in, app, 8140, true},
		{TierManagement, in, internet, 8140, false},
		{TierData, in, app, 3306, true},
		{TierData, in, mgmt, 3306, true},
		{TierData, in, pub, 3306, false},
		{TierData, in, app, 22, false},
		{TierData, out, internet, 443, false},
		{TierData, out, app, 40000, true},
	}
	for _, c := range cases {
		if got := allows(acls[c.tier], c.egress, c.peer, c.port); got != c.want {
			dir := "in"
			if c.egress {
				dir = "out"
			}
			t.Errorf("%s %s %s:%d = %v, want %v", c.tier, dir, c.peer, c.port, got, c.want)
		}
	}
}

// With interface endpoints in the application tier, every tier reaches them on 443, from any zone;
// the internet still does not.
func TestAclAdmitsInterfaceEndpointsWhenThereAreSome(t *testing.T) {
	tiers, _ := DefaultTiers(netip.MustParsePrefix("10.0.0.0/16"))
	plan := Plan{Vpc: netip.MustParsePrefix("10.0.0.0/16"), Tiers: tiers}
	without := Acls(plan, AclOptions{DatabasePort: 3306})[TierApplication]
	with := Acls(plan, AclOptions{DatabasePort: 3306, InterfaceEndpoints: true})[TierApplication]
	for _, peer := range []string{"10.0.16.10", "10.0.0.10", "10.0.144.10"} { // management, public, the other zone
		if allows(without, false, peer, 443) {
			t.Errorf("without endpoints, %s reaches the application tier on 443", peer)
		}
		if !allows(with, false, peer, 443) {
			t.Errorf("with endpoints, %s cannot reach them on 443", peer)
		}
	}
	if allows(with, false, "198.51.100.7", 443) {
		t.Error("the internet reaches the application tier on 443")
	}
}

func TestAclRuleNumbersAreUniqueAndWithinQuota(t *testing.T) {
	tiers, _ := DefaultTiers(netip.MustParsePrefix("10.0.0.0/16"))
	var admin []netip.Prefix
	for i := range MaxAdminRanges {
		admin = append(admin, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i * 8)}), 29))
	}
	for tier, rules := range Acls(Plan{Vpc: netip.MustParsePrefix("10.0.0.0/16"), Tiers: tiers}, AclOptions{DatabasePort: 3306, AdminSSH: admin, InterfaceEndpoints: true}) {
		seen := map[[2]int]bool{}
		count := map[bool]int{}
		for _, r := range rules {
			key := [2]int{r.Number, map[bool]int{false: 0, true: 1}[r.Egress]}
			if seen[key] {
				t.Errorf("%s: rule %d used twice", tier, r.Number)
			}
			seen[key] = true
			count[r.Egress]++
			if r.Why == "" {
				t.Errorf("%s rule %d has no reason", tier, r.Number)
			}
		}
		for egress, n := range count {
			if n > 20 {
				t.Errorf("%s (egress=%v) has %d rules, above the default quota of 20", tier, egress, n)
			}
		}
	}
}
