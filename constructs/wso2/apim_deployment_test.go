package wso2_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/internal/bootscript"
	"github.com/apimkit/apimkit/test/testkit"
)

// Example_apimDeployment is the smallest deployment: one call with the required props.
func Example_apimDeployment() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("eu-west-1")},
	})
	wso2.NewApimDeployment(stack, "Apim", &wso2.ApimDeploymentProps{
		Release:         jsii.String("4.5.0"),
		PortalHostname:  jsii.String("portal.example.com"),
		GatewayHostname: jsii.String("api.example.com"),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"),
			jsii.String("arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555")),
	})
	app.Synth(nil)
}

var (
	deployment45 *wso2.ApimDeployment
	deployment32 *wso2.ApimDeployment
)

func deploymentProps(stack awscdk.Stack, release string) *wso2.ApimDeploymentProps {
	return &wso2.ApimDeploymentProps{
		Release: jsii.String(release), PortalHostname: jsii.String("portal.example.com"), GatewayHostname: jsii.String("api.example.com"),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(testCertificate)),
	}
}

// A 4.5 deployment with a part of each kind overridden: every node on x86, the gateways at three
// at least, the traffic managers on a pinned image, the nodes' own boot commands.
func deployment45Template(t *testing.T) map[string]any {
	return testkit.Fixture(t, "deployment-4.5", func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := stackIn(app, "us-west-1")
		p := deploymentProps(stack, "4.5.0")
		p.Nodes = &wso2.NodeOptions{
			Architecture:  awsec2.AmazonLinuxCpuType_X86_64,
			InstanceTypes: []awsec2.InstanceType{awsec2.NewInstanceType(jsii.String("m7i.xlarge"))},
			BootCommands:  &wso2.BootCommands{BeforeSetup: []string{"echo before"}, AfterSetup: []string{"echo after"}},
		}
		p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.Gateway: {MinCapacity: jsii.Number(3), MaxCapacity: jsii.Number(6)}}
		p.MachineImageId = jsii.String("ami-0123456789abcdef1")
		p.KeystoreProps = &wso2.ApimKeystoreProps{Revision: jsii.String("2027-01")}
		p.LoadBalancerProps = &wso2.ApimLoadBalancerProps{WebAcl: &wso2.ApimWebAclProps{RateLimit: jsii.Number(5000)}}
		p.TrafficManagerProps = &wso2.TrafficManagerPairProps{NodeOptions: wso2.NodeOptions{
			MachineImage: awsec2.MachineImage_GenericLinux(&map[string]*string{"us-west-1": jsii.String("ami-0123456789abcdef0")}, nil),
		}}
		p.PackVersions = map[string]*string{"wso2am-universal-gw-4.5.0": jsii.String("GwStaged.v2")}
		deployment45 = wso2.NewApimDeployment(stack, "Apim", p)
		return app
	}).Stack(t, "Test").Template
}

// arm64Lookup is the context key of the Amazon Linux 2023 (arm64) lookup in the test account
// and region, as cdk.context.json keeps it, and the image it holds in the 3.2 fixture.
const (
	arm64Lookup = "ssm:account=111111111111:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64:region=us-west-1"
	arm64Image  = "ami-0a1b2c3d4e5f60718"
)

func deployment32Template(t *testing.T) map[string]any {
	return testkit.Fixture(t, "deployment-3.2", func() awscdk.App {
		app := testkit.NewApp(map[string]any{arm64Lookup: arm64Image})
		stack := stackIn(app, "us-west-1")
		deployment32 = wso2.NewApimDeployment(stack, "Apim", deploymentProps(stack, "3.2.0"))
		return app
	}).Stack(t, "Test").Template
}

// groupsByPack maps each Auto Scaling group's launch template to the pack its nodes boot.
func packsOf(t *testing.T, tmpl map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
		ud := testkit.UserData(testkit.Props(lt)["LaunchTemplateData"].(map[string]any))
		for _, line := range strings.Split(ud, "\n") {
			if strings.HasPrefix(line, "PACK_KEY=") {
				out[id] = strings.TrimPrefix(line, "PACK_KEY=")
			}
		}
	}
	return out
}

func TestDeploymentComposesTheReleasesLayout(t *testing.T) {
	for release, c := range map[string]struct {
		tmpl  map[string]any
		packs []string
	}{
		"4.5.0": {deployment45Template(t), []string{"packs/wso2am-acp-4.5.0.zip", "packs/wso2am-universal-gw-4.5.0.zip", "packs/wso2am-tm-4.5.0.zip", "packs/wso2am-tm-4.5.0.zip"}},
		"3.2.0": {deployment32Template(t), []string{"packs/wso2am-3.2.0.zip", "packs/wso2am-3.2.0.zip", "packs/wso2am-3.2.0.zip", "packs/wso2am-3.2.0.zip", "packs/wso2am-3.2.0.zip", "packs/wso2am-3.2.0.zip"}},
	} {
		var got []string
		for _, k := range packsOf(t, c.tmpl) {
			got = append(got, k)
		}
		assert.ElementsMatch(t, c.packs, got, release)
		assert.Len(t, testkit.Resources(c.tmpl, "AWS::AutoScaling::AutoScalingGroup"), len(c.packs), release)
		for _, typ := range []string{"AWS::RDS::DBInstance", "AWS::Route53::HostedZone", "Custom::TmDnsReconcile", "AWS::CloudWatch::Dashboard"} {
			assert.Len(t, testkit.Resources(c.tmpl, typ), 1, "%s %s", release, typ)
		}
	}
	assert.Nil(t, deployment45.Profile(profiles.Publisher))
	require.NotNil(t, deployment45.Keystore(), "the deployment makes its own keystore when given none")
	for release, c := range map[string]map[string]any{"4.5.0": deployment45Template(t), "3.2.0": deployment32Template(t)} {
		assert.Len(t, testkit.Resources(c, "Custom::Wso2Keystore"), 1, release)
		for id, lt := range testkit.Resources(c, "AWS::EC2::LaunchTemplate") {
			if ud := testkit.UserData(testkit.Props(lt)["LaunchTemplateData"].(map[string]any)); strings.Contains(ud, "PACK_KEY=") {
				assert.Contains(t, ud, "KEYSTORE_SECRET_ARN=", "%s %s: every node takes the deployment's keystore", release, id)
			}
		}
	}
	assert.Equal(t, profiles.KeyManager, deployment32.Topology().Hub)
	assert.Equal(t, []int{9443}, deployment32.HubEndpoint().Ports())
	assert.Equal(t, []int{9443, 8672, 9711}, deployment45.HubEndpoint().Ports(), "4.5: the broker's TLS port, and the binary TLS receiver only")
	assert.Equal(t, "cp.apim.internal", deployment45.HubEndpoint().Hostname())
	assert.Len(t, deployment45.Groups(), 4)
	assert.Len(t, deployment32.Groups(), 6)
}

func TestDeploymentOverridesReachEachPart(t *testing.T) {
	tmpl := deployment45Template(t)
	for id, g := range testkit.Resources(tmpl, "AWS::AutoScaling::AutoScalingGroup") {
		p := testkit.Props(g)
		if strings.HasPrefix(id, "ApimGateway") {
			assert.Equal(t, "3", fmt.Sprint(p["MinSize"]), id)
			assert.Equal(t, "6", fmt.Sprint(p["MaxSize"]), id)
		}
	}
	for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
		data := testkit.Props(lt)["LaunchTemplateData"].(map[string]any)
		if strings.HasPrefix(id, "ApimBastion") || strings.HasPrefix(id, "ApimUpdater") {
			continue
		}
		assert.Equal(t, "m7i.xlarge", data["InstanceType"], id)
		if strings.HasPrefix(id, "ApimTrafficManagers") {
			assert.Equal(t, "ami-0123456789abcdef0", data["ImageId"], "%s: the traffic managers pin their image like any node", id)
		} else {
			assert.NotEqual(t, "ami-0123456789abcdef0", data["ImageId"], id)
		}
		ud := testkit.UserData(data)
		before, err := bootscript.File(ud, "/etc/apimkit/before-setup.sh")
		require.NoError(t, err, id)
		assert.Equal(t, "echo before\n", string(before), id)
		after, err := bootscript.File(ud, "/etc/apimkit/after-setup.sh")
		require.NoError(t, err, id)
		assert.Equal(t, "echo after\n", string(after), id)
		// The keystore's Revision rolls every node: its digest is in each node's launch template
		// data, as the tag of its instances and volumes.
		assert.Equal(t, []string{revisionDigest("2027-01"), revisionDigest("2027-01")}, revisionTags(data), id)
	}
	for id, lt := range testkit.Resources(deployment32Template(t), "AWS::EC2::LaunchTemplate") {
		assert.Empty(t, revisionTags(testkit.Props(lt)["LaunchTemplateData"].(map[string]any)), "%s: no Revision, no tag", id)
	}
}

// revisionTags are the values of the keystore-revision tag in a launch template's data, one per
// resource type tagged.
func revisionTags(data map[string]any) []string {
	var found []string
	specs, _ := data["TagSpecifications"].([]any)
	for _, spec := range specs {
		tags, _ := spec.(map[string]any)["Tags"].([]any)
		for _, tag := range tags {
			if m := tag.(map[string]any); m["Key"] == wso2.KeystoreRevisionTag {
				found = append(found, fmt.Sprint(m["Value"]))
			}
		}
	}
	return found
}

// revisionDigest is the first 128 bits of the SHA-256 of s, in hex.
func revisionDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// The host names are given once: the load balancer routes them and the nodes are configured with
// them.
func TestDeploymentHostNamesAreGivenOnce(t *testing.T) {
	tmpl := deployment45Template(t)
	var hosts []string
	for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		hosts = append(hosts, fmt.Sprint(testkit.Props(r)["Conditions"]))
	}
	joined := strings.Join(hosts, "\n")
	assert.Contains(t, joined, "portal.example.com")
	assert.Contains(t, joined, "api.example.com")
	for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
		if !strings.HasPrefix(id, "ApimGateway") {
			continue
		}
		toml, err := bootscript.File(testkit.UserData(testkit.Props(lt)["LaunchTemplateData"].(map[string]any)), "/etc/apimkit/deployment.toml")
		require.NoError(t, err)
		assert.Contains(t, string(toml), "hostname = 'api.example.com'")
	}
}

// A certificate the app creates, whose ARN is a token until deploy, is taken as it is (before
// v0.6.0 the deployment handed the load balancer that token as CertificateArn, which it refused).
func TestApimDeploymentTakesACreatedCertificate(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	p := deploymentProps(stack, "4.5.0")
	p.Certificate = awscertificatemanager.NewCertificate(stack, jsii.String("Created"), &awscertificatemanager.CertificateProps{
		DomainName: jsii.String("portal.example.com"), SubjectAlternativeNames: jsii.Strings("api.example.com"),
	})
	assert.Empty(t, panicMessage(func() { wso2.NewApimDeployment(stack, "Apim", p) }))
}

// A stack the deployment's stack stands on (the network's, the data's) without termination
// protection is warned about at synth, once, on that stack; a protected one and the deployment's
// own stack are not.
func TestUnprotectedStacksOthersStandOnAreWarnedAbout(t *testing.T) {
	app := testkit.NewApp(nil)
	env := &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String("us-west-1")}
	network := awscdk.NewStack(app, jsii.String("Network"), &awscdk.StackProps{Env: env})
	data := awscdk.NewStack(app, jsii.String("Data"), &awscdk.StackProps{Env: env, TerminationProtection: jsii.Bool(true)})
	shared := awscdk.NewStack(app, jsii.String("Shared"), &awscdk.StackProps{Env: env})
	apim := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{Env: env})
	p := deploymentProps(apim, "4.3.0")
	p.NetworkScope, p.DataScope = network, data
	wso2.NewApimDeployment(apim, "Apim", p)
	// One unprotected stack holding both the network and the data: one warning.
	other := awscdk.NewStack(app, jsii.String("Other"), &awscdk.StackProps{Env: env})
	q := deploymentProps(other, "4.3.0")
	q.PortalHostname, q.GatewayHostname = jsii.String("portal.other.example"), jsii.String("api.other.example")
	q.NetworkScope, q.DataScope = shared, shared
	wso2.NewApimDeployment(other, "Apim", q)

	warnings := func(stack awscdk.Stack) []string {
		var found []string
		for _, m := range *stack.Node().Metadata() {
			if text := fmt.Sprint(m.Data); *m.Type == "aws:cdk:warning" && strings.Contains(text, "termination protection") {
				found = append(found, text)
			}
		}
		return found
	}
	if w := warnings(network); assert.Len(t, w, 1, "the network's stack") {
		assert.Contains(t, w[0], "stack Network holds the network that stack Apim stands on")
		assert.Contains(t, w[0], "TerminationProtection: true")
	}
	assert.Empty(t, warnings(data), "protected")
	assert.Empty(t, warnings(apim), "the deployment's own stack")
	if w := warnings(shared); assert.Len(t, w, 1, "once per stack") {
		assert.Contains(t, w[0], "stack Shared holds the network that stack Other stands on")
	}
}

func TestApimDeploymentRefusesBadProps(t *testing.T) {
	cases := []struct {
		name string
		tune func(stack awscdk.Stack, p *wso2.ApimDeploymentProps)
		want string
	}{
		{"host name with a scheme", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.PortalHostname = jsii.String("https://portal.example.com")
		}, `ApimDeployment: PortalHostname "https://portal.example.com" is not a host name: give the DNS name alone`},
		{"host name with a path", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.GatewayHostname = jsii.String("api.example.com/v1")
		}, `ApimDeployment: GatewayHostname "api.example.com/v1" is not a host name`},
		{"no certificate", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) { p.Certificate = nil },
			"ApimDeployment: Certificate is required"},
		{"unknown release", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) { p.Release = jsii.String("4.9.0") },
			"ApimDeployment: Release: version 4.9.0 is not a WSO2 API Manager release this library knows"},
		{"a profile of another release", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.Publisher: {MinCapacity: jsii.Number(2)}}
		}, `ApimDeployment: Profiles["api-publisher"]: API Manager 4.5.0 deploys [control-plane gateway-worker] here`},
		{"traffic managers through Profiles", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.TrafficManager: {}}
		}, "(traffic managers through TrafficManagerProps)"},
		{"a part the deployment wires", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.Gateway: {Wiring: &wso2.NodeWiring{}}}
		}, `ApimDeployment: Profiles["gateway-worker"].Wiring is set by the deployment, which wires its parts together`},
		{"the load balancer's certificate", func(s awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.LoadBalancerProps = &wso2.ApimLoadBalancerProps{Certificate: awscertificatemanager.Certificate_FromCertificateArn(s, jsii.String("Other"), jsii.String(testCertificate))}
		}, `ApimDeployment: LoadBalancerProps.Certificate is set by the deployment`},
		{"the load balancer's deprecated certificate ARN", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.LoadBalancerProps = &wso2.ApimLoadBalancerProps{CertificateArn: jsii.String(testCertificate)}
		}, `ApimDeployment: LoadBalancerProps.CertificateArn is set by the deployment`},
		{"a release per profile", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.Gateway: {Release: jsii.String("4.3.0")}}
		}, `ApimDeployment: Profiles["gateway-worker"].Release is set by the deployment`},
		{"a release per profile, by its deprecated name", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.Profiles = map[profiles.Name]*wso2.ProfileAsgProps{profiles.Gateway: {Version: jsii.String("4.3.0")}}
		}, `ApimDeployment: Profiles["gateway-worker"].Version is set by the deployment`},
		{"the traffic managers' release", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.TrafficManagerProps = &wso2.TrafficManagerPairProps{Release: jsii.String("4.3.0")}
		}, `ApimDeployment: TrafficManagerProps.Release is set by the deployment`},
		{"the traffic managers' release, by its deprecated name", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.TrafficManagerProps = &wso2.TrafficManagerPairProps{Version: jsii.String("4.3.0")}
		}, `ApimDeployment: TrafficManagerProps.Version is set by the deployment`},
		{"the updater's release", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.UpdaterProps = &wso2.WumUpdaterProps{Release: jsii.String("4.3.0")}
		}, `ApimDeployment: UpdaterProps.Release is set by the deployment`},
		{"the updater's release, by its deprecated name", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.UpdaterProps = &wso2.WumUpdaterProps{Version: jsii.String("4.3.0")}
		}, `ApimDeployment: UpdaterProps.Version is set by the deployment`},
		{"a keystore and the pack's", func(s awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.KeystoreSecret = awssecretsmanager.Secret_FromSecretNameV2(s, jsii.String("Ks"), jsii.String("team-keystore"))
			p.UsePackKeystore = jsii.Bool(true)
		}, "ApimDeployment: KeystoreSecret and UsePackKeystore were both given"},
		{"a keystore revision without the keystore", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.KeystoreRevision = jsii.String("2")
		}, "ApimDeployment: KeystoreRevision names a revision of KeystoreSecret, which was not given (the deployment's own keystore takes its revision in KeystoreProps.Revision)"},
		{"a pack the release does not install", func(_ awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.PackVersions = map[string]*string{"wso2am-4.3.0": jsii.String("v1")}
		}, `ApimDeployment: PackVersions["wso2am-4.3.0"]: API Manager 4.5.0 installs the packs [wso2am-acp-4.5.0 wso2am-universal-gw-4.5.0 wso2am-tm-4.5.0]`},
		{"existing network and its props", func(s awscdk.Stack, p *wso2.ApimDeploymentProps) {
			p.ExistingNetwork = wso2.NewApimNetwork(s, "Net", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
			p.NetworkProps = &wso2.ApimNetworkProps{}
		}, "ApimDeployment: ExistingNetwork and NetworkProps were both given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := testkit.NewApp(nil)
			stack := stackIn(app, "us-west-1")
			p := deploymentProps(stack, "4.5.0")
			tc.tune(stack, p)
			msg := panicMessage(func() { wso2.NewApimDeployment(stack, "Apim", p) })
			assert.Contains(t, msg, tc.want)
		})
	}
}

// Every node no load balancer checks reports its own health, with an alarm: the traffic managers
// of both layouts. The 3.2 key manager, behind the hub's internal endpoint, is checked by the
// load balancer instead, and neither reports nor may report its health.
func TestDeploymentAlarmsOnNodesThatReportThemselvesUnhealthy(t *testing.T) {
	for release, tmpl := range map[string]map[string]any{"4.5.0": deployment45Template(t), "3.2.0": deployment32Template(t)} {
		// The alarms name their metric with a label, as one of Metrics.
		stat := func(p map[string]any) map[string]any {
			m, _ := p["Metrics"].([]any)
			if len(m) != 1 {
				return map[string]any{}
			}
			return m[0].(map[string]any)["MetricStat"].(map[string]any)
		}
		health := 0
		for _, a := range testkit.Resources(tmpl, "AWS::CloudWatch::Alarm") {
			if strings.Contains(fmt.Sprint(stat(testkit.Props(a))), bootscript.HealthMetricName) {
				health++
			}
		}
		assert.Equal(t, 2, health, "%s: one alarm per traffic manager", release)
		for _, tm := range []string{"Tm1", "Tm2"} {
			asgID, _ := resourceWithPrefixID(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "ApimTrafficManagers"+tm+"ASG")
			_, alarm := resourceWithPrefixID(t, tmpl, "AWS::CloudWatch::Alarm", "ApimOperations"+tm+"Health")
			p := testkit.Props(alarm)
			s := stat(p)
			metric, _ := s["Metric"].(map[string]any)
			assert.Equal(t, bootscript.HealthMetricNamespace, metric["Namespace"], release)
			assert.Equal(t, bootscript.HealthMetricName, metric["MetricName"], release)
			assert.Contains(t, fmt.Sprint(metric["Dimensions"]), "Name:AutoScalingGroupName Value:map[Ref:"+asgID+"]", "%s %s: its own group", release, tm)
			assert.Equal(t, "Maximum", s["Stat"], release)
			assert.Equal(t, float64(bootscript.HealthFailures), p["Threshold"], release)
			assert.Equal(t, "GreaterThanOrEqualToThreshold", p["ComparisonOperator"], release)
			assert.Equal(t, "notBreaching", p["TreatMissingData"], release)
			assert.Contains(t, fmt.Sprint(p["AlarmActions"]), "ApimAlarms", "%s %s: to the alarm topic", release, tm)
		}
		for _, id := range []string{"ApimControlPlane", "ApimGateway", "ApimKeyManager", "ApimPublisher", "ApimDevPortal"} {
			for pid := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
				assert.False(t, strings.HasPrefix(pid, id+"HealthPolicy"), "%s: %s", release, pid)
			}
		}
	}
	lt := testkit.Props(resourceWithPrefix(t, deployment32Template(t), "AWS::EC2::LaunchTemplate", "ApimKeyManagerLaunchTemplate"))
	assert.Contains(t, testkit.UserData(lt["LaunchTemplateData"].(map[string]any)), "\nREPORT_HEALTH=0\n", "decided once the internal endpoint took it")
	for _, g := range deployment32.Groups() {
		assert.Equal(t, g.Profile().Name == profiles.TrafficManager, g.ReportsHealth(), *g.Node().Id())
	}
}

// Issue 14: on the portal host, what only nodes call is refused and what browsers and API
// clients use is forwarded to the profile that serves it, in both layouts; the gateway host
// forwards every path to the gateways.
func TestPortalHostForwardsOnlyWhatBrowsersUse(t *testing.T) {
	for release, c := range map[string]struct {
		tmpl    map[string]any
		forward map[string]string // path: target group id prefix
	}{
		"4.5.0": {deployment45Template(t), map[string]string{
			"/publisher/apis": "ApimLoadBalancerControlPlane", "/devportal/": "ApimLoadBalancerControlPlane", "/admin/": "ApimLoadBalancerControlPlane",
			"/api/am/publisher/v4/apis": "ApimLoadBalancerControlPlane", "/api/am/devportal/v3/apis": "ApimLoadBalancerControlPlane",
			"/api/am/admin/v4/settings": "ApimLoadBalancerControlPlane", "/api/am/governance/v1/rulesets": "ApimLoadBalancerControlPlane",
			"/api/am/service-catalog/v1/services": "ApimLoadBalancerControlPlane", "/oauth2/token": "ApimLoadBalancerControlPlane",
			"/oidc/logout": "ApimLoadBalancerControlPlane", "/commonauth": "ApimLoadBalancerControlPlane",
			"/authenticationendpoint/login.do": "ApimLoadBalancerControlPlane", "/.well-known/webfinger": "ApimLoadBalancerControlPlane",
		}},
		"3.2.0": {deployment32Template(t), map[string]string{
			"/publisher/apis": "ApimLoadBalancerPublisher", "/admin/": "ApimLoadBalancerPublisher", "/api/am/publisher/v1/apis": "ApimLoadBalancerPublisher",
			"/devportal/": "ApimLoadBalancerDevPortal", "/api/am/store/v1/apis": "ApimLoadBalancerDevPortal", "/oauth2/token": "ApimLoadBalancerDevPortal",
			"/commonauth": "ApimLoadBalancerDevPortal", "/authenticationendpoint/login.do": "ApimLoadBalancerDevPortal",
			"/.well-known/webfinger": "ApimLoadBalancerDevPortal",
		}},
	} {
		for path, want := range c.forward {
			got := testkit.ListenerAnswer(c.tmpl, 443, "portal.example.com", path)
			assert.True(t, strings.HasPrefix(got, "forward "+want), "%s %s: %s", release, path, got)
		}
		for _, path := range []string{
			"/internal/data/v1/runtime-artifacts", "/keymanager-operations/dcr/register", "/api/am/gateway/v2/redeploy-api",
			"/carbon/admin/login.jsp", "/t/example.com/carbon/", "/", "/scim2/Users",
			"/devportal/../internal/data/v1/runtime-artifacts", "/api/am/publisher/%2e%2e/%2e%2e/keymanager-operations/dcr/register",
		} {
			got := testkit.ListenerAnswer(c.tmpl, 443, "portal.example.com", path)
			assert.True(t, strings.HasPrefix(got, "fixed "), "%s %s must be refused on the portal host: %s", release, path, got)
		}
		assert.True(t, strings.HasPrefix(testkit.ListenerAnswer(c.tmpl, 443, "api.example.com", "/pizzashack/1.0.0/menu"), "forward ApimLoadBalancerGateway"), release)
		assert.Equal(t, "fixed 404", testkit.ListenerAnswer(c.tmpl, 443, "other.example.com", "/publisher"), release)
	}
}

// Issue 14: WebAcl creates a regional web ACL of AWS managed rules and a rate limit, associated
// with the public load balancer, logging the requests it blocks.
func TestManagedWebAclInFrontOfTheLoadBalancer(t *testing.T) {
	tmpl := deployment45Template(t)
	aclID, acl := one(t, tmpl, "AWS::WAFv2::WebACL")
	p := testkit.Props(acl)
	assert.Equal(t, "REGIONAL", p["Scope"])
	rules := fmt.Sprint(p["Rules"])
	for _, group := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
		assert.Contains(t, rules, "Name:"+group)
	}
	assert.Contains(t, rules, "RateBasedStatement:map[AggregateKeyType:IP EvaluationWindowSec:300 Limit:5000]")
	assert.Contains(t, rules, "Name:SizeRestrictions_BODY", "API definitions and API bodies exceed the body-size rule: it only counts")
	_, assoc := one(t, tmpl, "AWS::WAFv2::WebACLAssociation")
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{aclID, "Arn"}}, testkit.Props(assoc)["WebACLArn"])
	assert.Contains(t, fmt.Sprint(testkit.Props(assoc)["ResourceArn"]), "ApimLoadBalancer")
	_, logging := one(t, tmpl, "AWS::WAFv2::LoggingConfiguration")
	assert.Contains(t, fmt.Sprint(testkit.Props(logging)["LogDestinationConfigs"]), "aws-waf-logs-")
	assert.Contains(t, fmt.Sprint(testkit.Props(logging)["LoggingFilter"]), "Action:BLOCK")
	require.NotNil(t, deployment45.LoadBalancer().WebAclArn())
	assert.Empty(t, testkit.Resources(deployment32Template(t), "AWS::WAFv2::WebACL"))
	assert.Nil(t, deployment32.LoadBalancer().WebAclArn(), "no web ACL unless asked for")
}

// imagesOf maps each launch template and instance of a template to its image id.
func imagesOf(tmpl map[string]any) map[string]any {
	out := map[string]any{}
	for id, lt := range testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate") {
		if img, ok := testkit.Props(lt)["LaunchTemplateData"].(map[string]any)["ImageId"]; ok {
			out[id] = img
		}
	}
	for id, inst := range testkit.Resources(tmpl, "AWS::EC2::Instance") {
		out[id] = testkit.Props(inst)["ImageId"]
	}
	return out
}

// Issue 14: a deployment's machine image is resolved once and kept: every node boots the same
// image, named in the template itself (from cdk.context.json or MachineImageId), never an SSM
// parameter that each deploy resolves again, so a deploy that changes something else leaves
// every group's launch template as it is.
func TestDeploymentPinsItsMachineImage(t *testing.T) {
	tmpl := deployment32Template(t)
	images := imagesOf(tmpl)
	require.Len(t, images, 8, "six groups, the bastion and the update instance")
	for id, img := range images {
		switch {
		case strings.HasPrefix(id, "ApimUpdater"):
			// x86, whose lookup the fixture's context does not hold: the placeholder the
			// template holds until the CLI has looked it up.
			assert.Equal(t, wso2.PlaceholderImageId, img, id)
		default:
			assert.Equal(t, arm64Image, img, "%s boots the image kept in the context", id)
		}
	}
	for name, p := range map[string]any{"3.2": tmpl["Parameters"], "4.5": deployment45Template(t)["Parameters"]} {
		assert.NotContains(t, fmt.Sprint(p), "AWS::EC2::Image::Id", "%s: no image is resolved at deploy time", name)
	}

	for id, img := range imagesOf(deployment45Template(t)) {
		switch {
		case strings.HasPrefix(id, "ApimTrafficManagers"):
			assert.Equal(t, "ami-0123456789abcdef0", img, "%s: the pair's own image wins", id)
		case strings.HasPrefix(id, "ApimControlPlane"), strings.HasPrefix(id, "ApimGateway"):
			assert.Equal(t, "ami-0123456789abcdef1", img, "%s: MachineImageId", id)
		default:
			assert.Equal(t, wso2.PlaceholderImageId, img, id)
		}
	}
}

// A deployment promotes each pack of its release and the driver, and every group boots the pack of
// its own profile as promoted: the version named in PackVersions, the newest staged otherwise.
func TestDeploymentPinsEachGroupsPack(t *testing.T) {
	tmpl := deployment45Template(t)
	promotions := testkit.Resources(tmpl, "Custom::Wso2PackPromotion")
	byKey := map[string]string{}
	for id, r := range promotions {
		props := testkit.Props(r)
		byKey[props["PromotedKey"].(string)] = id
		assert.Equal(t, "staging/"+props["PromotedKey"].(string), props["StagedKey"], id)
		if props["PromotedKey"] == "packs/wso2am-universal-gw-4.5.0.zip" {
			assert.Equal(t, "GwStaged.v2", props["StagedVersionId"], "the version PackVersions names")
		} else {
			assert.NotContains(t, props, "StagedVersionId", id)
		}
	}
	assert.Len(t, promotions, 4, "three distributions and the driver")
	for lt, key := range packsOf(t, tmpl) {
		data := testkit.Props(testkit.Resources(tmpl, "AWS::EC2::LaunchTemplate")[lt])["LaunchTemplateData"].(map[string]any)
		require.Contains(t, byKey, key, lt)
		assert.Equal(t, byKey[key]+".VersionId", pinnedValue(t, data, "PACK_VERSION"), lt)
		assert.Equal(t, byKey[key]+".Sha256", pinnedValue(t, data, "PACK_SHA256"), lt)
		assert.Equal(t, byKey["drivers/mysql-connector-j.jar"]+".Sha256", pinnedValue(t, data, "JDBC_DRIVER_SHA256"), lt)
	}
}
