package reach

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Load reads the network of one synthesized template (the parsed JSON).
func Load(template map[string]any) (*Network, error) {
	resources, _ := template["Resources"].(map[string]any)
	byType := map[string]map[string]map[string]any{}
	for id, raw := range resources {
		r, _ := raw.(map[string]any)
		typ, _ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		if byType[typ] == nil {
			byType[typ] = map[string]map[string]any{}
		}
		byType[typ][id] = props
	}
	n := &Network{natAt: map[string]*Subnet{}}
	if len(byType["AWS::EC2::VPC"]) != 1 {
		return nil, fmt.Errorf("want exactly one AWS::EC2::VPC, found %d", len(byType["AWS::EC2::VPC"]))
	}
	for id, p := range byType["AWS::EC2::VPC"] {
		c, err := prefix(p["CidrBlock"])
		if err != nil {
			return nil, fmt.Errorf("VPC %s: %w", id, err)
		}
		n.VpcCidr = c
	}

	subnets := map[string]*Subnet{}
	for id, p := range byType["AWS::EC2::Subnet"] {
		c, err := prefix(p["CidrBlock"])
		if err != nil {
			return nil, fmt.Errorf("subnet %s: %w", id, err)
		}
		s := &Subnet{ID: id, Cidr: c, AZ: fmt.Sprint(p["AvailabilityZone"]), MapPublic: p["MapPublicIpOnLaunch"] == true}
		tags, _ := p["Tags"].([]any)
		for _, t := range tags {
			if tm, ok := t.(map[string]any); ok && tm["Key"] == "aws-cdk:subnet-name" {
				s.Name = fmt.Sprint(tm["Value"])
			}
		}
		subnets[id] = s
		n.Subnets = append(n.Subnets, s)
	}
	slices.SortFunc(n.Subnets, func(a, b *Subnet) int { return cmp.Compare(a.ID, b.ID) })

	tables := map[string]*routeTable{}
	for id := range byType["AWS::EC2::RouteTable"] {
		tables[id] = &routeTable{id: id, routes: []route{{dst: n.VpcCidr, target: "local"}}}
	}
	for id, p := range byType["AWS::EC2::Route"] {
		rt := tables[ref(p["RouteTableId"])]
		if rt == nil {
			return nil, fmt.Errorf("route %s: unknown route table", id)
		}
		dst, err := prefix(p["DestinationCidrBlock"])
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", id, err)
		}
		switch {
		case p["NatGatewayId"] != nil:
			rt.routes = append(rt.routes, route{dst, "nat:" + ref(p["NatGatewayId"])})
		case p["GatewayId"] != nil:
			if _, ok := byType["AWS::EC2::InternetGateway"][ref(p["GatewayId"])]; !ok {
				return nil, fmt.Errorf("route %s: gateway %s is not an internet gateway of the template", id, ref(p["GatewayId"]))
			}
			rt.routes = append(rt.routes, route{dst, "igw"})
		default:
			rt.routes = append(rt.routes, route{dst, "other"})
		}
	}
	for id, p := range byType["AWS::EC2::SubnetRouteTableAssociation"] {
		s, rt := subnets[ref(p["SubnetId"])], tables[ref(p["RouteTableId"])]
		if s == nil || rt == nil {
			return nil, fmt.Errorf("route table association %s names an unknown subnet or table", id)
		}
		s.routeTable = rt
	}
	for id, p := range byType["AWS::EC2::NatGateway"] {
		s := subnets[ref(p["SubnetId"])]
		if s == nil {
			return nil, fmt.Errorf("NAT gateway %s: unknown subnet", id)
		}
		n.natAt[id] = s
	}

	acls := map[string]*acl{}
	for id := range byType["AWS::EC2::NetworkAcl"] {
		acls[id] = &acl{id: id}
	}
	for id, p := range byType["AWS::EC2::NetworkAclEntry"] {
		a := acls[ref(p["NetworkAclId"])]
		if a == nil {
			return nil, fmt.Errorf("ACL entry %s: unknown network ACL", id)
		}
		c, err := prefix(p["CidrBlock"])
		if err != nil {
			return nil, fmt.Errorf("ACL entry %s: %w", id, err)
		}
		e := aclEntry{
			number:   num(p["RuleNumber"]),
			egress:   p["Egress"] == true,
			allow:    p["RuleAction"] == "allow",
			protocol: num(p["Protocol"]),
			cidr:     c,
		}
		if pr, ok := p["PortRange"].(map[string]any); ok {
			e.ports = PortRange{num(pr["From"]), num(pr["To"])}
		}
		a.entries = append(a.entries, e)
	}
	for _, a := range acls {
		slices.SortFunc(a.entries, func(x, y aclEntry) int { return cmp.Compare(x.number, y.number) })
	}
	for id, p := range byType["AWS::EC2::SubnetNetworkAclAssociation"] {
		s, a := subnets[ref(p["SubnetId"])], acls[ref(p["NetworkAclId"])]
		if s == nil || a == nil {
			return nil, fmt.Errorf("ACL association %s names an unknown subnet or ACL", id)
		}
		s.acl = a
	}
	for _, s := range n.Subnets {
		if s.routeTable == nil {
			return nil, fmt.Errorf("subnet %s has no route table", s.ID)
		}
	}
	return n, nil
}

func ref(v any) string {
	switch m := v.(type) {
	case map[string]any:
		if r, ok := m["Ref"].(string); ok {
			return r
		}
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			return fmt.Sprint(ga[0])
		}
	case string:
		return m
	}
	return fmt.Sprint(v)
}

func prefix(v any) (netip.Prefix, error) {
	s, ok := v.(string)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("CIDR %v is not a literal", v)
	}
	return netip.ParsePrefix(s)
}

func num(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	case string:
		var i int
		fmt.Sscan(x, &i)
		return i
	}
	return 0
}
