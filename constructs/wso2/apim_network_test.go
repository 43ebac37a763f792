package wso2_test

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/netplan"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/reach"
	"github.com/apimkit/apimkit/test/testkit"
)

const testAccount = "111111111111"

// stackIn returns a stack in a new app: environment-agnostic when region is "".
func stackIn(app awscdk.App, region string) awscdk.Stack {
	props := &awscdk.StackProps{}
	if region != "" {
		props.Env = &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(region)}
	}
	return awscdk.NewStack(app, jsii.String("Test"), props)
}

// articleNetwork is the article's layout: us-west-1b and us-west-1c, with the recommended
// interface endpoints and one admin range.
var articleNetwork *wso2.ApimNetwork

func articleTemplate(t *testing.T) map[string]any {
	asm := testkit.Fixture(t, "network-article", func() awscdk.App {
		app := testkit.NewApp(nil)
		articleNetwork = wso2.NewApimNetwork(stackIn(app, "us-west-1"), "Network", &wso2.ApimNetworkProps{
			AvailabilityZones:  jsii.Strings("us-west-1b", "us-west-1c"),
			InterfaceEndpoints: wso2.RecommendedInterfaceEndpoints(),
			AdminSSHCidrs:      jsii.Strings("203.0.113.0/24"),
		})
		return app
	})
	return asm.Stack(t, "Test").Template
}

func defaultTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "network-default", func() awscdk.App {
		app := testkit.NewApp(nil)
		wso2.NewApimNetwork(stackIn(app, ""), "Network", nil)
		return app
	}).Stack(t, "Test").Template
}

func singleNatTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "network-single-nat", func() awscdk.App {
		app := testkit.NewApp(nil)
		wso2.NewApimNetwork(stackIn(app, "eu-west-1"), "Network", &wso2.ApimNetworkProps{
			AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b", "eu-west-1c"),
			SingleNatGateway:  jsii.Bool(true),
			Cidr:              jsii.String("172.20.0.0/18"),
			CidrPlan: &wso2.CidrPlan{
				Application: &wso2.TierCidr{Block: jsii.String("172.20.32.0/19"), SubnetMask: jsii.Number(21)},
			},
			DatabasePort:     jsii.Number(3307),
			FlowLogRetention: awslogs.RetentionDays_THREE_MONTHS,
		})
		return app
	}).Stack(t, "Test").Template
}

// subnetsByTier returns each tier's subnets as "AZ CIDR", sorted.
func subnetsByTier(tmpl map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::Subnet") {
		p := testkit.Props(r)
		tier := ""
		for _, tag := range p["Tags"].([]any) {
			if tm := tag.(map[string]any); tm["Key"] == "aws-cdk:subnet-name" {
				tier = tm["Value"].(string)
			}
		}
		out[tier] = append(out[tier], fmt.Sprintf("%v %v", p["AvailabilityZone"], p["CidrBlock"]))
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

func TestNetworkSpansTheGivenZonesWithFourTiers(t *testing.T) {
	assert.Equal(t, map[string][]string{
		"Public":      {"us-west-1b 10.0.0.0/24", "us-west-1c 10.0.1.0/24"},
		"Management":  {"us-west-1b 10.0.16.0/24", "us-west-1c 10.0.17.0/24"},
		"Data":        {"us-west-1b 10.0.32.0/24", "us-west-1c 10.0.33.0/24"},
		"Application": {"us-west-1b 10.0.128.0/20", "us-west-1c 10.0.144.0/20"},
	}, subnetsByTier(articleTemplate(t)))
	vpcs := testkit.Resources(articleTemplate(t), "AWS::EC2::VPC")
	require.Len(t, vpcs, 1)
	for _, v := range vpcs {
		assert.Equal(t, "10.0.0.0/16", testkit.Props(v)["CidrBlock"])
		assert.Equal(t, true, testkit.Props(v)["EnableDnsHostnames"])
	}
	assert.Equal(t, []string{"us-west-1b", "us-west-1c"}, articleNetwork.AvailabilityZones())
}

func TestNetworkDefaultsToTheStacksFirstTwoZones(t *testing.T) {
	tiers := subnetsByTier(defaultTemplate(t))
	require.Len(t, tiers, 4)
	for tier, subnets := range tiers {
		require.Len(t, subnets, 2, tier)
		assert.Contains(t, subnets[0], `Fn::GetAZs`, "an environment-agnostic stack takes its zones from Fn::GetAZs")
		assert.NotEqual(t, subnets[0][:40], subnets[1][:40], "two different zones for %s", tier)
	}
	assert.Len(t, testkit.Resources(defaultTemplate(t), "AWS::EC2::NatGateway"), 2)
}

func TestCustomCidrPlanAndThreeZones(t *testing.T) {
	assert.Equal(t, map[string][]string{
		"Public":      {"eu-west-1a 172.20.0.0/26", "eu-west-1b 172.20.0.64/26", "eu-west-1c 172.20.0.128/26"},
		"Management":  {"eu-west-1a 172.20.4.0/26", "eu-west-1b 172.20.4.64/26", "eu-west-1c 172.20.4.128/26"},
		"Data":        {"eu-west-1a 172.20.8.0/26", "eu-west-1b 172.20.8.64/26", "eu-west-1c 172.20.8.128/26"},
		"Application": {"eu-west-1a 172.20.32.0/21", "eu-west-1b 172.20.40.0/21", "eu-west-1c 172.20.48.0/21"},
	}, subnetsByTier(singleNatTemplate(t)))
}

func TestOneNatGatewayPerZoneByDefault(t *testing.T) {
	net := loadNetwork(t, articleTemplate(t))
	assert.Len(t, testkit.Resources(articleTemplate(t), "AWS::EC2::NatGateway"), 2)
	for _, tier := range []string{"Application", "Management"} {
		for _, s := range net.Tier(tier) {
			v := net.Connect(reach.In(s), reach.Internet("198.51.100.7"), 443)
			require.True(t, v.Allowed, "%s %s: %s", tier, s.AZ, v.Reason)
			require.NotNil(t, v.NatSubnet)
			assert.Equal(t, s.AZ, v.NatSubnet.AZ, "%s in %s must leave through its own zone's NAT gateway", tier, s.AZ)
			assert.Equal(t, "Public", v.NatSubnet.Name)
		}
	}
}

func TestSingleNatGatewayServesEveryZone(t *testing.T) {
	tmpl := singleNatTemplate(t)
	nats := testkit.Resources(tmpl, "AWS::EC2::NatGateway")
	require.Len(t, nats, 1)
	net := loadNetwork(t, tmpl)
	for _, s := range net.Tier("Application") {
		v := net.Connect(reach.In(s), reach.Internet("198.51.100.7"), 443)
		require.True(t, v.Allowed, v.Reason)
		assert.Equal(t, "eu-west-1a", v.NatSubnet.AZ)
	}
}

func TestPublicSubnetsDoNotAssignPublicIps(t *testing.T) {
	for _, tmpl := range []map[string]any{articleTemplate(t), defaultTemplate(t)} {
		for id, r := range testkit.Resources(tmpl, "AWS::EC2::Subnet") {
			assert.NotEqual(t, true, testkit.Props(r)["MapPublicIpOnLaunch"], id)
		}
	}
}

func TestDataTierHasNoRouteOut(t *testing.T) {
	net := loadNetwork(t, articleTemplate(t))
	for _, s := range net.Tier("Data") {
		v := net.Connect(reach.In(s), reach.Internet("198.51.100.7"), 443)
		assert.False(t, v.Allowed)
		assert.Contains(t, v.Reason, "no route")
	}
}

// aclEntries renders each tier's ACL entries from the template in netplan's notation.
func aclEntries(t *testing.T, tmpl map[string]any) map[string][]netplan.AclRule {
	acls := testkit.Resources(tmpl, "AWS::EC2::NetworkAcl")
	tierOf := map[string]string{}
	for id := range acls {
		for _, tier := range netplan.Tiers() {
			if strings.HasPrefix(id, "Network"+string(tier)+"Acl") {
				tierOf[id] = string(tier)
			}
		}
	}
	require.Len(t, tierOf, 4, "one network ACL per tier, got %v", acls)
	out := map[string][]netplan.AclRule{}
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::NetworkAclEntry") {
		p := testkit.Props(r)
		require.Equal(t, "allow", p["RuleAction"])
		require.EqualValues(t, 6, p["Protocol"], "every entry is TCP")
		ports := p["PortRange"].(map[string]any)
		tier := tierOf[p["NetworkAclId"].(map[string]any)["Ref"].(string)]
		out[tier] = append(out[tier], netplan.AclRule{
			Number:   int(p["RuleNumber"].(float64)),
			Egress:   p["Egress"] == true,
			Peer:     netip.MustParsePrefix(p["CidrBlock"].(string)),
			FromPort: int(ports["From"].(float64)),
			ToPort:   int(ports["To"].(float64)),
		})
	}
	for _, rules := range out {
		sort.Slice(rules, func(i, j int) bool {
			if rules[i].Egress != rules[j].Egress {
				return !rules[i].Egress
			}
			return rules[i].Number < rules[j].Number
		})
	}
	return out
}

func TestNetworkAclsAreTheRuleTables(t *testing.T) {
	got := aclEntries(t, articleTemplate(t))
	tables := netplan.Acls(articleNetworkPlan(t), netplan.AclOptions{
		AdminSSH:           []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		DatabasePort:       3306,
		InterfaceEndpoints: true, // the article network has the recommended endpoints
	})
	for _, tier := range netplan.Tiers() {
		var want []netplan.AclRule
		for _, r := range tables[tier] {
			r.Why = ""
			want = append(want, r)
		}
		sort.SliceStable(want, func(i, j int) bool {
			if want[i].Egress != want[j].Egress {
				return !want[i].Egress
			}
			return want[i].Number < want[j].Number
		})
		assert.Equal(t, want, got[string(tier)], "network ACL of the %s tier", tier)
	}
	// Every subnet is associated with its own tier's ACL.
	assocs := testkit.Resources(articleTemplate(t), "AWS::EC2::SubnetNetworkAclAssociation")
	assert.Len(t, assocs, 8)
}

func TestPublicAclAdmitsOnlyWebAndAdminSsh(t *testing.T) {
	anywhere := netip.MustParsePrefix("0.0.0.0/0")
	for _, r := range aclEntries(t, articleTemplate(t))["Public"] {
		if r.Egress {
			continue
		}
		switch {
		case r.FromPort == 22:
			assert.Equal(t, "203.0.113.0/24", r.Peer.String(), "SSH only from the admin range")
		case r.FromPort >= 1024:
			assert.Equal(t, 65535, r.ToPort, "replies: %v", r)
		default:
			assert.Contains(t, []int{80, 443}, r.FromPort, "below the ephemeral range the public tier admits only 80 and 443: %v", r)
			assert.Equal(t, anywhere, r.Peer)
		}
	}
}

// The private ACLs never admit SSH from the internet, nor RDP, except inside the application
// tier's reply rule: its Lambda functions pick source ports from all of 1024-65535 (a
// CT.EC2.PR.5 exception with its reason in docs/compliance.md; the tier has no route from the internet).
func TestPrivateAclsNeverAdmitSshOrRdpFromTheInternet(t *testing.T) {
	for _, tier := range []string{"Application", "Management", "Data"} {
		for _, r := range aclEntries(t, articleTemplate(t))[tier] {
			if r.Egress || r.Peer.Bits() > 0 {
				continue
			}
			for _, port := range []int{22, 3389} {
				if tier == "Application" && r.Number == 130 && port == 3389 {
					assert.Equal(t, 1024, r.FromPort, "the reply rule, for Lambda's source ports")
					continue
				}
				assert.False(t, r.FromPort <= port && port <= r.ToPort, "%s admits %d from 0.0.0.0/0: %v", tier, port, r)
			}
		}
	}
}

func TestDataAclAdmitsOnlyTheDatabasePort(t *testing.T) {
	for _, tc := range []struct {
		name string
		tmpl map[string]any
		port int
		from []string
	}{
		{"article", articleTemplate(t), 3306, []string{"10.0.128.0/17", "10.0.16.0/20"}},
		{"custom port", singleNatTemplate(t), 3307, []string{"172.20.32.0/19", "172.20.4.0/22"}},
	} {
		var peers []string
		for _, r := range aclEntries(t, tc.tmpl)["Data"] {
			if r.Egress {
				assert.GreaterOrEqual(t, r.FromPort, 1024, "%s: the data tier only replies", tc.name)
				continue
			}
			assert.Equal(t, tc.port, r.FromPort, tc.name)
			assert.Equal(t, tc.port, r.ToPort, tc.name)
			peers = append(peers, r.Peer.String())
		}
		assert.ElementsMatch(t, tc.from, peers, "%s: the database port only from the application and management tiers", tc.name)
	}
}

func TestFlowLogsAreEncryptedWithBoundedRetention(t *testing.T) {
	for _, tc := range []struct {
		tmpl   map[string]any
		days   float64
		region string
	}{{articleTemplate(t), 365, "us-west-1"}, {singleNatTemplate(t), 90, "eu-west-1"}} {
		flows := testkit.Resources(tc.tmpl, "AWS::EC2::FlowLog")
		require.Len(t, flows, 1)
		for _, f := range flows {
			p := testkit.Props(f)
			assert.Equal(t, "VPC", p["ResourceType"])
			assert.Equal(t, "ALL", p["TrafficType"])
			assert.Equal(t, "cloud-watch-logs", p["LogDestinationType"])
		}
		// The delivery role trusts the flow-log service for this account's flow logs only.
		for id, r := range testkit.Resources(tc.tmpl, "AWS::IAM::Role") {
			if !strings.Contains(id, "FlowLogIAMRole") {
				continue
			}
			trust := fmt.Sprint(testkit.Props(r)["AssumeRolePolicyDocument"])
			assert.Contains(t, trust, "vpc-flow-logs.amazonaws.com", id)
			assert.Contains(t, trust, "aws:SourceAccount", id)
			assert.Contains(t, trust, ":vpc-flow-log/*", id)
		}
		groups := testkit.Resources(tc.tmpl, "AWS::Logs::LogGroup")
		require.Len(t, groups, 1)
		for _, g := range groups {
			assert.Equal(t, tc.days, testkit.Props(g)["RetentionInDays"])
			assert.Contains(t, testkit.Props(g)["KmsKeyId"], "Fn::GetAtt")
			assert.Equal(t, "Retain", g["DeletionPolicy"], "flow logs are audit data and outlive the stack")
		}
		for _, k := range testkit.Resources(tc.tmpl, "AWS::KMS::Key") {
			assert.Equal(t, true, testkit.Props(k)["EnableKeyRotation"])
			assert.Equal(t, "Retain", k["DeletionPolicy"])
			assert.Contains(t, fmt.Sprint(testkit.Props(k)["KeyPolicy"]), "logs."+tc.region+".amazonaws.com")
		}
	}
}

func TestEndpoints(t *testing.T) {
	tmpl := articleTemplate(t)
	net := loadNetwork(t, tmpl)
	routeTableOf := routeTables(tmpl)
	var gateway, iface []map[string]any
	for _, e := range testkit.Resources(tmpl, "AWS::EC2::VPCEndpoint") {
		if testkit.Props(e)["VpcEndpointType"] == "Interface" {
			iface = append(iface, testkit.Props(e))
		} else {
			gateway = append(gateway, testkit.Props(e))
		}
	}
	require.Len(t, gateway, 1, "one S3 gateway endpoint")
	var want []string
	for _, tier := range []string{"Application", "Management"} {
		for _, s := range net.Tier(tier) {
			want = append(want, routeTableOf[s.ID])
		}
	}
	var got []string
	for _, rt := range gateway[0]["RouteTableIds"].([]any) {
		got = append(got, rt.(map[string]any)["Ref"].(string))
	}
	assert.ElementsMatch(t, want, got, "the S3 endpoint serves the application and management tiers")

	require.Len(t, iface, 6)
	var appSubnets []string
	for _, s := range net.Tier("Application") {
		appSubnets = append(appSubnets, s.ID)
	}
	for _, e := range iface {
		assert.Equal(t, true, e["PrivateDnsEnabled"])
		var subnets []string
		for _, s := range e["SubnetIds"].([]any) {
			subnets = append(subnets, s.(map[string]any)["Ref"].(string))
		}
		assert.ElementsMatch(t, appSubnets, subnets)
	}
	sgs := testkit.Resources(tmpl, "AWS::EC2::SecurityGroup")
	require.Len(t, sgs, 1)
	for _, sg := range sgs {
		var ingress []string
		for _, r := range testkit.Props(sg)["SecurityGroupIngress"].([]any) {
			rule := r.(map[string]any)
			assert.EqualValues(t, 443, rule["FromPort"])
			assert.EqualValues(t, 443, rule["ToPort"])
			ingress = append(ingress, rule["CidrIp"].(string))
		}
		assert.ElementsMatch(t, []string{"10.0.0.0/20", "10.0.128.0/17", "10.0.16.0/20"}, ingress, "HTTPS from the tiers with instances, never the data tier")
	}
	assert.Empty(t, testkit.Resources(defaultTemplate(t), "AWS::EC2::SecurityGroup"), "no interface endpoints unless asked for")
}

func TestSubnetsInAzPinsOneZone(t *testing.T) {
	articleTemplate(t)
	sel := articleNetwork.SubnetsInAz(wso2.TierApplication, "us-west-1c")
	require.Len(t, *sel.Subnets, 1)
	assert.Equal(t, "us-west-1c", *(*sel.Subnets)[0].AvailabilityZone())
	assert.Len(t, *articleNetwork.Subnets(wso2.TierData).Subnets, 2)
	assert.Equal(t, "10.0.32.0/20", articleNetwork.TierBlock(wso2.TierData))
	msg := panicMessage(func() { articleNetwork.SubnetsInAz(wso2.TierApplication, "us-west-1a") })
	assert.Contains(t, msg, `no subnet in "us-west-1a"`)
	assert.Contains(t, msg, "us-west-1b, us-west-1c")
}

func TestExistingVpcIsWrappedNotChanged(t *testing.T) {
	var net *wso2.ApimNetwork
	asm := testkit.Fixture(t, "network-existing", func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := stackIn(app, "us-west-1")
		vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:                       jsii.String("vpc-0123456789abcdef0"),
			AvailabilityZones:           jsii.Strings("us-west-1b", "us-west-1c"),
			PublicSubnetIds:             jsii.Strings("subnet-pub-b", "subnet-pub-c"),
			PrivateSubnetIds:            jsii.Strings("subnet-app-b", "subnet-app-c"),
			IsolatedSubnetIds:           jsii.Strings("subnet-db-b", "subnet-db-c"),
			PublicSubnetRouteTableIds:   jsii.Strings("rtb-pub", "rtb-pub"),
			PrivateSubnetRouteTableIds:  jsii.Strings("rtb-b", "rtb-c"),
			IsolatedSubnetRouteTableIds: jsii.Strings("rtb-db", "rtb-db"),
		})
		net = wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
			ExistingVpc: vpc,
			ExistingSubnets: &wso2.ExistingTierSubnets{
				Public:      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
				Application: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
				Data:        &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
			},
		})
		// A consumer's resource, so the stack is not empty.
		awsec2.NewSecurityGroup(stack, jsii.String("Consumer"), &awsec2.SecurityGroupProps{Vpc: net.Vpc()})
		return app
	})
	res, _ := asm.Stack(t, "Test").Template["Resources"].(map[string]any)
	assert.Len(t, res, 1, "wrapping an existing VPC creates nothing; the one resource is the consumer's")
	assert.Equal(t, []string{"us-west-1b", "us-west-1c"}, net.AvailabilityZones())
	assert.Equal(t, "subnet-app-c", *(*net.SubnetsInAz(wso2.TierApplication, "us-west-1c").Subnets)[0].SubnetId())
	assert.Equal(t, "subnet-db-b", *(*net.SubnetsInAz(wso2.TierData, "us-west-1b").Subnets)[0].SubnetId())
	assert.False(t, net.HasTier(wso2.TierManagement))
	assert.Contains(t, panicMessage(func() { net.Subnets(wso2.TierManagement) }), "ExistingSubnets.Management")
	assert.Nil(t, net.FlowLogGroup())
}

func articleNetworkPlan(t *testing.T) netplan.Plan {
	tiers, err := netplan.DefaultTiers(netip.MustParsePrefix("10.0.0.0/16"))
	require.NoError(t, err)
	return netplan.Plan{Vpc: netip.MustParsePrefix("10.0.0.0/16"), Tiers: tiers}
}

func loadNetwork(t *testing.T, tmpl map[string]any) *reach.Network {
	t.Helper()
	net, err := reach.Load(tmpl)
	require.NoError(t, err)
	return net
}

// routeTables maps each subnet's logical id to its route table's.
func routeTables(tmpl map[string]any) map[string]string {
	out := map[string]string{}
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SubnetRouteTableAssociation") {
		p := testkit.Props(r)
		out[p["SubnetId"].(map[string]any)["Ref"].(string)] = p["RouteTableId"].(map[string]any)["Ref"].(string)
	}
	return out
}

// panicMessage runs f and returns what it panicked with, or "" if it returned.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// sameTemplate builds two apps, one that gives props by their new names (newer) and one by their
// deprecated names (older), checks that their Test stacks synthesize to the same bytes, and
// returns the template.
func sameTemplate(t *testing.T, newer, older func(app awscdk.App)) map[string]any {
	t.Helper()
	var stacks []*testkit.Stack
	var raw []string
	for _, build := range []func(awscdk.App){newer, older} {
		app := testkit.NewApp(partialDeployment)
		build(app)
		asm, err := testkit.Synth(app)
		require.NoError(t, err)
		s := asm.Stack(t, "Test")
		b, err := os.ReadFile(s.File)
		require.NoError(t, err)
		stacks, raw = append(stacks, s), append(raw, string(b))
	}
	require.Equal(t, raw[0], raw[1], "the deprecated names build another template than the new ones")
	return stacks[0].Template
}

// AdminSshCidrs and AllowSshFromAnywhere, deprecated, still shape the public tier's ACL as
// AdminSSHCidrs and AllowSSHFromAnywhere do; both names with different values are refused.
func TestApimNetworkDeprecatedSSHNames(t *testing.T) {
	azs := jsii.Strings("us-west-1b", "us-west-1c")
	tmpl := sameTemplate(t, func(app awscdk.App) {
		wso2.NewApimNetwork(stackIn(app, "us-west-1"), "Network", &wso2.ApimNetworkProps{AvailabilityZones: azs,
			AdminSSHCidrs: jsii.Strings("0.0.0.0/0"), AllowSSHFromAnywhere: jsii.Bool(true)})
	}, func(app awscdk.App) {
		wso2.NewApimNetwork(stackIn(app, "us-west-1"), "Network", &wso2.ApimNetworkProps{AvailabilityZones: azs,
			AdminSshCidrs: jsii.Strings("0.0.0.0/0"), AllowSshFromAnywhere: jsii.Bool(true)})
	})
	ssh := false
	for _, e := range testkit.Resources(tmpl, "AWS::EC2::NetworkAclEntry") {
		p := testkit.Props(e)
		if r, ok := p["PortRange"].(map[string]any); ok && r["From"] == 22.0 && p["CidrBlock"] == "0.0.0.0/0" && p["Egress"] != true {
			ssh = true
		}
	}
	assert.True(t, ssh, "the public ACL admits SSH from the range given by the deprecated name")

	cases := []struct {
		name  string
		props *wso2.ApimNetworkProps
		want  string
	}{
		{"ranges", &wso2.ApimNetworkProps{AdminSSHCidrs: jsii.Strings("203.0.113.0/24"), AdminSshCidrs: jsii.Strings("198.51.100.0/24")},
			"ApimNetwork: AdminSSHCidrs is [203.0.113.0/24] and AdminSshCidrs, its deprecated name, is [198.51.100.0/24]: set AdminSSHCidrs only"},
		{"anywhere", &wso2.ApimNetworkProps{AllowSSHFromAnywhere: jsii.Bool(true), AllowSshFromAnywhere: jsii.Bool(false)},
			"ApimNetwork: AllowSSHFromAnywhere is true and AllowSshFromAnywhere, its deprecated name, is false: set AllowSSHFromAnywhere only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := stackIn(testkit.NewApp(nil), "us-west-1")
			tc.props.AvailabilityZones = azs
			assert.Equal(t, tc.want, panicMessage(func() { wso2.NewApimNetwork(stack, "Network", tc.props) }))
			assert.Nil(t, stack.Node().TryFindChild(jsii.String("Network")))
		})
	}
	t.Run("the same value by both names", func(t *testing.T) {
		stack := stackIn(testkit.NewApp(nil), "us-west-1")
		assert.NotPanics(t, func() {
			wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: azs,
				AdminSSHCidrs: jsii.Strings("203.0.113.0/24"), AdminSshCidrs: jsii.Strings("203.0.113.0/24")})
		})
	})
}
