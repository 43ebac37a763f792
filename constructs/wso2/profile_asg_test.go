package wso2_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/internal/bootscript"
	"github.com/apimkit/apimkit/test/testkit"
)

const testWebAcl = "arn:aws:wafv2:us-west-1:111111111111:regional/webacl/apim/11111111-2222-3333-4444-555555555555"

const testCertificate = "arn:aws:acm:us-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555"

// nodesFixture is the 4.x control plane and gateways behind the load balancer, with a database,
// all in one stack.
type nodesFixture struct {
	network      *wso2.ApimNetwork
	database     *wso2.ApimDatabase
	controlPlane *wso2.ProfileAsg
	gateway      *wso2.ProfileAsg
}

var nodes nodesFixture

func wiring() *wso2.NodeWiring {
	return &wso2.NodeWiring{
		PortalHostname:  jsii.String("portal.example.com"),
		GatewayHostname: jsii.String("api.example.com"),
		ControlPlane:    []profiles.Node{{Host: "cp.apim.internal"}},
		TrafficManagers: []profiles.Node{{Host: "tm1.apim.internal", Offset: 1}, {Host: "tm2.apim.internal", Offset: 2}},
	}
}

// testPack and testDriver are pins as a deploy's promotions answer them.
var (
	testPack = &wso2.PinnedObject{Key: jsii.String("packs/wso2am-4.3.0.zip"), VersionId: jsii.String("Pv.3f_Xq1"),
		Sha256: jsii.String(strings.Repeat("ab", 32))}
	testDriver = &wso2.PinnedObject{Key: jsii.String(wso2.DefaultJdbcDriverKey), VersionId: jsii.String("Dv.7k_Zz2"),
		Sha256: jsii.String(strings.Repeat("cd", 32))}
)

type nodeEnv struct {
	stack    awscdk.Stack
	network  *wso2.ApimNetwork
	database *wso2.ApimDatabase
	packs    awss3.IBucket
	admin    awscdk.Resource
}

func newNodeEnv(app awscdk.App) nodeEnv {
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: net})
	return nodeEnv{stack: stack, network: net, database: db, packs: wso2.NewPackBucket(stack, "Packs")}
}

// certificate imports the test certificate into the env's stack (once per stack).
func (e nodeEnv) certificate() awscertificatemanager.ICertificate {
	return awscertificatemanager.Certificate_FromCertificateArn(e.stack, jsii.String("Certificate"), jsii.String(testCertificate))
}

func (e nodeEnv) props(p profiles.Name) *wso2.ProfileAsgProps {
	return &wso2.ProfileAsgProps{
		Network: e.network, Profile: p, Wiring: wiring(), Database: e.database,
		AdminSecret: wso2.NewAdminSecret(e.stack, "Admin"+strings.ReplaceAll(string(p), "-", ""), e.database.EncryptionKey()),
		PackBucket:  e.packs, Pack: testPack, JdbcDriver: testDriver,
		// These fixtures are not about the keystore (TestNodesUseTheDeploymentKeystore is).
		UsePackKeystore: jsii.Bool(true),
	}
}

func nodesTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "nodes", func() awscdk.App {
		app := testkit.NewApp(nil)
		env := newNodeEnv(app)
		nodes.network, nodes.database = env.network, env.database
		nodes.controlPlane = wso2.NewProfileAsg(env.stack, "ControlPlane", env.props(profiles.ControlPlane))
		nodes.gateway = wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
		nodes.gateway.Connections().AllowTo(nodes.controlPlane, awsec2.Port_Tcp(jsii.Number(9443)), jsii.String("key validation"))
		wso2.NewApimLoadBalancer(env.stack, "LoadBalancer", &wso2.ApimLoadBalancerProps{
			Network:     env.network,
			Certificate: env.certificate(),
			WebAclArn:   jsii.String(testWebAcl),
			Routes: []wso2.LoadBalancedProfile{
				{Profile: nodes.controlPlane, Hostname: jsii.String("portal.example.com"), Sticky: jsii.Bool(true)},
				{Profile: nodes.gateway, Hostname: jsii.String("api.example.com"), RequestsPerTarget: jsii.Number(3000)},
			},
		})
		return app
	}).Stack(t, "Test").Template
}

func resourceWithPrefix(t *testing.T, tmpl map[string]any, typ, prefix string) map[string]any {
	t.Helper()
	for id, r := range testkit.Resources(tmpl, typ) {
		if strings.HasPrefix(id, prefix) {
			return r
		}
	}
	t.Fatalf("no %s starting with %s", typ, prefix)
	return nil
}

func TestLaunchTemplate(t *testing.T) {
	tmpl := nodesTemplate(t)
	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	assert.Equal(t, "required", lt["MetadataOptions"].(map[string]any)["HttpTokens"], "IMDSv2 only")
	ami := fmt.Sprint(lt["ImageId"])
	assert.Contains(t, ami, "al2023", "Amazon Linux 2023")
	assert.Contains(t, ami, "arm64", "on Graviton")
	assert.Equal(t, true, lt["Monitoring"].(map[string]any)["Enabled"])
	ebs := lt["BlockDeviceMappings"].([]any)[0].(map[string]any)["Ebs"].(map[string]any)
	assert.Equal(t, true, ebs["Encrypted"])
	assert.Equal(t, "gp3", ebs["VolumeType"])
	assert.Contains(t, fmt.Sprint(ebs["KmsKeyId"]), "GatewayKey")

	// The user data carries the rendered deployment.toml and no secret.
	ud := testkit.UserData(lt)
	assert.Contains(t, ud, "exec /usr/local/sbin/apimkit-boot")
	assert.Contains(t, ud, `START_COMMAND="bin/api-manager.sh --optimize -Dprofile=gateway-worker --skipConfigOptimization"`)
	assert.Contains(t, ud, "PACK_KEY=packs/wso2am-4.3.0.zip")
	assert.Contains(t, ud, "HEALTH_TIMEOUT=900\n", "the boot script waits the start-up grace period for health")
	hook := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "GatewayASG"))["LifecycleHookSpecificationList"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 1200, hook["HeartbeatTimeout"], "and its launch hook five minutes more, for the installation")
	toml := decodeBlock(t, ud, "/etc/apimkit/deployment.toml")
	assert.Contains(t, toml, "traffic_manager_urls = ['ssl://tm1.apim.internal:9712']", "events over TLS")
	assert.Contains(t, toml, "jdbc:mysql://@@APIMKIT_DB_HOST@@:3306/shared_db")
	assert.NotContains(t, strings.ToLower(ud), "password\":", "no password in user data")
	for _, m := range regexp.MustCompile(`password = '([^']*)'`).FindAllStringSubmatch(toml, -1) {
		assert.Regexp(t, `^\$(env|ref)\{`, m[1], "deployment.toml refers to its passwords, never holds them")
	}
	agent := decodeBlock(t, ud, "/etc/apimkit/cloudwatch-agent.json")
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(agent), &cfg))
	assert.Contains(t, agent, "mem_used_percent")
	assert.Contains(t, agent, "/apimkit/Test/gateway/carbon")
}

func decodeBlock(t *testing.T, ud, path string) string {
	t.Helper()
	body, err := bootscript.File(ud, path)
	require.NoError(t, err)
	return string(body)
}

func TestAutoScalingGroups(t *testing.T) {
	tmpl := nodesTemplate(t)
	for _, name := range []string{"ControlPlane", "Gateway"} {
		p := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", name+"ASG"))
		assert.Equal(t, "2", p["MinSize"], name)
		assert.Equal(t, "4", p["MaxSize"], name)
		assert.Equal(t, "ELB", p["HealthCheckType"], name)
		assert.Equal(t, float64(900), p["HealthCheckGracePeriod"], name)
		assert.Equal(t, []any{"us-west-1b", "us-west-1c"}, p["AvailabilityZones"], name)
		assert.Contains(t, fmt.Sprint(p["VPCZoneIdentifier"]), "NetworkApplicationSubnet1")
		assert.Contains(t, fmt.Sprint(p["VPCZoneIdentifier"]), "NetworkApplicationSubnet2")
		hook := p["LifecycleHookSpecificationList"].([]any)[0].(map[string]any)
		assert.Equal(t, "autoscaling:EC2_INSTANCE_LAUNCHING", hook["LifecycleTransition"])
		assert.Equal(t, "ABANDON", hook["DefaultResult"], "a node that never reports healthy is replaced")
		overrides := p["MixedInstancesPolicy"].(map[string]any)["LaunchTemplate"].(map[string]any)["Overrides"]
		assert.Equal(t, []any{map[string]any{"InstanceType": "m7g.xlarge"}, map[string]any{"InstanceType": "m7gd.xlarge"}, map[string]any{"InstanceType": "c7g.2xlarge"}}, overrides)
		asg := resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", name+"ASG")
		update := asg["UpdatePolicy"].(map[string]any)["AutoScalingRollingUpdate"].(map[string]any)
		assert.Equal(t, "2", fmt.Sprint(update["MinInstancesInService"]), "rolling updates keep every node of the minimum in service")
		assert.Equal(t, "1", fmt.Sprint(update["MaxBatchSize"]))
		assert.Nil(t, p["AvailabilityZoneDistribution"], "%s: a scaled group may launch in another zone while one fails", name)
	}
	policies := map[string]string{}
	for id, r := range testkit.Resources(tmpl, "AWS::AutoScaling::ScalingPolicy") {
		spec := testkit.Props(r)["TargetTrackingConfiguration"].(map[string]any)["PredefinedMetricSpecification"].(map[string]any)
		policies[id[:strings.Index(id, "ScalingPolicy")]] += spec["PredefinedMetricType"].(string) + " "
	}
	assert.Equal(t, "ASGAverageCPUUtilization ", policies["ControlPlane"])
	assert.Contains(t, policies["Gateway"], "ALBRequestCountPerTarget", "gateways scale on requests per target")
	assert.Contains(t, policies["Gateway"], "ASGAverageCPUUtilization")
}

func TestNodeRoleIsLeastPrivilege(t *testing.T) {
	tmpl := nodesTemplate(t)
	role := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::IAM::Role", "GatewayRole"))
	managed := fmt.Sprint(role["ManagedPolicyArns"])
	assert.NotContains(t, managed, "AmazonSSMManagedInstanceCore", "which lets a node read every SSM parameter of the account")
	assert.NotContains(t, managed, "CloudWatchAgentServerPolicy", "which may write, create and shorten any log group")
	d := policyDocuments(tmpl, "Gateway")
	assert.Contains(t, d, `"Action":["ssm:UpdateInstanceInformation","ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel",`+
		`"ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Effect":"Allow","Resource":"*","Sid":"SessionManagerChannel"`,
		"Session Manager's channel only")
	assert.NotContains(t, d, "ssm:GetParameter")
	// The CloudWatch agent writes the node's own log groups and its own metrics' namespace.
	assert.Regexp(t, `"Action":\["logs:CreateLogStream","logs:DescribeLogStreams","logs:PutLogEvents"\],"Effect":"Allow","Resource":\[\{"Fn::GetAtt":\["GatewayAuditLogs[0-9A-F]+","Arn"\]\},\{"Fn::GetAtt":\["GatewayCarbonLogs[0-9A-F]+","Arn"\]\},\{"Fn::GetAtt":\["GatewayHttpAccessLogs[0-9A-F]+","Arn"\]\}\]`, d,
		"its three log groups, and no other")
	assert.Contains(t, d, "ec2:DescribeTags", "the agent's group-name dimension")
	assert.Contains(t, d, `"Action":"cloudwatch:PutMetricData","Condition":{"StringEquals":{"cloudwatch:namespace":"APIMKit/Nodes"}}`)
	assert.NotContains(t, d, "logs:CreateLogGroup")
	assert.NotContains(t, d, "logs:PutRetentionPolicy")
	assert.Contains(t, d, `/packs/wso2am-4.3.0.zip"`, "read of the pack object only")
	assert.Contains(t, d, `/drivers/mysql-connector-j.jar"`)
	assert.NotContains(t, d, `/*"`, "no wildcard object read")
	assert.Contains(t, d, "DatabaseAppSecret")
	assert.Contains(t, d, "kms:ViaService")
	assert.Contains(t, d, "autoscaling:CompleteLifecycleAction")
	assert.NotContains(t, d, `"s3:*"`)
	assert.NotContains(t, d, `"Action":"*"`)
}

func TestNodeFlowsAreGrantedByIntent(t *testing.T) {
	tmpl := nodesTemplate(t)
	type rule struct {
		port     float64
		from, to string
	}
	var ingress []rule
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupIngress") {
		p := testkit.Props(r)
		ingress = append(ingress, rule{p["FromPort"].(float64), fmt.Sprint(p["SourceSecurityGroupId"]), fmt.Sprint(p["GroupId"])})
		assert.Nil(t, p["CidrIp"], "no CIDR-wide ingress to a node or the database")
	}
	has := func(port float64, from, to string) bool {
		for _, r := range ingress {
			if r.port == port && strings.Contains(r.from, from) && strings.Contains(r.to, to) {
				return true
			}
		}
		return false
	}
	assert.True(t, has(9443, "LoadBalancerSecurityGroup", "ControlPlaneSecurityGroup"), "load balancer to control plane 9443")
	assert.True(t, has(8243, "LoadBalancerSecurityGroup", "GatewaySecurityGroup"), "load balancer to gateway 8243")
	assert.True(t, has(9443, "LoadBalancerSecurityGroup", "GatewaySecurityGroup"), "load balancer health checks on the gateways' 9443")
	assert.True(t, has(9443, "GatewaySecurityGroup", "ControlPlaneSecurityGroup"), "granted gateway to control plane")
	assert.True(t, has(3306, "GatewaySecurityGroup", "DatabaseSecurityGroup"))
	assert.True(t, has(3306, "ControlPlaneSecurityGroup", "DatabaseSecurityGroup"))
	assert.False(t, has(9443, "ControlPlaneSecurityGroup", "GatewaySecurityGroup"), "nothing not granted")
	for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "Gateway") || strings.HasPrefix(id, "ControlPlane") {
			assert.Nil(t, testkit.Props(sg)["SecurityGroupIngress"], "%s: no inline ingress", id)
		}
	}
}

func TestLoadBalancer(t *testing.T) {
	tmpl := nodesTemplate(t)
	_, alb := one(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	p := testkit.Props(alb)
	assert.Equal(t, "internet-facing", p["Scheme"])
	assert.Contains(t, fmt.Sprint(p["Subnets"]), "NetworkPublicSubnet")
	attrs := fmt.Sprint(p["LoadBalancerAttributes"])
	assert.Contains(t, attrs, "Key:routing.http.drop_invalid_header_fields.enabled Value:true")
	assert.Contains(t, attrs, "Key:access_logs.s3.enabled Value:true")
	assert.Contains(t, attrs, "Key:deletion_protection.enabled Value:true")

	listeners := map[float64]map[string]any{}
	for _, l := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
		listeners[testkit.Props(l)["Port"].(float64)] = testkit.Props(l)
	}
	require.Len(t, listeners, 2)
	assert.Equal(t, "HTTPS", listeners[443]["Protocol"])
	assert.Contains(t, fmt.Sprint(listeners[443]["SslPolicy"]), "TLS13")
	assert.Contains(t, fmt.Sprint(listeners[443]["Certificates"]), testCertificate)
	assert.Contains(t, fmt.Sprint(listeners[80]["DefaultActions"]), "redirect")
	assert.Contains(t, fmt.Sprint(listeners[80]["DefaultActions"]), "HTTPS")

	groups := map[string]map[string]any{}
	for id, g := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup") {
		groups[id] = testkit.Props(g)
	}
	require.Len(t, groups, 2, "control plane and gateways; never a traffic manager")
	for id, g := range groups {
		assert.Equal(t, "HTTPS", g["Protocol"], id)
		assert.Equal(t, "/services/Version", g["HealthCheckPath"], id)
		assert.Equal(t, "9443", g["HealthCheckPort"], id)
		if strings.HasPrefix(id, "LoadBalancerGateway") {
			assert.Equal(t, float64(8243), g["Port"])
		} else {
			assert.Equal(t, float64(9443), g["Port"])
			assert.Contains(t, fmt.Sprint(g["TargetGroupAttributes"]), "Key:stickiness.enabled Value:true")
		}
	}
	rules := ""
	for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		rules += fmt.Sprint(testkit.Props(r)["Conditions"])
	}
	assert.Contains(t, rules, "portal.example.com")
	assert.Contains(t, rules, "api.example.com")

	// The portal host refuses WSO2's management console and admin services ahead of every route;
	// the gateway host, which serves APIs, is left alone.
	var blocked []map[string]any
	for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		if strings.Contains(fmt.Sprint(testkit.Props(r)["Actions"]), "StatusCode:403") {
			blocked = append(blocked, testkit.Props(r))
		}
	}
	assert.Equal(t, "fixed 400", testkit.ListenerAnswer(tmpl, 443, "portal.example.com", "/publisher/..;/internal/data/v1/keyManagers"),
		"a dot-dot segment that Tomcat would resolve is refused ahead of the routes")
	assert.Equal(t, "fixed 403", testkit.ListenerAnswer(tmpl, 443, "portal.example.com", "/carbon/admin/index.jsp"))
	require.Len(t, blocked, 1, "one blocking rule, for the portal host")
	assert.EqualValues(t, 1, blocked[0]["Priority"])
	conditions := fmt.Sprint(blocked[0]["Conditions"])
	assert.Contains(t, conditions, "portal.example.com")
	assert.Contains(t, conditions, "[/carbon* /services* /t/*/carbon*]")
	assert.Contains(t, fmt.Sprint(blocked[0]["Actions"]), "StatusCode:403")

	_, waf := one(t, tmpl, "AWS::WAFv2::WebACLAssociation")
	assert.Equal(t, testWebAcl, testkit.Props(waf)["WebACLArn"])
	assert.Contains(t, fmt.Sprint(testkit.Props(waf)["ResourceArn"]), "LoadBalancer")

	_, bucket := resourceWithPrefixID(t, tmpl, "AWS::S3::Bucket", "LoadBalancerAccessLogs")
	assert.Equal(t, "Retain", bucket["DeletionPolicy"])
	assert.Contains(t, fmt.Sprint(testkit.Props(bucket)["BucketEncryption"]), "AES256")
	assert.Contains(t, fmt.Sprint(testkit.Props(bucket)["PublicAccessBlockConfiguration"]), "BlockPublicAcls:true")
}

// policyDocuments joins, as JSON, the documents of the IAM policies whose logical ids start with
// prefix.
func policyDocuments(tmpl map[string]any, prefix string) string {
	var doc strings.Builder
	for id, p := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		if strings.HasPrefix(id, prefix) {
			b, _ := json.Marshal(testkit.Props(p)["PolicyDocument"])
			doc.Write(b)
		}
	}
	return doc.String()
}

func resourceWithPrefixID(t *testing.T, tmpl map[string]any, typ, prefix string) (string, map[string]any) {
	for id, r := range testkit.Resources(tmpl, typ) {
		if strings.HasPrefix(id, prefix) {
			return id, r
		}
	}
	t.Fatalf("no %s starting with %s", typ, prefix)
	return "", nil
}

func TestProfileAsgAndLoadBalancerRefuseBadProps(t *testing.T) {
	cases := []struct {
		name  string
		build func(e nodeEnv)
		want  []string
	}{
		{"min above max", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.MinCapacity, p.MaxCapacity = jsii.Number(5), jsii.Number(3)
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"ProfileAsg: MinCapacity 5 and MaxCapacity 3"}},
		{"a launch hook's default result that is neither", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.ExtraLaunchHooks = []wso2.LaunchHook{{Name: "team-hook", Timeout: awscdk.Duration_Minutes(jsii.Number(3)), DefaultResult: "RETRY"}}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{`ProfileAsg: ExtraLaunchHooks[0] (team-hook): DefaultResult "RETRY" must be ABANDON or CONTINUE`}},
		{"no network", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Network = nil
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"ProfileAsg: Network is required"}},
		{"no subnets", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Subnets = &awsec2.SubnetSelection{Subnets: &[]awsec2.ISubnet{}}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"ProfileAsg: Subnets selects no subnet"}},
		{"unknown profile", func(e nodeEnv) {
			wso2.NewProfileAsg(e.stack, "Node", e.props(profiles.Publisher))
		}, []string{`Profile: profile "api-publisher" is not part of API Manager 4.3.0`}},
		{"unsupported version", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Release = jsii.String("2.6.0")
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Release: version 2.6.0 is not supported"}},
		{"offset out of range", func(e nodeEnv) {
			p := e.props(profiles.TrafficManager)
			p.Wiring.Hostname = jsii.String("tm1.apim.internal")
			p.Wiring.Self = &profiles.Node{Host: "tm1.apim.internal", Offset: 5000}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"ProfileAsg: Wiring.Self.Offset 5000 must be between 0 and 1000"}},
		{"offset that collides with the database port", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Network = wso2.NewApimNetwork(e.stack, "Net2", &wso2.ApimNetworkProps{
				AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"), Cidr: jsii.String("10.9.0.0/16"), DatabasePort: jsii.Number(9444),
			})
			p.Wiring.Self = &profiles.Node{Host: "gw", Offset: 1}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"ProfileAsg: Wiring.Self.Offset 1 moves port 9443 onto 9444, the port of the database"}},
		{"named per zone and pinned", func(e nodeEnv) {
			p := e.props(profiles.ControlPlane)
			p.Wiring.SelfByZone = []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
			p.Subnets = e.network.SubnetsInAz(wso2.TierApplication, "us-west-1b")
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Wiring.SelfByZone names one node per zone of the network: drop Wiring.Self and Subnets"}},
		{"named for one zone of two", func(e nodeEnv) {
			p := e.props(profiles.ControlPlane)
			p.Wiring.SelfByZone = []profiles.Node{{Host: "cp1.apim.internal"}}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Wiring.SelfByZone names 1 nodes for the network's 2 zones"}},
		{"named per zone at different offsets", func(e nodeEnv) {
			p := e.props(profiles.ControlPlane)
			p.Wiring.SelfByZone = []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal", Offset: 1}}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Wiring.SelfByZone[1] has offset 1, SelfByZone[0] 0"}},
		{"named per zone, a minimum above the zones", func(e nodeEnv) {
			p := e.props(profiles.ControlPlane)
			p.Wiring.SelfByZone = []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
			p.MinCapacity = jsii.Number(3)
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"MinCapacity 3 and MaxCapacity 2: need 0 <= min <= max"}},
		{"a traffic manager named per zone", func(e nodeEnv) {
			p := e.props(profiles.TrafficManager)
			p.Wiring.Hostname = jsii.String("tm.apim.internal")
			p.Wiring.SelfByZone = []profiles.Node{{Host: "tm1.apim.internal"}, {Host: "tm2.apim.internal"}}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Wiring.SelfByZone: traffic-manager nodes are one per group"}},
		{"named per zone, more nodes than zones", func(e nodeEnv) {
			p := e.props(profiles.ControlPlane)
			p.Wiring.SelfByZone = []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
			p.MaxCapacity = jsii.Number(3)
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"MaxCapacity 3: with Wiring.SelfByZone the group keeps one node per zone, at most 2"}},
		{"traffic manager scaled out", func(e nodeEnv) {
			p := e.props(profiles.TrafficManager)
			p.Wiring.Hostname = jsii.String("tm1.apim.internal")
			p.Wiring.Self = &profiles.Node{Host: "tm1.apim.internal", Offset: 1}
			p.MaxCapacity = jsii.Number(3)
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"traffic-manager nodes are not scaled", "MaxCapacity must be 1"}},
		{"instance type of the wrong architecture", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.InstanceTypes = []awsec2.InstanceType{awsec2.InstanceType_Of(awsec2.InstanceClass_M7I, awsec2.InstanceSize_XLARGE)}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"InstanceTypes[0] m7i.xlarge does not match Architecture ARM_64"}},
		{"instance type that is not family.size", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.InstanceTypes = []awsec2.InstanceType{awsec2.NewInstanceType(jsii.String("m7g-xlarge"))}
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{`InstanceTypes[0] "m7g-xlarge" is not an instance type: give family.size, such as m7g.xlarge`}},
		{"host name with a scheme", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Wiring.GatewayHostname = jsii.String("https://api.example.com/")
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{`Wiring.GatewayHostname "https://api.example.com/" is not a host name: give the DNS name alone`}},
		{"certificate of another region", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, CertificateArn: jsii.String("arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555"),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{"CertificateArn names a certificate in us-east-1, but the load balancer is in us-west-1"}},
		{"imported certificate of another region", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: awscertificatemanager.Certificate_FromCertificateArn(e.stack, jsii.String("Certificate"),
					jsii.String("arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555")),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{"ApimLoadBalancer: Certificate names a certificate in eu-west-1, but the load balancer is in us-west-1"}},
		{"imported certificate that is not an ARN", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: awscertificatemanager.Certificate_FromCertificateArn(e.stack, jsii.String("Certificate"), jsii.String("my-cert")),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{`ApimLoadBalancer: Certificate must be an ACM certificate ARN`, `got "my-cert"`}},
		{"Certificate and the deprecated CertificateArn", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(), CertificateArn: jsii.String(testCertificate),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{"ApimLoadBalancer: Certificate and CertificateArn were both given: a load balancer takes one certificate; keep Certificate (CertificateArn is deprecated)"}},
		{"no certificate", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{"ApimLoadBalancer: Certificate is required: the ACM certificate of the public host names"}},
		{"web ACL that is not an ARN", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(), WebAclArn: jsii.String("apim-acl"),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{`WebAclArn "apim-acl" is not a regional AWS WAF web ACL ARN`}},
		{"route host with a path", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com/v1")}},
			})
		}, []string{`Routes[0].Hostname "api.example.com/v1" is not a host name`}},
		{"missing wiring", func(e nodeEnv) {
			p := e.props(profiles.Gateway)
			p.Wiring.TrafficManagers = nil
			wso2.NewProfileAsg(e.stack, "Node", p)
		}, []string{"Wiring: deployment.toml for gateway-worker 4.3.0: missing TrafficManagers"}},
		{"certificate that is not an ARN", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, CertificateArn: jsii.String("my-cert"),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{`ApimLoadBalancer: CertificateArn must be an ACM certificate ARN`, `got "my-cert"`}},
		{"traffic manager behind the load balancer", func(e nodeEnv) {
			p := e.props(profiles.TrafficManager)
			p.Wiring.Hostname = jsii.String("tm1.apim.internal")
			p.Wiring.Self = &profiles.Node{Host: "tm1.apim.internal", Offset: 1}
			tm := wso2.NewProfileAsg(e.stack, "Tm", p)
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: tm, Hostname: jsii.String("tm.example.com")}},
			})
		}, []string{"traffic-manager nodes are never behind a load balancer"}},
		{"two routes with one priority", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{
					{Profile: cp, Hostname: jsii.String("portal.example.com"), PathPatterns: jsii.Strings("/admin*"), Priority: jsii.Number(20)},
					{Profile: cp, Hostname: jsii.String("portal.example.com")}, // 20 by default
				},
			})
		}, []string{"Routes[0] and Routes[1] both have priority 20"}},
		{"paths after the host's catch-all", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{
					{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(5)},
					{Profile: cp, Hostname: jsii.String("portal.example.com"), PathPatterns: jsii.Strings("/admin*"), Priority: jsii.Number(9)},
				},
			})
		}, []string{"Routes[1] (paths on portal.example.com) has priority 9, after the host's catch-all Routes[0] (5), which would hide it"}},
		{"a priority out of range", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(0)}},
			})
		}, []string{"Routes[0].Priority 0 must be a whole number from 1 to 50000"}},
		{"WebSocket APIs on a portal", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com"), WebSocket: jsii.Bool(true)}},
			})
		}, []string{"Routes[0].WebSocket: only gateways serve WebSocket APIs, not control-plane nodes"}},
		{"an idle timeout out of range", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(), IdleTimeout: awscdk.Duration_Hours(jsii.Number(2)),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com")}},
			})
		}, []string{"IdleTimeout 2 hours must be between 1 second and 4000 seconds"}},
		{"a WebSocket route at priority 1", func(e nodeEnv) {
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com"), WebSocket: jsii.Bool(true), Priority: jsii.Number(1)}},
			})
		}, []string{"Routes[0].WebSocket needs priority 0 for its WebSocket rule, one ahead of the route's: give the route a priority of 2 or more"}},
		{"no priority left for the WebSocket rule", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			gw := wso2.NewProfileAsg(e.stack, "Gw", e.props(profiles.Gateway))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{
					{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(4)},
					{Profile: gw, Hostname: jsii.String("api.example.com"), Priority: jsii.Number(5), WebSocket: jsii.Bool(true)},
				},
			})
		}, []string{"Routes[1].WebSocket needs priority 4 free for its WebSocket rule, one ahead of the route's; Routes[0] has it"}},
		{"a route at a blocking rule's priority", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(2)}},
			})
		}, []string{"Routes[0].Priority 2: priorities 1 to 2 are the BlockedPaths and traversal rules of the portal hosts"}},
		{"more blocked paths than a rule takes", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				BlockedPaths: jsii.Strings("/carbon*", "/services*", "/fileupload*", "/registry*"),
				Routes:       []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com")}},
			})
		}, []string{"BlockedPaths has 4 patterns: a load balancer path condition takes at most 3"}},
		{"a route's further rules on another route's priority", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(),
				Routes: []wso2.LoadBalancedProfile{
					{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(10),
						PathPatterns: jsii.Strings("/publisher*", "/devportal*", "/admin*", "/oauth2/*")},
					{Profile: cp, Hostname: jsii.String("other.example.com"), Priority: jsii.Number(11)},
				},
			})
		}, []string{"Routes[0] and Routes[1] both have priority 11 (a route of more than 3 PathPatterns holds one priority per 3)"}},
		{"web ACL twice", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(), WebAclArn: jsii.String(testWebAcl), WebAcl: &wso2.ApimWebAclProps{},
				Routes: []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com")}},
			})
		}, []string{"WebAcl and WebAclArn were both given"}},
		{"rate limit out of range", func(e nodeEnv) {
			cp := wso2.NewProfileAsg(e.stack, "Cp", e.props(profiles.ControlPlane))
			wso2.NewApimLoadBalancer(e.stack, "Lb", &wso2.ApimLoadBalancerProps{
				Network: e.network, Certificate: e.certificate(), WebAcl: &wso2.ApimWebAclProps{RateLimit: jsii.Number(10)},
				Routes: []wso2.LoadBalancedProfile{{Profile: cp, Hostname: jsii.String("portal.example.com")}},
			})
		}, []string{"WebAcl.RateLimit 10 must be a whole number of requests from 100 to 2,000,000,000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newNodeEnv(testkit.NewApp(nil))
			msg := panicMessage(func() { tc.build(env) })
			if assert.NotEmpty(t, msg, "accepted") {
				for _, w := range tc.want {
					assert.Contains(t, msg, w)
				}
			}
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Node")), "nothing added before validation")
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Lb")), "nothing added before validation")
		})
	}
}

// The nodes verify the database's certificate when the schema function does and the region is
// known at synth: they get their region's RDS root and JDBC URLs that check against it. When the
// user turns verification off, or the region is unknown, they only encrypt.
func TestNodesVerifyTheDatabaseLikeTheSchemaFunction(t *testing.T) {
	app := testkit.NewApp(nil)
	for id, verify := range map[string]*bool{"Verified": nil, "Declined": jsii.Bool(false), "Agnostic": nil} {
		env := &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String("us-west-1")}
		if id == "Agnostic" {
			env = nil // the region is known only at deploy
		}
		stack := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{Env: env})
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
		db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: net, VerifyServerCertificate: verify})
		wso2.NewProfileAsg(stack, "Gateway", &wso2.ProfileAsgProps{
			Network: net, Profile: profiles.Gateway, Wiring: wiring(), Database: db,
			AdminSecret: wso2.NewAdminSecret(stack, "Admin", db.EncryptionKey()), PackBucket: wso2.NewPackBucket(stack, "Packs"),
			Pack: testPack, JdbcDriver: testDriver,
			UsePackKeystore: jsii.Bool(true),
		})
	}
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	launchUserData := func(stack string) string {
		lt := testkit.Props(resourceWithPrefix(t, asm.Stack(t, stack).Template, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))
		return testkit.UserData(lt["LaunchTemplateData"].(map[string]any))
	}

	ud := launchUserData("Verified")
	roots, err := bootscript.File(ud, "/etc/apimkit/database-ca.pem")
	require.NoError(t, err)
	var names []string
	for rest := roots; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		names = append(names, c.Subject.CommonName)
	}
	assert.Equal(t, []string{"Amazon RDS us-west-1 Root CA RSA2048 G1"}, names, "the root of the CA the instance is pinned to")
	assert.Contains(t, ud, "DB_TRUSTSTORE="+bootscript.DatabaseTrustStore+"\n")
	assert.Contains(t, decodeBlock(t, ud, "/etc/apimkit/deployment.toml"),
		"sslMode=VERIFY_IDENTITY&amp;trustCertificateKeyStoreUrl=file:"+bootscript.DatabaseTrustStore)

	for stack, why := range map[string]string{"Declined": "the user declined verification", "Agnostic": "no region to pick the root of"} {
		ud = launchUserData(stack)
		_, err = bootscript.File(ud, "/etc/apimkit/database-ca.pem")
		assert.Error(t, err, "no roots: %s", why)
		assert.NotContains(t, ud, "DB_TRUSTSTORE", stack)
		assert.Contains(t, decodeBlock(t, ud, "/etc/apimkit/deployment.toml"), "sslMode=REQUIRED&amp;", stack)
	}
}

// Every load-balancer route gets its unhealthy-targets alarm, several routes to one profile on
// one host included.
func TestOperationsAlarmOnEveryRoute(t *testing.T) {
	env := newNodeEnv(testkit.NewApp(nil))
	cp := wso2.NewProfileAsg(env.stack, "ControlPlane", env.props(profiles.ControlPlane))
	lb := wso2.NewApimLoadBalancer(env.stack, "Lb", &wso2.ApimLoadBalancerProps{
		Network: env.network, Certificate: env.certificate(),
		Routes: []wso2.LoadBalancedProfile{
			{Profile: cp, Hostname: jsii.String("portal.example.com"), PathPatterns: jsii.Strings("/publisher*")},
			{Profile: cp, Hostname: jsii.String("portal.example.com"), PathPatterns: jsii.Strings("/admin*")},
			{Profile: cp, Hostname: jsii.String("portal.example.com")},
		},
	})
	ops := wso2.NewApimOperations(env.stack, "Ops", &wso2.ApimOperationsProps{
		AlarmTopic: wso2.NewAlarmTopic(env.stack, "Alarms", nil), LoadBalancer: lb,
	})
	unhealthy := 0
	for _, a := range ops.Alarms() {
		if strings.Contains(*a.Node().Id(), "Unhealthy") {
			unhealthy++
		}
	}
	assert.Equal(t, 3, unhealthy)
}

// The deprecated CertificateArn still works, into the same template as Certificate with that ARN;
// a certificate the stack creates, whose ARN is known only at deploy time, is taken as it is.
func TestLoadBalancerCertificate(t *testing.T) {
	synth := func(cert func(e nodeEnv, p *wso2.ApimLoadBalancerProps)) map[string]any {
		app := testkit.NewApp(nil)
		env := newNodeEnv(app)
		p := &wso2.ApimLoadBalancerProps{
			Network: env.network,
			Routes:  []wso2.LoadBalancedProfile{{Profile: wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway)), Hostname: jsii.String("api.example.com")}},
		}
		cert(env, p)
		wso2.NewApimLoadBalancer(env.stack, "Lb", p)
		asm, err := testkit.Synth(app)
		require.NoError(t, err)
		return asm.Stack(t, "Test").Template
	}
	listenerCertificates := func(tmpl map[string]any) any {
		for _, l := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
			if testkit.Props(l)["Port"] == 443.0 {
				return testkit.Props(l)["Certificates"]
			}
		}
		return nil
	}

	imported := synth(func(e nodeEnv, p *wso2.ApimLoadBalancerProps) { p.Certificate = e.certificate() })
	deprecated := synth(func(_ nodeEnv, p *wso2.ApimLoadBalancerProps) { p.CertificateArn = jsii.String(testCertificate) })
	assert.Equal(t, []any{map[string]any{"CertificateArn": testCertificate}}, listenerCertificates(imported))
	assert.Equal(t, imported, deprecated, "CertificateArn gives the template Certificate gives")

	created := synth(func(e nodeEnv, p *wso2.ApimLoadBalancerProps) {
		p.Certificate = awscertificatemanager.NewCertificate(e.stack, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
			DomainName: jsii.String("api.example.com"), Validation: awscertificatemanager.CertificateValidation_FromDns(nil),
		})
	})
	certs := testkit.Resources(created, "AWS::CertificateManager::Certificate")
	require.Len(t, certs, 1)
	for id := range certs {
		assert.Equal(t, []any{map[string]any{"CertificateArn": map[string]any{"Ref": id}}}, listenerCertificates(created))
	}
}

// Routes that name their priority keep their target groups' and rules' logical ids, each with its
// own priority, when Routes is reordered, so a deployed load balancer is left as it is.
func TestRoutesWithPrioritiesKeepTheirIds(t *testing.T) {
	rules := func(order []int) map[string]any {
		app := testkit.NewApp(nil)
		env := newNodeEnv(app)
		cp := wso2.NewProfileAsg(env.stack, "ControlPlane", env.props(profiles.ControlPlane))
		all := []wso2.LoadBalancedProfile{
			{Profile: cp, Hostname: jsii.String("portal.example.com"), PathPatterns: jsii.Strings("/admin*"), Priority: jsii.Number(100)},
			{Profile: cp, Hostname: jsii.String("portal.example.com"), Priority: jsii.Number(200)},
		}
		var routes []wso2.LoadBalancedProfile
		for _, i := range order {
			routes = append(routes, all[i])
		}
		wso2.NewApimLoadBalancer(env.stack, "Lb", &wso2.ApimLoadBalancerProps{
			Network: env.network, Certificate: env.certificate(), Routes: routes,
		})
		asm, err := testkit.Synth(app)
		require.NoError(t, err)
		out := map[string]any{}
		for id, r := range testkit.Resources(asm.Stack(t, "Test").Template, "AWS::ElasticLoadBalancingV2::ListenerRule") {
			out[id] = fmt.Sprint(testkit.Props(r)["Priority"], testkit.Props(r)["Conditions"], testkit.Props(r)["Actions"])
		}
		return out
	}
	before := rules([]int{0, 1})
	require.Len(t, before, 4, "two routes and the portal host's BlockedPaths and traversal rules")
	assert.Equal(t, before, rules([]int{1, 0}))
	for id := range before {
		if strings.Contains(id, "Blocked") {
			assert.True(t, strings.HasPrefix(id, "LbBlocked1"), "%s: named by its priority, so a renamed host updates it in place", id)
		}
		if strings.Contains(id, "Traversal") {
			assert.True(t, strings.HasPrefix(id, "LbTraversal1"), "%s: named by its priority, so a renamed host updates it in place", id)
		}
	}
}

// A pinned AMI is used as given: the nodes roll onto a new one only when the user changes it.
func TestPinnedMachineImage(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	p := env.props(profiles.Gateway)
	p.MachineImage = awsec2.MachineImage_GenericLinux(&map[string]*string{"us-west-1": jsii.String("ami-0123456789abcdef0")}, nil)
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	lt := testkit.Props(resourceWithPrefix(t, asm.Stack(t, "Test").Template, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))
	assert.Equal(t, "ami-0123456789abcdef0", lt["LaunchTemplateData"].(map[string]any)["ImageId"])
}

// The boot script waits the start-up grace period for health, and the launch hook allows five
// minutes more for the installation. (The same group checks that an extra launch hook abandons
// at its timeout unless told otherwise.)
func TestStartupGracePeriodBoundsTheBoot(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	p := env.props(profiles.Gateway)
	p.StartupGracePeriod = awscdk.Duration_Minutes(jsii.Number(25))
	p.ExtraLaunchHooks = []wso2.LaunchHook{{Name: "team-hook", Timeout: awscdk.Duration_Minutes(jsii.Number(3))}}
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	ud := testkit.UserData(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))["LaunchTemplateData"].(map[string]any))
	assert.Contains(t, ud, "HEALTH_TIMEOUT=1500\n")
	group := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "GatewayASG"))
	assert.EqualValues(t, 1800, group["LifecycleHookSpecificationList"].([]any)[0].(map[string]any)["HeartbeatTimeout"])
	assert.EqualValues(t, 1500, group["HealthCheckGracePeriod"])
	extra := group["LifecycleHookSpecificationList"].([]any)[1].(map[string]any)
	assert.Equal(t, "team-hook", extra["LifecycleHookName"])
	assert.EqualValues(t, 180, extra["HeartbeatTimeout"])
	assert.Equal(t, "ABANDON", extra["DefaultResult"], "LaunchHook.DefaultResult's default")
	assert.Equal(t, "ELB", group["HealthCheckType"])
	assert.NotContains(t, ud, "REPORT_HEALTH", "a load balancer checks gateways: they do not report their own health")
}

// A control plane named one node per zone: each zone's node gets its own configuration, with
// itself as Self, and the group is held at one node per zone (no scaling policy then), even
// while a zone fails to launch.
func TestControlPlaneNamedPerZone(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	p := env.props(profiles.ControlPlane)
	nodes := []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
	p.Wiring.ControlPlane, p.Wiring.SelfByZone = nodes, nodes
	wso2.NewProfileAsg(env.stack, "ControlPlane", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	group := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "ControlPlane"))
	assert.Equal(t, "2", group["MinSize"])
	assert.Equal(t, "2", group["MaxSize"], "one node per zone")
	assert.Empty(t, testkit.Resources(tmpl, "AWS::AutoScaling::ScalingPolicy"), "nothing to track at a fixed size")
	assert.Equal(t, map[string]any{"CapacityDistributionStrategy": "balanced-only"}, group["AvailabilityZoneDistribution"],
		"a zone that cannot launch is retried, never doubled up in another zone under that zone's name")
	ud := testkit.UserData(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "ControlPlaneLaunchTemplate"))["LaunchTemplateData"].(map[string]any))
	assert.Contains(t, ud, "CONFIG_ZONES=us-west-1b,us-west-1c\n")
	for i, other := range []string{"cp2", "cp1"} {
		toml, err := bootscript.File(ud, fmt.Sprintf("/etc/apimkit/deployment-%d.toml", i))
		require.NoError(t, err)
		assert.Contains(t, string(toml), "event_duplicate_url = ['tcp://"+other+".apim.internal:8672']", "zone %d duplicates to %s", i, other)
	}
}

// A gateway route with WebSocket: WebSocket handshakes on 443 go, one priority ahead of the
// route, to the gateways' wss port over TLS, health-checked on the servlet; the group still
// scales on the route's request count; no other port opens to the internet.
func TestWebSocketRoute(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	gw := wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
	wso2.NewApimLoadBalancer(env.stack, "Lb", &wso2.ApimLoadBalancerProps{
		Network: env.network, Certificate: env.certificate(), IdleTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
		Routes: []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.example.com"), WebSocket: jsii.Bool(true), RequestsPerTarget: jsii.Number(1000)}},
	})
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	ports := map[float64]map[string]any{}
	for _, g := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup") {
		ports[testkit.Props(g)["Port"].(float64)] = testkit.Props(g)
	}
	require.Contains(t, ports, float64(8099))
	assert.Equal(t, "HTTPS", ports[8099]["Protocol"])
	assert.Equal(t, "9443", ports[8099]["HealthCheckPort"])
	rules := map[float64]string{}
	for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		rules[testkit.Props(r)["Priority"].(float64)] = fmt.Sprint(testkit.Props(r)["Conditions"])
	}
	assert.Contains(t, rules[9], "HttpHeaderName:Upgrade")
	assert.Contains(t, rules[9], "websocket")
	assert.Contains(t, rules[9], "api.example.com")
	assert.NotContains(t, rules[10], "Upgrade")
	var listenerPorts []float64
	for _, l := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
		listenerPorts = append(listenerPorts, testkit.Props(l)["Port"].(float64))
	}
	assert.ElementsMatch(t, []float64{80, 443}, listenerPorts, "no listener beyond 443 and its redirect")
	_, alb := one(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Contains(t, fmt.Sprint(testkit.Props(alb)["LoadBalancerAttributes"]), "Key:idle_timeout.timeout_seconds Value:300", "the idle timeout given")
	policy := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::ScalingPolicy", "GatewayScalingPolicyRequests"))
	assert.Contains(t, fmt.Sprint(policy["TargetTrackingConfiguration"]), "ALBRequestCountPerTarget")
	assert.Contains(t, fmt.Sprint(policy["TargetTrackingConfiguration"]), "TargetValue:1000")
}

// Nodes on the pack's own keystore, whose private key every WSO2 download holds, run only when
// asked for by name (UsePackKeystore), and are warned about at synth, once per stack.
func TestThePacksKeystoreIsWarnedAbout(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	wso2.NewProfileAsg(env.stack, "ControlPlane", env.props(profiles.ControlPlane))
	wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	assertOneWarning(t, asm.Stack(t, "Test"), "wso2carbon.jks", "anyone can sign tokens these nodes accept", "two groups, one stack")
}

// Given the deployment's keystore secret, the nodes may read it (and only it, through Secrets
// Manager), boot.sh is told where it is, and deployment.toml names the PKCS12 keystore it writes.
func TestNodesUseTheDeploymentKeystore(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	p := env.props(profiles.Gateway)
	p.UsePackKeystore = nil
	p.KeystoreSecret = awssecretsmanager.Secret_FromSecretCompleteArn(env.stack, jsii.String("Keystore"),
		jsii.String("arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf"))
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	assertOneWarning(t, asm.Stack(t, "Test"), "wso2carbon.jks", "", "with the deployment's keystore")
	ud := testkit.UserData(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))["LaunchTemplateData"].(map[string]any))
	assert.Contains(t, ud, "KEYSTORE_SECRET_ARN=arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf\n")
	assert.Contains(t, ud, "KEYSTORE_FILE="+bootscript.KeystoreFile+"\n")
	toml, err := bootscript.File(ud, "/etc/apimkit/deployment.toml")
	require.NoError(t, err)
	assert.Contains(t, string(toml), "file_name = '"+bootscript.KeystoreFile+"'")
	assert.Contains(t, string(toml), "type = 'PKCS12'")
	assert.Contains(t, string(toml), "password = '"+profiles.TruststorePasswordRef+"'")
	var policies []string
	for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		policies = append(policies, fmt.Sprint(testkit.Props(pol)["PolicyDocument"]))
	}
	assert.Regexp(t, `secretsmanager:GetSecretValue\] Effect:Allow Resource:\[[^\]]*arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf`,
		strings.Join(policies, "\n"), "the nodes may read the keystore secret")

	// A secret known by name: its ARN's six-character suffix is matched, or the read is denied.
	app = testkit.NewApp(nil)
	env = newNodeEnv(app)
	p = env.props(profiles.Gateway)
	p.UsePackKeystore = nil
	p.KeystoreSecret = awssecretsmanager.Secret_FromSecretNameV2(env.stack, jsii.String("Keystore"), jsii.String("apim-keystore"))
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err = testkit.Synth(app)
	require.NoError(t, err)
	policies = nil
	for _, pol := range testkit.Resources(asm.Stack(t, "Test").Template, "AWS::IAM::Policy") {
		policies = append(policies, fmt.Sprint(testkit.Props(pol)["PolicyDocument"]))
	}
	assert.Contains(t, strings.Join(policies, "\n"), ":secret:apim-keystore-??????")

	// The same with a customer key, as the ProfileAsg page suggests for one: the suffix still matched.
	app = testkit.NewApp(nil)
	env = newNodeEnv(app)
	p = env.props(profiles.Gateway)
	p.UsePackKeystore = nil
	p.KeystoreSecret = awssecretsmanager.Secret_FromSecretAttributes(env.stack, jsii.String("Keystore"), &awssecretsmanager.SecretAttributes{
		SecretPartialArn: jsii.String("arn:aws:secretsmanager:us-west-1:111111111111:secret:apim-keystore"),
		EncryptionKey:    env.database.EncryptionKey(),
	})
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err = testkit.Synth(app)
	require.NoError(t, err)
	policies = nil
	for _, pol := range testkit.Resources(asm.Stack(t, "Test").Template, "AWS::IAM::Policy") {
		policies = append(policies, fmt.Sprint(testkit.Props(pol)["PolicyDocument"]))
	}
	assert.Contains(t, strings.Join(policies, "\n"), ":secret:apim-keystore-??????")
}

// No node runs on the pack's public keystore by default: without KeystoreSecret, the group and
// the traffic-manager pair refuse to build, naming the three ways out, unless UsePackKeystore
// says so by name; a keystore and the opt-out together are refused too. Nothing is added to the
// tree first.
func TestNodesRefuseThePacksKeystoreUnlessNamed(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	keystore := awssecretsmanager.Secret_FromSecretCompleteArn(env.stack, jsii.String("Keystore"),
		jsii.String("arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf"))
	gateway := env.props(profiles.Gateway) // copied by each case: it holds the admin secret
	pair := env.pairProps()                // the same
	for name, tc := range map[string]struct {
		build func()
		want  []string
	}{
		"group without a keystore": {func() {
			p := *gateway
			p.UsePackKeystore = nil
			wso2.NewProfileAsg(env.stack, "Refused", &p)
		}, []string{"ProfileAsg: KeystoreSecret is required", "wso2carbon.jks", "ApimKeystore", "UsePackKeystore: true"}},
		"group with UsePackKeystore false": {func() {
			p := *gateway
			p.UsePackKeystore = jsii.Bool(false)
			wso2.NewProfileAsg(env.stack, "Refused", &p)
		}, []string{"ProfileAsg: KeystoreSecret is required"}},
		"group with both": {func() {
			p := *gateway
			p.KeystoreSecret = keystore
			wso2.NewProfileAsg(env.stack, "Refused", &p)
		}, []string{"ProfileAsg: KeystoreSecret and UsePackKeystore were both given"}},
		"group with a keystore revision and no keystore": {func() {
			p := *gateway
			p.KeystoreRevision = jsii.String("2")
			wso2.NewProfileAsg(env.stack, "Refused", &p)
		}, []string{"ProfileAsg: KeystoreRevision names a revision of KeystoreSecret, which was not given"}},
		"pair with a revision known only at deploy time": {func() {
			p := *pair
			p.UsePackKeystore, p.KeystoreSecret = nil, keystore
			p.KeystoreRevision = awscdk.Aws_STACK_NAME()
			wso2.NewTrafficManagerPair(env.stack, "Refused", &p)
		}, []string{"TrafficManagerPair: KeystoreRevision is known only at deploy time"}},
		"pair without a keystore": {func() {
			p := *pair
			p.UsePackKeystore = nil
			wso2.NewTrafficManagerPair(env.stack, "Refused", &p)
		}, []string{"TrafficManagerPair: KeystoreSecret is required", "ApimKeystore", "UsePackKeystore"}},
	} {
		t.Run(name, func(t *testing.T) {
			msg := panicMessage(tc.build)
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Refused")), "nothing added to the tree")
		})
	}
}

// Version and Wiring.WebSocketOnHttps, deprecated, still build the nodes Release and
// Wiring.WebSocketOnHTTPS build; both names with different values are refused.
func TestProfileAsgDeprecatedNames(t *testing.T) {
	build := func(tune func(p *wso2.ProfileAsgProps)) func(awscdk.App) {
		return func(app awscdk.App) {
			env := newNodeEnv(app)
			p := env.props(profiles.ControlPlane)
			tune(p)
			wso2.NewProfileAsg(env.stack, "ControlPlane", p)
		}
	}
	tmpl := sameTemplate(t, build(func(p *wso2.ProfileAsgProps) {
		p.Release, p.Wiring.WebSocketOnHTTPS = jsii.String("4.2.0"), jsii.Bool(true)
	}), build(func(p *wso2.ProfileAsgProps) {
		p.Version, p.Wiring.WebSocketOnHttps = jsii.String("4.2.0"), jsii.Bool(true)
	}))
	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "ControlPlaneLaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	toml := decodeBlock(t, testkit.UserData(lt), "/etc/apimkit/deployment.toml")
	assert.Contains(t, toml, "# WSO2 API Manager 4.2.0", "the release given by its deprecated name")
	assert.Contains(t, toml, `ws_endpoint = 'wss://api.example.com'`, "WebSocket on 443, asked by its deprecated name")

	cases := []struct {
		name string
		tune func(p *wso2.ProfileAsgProps)
		want string
	}{
		{"release", func(p *wso2.ProfileAsgProps) { p.Release, p.Version = jsii.String("4.3.0"), jsii.String("4.2.0") },
			"ProfileAsg: Release is 4.3.0 and Version, its deprecated name, is 4.2.0: set Release only"},
		{"websocket", func(p *wso2.ProfileAsgProps) {
			p.Wiring.WebSocketOnHTTPS, p.Wiring.WebSocketOnHttps = jsii.Bool(true), jsii.Bool(false)
		},
			"ProfileAsg: Wiring.WebSocketOnHTTPS is true and Wiring.WebSocketOnHttps, its deprecated name, is false: set Wiring.WebSocketOnHTTPS only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newNodeEnv(testkit.NewApp(nil))
			p := env.props(profiles.ControlPlane)
			tc.tune(p)
			assert.Equal(t, tc.want, panicMessage(func() { wso2.NewProfileAsg(env.stack, "ControlPlane", p) }))
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("ControlPlane")))
		})
	}
}
