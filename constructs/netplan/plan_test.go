package netplan

import (
	"net/netip"
	"strings"
	"testing"
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestDefaultTiersForSeveralVpcSizes(t *testing.T) {
	cases := []struct {
		vpc  string
		want map[Tier]string // block and first two subnets
	}{
		{"10.0.0.0/16", map[Tier]string{
			TierPublic:      "10.0.0.0/20 10.0.0.0/24 10.0.1.0/24",
			TierManagement:  "10.0.16.0/20 10.0.16.0/24 10.0.17.0/24",
			TierData:        "10.0.32.0/20 10.0.32.0/24 10.0.33.0/24",
			TierApplication: "10.0.128.0/17 10.0.128.0/20 10.0.144.0/20",
		}},
		{"172.16.64.0/18", map[Tier]string{
			TierPublic:      "172.16.64.0/22 172.16.64.0/26 172.16.64.64/26",
			TierManagement:  "172.16.68.0/22 172.16.68.0/26 172.16.68.64/26",
			TierData:        "172.16.72.0/22 172.16.72.0/26 172.16.72.64/26",
			TierApplication: "172.16.96.0/19 172.16.96.0/22 172.16.100.0/22",
		}},
	}
	for _, tc := range cases {
		tiers, err := DefaultTiers(mustPrefix(tc.vpc))
		if err != nil {
			t.Fatalf("%s: %v", tc.vpc, err)
		}
		plan := Plan{Vpc: mustPrefix(tc.vpc), Tiers: tiers}
		if err := plan.Validate(2); err != nil {
			t.Errorf("%s: the default plan does not validate: %v", tc.vpc, err)
		}
		for tier, want := range tc.want {
			got := strings.Join([]string{plan.Block(tier).String(), plan.Subnet(tier, 0).String(), plan.Subnet(tier, 1).String()}, " ")
			if got != want {
				t.Errorf("%s %s: got %s, want %s", tc.vpc, tier, got, want)
			}
		}
	}
}

func TestDefaultPlanRoomForSixZones(t *testing.T) {
	tiers, _ := DefaultTiers(mustPrefix("10.0.0.0/16"))
	plan := Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: tiers}
	if err := plan.Validate(6); err != nil {
		t.Fatalf("the largest regions have six zones: %v", err)
	}
}

func TestValidateRefusesBadPlans(t *testing.T) {
	good, _ := DefaultTiers(mustPrefix("10.0.0.0/16"))
	with := func(tier Tier, b TierBlock) map[Tier]TierBlock {
		m := map[Tier]TierBlock{}
		for k, v := range good {
			m[k] = v
		}
		m[tier] = b
		return m
	}
	cases := []struct {
		name string
		plan Plan
		azs  int
		want string
	}{
		{"vpc too large", Plan{Vpc: mustPrefix("10.0.0.0/15"), Tiers: good}, 2, "between /16 and /28"},
		{"tier outside", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierData, TierBlock{mustPrefix("10.1.0.0/24"), 26})}, 2, "CidrPlan.Data.Block 10.1.0.0/24 lies outside"},
		{"tier wider than the vpc", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierData, TierBlock{mustPrefix("10.0.0.0/15"), 24})}, 2, "lies outside"},
		{"overlap", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierManagement, TierBlock{mustPrefix("10.0.130.0/24"), 26})}, 2, "CidrPlan.Application.Block 10.0.128.0/17 overlaps CidrPlan.Management.Block 10.0.130.0/24"},
		{"subnet larger than its block", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierData, TierBlock{mustPrefix("10.0.32.0/20"), 19})}, 2, "CidrPlan.Data.SubnetMask /19"},
		{"subnet below AWS minimum", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierData, TierBlock{mustPrefix("10.0.32.0/20"), 29})}, 2, "between the block's /20 and /28"},
		{"public too small for a load balancer", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: with(TierPublic, TierBlock{mustPrefix("10.0.0.0/20"), 28})}, 2, "/27"},
		{"not enough subnets", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: good}, 17, "CidrPlan.Public: block 10.0.0.0/20 holds 16 subnet(s)"},
		{"missing tier", Plan{Vpc: mustPrefix("10.0.0.0/16"), Tiers: map[Tier]TierBlock{TierPublic: good[TierPublic]}}, 2, "CidrPlan.Application is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.plan.Validate(tc.azs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseCidr(t *testing.T) {
	if _, err := ParseCidr("Cidr", "10.0.0.0/16"); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"10.0.0.1/16": `did you mean "10.0.0.0/16"`,
		"10.0.0.0":    "not an IPv4 CIDR block",
		"::/0":        "not an IPv4 CIDR block",
		"300.0.0.0/8": "not an IPv4 CIDR block",
	} {
		if _, err := ParseCidr("Cidr", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	if _, err := DefaultTiers(mustPrefix("10.0.0.0/20")); err == nil {
		t.Error("a /20 VPC is too small for the default plan's public subnets")
	}
}
