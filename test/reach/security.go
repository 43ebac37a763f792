package reach

import (
	"fmt"
	"net/netip"
	"strings"
)

// Security groups are stateful: a connection the client's group lets out and the server's group
// lets in gets its replies back. They are read from every stack of an app, following cross-stack
// references (Fn::GetStackOutput) to the group they name.

type sgRule struct {
	peerGroup string       // logical id of the peer group, or ""
	cidr      netip.Prefix // or a range
	all       bool         // protocol -1
	from, to  int
}

type securityGroup struct {
	id              string
	ingress, egress []sgRule
}

// Groups is the security-group model of an app.
type Groups struct {
	groups map[string]*securityGroup
}

// LoadGroups reads the security groups and their rules from every template of an app.
func LoadGroups(templates ...map[string]any) (*Groups, error) {
	outputs := map[string]any{}
	for _, t := range templates {
		if o, ok := t["Outputs"].(map[string]any); ok {
			for name, v := range o {
				if m, ok := v.(map[string]any); ok {
					outputs[name] = m["Value"]
				}
			}
		}
	}
	resolve := func(v any) string {
		for range 3 {
			m, ok := v.(map[string]any)
			if !ok {
				return ""
			}
			if so, ok := m["Fn::GetStackOutput"].(map[string]any); ok {
				v = outputs[fmt.Sprint(so["OutputName"])]
				continue
			}
			return ref(m)
		}
		return ""
	}
	g := &Groups{groups: map[string]*securityGroup{}}
	get := func(id string) *securityGroup {
		if g.groups[id] == nil {
			g.groups[id] = &securityGroup{id: id}
		}
		return g.groups[id]
	}
	parse := func(m map[string]any, peerKey string) (sgRule, error) {
		r := sgRule{all: fmt.Sprint(m["IpProtocol"]) == "-1"}
		if !r.all && fmt.Sprint(m["IpProtocol"]) != "tcp" {
			r.from, r.to = -1, -1 // ICMP and friends never match a TCP port
		} else {
			r.from, r.to = num(m["FromPort"]), num(m["ToPort"])
		}
		if c, ok := m["CidrIp"].(string); ok {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return r, err
			}
			r.cidr = p
		} else if v, ok := m[peerKey]; ok {
			r.peerGroup = resolve(v)
		}
		return r, nil
	}
	for _, t := range templates {
		rs, _ := t["Resources"].(map[string]any)
		for id, raw := range rs {
			res, _ := raw.(map[string]any)
			p, _ := res["Properties"].(map[string]any)
			switch res["Type"] {
			case "AWS::EC2::SecurityGroup":
				sg := get(id)
				for _, x := range asList(p["SecurityGroupIngress"]) {
					r, err := parse(x.(map[string]any), "SourceSecurityGroupId")
					if err != nil {
						return nil, fmt.Errorf("%s: %w", id, err)
					}
					sg.ingress = append(sg.ingress, r)
				}
				for _, x := range asList(p["SecurityGroupEgress"]) {
					r, err := parse(x.(map[string]any), "DestinationSecurityGroupId")
					if err != nil {
						return nil, fmt.Errorf("%s: %w", id, err)
					}
					sg.egress = append(sg.egress, r)
				}
			case "AWS::EC2::SecurityGroupIngress":
				r, err := parse(p, "SourceSecurityGroupId")
				if err != nil {
					return nil, fmt.Errorf("%s: %w", id, err)
				}
				sg := get(resolve(p["GroupId"]))
				sg.ingress = append(sg.ingress, r)
			case "AWS::EC2::SecurityGroupEgress":
				r, err := parse(p, "DestinationSecurityGroupId")
				if err != nil {
					return nil, fmt.Errorf("%s: %w", id, err)
				}
				sg := get(resolve(p["GroupId"]))
				sg.egress = append(sg.egress, r)
			}
		}
	}
	return g, nil
}

// Find returns the logical id of the one group whose id starts with prefix.
func (g *Groups) Find(prefix string) (string, error) {
	var hits []string
	for id := range g.groups {
		if strings.HasPrefix(id, prefix) {
			hits = append(hits, id)
		}
	}
	if len(hits) != 1 {
		return "", fmt.Errorf("%d security groups start with %s: %v", len(hits), prefix, hits)
	}
	return hits[0], nil
}

func matches(r sgRule, peerGroup string, peerIP netip.Addr, port int) bool {
	if !r.all && (port < r.from || port > r.to) {
		return false
	}
	if r.peerGroup != "" {
		return peerGroup != "" && r.peerGroup == peerGroup
	}
	return r.cidr.IsValid() && peerIP.IsValid() && r.cidr.Contains(peerIP)
}

// allows decides the security-group part of a TCP connection from client to server on port.
func (g *Groups) allows(client, server Endpoint, port int) (bool, string) {
	if client.Group != "" {
		sg := g.groups[client.Group]
		if sg == nil {
			return false, "unknown security group " + client.Group
		}
		ok := false
		for _, r := range sg.egress {
			if matches(r, server.Group, server.IP, port) {
				ok = true
			}
		}
		if !ok {
			return false, fmt.Sprintf("security group %s lets nothing out to %s on %d", client.Group, server, port)
		}
	}
	if server.Group != "" {
		sg := g.groups[server.Group]
		if sg == nil {
			return false, "unknown security group " + server.Group
		}
		for _, r := range sg.ingress {
			if matches(r, client.Group, client.IP, port) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("security group %s admits nothing from %s on %d", server.Group, client, port)
	}
	return true, ""
}

func asList(v any) []any { l, _ := v.([]any); return l }
