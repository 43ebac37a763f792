// Package diagram draws the deployment from its synthesized templates as a Graphviz graph: the
// subnet tiers and zones, the WSO2 groups, the load balancer, the database, the traffic managers'
// zone and DNS updater, the bastion and the update instance, and the flows between them.
package diagram

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

type resource struct {
	id, typ string
	props   map[string]any
}

// DOT renders the templates (by stack name) of one deployment.
func DOT(templates map[string]map[string]any) (string, error) {
	var res []resource
	for _, t := range templates {
		rs, _ := t["Resources"].(map[string]any)
		for id, raw := range rs {
			r, _ := raw.(map[string]any)
			p, _ := r["Properties"].(map[string]any)
			res = append(res, resource{id, fmt.Sprint(r["Type"]), p})
		}
	}
	sort.Slice(res, func(i, j int) bool { return res[i].id < res[j].id })

	// Subnets by tier and zone.
	type subnet struct{ tier, az, cidr string }
	var subnets []subnet
	for _, r := range res {
		if r.typ != "AWS::EC2::Subnet" {
			continue
		}
		tier := ""
		for _, tag := range asList(r.props["Tags"]) {
			if m, ok := tag.(map[string]any); ok && m["Key"] == "aws-cdk:subnet-name" {
				tier = fmt.Sprint(m["Value"])
			}
		}
		subnets = append(subnets, subnet{tier, fmt.Sprint(r.props["AvailabilityZone"]), fmt.Sprint(r.props["CidrBlock"])})
	}
	if len(subnets) == 0 {
		return "", fmt.Errorf("diagram: no subnets in the templates")
	}
	var azs []string
	for _, s := range subnets {
		if !contains(azs, s.az) {
			azs = append(azs, s.az)
		}
	}
	sort.Strings(azs)

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("digraph apim {")
	w(`  graph [rankdir=LR, fontname="Helvetica", fontsize=11, compound=true, label="WSO2 API Manager on AWS (drawn from the synthesized templates)", labelloc=t];`)
	w(`  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled", fillcolor=white];`)
	w(`  edge [fontname="Helvetica", fontsize=9];`)
	w(`  internet [label="Internet", shape=ellipse, fillcolor="#eeeeee"];`)

	tierColour := map[string]string{"Public": "#e8f4fd", "Application": "#eaf7ea", "Management": "#fdf6e3", "Data": "#fbeaea"}
	placed := map[string]string{} // node -> tier, for group-level placement
	nodesIn := map[string][]string{}
	add := func(tier, az, node string) { nodesIn[tier+"|"+az] = append(nodesIn[tier+"|"+az], node) }

	// Groups, instances, load balancer, database, functions.
	asgName := regexp.MustCompile(`^(.*?)(ASG|Resource)?[0-9A-F]{8}([0-9a-f]{16})?$`)
	label := func(id string) string {
		m := asgName.FindStringSubmatch(id)
		if m == nil {
			return id
		}
		return m[1]
	}
	for _, r := range res {
		switch r.typ {
		case "AWS::AutoScaling::AutoScalingGroup":
			name := label(r.id)
			node := dotID(name)
			zones := asList(r.props["AvailabilityZones"])
			w(`  %s [label="%s\n%s..%s nodes", fillcolor="#d9f2d9"];`, node, name, r.props["MinSize"], r.props["MaxSize"])
			if len(zones) == 1 {
				add("Application", fmt.Sprint(zones[0]), node)
			} else {
				add("Application", "", node)
			}
			placed[node] = "Application"
		case "AWS::ElasticLoadBalancingV2::LoadBalancer":
			if r.props["Scheme"] == "internal" {
				w(`  hubep [label="internal Network Load Balancer\n%s", fillcolor="#cfe8fc"];`, hubName(res))
				add("Application", "", "hubep")
				continue
			}
			w(`  alb [label="Application Load Balancer\nHTTPS 443, HTTP 80 redirect", fillcolor="#cfe8fc"];`)
			add("Public", "", "alb")
		case "AWS::EC2::NatGateway":
			node := dotID(r.id)
			w(`  %s [label="NAT gateway", shape=octagon, fillcolor="#cfe8fc"];`, node)
			add("Public", azOfSubnetRef(r.props["SubnetId"], res), node)
		case "AWS::RDS::DBInstance":
			if r.props["SourceDBInstanceIdentifier"] != nil {
				w(`  %s [label="read replica", shape=cylinder, fillcolor="#f5c6c6"];`, dotID(r.id))
				add("Data", "", dotID(r.id))
				continue
			}
			w(`  db [label="RDS MySQL %s\nMulti-AZ: %v, encrypted", shape=cylinder, fillcolor="#f5c6c6"];`, r.props["EngineVersion"], r.props["MultiAZ"])
			add("Data", "", "db")
		case "AWS::EC2::Instance":
			name := label(r.id)
			node := dotID(name)
			tier := "Application"
			for _, t := range []string{"Public", "Management", "Application"} {
				if strings.Contains(fmt.Sprint(r.props["NetworkInterfaces"]), "Network"+t+"Subnet") {
					tier = t
				}
			}
			w(`  %s [label="%s", fillcolor="#fff2cc"];`, node, name)
			add(tier, "", node)
		case "AWS::Lambda::Function":
			if strings.HasPrefix(r.id, "Custom") {
				continue // aws-cdk-lib's own providers
			}
			node := dotID(label(r.id))
			w(`  %s [label="λ %s", shape=component, fillcolor="#ead1f5"];`, node, label(r.id))
			add("Application", "", node)
		case "AWS::Route53::HostedZone":
			w(`  zone [label="Route 53 private zone\n%s\ntm1, tm2 (updater), hub alias", shape=folder, fillcolor="#ead1f5"];`, r.props["Name"])
		}
	}

	tiers := []string{"Public", "Application", "Management", "Data"}
	for ti, tier := range tiers {
		w(`  subgraph cluster_%d { label="%s tier"; style=filled; fillcolor="%s"; color="#999999";`, ti, tier, tierColour[tier])
		for _, n := range nodesIn[tier+"|"] {
			w("    %s;", n)
		}
		for ai, az := range azs {
			var cidr string
			for _, s := range subnets {
				if s.tier == tier && s.az == az {
					cidr = s.cidr
				}
			}
			w(`    subgraph cluster_%d_%d { label="%s %s"; style=dashed; color="#bbbbbb";`, ti, ai, shortAZ(az), cidr)
			w(`      anchor_%d_%d [label="", shape=point, width=0.01];`, ti, ai)
			for _, n := range nodesIn[tier+"|"+az] {
				w("      %s;", n)
			}
			w("    }")
		}
		w("  }")
	}

	// The flows of §3, as far as the drawn nodes exist.
	has := func(n string) bool { return strings.Contains(b.String(), "  "+n+" [") }
	edge := func(from, to, lbl string) {
		if has(from) && has(to) {
			w(`  %s -> %s [label="%s"];`, from, to, lbl)
		}
	}
	edge("internet", "alb", "443")
	for _, n := range []string{"ControlPlane", "Publisher", "DevPortal"} {
		edge("alb", n, "9443")
	}
	edge("alb", "Gateway", "8243")
	for _, tm := range []string{"TrafficManagersTm1", "TrafficManagersTm2"} {
		edge("Gateway", tm, "9711 + broker")
	}
	edge("Gateway", "hubep", "key validation, events")
	for _, hub := range []string{"ControlPlane", "KeyManager"} {
		edge("hubep", hub, "")
	}
	edge("zone", "hubep", "alias")
	// Map order varies from run to run; the drawing must not.
	var onDb []string
	for n := range placed {
		onDb = append(onDb, n)
	}
	sort.Strings(onDb)
	for _, n := range onDb {
		edge(n, "db", "3306")
	}
	edge("DatabaseSchemaFunction", "db", "3306")
	edge("TrafficManagersUpdater", "zone", "UPSERT A")
	edge("Bastion", "Gateway", "22")
	var publicZones []string
	for k := range nodesIn {
		if strings.HasPrefix(k, "Public|") && len(k) > len("Public|") {
			publicZones = append(publicZones, k)
		}
	}
	sort.Strings(publicZones)
	for _, k := range publicZones {
		for _, n := range nodesIn[k] {
			if strings.HasPrefix(n, "NetworkPublicSubnet") {
				edge(n, "internet", "")
				edge("Updater", n, "443 (updates)")
			}
		}
	}
	w("}")
	return b.String(), nil
}

// hubName is the name of the internal endpoint's alias record, without the final dot.
func hubName(res []resource) string {
	for _, r := range res {
		if r.typ == "AWS::Route53::RecordSet" && r.props["AliasTarget"] != nil {
			return strings.TrimSuffix(fmt.Sprint(r.props["Name"]), ".")
		}
	}
	return ""
}

func asList(v any) []any { l, _ := v.([]any); return l }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]`)

func dotID(s string) string { return nonWord.ReplaceAllString(s, "_") }

func shortAZ(az string) string {
	if strings.Contains(az, "Fn::") {
		return "zone"
	}
	return az
}

// azOfSubnetRef finds the zone of a subnet a resource refers to.
func azOfSubnetRef(ref any, res []resource) string {
	m, _ := ref.(map[string]any)
	id, _ := m["Ref"].(string)
	for _, r := range res {
		if r.id == id {
			return fmt.Sprint(r.props["AvailabilityZone"])
		}
	}
	return ""
}
