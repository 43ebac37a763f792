package wso2

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// wiringCheck proves, once the whole app is built, that every peer each WSO2 node's
// deployment.toml names is served: the name is a traffic manager's or an internal endpoint's of
// this app, the server listens on the port with that scheme, and a security-group rule admits the
// node. Every ProfileAsg, TrafficManagerPair and ApimInternalEndpoint reports to the one check of
// its app, so apps composed by hand are checked like ApimDeployment.
type wiringCheck struct {
	constructs.Construct
	clients []*ProfileAsg
	// direct are the names that lead straight to one group's node (traffic managers), by the
	// network whose private zone resolves them: two deployments may use the same names apart.
	direct map[nameKey]*ProfileAsg
	// endpoints are the names that lead to an internal load balancer.
	endpoints map[nameKey]*ApimInternalEndpoint
	// zones are the private zones those names are published in, by network: a name in one of
	// them that nothing publishes is an error; names elsewhere are outside the app's knowledge.
	zones map[nameKey]bool
}

// nameKey is a DNS name as a network's nodes resolve it.
type nameKey struct {
	network *ApimNetwork
	name    string
}

const wiringCheckID = "ApimkitWiringCheck"

// ContextWiringCheck is the context key that turns the wiring check off when set to false: for an
// app that holds only part of a deployment, whose peers are published elsewhere (a test fixture of
// one construct, or nodes that call a control plane of another app). Default: on.
const ContextWiringCheck = "@apimkit/wso2:wiringCheck"

// wiringOf returns the check of scope's app, adding it on first use.
func wiringOf(scope constructs.Construct) *wiringCheck {
	root := scope.Node().Root()
	if c, ok := root.Node().TryFindChild(jsii.String(wiringCheckID)).(*wiringCheck); ok {
		return c
	}
	w := &wiringCheck{direct: map[nameKey]*ProfileAsg{}, endpoints: map[nameKey]*ApimInternalEndpoint{}, zones: map[nameKey]bool{}}
	constructs.NewConstruct_Override(w, root.(constructs.Construct), jsii.String(wiringCheckID))
	w.Node().AddValidation(w)
	return w
}

func (w *wiringCheck) addZone(network *ApimNetwork, name string) {
	w.zones[nameKey{network, strings.ToLower(strings.TrimSuffix(name, "."))}] = true
}

// Validate is called by the CDK when the app is synthesized.
func (w *wiringCheck) Validate() *[]*string {
	if v := w.Node().TryGetContext(jsii.String(ContextWiringCheck)); v == false || v == "false" {
		return &[]*string{}
	}
	rules := ingressIndex{}
	var out []*string
	seen := map[string]bool{}
	for _, c := range w.clients {
		for _, cfg := range c.configs {
			eps, err := profiles.Endpoints(cfg)
			if err != nil {
				out = append(out, jsii.String(fmt.Sprintf("%s: %v", *c.Node().Path(), err)))
				continue
			}
			for _, e := range eps {
				msg := w.check(c, e, rules)
				if msg != "" && !seen[msg] {
					seen[msg] = true
					out = append(out, jsii.String(msg))
				}
			}
		}
	}
	return &out
}

func (w *wiringCheck) check(c *ProfileAsg, e profiles.Endpoint, rules ingressIndex) string {
	who := fmt.Sprintf("WSO2 wiring: %s (%s) is told %s (%s)", *c.Node().Path(), c.profile.Name, e, e.Key)
	host := nameKey{c.network, e.Host}
	if server := w.server(host); server != nil && server.version != c.version {
		return fmt.Sprintf("WSO2 wiring: %s (%s) runs API Manager %s and is told %s (%s), served by %s, which runs %s: "+
			"give every group of one deployment the same Release", *c.Node().Path(), c.profile.Name, c.version, e, e.Key,
			*server.Node().Path(), server.version)
	}
	if g, ok := w.direct[host]; ok {
		base := e.Port - g.offset
		if !slices.Contains(g.profile.Ports, base) {
			return fmt.Sprintf("%s, but %s listens on %s (port offset %d): take the traffic managers' names and ports from "+
				"TrafficManagerPair.Nodes() rather than writing them, so the offsets agree", who, *g.Node().Path(), portList(g), g.offset)
		}
		if !profiles.ServesScheme(base, e.Scheme) {
			return fmt.Sprintf("%s, but port %d of %s is WSO2's %d, which is not %s", who, e.Port, *g.Node().Path(), base, e.Scheme)
		}
		if !rules.allows(c.Connections(), g.Connections(), e.Port) {
			return fmt.Sprintf("%s, but no security-group rule lets it reach %s on %d: grant it with "+
				"TrafficManagerPair.AllowFrom (or AllowPublishFrom for 9711 alone), or Connections().AllowTo", who, *g.Node().Path(), e.Port)
		}
		return ""
	}
	if ep, ok := w.endpoints[host]; ok {
		if !slices.Contains(ep.ports, e.Port) {
			return fmt.Sprintf("%s, but the internal endpoint %s forwards only %v: add the port's base to ApimInternalEndpointProps.Ports "+
				"(a control plane named per zone also needs 9711)", who, *ep.Node().Path(), ep.ports)
		}
		if !profiles.ServesScheme(e.Port-ep.target.offset, e.Scheme) {
			return fmt.Sprintf("%s, but port %d of %s is WSO2's %d, which is not %s", who, e.Port, *ep.target.Node().Path(), e.Port-ep.target.offset, e.Scheme)
		}
		if !rules.allows(c.Connections(), ep.Connections(), e.Port) {
			return fmt.Sprintf("%s, but no security-group rule lets it reach the internal endpoint %s on %d: grant it with "+
				"ApimInternalEndpoint.AllowFrom", who, *ep.Node().Path(), e.Port)
		}
		return ""
	}
	for zone := range w.zones {
		if zone.network == c.network && strings.HasSuffix(e.Host, "."+zone.name) {
			return fmt.Sprintf("%s, but nothing in this app publishes %s in the private zone %s: name the nodes the app publishes "+
				"(TrafficManagerPair.Nodes(), ApimInternalEndpoint.Hostname() and ZonalNodes()), or add an ApimInternalEndpoint with that "+
				"record name", who, e.Host, zone.name)
		}
	}
	return ""
}

// server is the group a name leads to, or nil.
func (w *wiringCheck) server(host nameKey) *ProfileAsg {
	if g, ok := w.direct[host]; ok {
		return g
	}
	if ep, ok := w.endpoints[host]; ok {
		return ep.target
	}
	return nil
}

func portList(g *ProfileAsg) string {
	var ps []string
	for _, b := range g.profile.Ports {
		ps = append(ps, fmt.Sprint(g.Port(b)))
	}
	return strings.Join(ps, ", ")
}

// ingressIndex caches the security-group rules found beside each security group.
type ingressIndex map[string][]ingressRule

type ingressRule struct {
	group, source string
	from, to      int
}

// rulesNear returns the ingress rules defined as children of sg: CDK places a rule between two
// security groups under one of them (the target's, or the source's when they are in different
// stacks).
func (x ingressIndex) rulesNear(sg awsec2.ISecurityGroup) []ingressRule {
	id := *sg.SecurityGroupId()
	if r, ok := x[id]; ok {
		return r
	}
	var out []ingressRule
	for _, child := range *sg.Node().Children() {
		in, ok := child.(awsec2.CfnSecurityGroupIngress)
		if !ok || in.SourceSecurityGroupId() == nil {
			continue
		}
		proto := *in.IpProtocol()
		r := ingressRule{group: *in.GroupId(), source: *in.SourceSecurityGroupId(), from: 0, to: 65535}
		if proto != "-1" && proto != "tcp" && proto != "6" {
			continue
		}
		if proto != "-1" && in.FromPort() != nil && in.ToPort() != nil {
			r.from, r.to = int(*in.FromPort()), int(*in.ToPort())
		}
		out = append(out, r)
	}
	x[id] = out
	return out
}

// allows reports whether a rule admits one of from's security groups to one of to's on port.
func (x ingressIndex) allows(from, to awsec2.Connections, port int) bool {
	sources := map[string]bool{}
	for _, sg := range *from.SecurityGroups() {
		sources[*sg.SecurityGroupId()] = true
	}
	targets := map[string]bool{}
	for _, sg := range *to.SecurityGroups() {
		targets[*sg.SecurityGroupId()] = true
	}
	for _, group := range [][]awsec2.ISecurityGroup{*from.SecurityGroups(), *to.SecurityGroups()} {
		for _, sg := range group {
			for _, r := range x.rulesNear(sg) {
				if targets[r.group] && sources[r.source] && r.from <= port && port <= r.to {
					return true
				}
			}
		}
	}
	return false
}
