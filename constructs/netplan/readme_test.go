package netplan

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

// The ApimNetwork page (docs/constructs/apim-network.md) shows the rule tables of the default plan with one admin range and the interface
// endpoints, as the reference app has them; this keeps them true.
func TestNetworkPageShowsTheRuleTables(t *testing.T) {
	raw, err := os.ReadFile("../../docs/constructs/apim-network.md")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- acl-tables:start -->\n```text\n", "```\n<!-- acl-tables:end -->"
	readme := string(raw)
	i, j := strings.Index(readme, start), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("docs/constructs/apim-network.md lacks the %q ... %q block", start, end)
	}
	tiers, _ := DefaultTiers(netip.MustParsePrefix(DefaultVpcCidr))
	want := FormatTables(Acls(Plan{Vpc: netip.MustParsePrefix(DefaultVpcCidr), Tiers: tiers}, AclOptions{
		DatabasePort:       3306,
		AdminSSH:           []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		InterfaceEndpoints: true,
	}))
	if got := readme[i+len(start) : j]; got != want {
		t.Errorf("docs/constructs/apim-network.md's network ACL tables are out of date; replace the block with:\n%s", want)
	}
}
