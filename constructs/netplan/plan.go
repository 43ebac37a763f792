// Package netplan decides the address plan of an API Manager network: which CIDR block each
// subnet tier owns, how a tier's block is cut into one subnet per availability zone, and which
// network ACL rules stand between the tiers. It imports no CDK package, so every decision here is
// tested in milliseconds and read in one place.
package netplan

import (
	"fmt"
	"net/netip"
)

// Tier is one of the four subnet tiers of the reference architecture.
type Tier string

// The four tiers, in the order their subnets are laid out.
const (
	// TierPublic holds the internet-facing load balancers, the NAT gateways and the bastion.
	TierPublic Tier = "Public"
	// TierApplication holds every WSO2 node and the update instance.
	TierApplication Tier = "Application"
	// TierManagement holds CI/CD tooling such as a Puppet master.
	TierManagement Tier = "Management"
	// TierData holds the RDS database; it has no route out of the VPC.
	TierData Tier = "Data"
)

// Tiers lists every tier in layout order.
func Tiers() []Tier { return []Tier{TierPublic, TierApplication, TierManagement, TierData} }

// Limits AWS puts on VPC and subnet sizes, and the smallest public subnet an Application Load
// Balancer accepts (it needs a /27 with at least eight free addresses).
const (
	MinVpcPrefix        = 16
	MaxVpcPrefix        = 28
	MaxSubnetPrefix     = 28
	MaxPublicPrefix     = 27
	DefaultVpcCidr      = "10.0.0.0/16"
	maxDefaultVpcPrefix = 19
)

// TierBlock is the aggregate range of one tier and the size of each of its per-AZ subnets. Every
// subnet of the tier is carved from Block, in AZ order, so a single network ACL rule can name the
// whole tier however many AZs there are.
type TierBlock struct {
	Block        netip.Prefix
	SubnetPrefix int
}

// Capacity is how many AZ subnets fit in the block.
func (b TierBlock) Capacity() int {
	if b.SubnetPrefix < b.Block.Bits() {
		return 0
	}
	shift := b.SubnetPrefix - b.Block.Bits()
	if shift >= 31 {
		return 1 << 30
	}
	return 1 << shift
}

// Subnet returns the subnet of the i-th availability zone.
func (b TierBlock) Subnet(i int) netip.Prefix {
	base := b.Block.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(i) << (32 - b.SubnetPrefix)
	a := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netip.PrefixFrom(a, b.SubnetPrefix)
}

// Plan is the whole address plan of the VPC.
type Plan struct {
	Vpc   netip.Prefix
	Tiers map[Tier]TierBlock
}

// Subnet returns the CIDR of a tier's subnet in the i-th availability zone.
func (p Plan) Subnet(t Tier, az int) netip.Prefix { return p.Tiers[t].Subnet(az) }

// Block returns a tier's aggregate block.
func (p Plan) Block(t Tier) netip.Prefix { return p.Tiers[t].Block }

// ParseCidr parses an IPv4 CIDR block and insists that it is written in canonical form (no host
// bits set), because a block such as 10.0.0.1/16 is almost always a typing mistake. field names
// the property in the error message.
func ParseCidr(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%s %q is not an IPv4 CIDR block: write it as a.b.c.d/n, for example %q", field, s, DefaultVpcCidr)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%s %q has host bits set: did you mean %q?", field, s, p.Masked().String())
	}
	return p, nil
}

// DefaultTiers lays the four tiers out inside a VPC block. For a /16 it gives:
//
//	Public      10.0.0.0/20   one /24 per AZ
//	Management  10.0.16.0/20  one /24 per AZ
//	Data        10.0.32.0/20  one /24 per AZ
//	Application 10.0.128.0/17 one /20 per AZ (room for WSO2 nodes to scale out)
//
// Smaller VPCs scale the same layout down; below /19 the public subnets would be smaller than a
// load balancer accepts, so such a VPC needs an explicit plan.
func DefaultTiers(vpc netip.Prefix) (map[Tier]TierBlock, error) {
	if vpc.Bits() > maxDefaultVpcPrefix {
		return nil, fmt.Errorf("the default subnet plan needs a VPC of /%d or larger, and %s is smaller: widen Cidr or give every tier a Block in CidrPlan", maxDefaultVpcPrefix, vpc)
	}
	small := vpc.Bits() + 4
	quarter := func(i int) netip.Prefix {
		return TierBlock{Block: vpc, SubnetPrefix: small}.Subnet(i)
	}
	half := TierBlock{Block: vpc, SubnetPrefix: vpc.Bits() + 1}.Subnet(1)
	return map[Tier]TierBlock{
		TierPublic:      {Block: quarter(0), SubnetPrefix: vpc.Bits() + 8},
		TierManagement:  {Block: quarter(1), SubnetPrefix: vpc.Bits() + 8},
		TierData:        {Block: quarter(2), SubnetPrefix: vpc.Bits() + 8},
		TierApplication: {Block: half, SubnetPrefix: vpc.Bits() + 4},
	}, nil
}

// Validate checks that the plan is one AWS will accept and that it has a subnet for each of azCount
// zones: blocks inside the VPC, no two tiers overlapping, subnets neither larger than their block
// nor smaller than AWS allows. Messages name the CidrPlan field to change.
func (p Plan) Validate(azCount int) error {
	if b := p.Vpc.Bits(); b < MinVpcPrefix || b > MaxVpcPrefix {
		return fmt.Errorf("Cidr %s: a VPC block must be between /%d and /%d", p.Vpc, MinVpcPrefix, MaxVpcPrefix)
	}
	for _, t := range Tiers() {
		tb, ok := p.Tiers[t]
		if !ok {
			return fmt.Errorf("CidrPlan.%s is missing", t)
		}
		if !contains(p.Vpc, tb.Block) {
			return fmt.Errorf("CidrPlan.%s.Block %s lies outside the VPC block %s: choose a block inside it", t, tb.Block, p.Vpc)
		}
		limit := MaxSubnetPrefix
		if t == TierPublic {
			limit = MaxPublicPrefix
		}
		if tb.SubnetPrefix < tb.Block.Bits() || tb.SubnetPrefix > limit {
			return fmt.Errorf("CidrPlan.%s.SubnetMask /%d must be between the block's /%d and /%d", t, tb.SubnetPrefix, tb.Block.Bits(), limit)
		}
		if c := tb.Capacity(); c < azCount {
			return fmt.Errorf("CidrPlan.%s: block %s holds %d subnet(s) of /%d, but the network spans %d availability zones: widen the block or raise SubnetMask", t, tb.Block, c, tb.SubnetPrefix, azCount)
		}
	}
	tiers := Tiers()
	for i, a := range tiers {
		for _, b := range tiers[i+1:] {
			if p.Tiers[a].Block.Overlaps(p.Tiers[b].Block) {
				return fmt.Errorf("CidrPlan.%s.Block %s overlaps CidrPlan.%s.Block %s: give each tier its own range", a, p.Tiers[a].Block, b, p.Tiers[b].Block)
			}
		}
	}
	return nil
}

// contains reports whether inner lies wholly inside outer.
func contains(outer, inner netip.Prefix) bool {
	return inner.Bits() >= outer.Bits() && outer.Contains(inner.Addr())
}
