package test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	gotoml "github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles/confmap"
	"github.com/apimkit/apimkit/internal/bootscript"
	"github.com/apimkit/apimkit/test/reach"
	"github.com/apimkit/apimkit/test/testkit"
)

// One test per property of the reference architecture (§1 of docs/architecture.md), each checked
// on the synthesized templates of both layouts, so the article maps to the code line by line.

// all merges the resources of every stack of an assembly (logical ids are unique across them here).
func all(asm *testkit.Assembly) map[string]any {
	res := map[string]any{}
	for _, s := range asm.Stacks {
		for id, r := range s.Template["Resources"].(map[string]any) {
			res[id] = r
		}
	}
	return map[string]any{"Resources": res}
}

func props(r map[string]any) map[string]any { return testkit.Props(r) }

// groups returns the WSO2 Auto Scaling groups by logical id.
func groups(tmpl map[string]any) map[string]map[string]any {
	return testkit.Resources(tmpl, "AWS::AutoScaling::AutoScalingGroup")
}

func isTrafficManager(id string) bool { return strings.HasPrefix(id, "TrafficManagers") }

func TestP1_HighlyAvailableAcrossZones(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		tmZones := map[string]bool{}
		for id, g := range groups(tmpl) {
			azs := props(g)["AvailabilityZones"].([]any)
			if isTrafficManager(id) {
				tmZones[fmt.Sprint(azs[0])] = true
				continue
			}
			assert.GreaterOrEqual(t, len(azs), 2, "%s %s spans two zones", name, id)
			min, _ := props(g)["MinSize"].(string)
			assert.NotEqual(t, "1", min, "%s %s keeps at least a node per zone", name, id)
		}
		assert.Len(t, tmZones, 2, "%s: the traffic-manager pair spans two zones", name)
		assert.Len(t, testkit.Resources(tmpl, "AWS::EC2::NatGateway"), 2, "%s: a NAT gateway per zone", name)
		n := network(t, asm)
		for _, s := range append(n.Tier("Application"), n.Tier("Management")...) {
			v := n.Connect(inSubnet(s), someInternet(), 443)
			require.True(t, v.Allowed, v.Reason)
			assert.Equal(t, s.AZ, v.NatSubnet.AZ, "%s: egress through the zone's own NAT gateway", name)
		}
		for id, db := range testkit.Resources(tmpl, "AWS::RDS::DBInstance") {
			if props(db)["SourceDBInstanceIdentifier"] == nil {
				assert.Equal(t, true, props(db)["MultiAZ"], "%s %s is Multi-AZ", name, id)
			}
		}
	}
}

func TestP2_ScalableGroupsOfIdenticalNodes(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		scaled := map[string]bool{}
		for _, p := range testkit.Resources(tmpl, "AWS::AutoScaling::ScalingPolicy") {
			scaled[fmt.Sprint(props(p)["AutoScalingGroupName"])] = true
		}
		for id, g := range groups(tmpl) {
			lt := props(g)["MixedInstancesPolicy"].(map[string]any)["LaunchTemplate"]
			assert.Contains(t, fmt.Sprint(lt), "LaunchTemplateId", "%s %s launches from one template", name, id)
			if isTrafficManager(id) {
				continue
			}
			// A group fixed at one node per zone (the 4.x control plane) has no
			// policy: target tracking needs MaxSize above MinSize.
			if props(g)["MaxSize"] == props(g)["MinSize"] && strings.HasPrefix(id, "ControlPlane") {
				assert.False(t, scaled[fmt.Sprint(map[string]any{"Ref": id})], "%s %s", name, id)
				continue
			}
			assert.True(t, scaled[fmt.Sprint(map[string]any{"Ref": id})], "%s %s has a scaling policy", name, id)
		}
	}
}

func TestP3_ProductionGradeDatabase(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		var primary map[string]any
		for _, db := range testkit.Resources(tmpl, "AWS::RDS::DBInstance") {
			if props(db)["SourceDBInstanceIdentifier"] == nil {
				primary = db
			}
		}
		require.NotNil(t, primary, name)
		p := props(primary)
		assert.Equal(t, "mysql", p["Engine"], name)
		assert.Equal(t, true, p["MultiAZ"], name)
		assert.Equal(t, true, p["StorageEncrypted"], name)
		assert.GreaterOrEqual(t, p["BackupRetentionPeriod"].(float64), 7.0, name)
		assert.Equal(t, true, p["DeletionProtection"], name)
		assert.Equal(t, "Snapshot", primary["DeletionPolicy"], name)
		// The database port is open only to the WSO2 nodes and the schema function, by group.
		sources := map[string]bool{}
		for _, r := range ingressRules(tmpl) {
			if r.to == "db" {
				assert.Equal(t, 3306, r.port, name)
				assert.Empty(t, r.cidr, "%s: no CIDR reaches the database", name)
				sources[r.from] = true
			}
		}
		for role := range sources {
			assert.Contains(t, []string{"cp", "gw", "tm", "pub", "dev", "km", "fn"}, role, "%s: %s reaches the database", name, role)
		}
		assert.True(t, sources["gw"] && sources["tm"], "%s: the nodes are granted the database", name)
	}
}

func TestP4_SecureByNature(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		for id, g := range groups(tmpl) {
			zones := fmt.Sprint(props(g)["VPCZoneIdentifier"])
			assert.Contains(t, zones, "ApplicationSubnet", "%s %s runs in the private application tier", name, id)
			assert.NotContains(t, zones, "PublicSubnet", "%s %s", name, id)
		}
		for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
			data := props(lt)["LaunchTemplateData"].(map[string]any)
			assert.NotContains(t, fmt.Sprint(data["NetworkInterfaces"]), "AssociatePublicIpAddress:true", "%s %s", name, id)
			assert.Equal(t, "required", data["MetadataOptions"].(map[string]any)["HttpTokens"], "%s %s: IMDSv2", name, id)
		}
		for id, s := range testkit.Resources(tmpl, "AWS::EC2::Subnet") {
			assert.NotEqual(t, true, props(s)["MapPublicIpOnLaunch"], "%s %s", name, id)
		}
		// Each profile has its own group of rules, and every rule to a node names a group, never
		// a range: "anything from anywhere in the VPC" does not occur.
		for _, r := range ingressRules(tmpl) {
			if nodeRoles[r.to] {
				assert.Empty(t, r.cidr, "%s: %s admits a CIDR (%s) on %d", name, r.to, r.cidr, r.port)
			}
		}
	}
}

func TestP5_LoadBalancersInPublicSubnets(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		lbs := testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		require.Len(t, lbs, 2, "%s: the public load balancer and the hub's internal endpoint", name)
		public := 0
		for id, lb := range lbs {
			subnets := fmt.Sprint(props(lb)["Subnets"])
			if props(lb)["Scheme"] == "internet-facing" {
				public++
				assert.Contains(t, subnets, "PublicSubnet", "%s: %s", name, id)
				assert.NotContains(t, subnets, "ApplicationSubnet", "%s: %s", name, id)
				continue
			}
			// Anything else is internal, in the application tier, never in the public one.
			assert.Equal(t, "internal", props(lb)["Scheme"], "%s: %s", name, id)
			assert.Contains(t, subnets, "ApplicationSubnet", "%s: %s", name, id)
			assert.NotContains(t, subnets, "PublicSubnet", "%s: %s", name, id)
		}
		assert.Equal(t, 1, public, "%s: one internet-facing load balancer", name)
		n := network(t, asm)
		for _, s := range n.Tier("Public") {
			v := n.Connect(someInternet(), publicIn(s), 443)
			assert.True(t, v.Allowed, "%s: the internet reaches the public tier on 443 through the internet gateway: %s", name, v.Reason)
		}
		tls := false
		for _, l := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
			if props(l)["Protocol"] == "HTTPS" {
				tls = true
				assert.Contains(t, fmt.Sprint(props(l)["SslPolicy"]), "TLS")
			}
		}
		assert.True(t, tls, "%s: a TLS listener", name)
	}
}

func TestT1_TrafficManagersAreNotBehindALoadBalancer(t *testing.T) {
	for name, asm := range layouts(t) {
		for id, g := range groups(all(asm)) {
			if isTrafficManager(id) {
				assert.Nil(t, props(g)["TargetGroupARNs"], "%s %s", name, id)
			}
		}
	}
}

func TestT2_EachTrafficManagerIsItsOwnPinnedGroup(t *testing.T) {
	for name, asm := range layouts(t) {
		var tms []string
		zones := map[string]bool{}
		for id, g := range groups(all(asm)) {
			if !isTrafficManager(id) {
				continue
			}
			tms = append(tms, id)
			assert.Equal(t, "1", props(g)["MinSize"], "%s %s", name, id)
			assert.Equal(t, "2", props(g)["MaxSize"], "%s %s: one node, and room for its replacement during a launch-first update (nothing scales it)", name, id)
			azs := props(g)["AvailabilityZones"].([]any)
			require.Len(t, azs, 1)
			zones[azs[0].(string)] = true
		}
		assert.Len(t, tms, 2, "%s: tm1 and tm2", name)
		assert.Len(t, zones, 2, "%s: in different zones", name)
	}
}

func TestT3_TrafficManagersAreReachedByName(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		zones := testkit.Resources(tmpl, "AWS::Route53::HostedZone")
		require.Len(t, zones, 1, name)
		for _, z := range zones {
			assert.NotNil(t, props(z)["VPCs"], "%s: a private zone", name)
		}
		var updater map[string]any
		for id, f := range testkit.Resources(tmpl, "AWS::Lambda::Function") {
			if strings.HasPrefix(id, "TrafficManagersUpdater") {
				updater = props(f)
			}
		}
		require.NotNil(t, updater, "%s: a DNS updater", name)
		hooks := 0
		for id, g := range groups(tmpl) {
			if isTrafficManager(id) && strings.Contains(fmt.Sprint(props(g)["LifecycleHookSpecificationList"]), "apimkit-tm-dns") {
				hooks++
			}
		}
		assert.Equal(t, 2, hooks, "%s: a launch hook the updater completes, on both groups", name)
		// Gateways name the traffic managers, never their addresses.
		found := false
		for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
			if !strings.HasPrefix(id, "GatewayLaunchTemplate") {
				continue
			}
			found = true
			toml, err := bootscript.File(testkit.UserData(props(lt)["LaunchTemplateData"].(map[string]any)), "/etc/apimkit/deployment.toml")
			require.NoError(t, err, "%s: the gateway's configuration travels in its user data", name)
			assert.Contains(t, string(toml), "tcp://tm1.apim.internal:", name)
			assert.Contains(t, string(toml), "tcp://tm2.apim.internal:", name)
			assert.NotRegexp(t, `://\d+\.\d+\.\d+\.\d+`, string(toml), "%s: no addresses", name)
		}
		assert.True(t, found, "%s: a gateway launch template", name)
	}
}

func TestA1_UpdatesArriveThroughTheNatGateway(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		var inst map[string]any
		for id, i := range testkit.Resources(tmpl, "AWS::EC2::Instance") {
			if strings.HasPrefix(id, "Updater") {
				inst = props(i)
			}
		}
		require.NotNil(t, inst, "%s: an update instance", name)
		assert.Contains(t, fmt.Sprint(inst["NetworkInterfaces"]), "ApplicationSubnet", "%s: in a private subnet", name)
		for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
			if strings.HasPrefix(id, "UpdaterSecurityGroup") {
				assert.Nil(t, props(sg)["SecurityGroupIngress"])
				assert.Contains(t, fmt.Sprint(props(sg)["SecurityGroupEgress"]), "FromPort:443")
			}
		}
		n := network(t, asm)
		v := n.Connect(inSubnet(n.Tier("Application")[0]), someInternet(), 443)
		assert.True(t, v.Allowed, v.Reason)
		assert.NotNil(t, v.NatSubnet, "%s: through a NAT gateway", name)
		rules := 0
		for id := range testkit.Resources(tmpl, "AWS::Events::Rule") {
			if strings.HasPrefix(id, "UpdaterSchedule") {
				rules++
			}
		}
		assert.Equal(t, 1, rules, "%s: on a schedule", name)
	}
}

func TestA2_AdminAccessThroughAHardenedBastion(t *testing.T) {
	for name, asm := range map[string]*testkit.Assembly{"4.x": reference(t), "3.2": reference32(t), "ssh": referenceWithAdminSSH(t)} {
		tmpl := all(asm)
		var bastionSG map[string]any
		for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
			if strings.HasPrefix(id, "BastionSecurityGroup") {
				bastionSG = props(sg)
			}
		}
		require.NotNil(t, bastionSG, name)
		ingress, _ := bastionSG["SecurityGroupIngress"].([]any)
		if name == "ssh" {
			require.Len(t, ingress, 2, "SSH from the two admin ranges only")
			for _, r := range ingress {
				assert.EqualValues(t, 22, r.(map[string]any)["FromPort"])
				assert.NotEqual(t, "0.0.0.0/0", r.(map[string]any)["CidrIp"])
			}
		} else {
			assert.Empty(t, ingress, "%s: Session Manager, no inbound SSH at all", name)
		}
		// SSH to private instances comes only from the bastion.
		for _, r := range ingressRules(tmpl) {
			if r.port == 22 && nodeRoles[r.to] {
				assert.Equal(t, "bastion", r.from, "%s: SSH to %s", name, r.to)
			}
		}
	}
}

// rule is one security-group ingress rule of the app, by role.
type rule struct {
	from, to, cidr string
	port           int
}

// roles names the security groups by the construct that owns them.
var roles = []struct {
	prefix, role string
}{
	{"ControlPlaneSecurityGroup", "cp"}, {"GatewaySecurityGroup", "gw"}, {"PublisherSecurityGroup", "pub"},
	{"DevPortalSecurityGroup", "dev"}, {"KeyManagerSecurityGroup", "km"}, {"TrafficManagersTm", "tm"},
	{"DatabaseSecurityGroup", "db"}, {"DatabaseSchemaFunctionSecurityGroup", "fn"}, {"LoadBalancerSecurityGroup", "lb"},
	{"BastionSecurityGroup", "bastion"}, {"UpdaterSecurityGroup", "updater"}, {"TrafficManagersUpdaterSecurityGroup", "tmdns"},
	{"NetworkEndpointSecurityGroup", "endpoints"}, {"HubEndpointSecurityGroup", "hubep"},
}

var nodeRoles = map[string]bool{"cp": true, "gw": true, "pub": true, "dev": true, "km": true, "tm": true}

var groupRef = regexp.MustCompile(`([A-Za-z0-9]+SecurityGroup[A-Za-z0-9]*)`)

func roleOf(s string) string {
	m := groupRef.FindString(s)
	best, role := 0, ""
	for _, r := range roles {
		if strings.Contains(m, r.prefix) && len(r.prefix) > best {
			best, role = len(r.prefix), r.role
		}
	}
	if role == "" && m != "" {
		return "?" + m
	}
	return role
}

// ingressRules lists every ingress rule of the templates: standalone rules and inline ones.
func ingressRules(tmpl map[string]any) []rule {
	var out []rule
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupIngress") {
		p := props(r)
		src := fmt.Sprint(p["SourceSecurityGroupId"])
		ru := rule{to: roleOf(fmt.Sprint(p["GroupId"])), port: int(p["FromPort"].(float64))}
		if c, ok := p["CidrIp"].(string); ok {
			ru.cidr = c
		} else {
			ru.from = roleOf(src)
		}
		out = append(out, ru)
	}
	for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
		inline, _ := props(sg)["SecurityGroupIngress"].([]any)
		for _, i := range inline {
			m := i.(map[string]any)
			ru := rule{to: roleOf(id), port: int(m["FromPort"].(float64))}
			if c, ok := m["CidrIp"].(string); ok {
				ru.cidr = c
			} else {
				ru.from = roleOf(fmt.Sprint(m["SourceSecurityGroupId"]))
			}
			out = append(out, ru)
		}
	}
	return out
}

// allowedFlows is §3 of the reference architecture as security-group rules, with the hub (4.x
// control plane, 3.2 key manager) standing for key validation and the event hub. Clients reach
// the hub directly and through its internal endpoint (hubep), which reaches only the hub. The
// 3.2 key manager has no JMS broker, so only 9443 there. Events go to the binary receivers' TLS
// port (9711) alone; brokers are reached on their TLS port (8672) from 4.3, on 5672 in 3.2.
func allowedFlows(layout string) map[string]bool {
	hub := "cp"
	jms := "8672"
	if layout == "3.2" {
		jms = "5672"
	}
	hubPorts := []string{"9443", jms}
	portals := []string{"cp"}
	tmClients := []string{"gw", "cp"}
	var tmPublishers []string // event publishers that take no throttle decisions
	hubClients := []string{"gw", "tm"}
	if layout == "3.2" {
		hub, portals = "km", []string{"pub", "dev"}
		hubPorts = []string{"9443"}
		tmClients, tmPublishers = []string{"gw", "pub", "dev"}, []string{"km"}
		hubClients = []string{"gw", "pub", "dev", "tm"}
	}
	ok := map[string]bool{
		"0.0.0.0/0>lb:443": true, "0.0.0.0/0>lb:80": true,
		"lb>gw:8243": true, "lb>gw:9443": true,
		// Secure WebSocket APIs: the load balancer passes handshakes on 443 to the wss port.
		"lb>gw:8099":   true,
		"tm>tm:" + jms: true, "fn>db:3306": true,
	}
	for _, p := range portals {
		ok["lb>"+p+":9443"] = true
	}
	for _, port := range hubPorts {
		for _, c := range hubClients {
			ok[c+">"+hub+":"+port], ok[c+">hubep:"+port] = true, true
		}
		ok["hubep>"+hub+":"+port] = true
	}
	for _, c := range tmClients {
		for _, port := range []string{"9711", jms} {
			ok[c+">tm:"+port] = true
		}
	}
	for _, c := range tmPublishers {
		ok[c+">tm:9711"] = true
	}
	if layout == "3.2" {
		// 3.2 gateways pull the publisher's API artifacts from tm1's internal data service
		// (the inbuilt artifact synchronizer), not from a push through the load balancer; the
		// publisher deploys throttling policies through tm1's services, and the key manager
		// announces revoked tokens to it.
		ok["gw>tm:9443"], ok["pub>tm:9443"], ok["km>tm:9443"] = true, true, true
	} else {
		// §5's control-plane configuration: each node publishes to the others' binary receivers
		// and duplicates events to their brokers, through their per-zone names on the endpoint.
		for _, port := range []string{"9711", jms} {
			ok["cp>hubep:"+port], ok["hubep>cp:"+port] = true, true
		}
	}
	for n := range nodeRoles {
		ok[n+">db:3306"] = true
		ok["bastion>"+n+":22"] = true
	}
	return ok
}

// unexpectedFlows lists the ingress rules of tmpl that have no row in the layout's flow table.
func unexpectedFlows(tmpl map[string]any, layout string) []string {
	allowed := allowedFlows(layout)
	var out []string
	for _, r := range ingressRules(tmpl) {
		if r.to == "endpoints" && r.port == 443 {
			continue // interface endpoints: HTTPS from the tiers with instances
		}
		from := r.from
		if r.cidr != "" {
			from = r.cidr
		}
		if key := fmt.Sprintf("%s>%s:%d", from, r.to, r.port); !allowed[key] {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// Every open port of the whole app has a row in the flow table, and nothing is open to the
// internet but the load balancer's listeners.
func TestSecurityGroupsMatchTheFlowTable(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		rules := ingressRules(tmpl)
		assert.Greater(t, len(rules), 20, "%s: the app's rules were read", name)
		assert.Empty(t, unexpectedFlows(tmpl, name), "%s: ingress rules with no row in the flow table", name)
		for _, r := range rules {
			if r.cidr == "0.0.0.0/0" {
				assert.Equal(t, "lb", r.to, "%s: only the load balancer is open to the internet (%d)", name, r.port)
			}
		}
	}
}

// The check is not vacuous: a rule "from the VPC" to the gateways has no row.
func TestFlowTableCheckCatchesAnExtraRule(t *testing.T) {
	tmpl := all(reference(t))
	raw, _ := json.Marshal(tmpl)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	var gw string
	for id := range testkit.Resources(c, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "GatewaySecurityGroup") {
			gw = id
		}
	}
	c["Resources"].(map[string]any)["Extra"] = map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
		"GroupId": map[string]any{"Fn::GetAtt": []any{gw, "GroupId"}}, "CidrIp": "10.0.0.0/16", "IpProtocol": "tcp", "FromPort": 9443.0, "ToPort": 9443.0,
	}}
	assert.Equal(t, []string{"10.0.0.0/16>gw:9443"}, unexpectedFlows(c, "4.x"))
}

// CloudFormation refuses a template over 500 resources or 1 MB; the test logs each stack's size so
// the table in docs/performance.md can be kept.
func TestTemplatesWithinCloudFormationLimits(t *testing.T) {
	fixtures := map[string]*testkit.Assembly{"4.x, 2 zones": reference(t), "4.x, 3 zones": reference3az(t), "3.2, 2 zones": reference32(t)}
	names := make([]string, 0, len(fixtures))
	for n := range fixtures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, s := range fixtures[name].Stacks {
			raw, err := json.Marshal(s.Template)
			require.NoError(t, err)
			count := len(s.Template["Resources"].(map[string]any))
			assert.Less(t, count, 500, "%s %s", name, s.ID)
			assert.Less(t, len(raw), 1_000_000, "%s %s", name, s.ID)
			t.Logf("| %s | %s | %d | %.0f KB |", name, s.ID, count, float64(len(raw))/1000)
		}
	}
}

// Every node's user data fits EC2's 16 KiB once CloudFormation fills in its values (each counted
// generously); a launch template over it would only fail at deploy time.
func TestUserDataWithinEC2Limit(t *testing.T) {
	fixtures := map[string]*testkit.Assembly{"4.x": reference(t), "4.x, 3 zones": reference3az(t), "3.2": reference32(t), "4.x, SSH": referenceWithAdminSSH(t)}
	for name, asm := range fixtures {
		for id, lt := range testkit.Resources(all(asm), "AWS::EC2::LaunchTemplate") {
			if ud := testkit.UserData(props(lt)["LaunchTemplateData"].(map[string]any)); ud != "" {
				n := bootscript.EstimatedSize(ud)
				assert.Less(t, n, bootscript.MaxUserData, "%s %s", name, id)
				if name == "4.x" {
					t.Logf("%s: about %d bytes of user data", id, n)
				}
			}
		}
	}
}

// Every group can take a rolling update: CloudFormation refuses one whose MinInstancesInService
// is not below MaxSize, so a launch-template change (a library upgrade, a new boot script) would
// fail the stack update. The traffic managers are replaced one after the other.
func TestRollingUpdatesCanRun(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		for id, g := range groups(tmpl) {
			policy, _ := g["UpdatePolicy"].(map[string]any)
			rolling, _ := policy["AutoScalingRollingUpdate"].(map[string]any)
			require.NotNil(t, rolling, "%s %s: a rolling update policy", name, id)
			maxSize, err := strconv.Atoi(fmt.Sprint(props(g)["MaxSize"]))
			require.NoError(t, err)
			assert.Less(t, rolling["MinInstancesInService"], float64(maxSize), "%s %s", name, id)
		}
		var tm1, tm2 string
		for id := range groups(tmpl) {
			switch {
			case strings.HasPrefix(id, "TrafficManagersTm1"):
				tm1 = id
			case strings.HasPrefix(id, "TrafficManagersTm2"):
				tm2 = id
			}
		}
		assert.Contains(t, groups(tmpl)[tm2]["DependsOn"], tm1, "%s: tm2 is updated after tm1", name)
	}
}

// What holds state outlives the stack (retained or snapshotted on delete and on replacement).
// What also has a fixed name is removed when the stack's first create fails: a retained group
// named /apimkit/... would make every later try fail with "already exists".
func TestStateIsKeptAndNamedStateDoesNotBlockARetry(t *testing.T) {
	for name, asm := range layouts(t) {
		kept := 0
		for _, s := range asm.Stacks {
			for id, raw := range s.Template["Resources"].(map[string]any) {
				r := raw.(map[string]any)
				switch r["Type"] {
				case "AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::RDS::DBInstance":
				default:
					continue
				}
				if _, replica := props(r)["SourceDBInstanceIdentifier"]; replica {
					continue // a copy of the primary, which keeps the data
				}
				kept++
				assert.Contains(t, []any{"Retain", "RetainExceptOnCreate", "Snapshot"}, r["DeletionPolicy"], "%s %s", name, id)
				assert.Contains(t, []any{"Retain", "Snapshot"}, r["UpdateReplacePolicy"], "%s %s", name, id)
				if _, named := props(r)["LogGroupName"]; named {
					assert.Equal(t, "RetainExceptOnCreate", r["DeletionPolicy"], "%s %s has a fixed name", name, id)
				}
			}
		}
		assert.Greater(t, kept, 30, name)
	}
}

var (
	inSubnet = reach.In
	publicIn = reach.PublicIn
)

func someInternet() reach.Endpoint { return reach.Internet(someInternetHost) }

// §5, control plane: each control-plane node duplicates events to every other node's broker
// (event_duplicate_url) and publishes to every node's receiver, and the gateways listen to every
// node; each node is named for its zone on the hub endpoint, which keeps a zonal name in its zone.
func TestConfig_ControlPlaneNodesShareTheirEvents(t *testing.T) {
	for name, asm := range map[string]*testkit.Assembly{"2 zones": reference(t), "3 zones": reference3az(t)} {
		tmpl := all(asm)
		var cpData, gwData string
		for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
			ud := testkit.UserData(props(lt)["LaunchTemplateData"].(map[string]any))
			switch {
			case strings.HasPrefix(id, "ControlPlane"):
				cpData = ud
			case strings.HasPrefix(id, "Gateway"):
				gwData = ud
			}
		}
		require.NotEmpty(t, cpData, name)
		var zones []string
		for _, r := range testkit.Resources(tmpl, "AWS::Route53::RecordSet") {
			if n := fmt.Sprint(props(r)["Name"]); props(r)["Type"] == "CNAME" && regexp.MustCompile(`^cp\d\.`).MatchString(n) {
				zones = append(zones, strings.TrimSuffix(n, "."))
				assert.Contains(t, fmt.Sprint(props(r)["ResourceRecords"]), "HubEndpoint", "%s: %s names the endpoint's zonal node", name, n)
			}
		}
		sort.Strings(zones)
		want := []string{"cp1.apim.internal", "cp2.apim.internal", "cp3.apim.internal"}[:len(zones)]
		require.Equal(t, want, zones, "%s: one name per zone", name)
		require.Len(t, zones, len(network(t, asm).Tier("Application")), name)
		for id, g := range groups(tmpl) {
			if strings.HasPrefix(id, "ControlPlane") {
				assert.Equal(t, fmt.Sprint(len(zones)), props(g)["MinSize"], "%s: a node in every zone", name)
				assert.Equal(t, fmt.Sprint(len(zones)), props(g)["MaxSize"], "%s: one node per zone", name)
				assert.Equal(t, "balanced-only", fmt.Sprint(props(g)["AvailabilityZoneDistribution"].(map[string]any)["CapacityDistributionStrategy"]),
					"%s: a zone that fails to launch is retried, not doubled up in another under its name", name)
			}
		}
		for i, self := range zones {
			toml, err := bootscript.File(cpData, fmt.Sprintf("/etc/apimkit/deployment-%d.toml", i))
			require.NoError(t, err, "%s: the node of zone %d has its own configuration", name, i+1)
			assert.Contains(t, string(toml), "wss_endpoint = 'wss://api.apim.example.com'\n",
				"%s: the portal advertises WebSocket APIs where the load balancer serves them, on 443", name)
			assert.Contains(t, string(toml), "ws_endpoint = 'wss://api.apim.example.com'\n",
				"%s: and no plain ws:// URL, which nothing serves", name)
			var doc struct {
				Apim struct {
					Hub struct {
						Duplicates []string `toml:"event_duplicate_url"`
						Publish    struct {
							Groups []struct {
								URLs []string `toml:"urls"`
							} `toml:"url_group"`
						} `toml:"publish"`
					} `toml:"event_hub"`
				} `toml:"apim"`
			}
			require.NoError(t, gotoml.Unmarshal(toml, &doc))
			var wantDup, wantPub []string
			wantPub = append(wantPub, "ssl://localhost:9711")
			for _, other := range zones {
				if other != self {
					wantDup = append(wantDup, "tcp://"+other+":8672")
					wantPub = append(wantPub, "ssl://"+other+":9711")
				}
			}
			var pub []string
			for _, g := range doc.Apim.Hub.Publish.Groups {
				pub = append(pub, g.URLs...)
			}
			assert.Equal(t, wantDup, doc.Apim.Hub.Duplicates, "%s: %s duplicates to the others", name, self)
			assert.Equal(t, wantPub, pub, "%s: %s publishes to every node", name, self)
		}
		_, err := bootscript.File(cpData, "/etc/apimkit/deployment.toml")
		assert.Error(t, err, "%s: no configuration shared by the zones", name)
		gw, err := bootscript.File(gwData, "/etc/apimkit/deployment.toml")
		require.NoError(t, err)
		for _, z := range zones {
			assert.Contains(t, string(gw), "tcp://"+z+":8672", "%s: gateways listen to %s, on its broker's TLS port", name, z)
		}
		assert.Contains(t, string(gw), "service_url = 'https://cp.apim.internal:9443/services/'", "%s: services by the group's name", name)
		for id, lb := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
			if strings.HasPrefix(id, "HubEndpoint") {
				assert.Contains(t, fmt.Sprint(props(lb)["LoadBalancerAttributes"]), "Key:load_balancing.cross_zone.enabled Value:false", "%s: zonal names stay in their zone", name)
			}
		}
	}
}

// Every WSO2 node installs the deployment's keystore, never the pack's: the one named by
// keystoreSecretArn, or else the one the deployment makes (the Data stack's ApimKeystore, whose
// secret comes from its custom resource). boot.sh is told where it is and deployment.toml names
// the PKCS12 keystore it writes.
func TestEveryNodeUsesTheDeploymentKeystore(t *testing.T) {
	for name, own := range map[string]bool{"keystore given": true, "the deployment's own": false} {
		asm := reference(t)
		if own {
			asm = referenceWithAdminSSH(t)
		}
		made := testkit.Resources(all(asm), "Custom::Wso2Keystore")
		assert.Len(t, made, map[bool]int{true: 0, false: 1}[own], "%s: the deployment makes a keystore only when given none", name)
		nodes := 0
		for id, lt := range testkit.Resources(all(asm), "AWS::EC2::LaunchTemplate") {
			ud := testkit.UserData(props(lt)["LaunchTemplateData"].(map[string]any))
			if !strings.Contains(ud, "apimkit-boot") {
				continue // the bastion and the update instance run no WSO2
			}
			nodes++
			assert.Equal(t, own, strings.Contains(ud, "KEYSTORE_SECRET_ARN="+testKeystoreArn+"\n"), "%s: %s", name, id)
			assert.Contains(t, ud, "KEYSTORE_SECRET_ARN=", "%s: %s", name, id)
			path := "/etc/apimkit/deployment.toml"
			if strings.Contains(ud, "CONFIG_ZONES=") {
				path = "/etc/apimkit/deployment-0.toml"
			}
			toml, err := bootscript.File(ud, path)
			require.NoError(t, err, id)
			assert.Contains(t, string(toml), "type = 'PKCS12'", "%s: %s", name, id)
		}
		assert.Equal(t, 4, nodes, "%s: control plane, gateways, two traffic managers", name)
	}
}

// The pack is read where it is: in the app's own bucket (its key comes with it), or in an existing
// bucket whose KMS key is given by ARN. The schema function may read the one pack object, and the
// nodes and the updater may use the bucket's key through S3.
func TestPacksAreReadWithTheirBucketsKey(t *testing.T) {
	policies := func(asm *testkit.Assembly) map[string]string {
		out := map[string]string{}
		for id, p := range testkit.Resources(all(asm), "AWS::IAM::Policy") {
			b, err := json.Marshal(props(p)["PolicyDocument"])
			require.NoError(t, err)
			out[id] = string(b)
		}
		return out
	}
	// decrypts says whether doc allows kms:Decrypt through S3 on a key whose JSON contains key.
	decrypts := func(doc, key string) bool {
		var d struct {
			Statement []struct {
				Action    any
				Condition map[string]map[string]any
				Resource  any
			}
		}
		require.NoError(t, json.Unmarshal([]byte(doc), &d))
		for _, st := range d.Statement {
			res, _ := json.Marshal(st.Resource)
			via := fmt.Sprint(st.Condition["StringEquals"]["kms:ViaService"])
			if strings.Contains(fmt.Sprint(st.Action), "kms:Decrypt") && strings.HasPrefix(via, "s3.") && strings.Contains(string(res), key) {
				return true
			}
		}
		return false
	}

	own := referenceWithAdminSSH(t)
	require.NotEmpty(t, testkit.Resources(own.Stack(t, "Data").Template, "AWS::S3::Bucket"), "the app's own pack bucket")
	var schema string
	for id, doc := range policies(own) {
		if strings.HasPrefix(id, "DatabaseSchemaFunction") {
			schema = doc
		}
	}
	require.NotEmpty(t, schema, "the schema function's policy")
	assert.Contains(t, schema, `"Action":["s3:GetObject","s3:GetObjectVersion"]`, "reads objects")
	assert.Contains(t, schema, `"/`+testPackKey+`"]]}`, "the one pack object")
	assert.Contains(t, schema, `"Action":"s3:ListBucket","Condition":{"StringEquals":{"s3:prefix":"`+testPackKey+`"}}`,
		"and may list that key alone, so a wrong key reads as missing")
	var doc struct{ Statement []struct{ Action any } }
	require.NoError(t, json.Unmarshal([]byte(schema), &doc))
	for _, st := range doc.Statement {
		for _, a := range asSlice(st.Action) {
			if strings.HasPrefix(fmt.Sprint(a), "s3:") {
				assert.Contains(t, []string{"s3:GetObject", "s3:GetObjectVersion"}, a, "nothing else of the bucket")
			}
		}
		if a, ok := st.Action.(string); ok && strings.HasPrefix(a, "s3:") {
			assert.Equal(t, "s3:ListBucket", a, "nothing else of the bucket")
		}
	}
	assert.True(t, decrypts(schema, `"PacksKey`), "and its key through S3: %s", schema)

	external := reference3az(t)
	for _, r := range testkit.Resources(external.Stack(t, "Data").Template, "AWS::S3::Bucket") {
		assert.NotContains(t, fmt.Sprint(props(r)["BucketName"]), testPackBucket)
	}
	readers := 0
	for id, doc := range policies(external) {
		if !strings.Contains(doc, "arn:aws:s3:::"+testPackBucket) && !strings.Contains(doc, `":s3:::`+testPackBucket) {
			continue
		}
		readers++
		assert.True(t, decrypts(doc, `"`+testPackBucketKeyArn+`"`), "%s reads the bucket and may decrypt with its key through S3: %s", id, doc)
	}
	assert.GreaterOrEqual(t, readers, 5, "the schema function, the control plane, the gateways, two traffic managers, the updater")
}

// Rotating the WSO2 user's password: a new revision in the context is a new property of the
// schema resource, so CloudFormation runs the function, which sets the secret's password.
func TestAppPasswordRevisionRerunsTheSchemaFunction(t *testing.T) {
	for asm, want := range map[*testkit.Assembly]any{reference(t): nil, referenceWithAdminSSH(t): "2026-11"} {
		schemas := testkit.Resources(asm.Stack(t, "Data").Template, "Custom::Wso2Schema")
		require.Len(t, schemas, 1)
		for _, r := range schemas {
			assert.Equal(t, want, props(r)["AppPasswordRevision"])
		}
	}
}

// The portal host refuses WSO2's management console from the internet in both layouts, and its
// SOAP admin services in 4.x; 3.2's account recovery and self sign-up call those services
// through the public name, so the 3.2 portal keeps them.
func TestManagementConsoleIsNotServedToTheInternet(t *testing.T) {
	for name, want := range map[string]string{"4.x": "[/carbon* /services* /t/*/carbon*]", "3.2": "[/carbon* /t/*/carbon*]"} {
		var blocked []string
		for _, r := range testkit.Resources(layouts(t)[name].Stack(t, "Application").Template, "AWS::ElasticLoadBalancingV2::ListenerRule") {
			if strings.Contains(fmt.Sprint(props(r)["Actions"]), "StatusCode:403") {
				blocked = append(blocked, fmt.Sprint(props(r)["Priority"], props(r)["Conditions"]))
			}
		}
		require.Len(t, blocked, 1, "%s: one portal host", name)
		assert.Contains(t, blocked[0], "portal.apim.example.com", name)
		assert.Contains(t, blocked[0], want, name)
		assert.True(t, strings.HasPrefix(blocked[0], "1 "), "%s: ahead of every route", name)
		// Issue 14: the portal host is an allowlist; what only nodes call is refused.
		app := layouts(t)[name].Stack(t, "Application").Template
		for _, path := range []string{"/internal/data/v1/runtime-artifacts", "/keymanager-operations/dcr/register", "/devportal/../internal/data/v1/keyManagers"} {
			assert.Regexp(t, "^fixed 4", testkit.ListenerAnswer(app, 443, "portal.apim.example.com", path), "%s %s", name, path)
		}
		for _, path := range []string{"/devportal/apis", "/oauth2/token", "/authenticationendpoint/login.do"} {
			assert.Regexp(t, "^forward ", testkit.ListenerAnswer(app, 443, "portal.apim.example.com", path), "%s %s", name, path)
		}
	}
}

// Issue 15: every deployment.toml the reference app's nodes receive (read back from the
// synthesized user data, per zone where the nodes are named per zone) maps cleanly through WSO2's
// config mapper of its release, with the environment boot.sh gives the server.
func TestReferenceConfigurationsReplayThroughWSO2ConfigMapper(t *testing.T) {
	env := confmap.BootEnv(bootscript.Script)
	for name, asm := range map[string]*testkit.Assembly{"4.x": reference(t), "3.2": reference32(t), "3 zones": reference3az(t)} {
		replayed := 0
		for id, lt := range testkit.Resources(all(asm), "AWS::EC2::LaunchTemplate") {
			ud := testkit.UserData(props(lt)["LaunchTemplateData"].(map[string]any))
			envFile := regexp.MustCompile(`(?m)^PACK_HOME=wso2am[a-z-]*-(\d+\.\d+\.\d+)$`).FindStringSubmatch(ud)
			if envFile == nil {
				continue // the bastion, the update instance
			}
			facts, err := confmap.Load(envFile[1])
			require.NoError(t, err, "%s %s", name, id)
			paths := []string{"/etc/apimkit/deployment.toml"}
			for i := range 3 {
				paths = append(paths, fmt.Sprintf("/etc/apimkit/deployment-%d.toml", i))
			}
			for _, path := range paths {
				toml, err := bootscript.File(ud, path)
				if err != nil {
					continue
				}
				replayed++
				assert.Empty(t, confmap.Replay(toml, facts, env), "%s %s %s", name, id, path)
			}
		}
		assert.Equal(t, map[string]int{"4.x": 5, "3.2": 6, "3 zones": 6}[name], replayed, "%s: every node's files were replayed", name)
	}
}
