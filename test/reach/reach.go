// Package reach decides, from synthesized CloudFormation alone, whether a TCP connection gets
// through a VPC: route tables, NAT and internet gateways, and network ACLs evaluated together.
// Network ACLs are stateless, so a connection counts as open only if its replies get back too, on
// every ephemeral port the client may have picked. A network that synthesizes but would drop NAT
// return traffic is caught here rather than in an account.
//
// Security groups are not modelled yet: the network has no instances of its own. The constructs
// that add instances extend Endpoint with their groups.
package reach

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// PortRange is an inclusive range of TCP ports.
type PortRange struct{ From, To int }

// Ephemeral port ranges of the clients the model knows.
var (
	// LinuxEphemeral is what Linux instances pick source ports from.
	LinuxEphemeral = PortRange{32768, 60999}
	// AnyEphemeral is what NAT gateways, load balancers, Lambda functions and arbitrary internet
	// clients may pick (AWS documents 1024-65535 for Lambda).
	AnyEphemeral = PortRange{1024, 65535}
)

// Subnet is a subnet of the template.
type Subnet struct {
	ID         string // logical id
	Name       string // the aws-cdk:subnet-name tag, the tier
	AZ         string
	Cidr       netip.Prefix
	MapPublic  bool
	routeTable *routeTable
	acl        *acl // nil: the VPC's default ACL, which allows everything
}

// Host returns an address inside the subnet for an endpoint.
func (s *Subnet) Host() netip.Addr {
	a := s.Cidr.Addr()
	for range 10 {
		a = a.Next()
	}
	return a
}

type route struct {
	dst    netip.Prefix
	target string // "local", "igw", or "nat:<logical id>"
}

type routeTable struct {
	id     string
	routes []route
}

// lookup returns the route with the longest prefix that covers ip.
func (rt *routeTable) lookup(ip netip.Addr) (route, bool) {
	best, found := route{}, false
	for _, r := range rt.routes {
		if r.dst.Contains(ip) && (!found || r.dst.Bits() > best.dst.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

type aclEntry struct {
	number   int
	egress   bool
	allow    bool
	protocol int // -1 all, 6 tcp, other numbers never match a TCP packet
	cidr     netip.Prefix
	ports    PortRange
}

type acl struct {
	id      string
	entries []aclEntry // sorted by number
}

// allows evaluates a packet against the ACL: the lowest-numbered matching entry decides, and a
// packet no entry matches is dropped.
func (a *acl) allows(egress bool, peer netip.Addr, port int) bool {
	if a == nil {
		return true
	}
	for _, e := range a.entries {
		if e.egress != egress || !e.cidr.Contains(peer) {
			continue
		}
		if e.protocol == -1 || (e.protocol == 6 && port >= e.ports.From && port <= e.ports.To) {
			return e.allow
		}
	}
	return false
}

// allowsAll reports whether every port of r is allowed, and the first one that is not.
func (a *acl) allowsAll(egress bool, peer netip.Addr, r PortRange) (bool, int) {
	for p := r.From; p <= r.To; p++ {
		if !a.allows(egress, peer, p) {
			return false, p
		}
	}
	return true, 0
}

// Network is the routing and filtering model read from one template.
type Network struct {
	VpcCidr netip.Prefix
	Subnets []*Subnet
	natAt   map[string]*Subnet // NAT gateway logical id -> its subnet
	// Groups, when set, adds security groups to every decision.
	Groups *Groups
}

// Endpoint is one end of a connection: a host in a subnet, or an address on the internet.
type Endpoint struct {
	// Subnet is nil for an internet address.
	Subnet *Subnet
	// IP is the endpoint's address: a host inside Subnet, or the internet address.
	IP netip.Addr
	// Public says the host has a public address (a load balancer, a NAT gateway, a bastion with an
	// Elastic IP), so the internet can address it through the internet gateway.
	Public bool
	// Ephemeral is the range the endpoint picks source ports from when it is the client.
	Ephemeral PortRange
	// Group is the logical id of the endpoint's security group; "" for none (the internet, a NAT
	// gateway).
	Group string
}

// WithGroup returns the endpoint as a member of a security group.
func (e Endpoint) WithGroup(id string) Endpoint {
	e.Group = id
	return e
}

// In returns a Linux host in subnet s.
func In(s *Subnet) Endpoint { return Endpoint{Subnet: s, IP: s.Host(), Ephemeral: LinuxEphemeral} }

// LambdaIn returns a Lambda function's network interface in subnet s: it picks source ports from
// all of 1024-65535.
func LambdaIn(s *Subnet) Endpoint {
	e := In(s)
	e.Ephemeral = AnyEphemeral
	return e
}

// PublicIn returns a host with a public address in subnet s, such as a load balancer node.
func PublicIn(s *Subnet) Endpoint {
	e := In(s)
	e.Public, e.Ephemeral = true, AnyEphemeral
	return e
}

// Internet returns an address on the internet.
func Internet(ip string) Endpoint {
	return Endpoint{IP: netip.MustParseAddr(ip), Ephemeral: AnyEphemeral}
}

func (e Endpoint) String() string {
	if e.Subnet == nil {
		return "internet " + e.IP.String()
	}
	return fmt.Sprintf("%s %s (%s)", e.Subnet.Name, e.IP, e.Subnet.AZ)
}

// Verdict is the outcome of a connection attempt.
type Verdict struct {
	Allowed bool
	// Reason says where the connection or its replies were dropped.
	Reason string
	// NatSubnet is the subnet of the NAT gateway the connection left through, if any.
	NatSubnet *Subnet
}

func denied(format string, args ...any) Verdict {
	return Verdict{Reason: fmt.Sprintf(format, args...)}
}

// hop is one network ACL crossing: a packet leaving or entering a subnet.
type hop struct {
	subnet *Subnet
	egress bool
	peer   netip.Addr
	ports  PortRange
	what   string
}

func check(hops []hop) (bool, string) {
	for _, h := range hops {
		dir := "ingress"
		if h.egress {
			dir = "egress"
		}
		if ok, port := h.subnet.acl.allowsAll(h.egress, h.peer, h.ports); !ok {
			return false, fmt.Sprintf("%s: %s network ACL of %s subnet %s drops port %d (peer %s)", h.what, dir, h.subnet.Name, h.subnet.AZ, port, h.peer)
		}
	}
	return true, ""
}

// Connect decides whether client can open a TCP connection to server on port and get its replies:
// routes, network ACLs both ways, and, when Groups is set, the endpoints' security groups.
func (n *Network) Connect(client, server Endpoint, port int) Verdict {
	if n.Groups != nil {
		if ok, why := n.Groups.allows(client, server, port); !ok {
			return denied("%s", why)
		}
	}
	return n.connect(client, server, port)
}

func (n *Network) connect(client, server Endpoint, port int) Verdict {
	one := PortRange{port, port}
	switch {
	case client.Subnet != nil && server.Subnet != nil:
		if client.Subnet == server.Subnet {
			return Verdict{Allowed: true}
		}
		if r, ok := client.Subnet.routeTable.lookup(server.IP); !ok || r.target != "local" {
			return denied("no local route from %s to %s", client, server)
		}
		if r, ok := server.Subnet.routeTable.lookup(client.IP); !ok || r.target != "local" {
			return denied("no local route back from %s to %s", server, client)
		}
		ok, why := check([]hop{
			{client.Subnet, true, server.IP, one, "request"},
			{server.Subnet, false, client.IP, one, "request"},
			{server.Subnet, true, client.IP, client.Ephemeral, "reply"},
			{client.Subnet, false, server.IP, client.Ephemeral, "reply"},
		})
		return Verdict{Allowed: ok, Reason: why}

	case client.Subnet != nil:
		return n.toInternet(client, server, one)

	case server.Subnet != nil:
		if !server.Public {
			return denied("%s has no public address: the internet cannot reach it", server)
		}
		if r, ok := server.Subnet.routeTable.lookup(client.IP); !ok || r.target != "igw" {
			return denied("replies from %s have no route to the internet gateway", server)
		}
		ok, why := check([]hop{
			{server.Subnet, false, client.IP, one, "request"},
			{server.Subnet, true, client.IP, client.Ephemeral, "reply"},
		})
		return Verdict{Allowed: ok, Reason: why}
	}
	return denied("both ends are on the internet")
}

func (n *Network) toInternet(client, server Endpoint, one PortRange) Verdict {
	r, ok := client.Subnet.routeTable.lookup(server.IP)
	switch {
	case !ok || r.target == "local":
		return denied("%s has no route to %s", client, server)
	case r.target == "igw":
		if !client.Public {
			return denied("%s routes to the internet gateway but has no public address", client)
		}
		ok, why := check([]hop{
			{client.Subnet, true, server.IP, one, "request"},
			{client.Subnet, false, server.IP, client.Ephemeral, "reply"},
		})
		return Verdict{Allowed: ok, Reason: why}
	case strings.HasPrefix(r.target, "nat:"):
		nat := n.natAt[strings.TrimPrefix(r.target, "nat:")]
		if nat == nil {
			return denied("route to unknown NAT gateway %s", r.target)
		}
		if nr, ok := nat.routeTable.lookup(server.IP); !ok || nr.target != "igw" {
			return denied("the NAT gateway's subnet %s has no route to the internet gateway", nat.AZ)
		}
		// The NAT gateway rewrites the source to its own address and port (1024-65535), and
		// the destination of replies back to the client.
		hops := []hop{
			{client.Subnet, true, server.IP, one, "request"},
			{nat, false, client.IP, one, "request into the NAT subnet"},
			{nat, true, server.IP, one, "request out of the NAT subnet"},
			{nat, false, server.IP, AnyEphemeral, "reply to the NAT gateway"},
			{nat, true, client.IP, client.Ephemeral, "reply forwarded by the NAT gateway"},
			{client.Subnet, false, server.IP, client.Ephemeral, "reply"},
		}
		if nat == client.Subnet {
			hops = []hop{hops[2], hops[3]}
		}
		ok, why := check(hops)
		return Verdict{Allowed: ok, Reason: why, NatSubnet: nat}
	}
	return denied("unknown route target %s", r.target)
}

// Tier returns the subnets whose aws-cdk:subnet-name tag is name, in zone order.
func (n *Network) Tier(name string) []*Subnet {
	var out []*Subnet
	for _, s := range n.Subnets {
		if s.Name == name {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *Subnet) int { return strings.Compare(a.AZ, b.AZ) })
	return out
}
