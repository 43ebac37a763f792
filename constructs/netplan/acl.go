package netplan

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// AclRule is one TCP allow rule of a tier's network ACL. A network ACL is stateless: a rule for a
// connection says nothing about its replies, so every table below carries its own reply rules.
// Anything no rule allows is dropped by the ACL's final deny-all rule.
type AclRule struct {
	// Number orders the rule inside its direction.
	Number int
	// Egress is true for outbound rules.
	Egress bool
	// Peer is the source of an inbound rule or the destination of an outbound one.
	Peer netip.Prefix
	// FromPort and ToPort bound the destination port.
	FromPort, ToPort int
	// Why says which flow the rule exists for.
	Why string
}

// String renders the rule the way the ApimNetwork page's tables (docs/constructs/apim-network.md) show it.
func (r AclRule) String() string {
	dir, prep := "in ", "from"
	if r.Egress {
		dir, prep = "out", "to  "
	}
	ports := fmt.Sprint(r.FromPort)
	if r.ToPort != r.FromPort {
		ports = fmt.Sprintf("%d-%d", r.FromPort, r.ToPort)
	}
	return fmt.Sprintf("%s %3d tcp %-11s %s %-14s %s", dir, r.Number, ports, prep, r.Peer, r.Why)
}

// Port ranges the tables use.
const (
	// EphemeralFrom and EphemeralTo bound the ports replies return to. NAT gateways and load
	// balancers pick source ports from the whole unprivileged range.
	EphemeralFrom = 1024
	EphemeralTo   = 65535
	// LinuxEphemeralFrom starts the range Linux instances pick source ports from (32768-60999),
	// so replies from the internet to a tier of instances only need this range. Lambda functions
	// pick from all of 1024-65535.
	LinuxEphemeralFrom = 32768
	portSSH            = 22
	portHTTP           = 80
	portHTTPS          = 443
	// MaxAdminRanges keeps the public ACL inside the default quota of 20 inbound rules.
	MaxAdminRanges = 16
)

// Anywhere is the IPv4 internet.
var Anywhere = netip.MustParsePrefix("0.0.0.0/0")

// AclOptions are the inputs of the tables besides the address plan.
type AclOptions struct {
	// AdminSSH lists the ranges the bastion admits SSH from; empty means no SSH from outside.
	AdminSSH []netip.Prefix
	// DatabasePort is the port of the database in the data tier.
	DatabasePort int
	// InterfaceEndpoints says the application tier holds interface endpoints, which every tier
	// reaches on 443, in its own zone or another (a private DNS name answers with the address in
	// every zone).
	InterfaceEndpoints bool
}

// Acls returns the network ACL of every tier. The ACLs are the coarse tier boundary: they decide
// which tier may open which kind of connection to which other tier or to the internet. Which node
// may talk to which is decided, per flow, by security groups.
//
// What they guarantee: the internet reaches the public tier on 443 and 80 only (plus SSH from the
// admin ranges); the application and management tiers open connections to the internet on 443
// only, and take back only replies (the private tiers have no route from the internet); the data
// tier is reached on the database port only, from the application and management tiers, and
// opens nothing.
func Acls(p Plan, o AclOptions) map[Tier][]AclRule {
	pub, app, mgmt, data := p.Block(TierPublic), p.Block(TierApplication), p.Block(TierManagement), p.Block(TierData)
	in := func(n int, peer netip.Prefix, from, to int, why string) AclRule {
		return AclRule{Number: n, Peer: peer, FromPort: from, ToPort: to, Why: why}
	}
	out := func(n int, peer netip.Prefix, from, to int, why string) AclRule {
		return AclRule{Number: n, Egress: true, Peer: peer, FromPort: from, ToPort: to, Why: why}
	}
	db := o.DatabasePort

	public := []AclRule{
		in(100, Anywhere, portHTTPS, portHTTPS, "HTTPS to the load balancers; private tiers' HTTPS to the NAT gateways"),
		in(110, Anywhere, portHTTP, portHTTP, "HTTP to the load balancers, redirected to HTTPS"),
		// NAT gateways take their source ports from all of 1024-65535, 3389 included, so this
		// range cannot skip the RDP port without dropping the replies of some connections. This
		// is one of the two exceptions to AWS Control Tower's CT.EC2.PR.5 (see docs/compliance.md; the
		// other is the application tier's rule 130); nothing in the public tier listens on 3389.
		in(120, Anywhere, EphemeralFrom, EphemeralTo, "replies: internet to NAT gateways, nodes to load balancers and bastion"),
		out(100, Anywhere, portHTTPS, portHTTPS, "HTTPS out of the NAT gateways and the bastion"),
		out(110, app, portSSH, portSSH, "bastion SSH to the application tier"),
		out(120, mgmt, portSSH, portSSH, "bastion SSH to the management tier"),
		out(130, Anywhere, EphemeralFrom, EphemeralTo, "replies to clients and to private nodes; load balancers to node service ports"),
	}
	for i, r := range o.AdminSSH {
		public = append(public, in(200+i, r, portSSH, portSSH, "SSH to the bastion from an admin range"))
	}

	application := []AclRule{
		in(100, pub, portSSH, portSSH, "SSH from the bastion"),
		in(110, mgmt, portSSH, portSSH, "SSH from CI/CD in the management tier"),
		in(120, p.Vpc, EphemeralFrom, EphemeralTo, "WSO2 service ports from the VPC, and replies inside it"),
		// The VPC functions (schema, DNS updater) run here, and Lambda picks source ports from all
		// of 1024-65535, 3389 included: the other exception to CT.EC2.PR.5 (see docs/compliance.md). The
		// tier has no route from the internet.
		in(130, Anywhere, EphemeralFrom, EphemeralTo, "replies from the internet (through NAT) and S3 to connections the nodes and functions opened"),
		out(100, Anywhere, portHTTPS, portHTTPS, "HTTPS to AWS APIs, S3, packs and updates (NAT gateway or endpoints)"),
		out(110, data, db, db, "the database"),
		out(120, p.Vpc, EphemeralFrom, EphemeralTo, "WSO2 ports of peer nodes, CI/CD agents, replies inside the VPC"),
	}
	if o.InterfaceEndpoints {
		application = append(application, in(140, p.Vpc, portHTTPS, portHTTPS, "HTTPS to the interface endpoints, from every tier and zone"))
	}

	management := []AclRule{
		in(100, pub, portSSH, portSSH, "SSH from the bastion"),
		in(110, p.Vpc, EphemeralFrom, EphemeralTo, "CI/CD service ports (Puppet 8140) from the VPC, and replies inside it"),
		in(120, Anywhere, LinuxEphemeralFrom, EphemeralTo, "replies from the internet (through NAT) and S3"),
		out(100, Anywhere, portHTTPS, portHTTPS, "HTTPS to AWS APIs, S3 and package sources (NAT gateway or endpoints)"),
		out(110, app, portSSH, portSSH, "CI/CD over SSH to the WSO2 nodes"),
		out(120, data, db, db, "schema migrations"),
		out(130, p.Vpc, EphemeralFrom, EphemeralTo, "WSO2 admin ports, replies to agents and the bastion"),
	}

	dataTier := []AclRule{
		in(100, app, db, db, "the database, from WSO2 nodes"),
		in(110, mgmt, db, db, "the database, from CI/CD"),
		out(100, app, EphemeralFrom, EphemeralTo, "replies to WSO2 nodes"),
		out(110, mgmt, EphemeralFrom, EphemeralTo, "replies to CI/CD"),
	}

	return map[Tier][]AclRule{
		TierPublic:      public,
		TierApplication: application,
		TierManagement:  management,
		TierData:        dataTier,
	}
}

// FormatTables renders every tier's rules, inbound before outbound and in rule order, the way the
// ApimNetwork page (docs/constructs/apim-network.md) shows them.
func FormatTables(tables map[Tier][]AclRule) string {
	var b strings.Builder
	for _, t := range Tiers() {
		rules := slices.Clone(tables[t])
		slices.SortStableFunc(rules, func(x, y AclRule) int {
			if x.Egress != y.Egress {
				if x.Egress {
					return 1
				}
				return -1
			}
			return x.Number - y.Number
		})
		fmt.Fprintf(&b, "%s tier\n", t)
		for _, r := range rules {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	return b.String()
}
