package wso2_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

var pair *wso2.TrafficManagerPair

func (e nodeEnv) pairProps() *wso2.TrafficManagerPairProps {
	return &wso2.TrafficManagerPairProps{
		Network: e.network, Database: e.database, PackBucket: e.packs, Pack: testPack, JdbcDriver: testDriver,
		AdminSecret:     wso2.NewAdminSecret(e.stack, "PairAdmin", e.database.EncryptionKey()),
		ControlPlane:    []profiles.Node{{Host: "cp.apim.internal"}},
		UsePackKeystore: jsii.Bool(true), // the pair's fixtures are not about the keystore
	}
}

// pairFixture is the article's layout: tm1 and tm2 at offsets 1 and 2.
func pairAssembly(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "pair", func() awscdk.App {
		app := testkit.NewApp(partialDeployment)
		env := newNodeEnv(app)
		p := env.pairProps()
		p.Offsets = &[]*float64{jsii.Number(1), jsii.Number(2)}
		p.AlarmTopic = awssns.NewTopic(env.stack, jsii.String("Alarms"), nil)
		pair = wso2.NewTrafficManagerPair(env.stack, "Tms", p)
		return app
	})
}

func pairTemplate(t *testing.T) map[string]any { return pairAssembly(t).Stack(t, "Test").Template }

func TestPairGroupsArePinnedOneNodeEach(t *testing.T) {
	tmpl := pairTemplate(t)
	zones := map[string]bool{}
	for i, name := range []string{"TmsTm1ASG", "TmsTm2ASG"} {
		p := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", name))
		assert.Equal(t, "1", p["MinSize"], name)
		assert.Equal(t, "2", p["MaxSize"], "%s: one node, and room for its replacement during an update (nothing scales it)", name)
		assert.Nil(t, p["DesiredCapacity"], "%s starts at MinSize; a deploy never resets it", name)
		assert.Nil(t, p["TargetGroupARNs"], "%s: never behind a load balancer", name)
		assert.Nil(t, p["LoadBalancerNames"], name)
		azs := p["AvailabilityZones"].([]any)
		require.Len(t, azs, 1, "%s is pinned to one zone", name)
		zones[azs[0].(string)] = true
		assert.Contains(t, fmt.Sprint(p["VPCZoneIdentifier"]), fmt.Sprintf("NetworkApplicationSubnet%d", i+1))
		var hooks []string
		for _, h := range p["LifecycleHookSpecificationList"].([]any) {
			hooks = append(hooks, h.(map[string]any)["LifecycleHookName"].(string))
		}
		assert.ElementsMatch(t, []string{"apimkit-node-ready", "apimkit-tm-dns"}, hooks, "both hooks exist when the group is created")
	}
	assert.Len(t, zones, 2, "tm1 and tm2 in different zones")
	assert.Empty(t, testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup"))
}

func TestPairZoneNamesAndConfig(t *testing.T) {
	tmpl := pairTemplate(t)
	_, zone := one(t, tmpl, "AWS::Route53::HostedZone")
	assert.Equal(t, "apim.internal.", testkit.Props(zone)["Name"])
	assert.NotNil(t, testkit.Props(zone)["VPCs"], "a private zone of the network's VPC")
	assert.Equal(t, []profiles.Node{{Host: "tm1.apim.internal", Offset: 1}, {Host: "tm2.apim.internal", Offset: 2}}, pair.Nodes())
	assert.Equal(t, "{ssl://tm1.apim.internal:9712},{ssl://tm2.apim.internal:9713}", pair.ReceiverURLGroup(), "events over TLS")
	assert.Equal(t, "{ssl://tm1.apim.internal:9712},{ssl://tm2.apim.internal:9713}", pair.AuthURLGroup())

	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "TmsTm2LaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	toml := decodeBlock(t, testkit.UserData(lt), "/etc/apimkit/deployment.toml")
	assert.Contains(t, toml, "hostname = 'tm2.apim.internal'")
	assert.Contains(t, toml, "offset = 2")
	assert.Contains(t, toml, "event_duplicate_url = ['tcp://tm1.apim.internal:8673']", "each forwards to the other, on its broker's TLS port")
	assert.Contains(t, toml, "throttle_decision_endpoints = ['tcp://localhost:8674']", "decisions go to its own broker, at its offset")
	assert.Contains(t, toml, "[apim.throttling.jms]\nssl = true", "over TLS")
}

func TestPairUpdater(t *testing.T) {
	tmpl := pairTemplate(t)
	fn := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::Lambda::Function", "TmsUpdater"))
	assert.Equal(t, "provided.al2023", fn["Runtime"])
	assert.Equal(t, []any{"arm64"}, fn["Architectures"])
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, "30", env["TMDNS_TTL"])
	assert.Equal(t, "apimkit-tm-dns", env["TMDNS_HOOK"])
	assert.Contains(t, fmt.Sprint(env["TMDNS_NODES"]), "tm1.apim.internal=")

	var launch, schedule map[string]any
	for _, r := range testkit.Resources(tmpl, "AWS::Events::Rule") {
		p := testkit.Props(r)
		if p["ScheduleExpression"] != nil {
			schedule = p
		} else {
			launch = p
		}
	}
	require.NotNil(t, launch)
	require.NotNil(t, schedule)
	pattern := launch["EventPattern"].(map[string]any)
	assert.Equal(t, []any{"aws.autoscaling"}, pattern["source"])
	assert.Equal(t, []any{"EC2 Instance-launch Lifecycle Action"}, pattern["detail-type"])
	assert.Equal(t, []any{"apimkit-tm-dns"}, pattern["detail"].(map[string]any)["LifecycleHookName"])
	assert.Len(t, pattern["detail"].(map[string]any)["AutoScalingGroupName"], 2)
	target := launch["Targets"].([]any)[0].(map[string]any)
	assert.Contains(t, fmt.Sprint(target["Arn"]), "TmsUpdater")
	assert.Contains(t, fmt.Sprint(target["DeadLetterConfig"]), "TmsDeadLetters")
	assert.Equal(t, "rate(5 minutes)", schedule["ScheduleExpression"])
	assert.Contains(t, fmt.Sprint(schedule["Targets"]), `{"action":"reconcile"}`)

	crID, cr := one(t, tmpl, "Custom::TmDnsReconcile")
	assert.Contains(t, fmt.Sprint(cr["DependsOn"]), "TmsTm1ASG", "the deploy-time reconcile runs after the groups exist")
	for id, r := range testkit.Resources(tmpl, "AWS::Events::Rule") {
		assert.Contains(t, r["DependsOn"], crID, "%s is deleted before the reconcile resource removes the records", id)
	}
	_, eic := one(t, tmpl, "AWS::Lambda::EventInvokeConfig")
	assert.Contains(t, fmt.Sprint(testkit.Props(eic)["DestinationConfig"]), "TmsDeadLetters")
	alarms := 0
	for _, a := range testkit.Resources(tmpl, "AWS::CloudWatch::Alarm") {
		if strings.Contains(fmt.Sprint(testkit.Props(a)["AlarmDescription"]), "DNS updater") {
			alarms++
		}
	}
	assert.Equal(t, 2, alarms, "errors and dead letters alarm")
}

func TestPairUpdaterIamIsScoped(t *testing.T) {
	tmpl := pairTemplate(t)
	var doc map[string]any
	for id, p := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		if strings.HasPrefix(id, "TmsUpdaterServiceRoleDefaultPolicy") {
			doc = testkit.Props(p)["PolicyDocument"].(map[string]any)
		}
	}
	require.NotNil(t, doc)
	raw, _ := json.Marshal(doc)
	s := string(raw)
	assert.Contains(t, s, `"route53:ChangeResourceRecordSetsNormalizedRecordNames":["tm1.apim.internal","tm2.apim.internal"]`)
	assert.Contains(t, s, `"route53:ChangeResourceRecordSetsActions":["UPSERT","DELETE"]`, "sets the node records, and deletes them with the stack")
	assert.Contains(t, s, "hostedzone/")
	assert.NotContains(t, s, `"route53:*"`)
	for _, st := range doc["Statement"].([]any) {
		m := st.(map[string]any)
		if m["Action"] == "autoscaling:CompleteLifecycleAction" {
			assert.Len(t, m["Resource"], 2, "only the two groups")
		}
	}
}

func TestLocalZoneIsWarnedAbout(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	p := env.pairProps()
	p.ZoneName = jsii.String("local")
	wso2.NewTrafficManagerPair(env.stack, "Tms", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	var warned bool
	for _, m := range asm.Stack(t, "Test").Messages {
		if m.Level == "warning" && strings.Contains(m.Text, "multicast DNS") {
			warned = true
		}
	}
	assert.True(t, warned, "a zone named local gets a warning")
}

func TestTrafficManagerPairRefusesBadProps(t *testing.T) {
	cases := []struct {
		name string
		tune func(p *wso2.TrafficManagerPairProps)
		want string
	}{
		{"both nodes in one zone", func(p *wso2.TrafficManagerPairProps) { p.AvailabilityZones = jsii.Strings("us-west-1b", "us-west-1b") },
			"TrafficManagerPair: tm1 and tm2 must be in different availability zones, both got us-west-1b"},
		{"invalid zone name", func(p *wso2.TrafficManagerPairProps) { p.ZoneName = jsii.String("apim_internal") },
			`TrafficManagerPair: ZoneName "apim_internal" is not a DNS name`},
		{"TTL of zero", func(p *wso2.TrafficManagerPairProps) { p.RecordTtl = awscdk.Duration_Seconds(jsii.Number(0)) },
			"TrafficManagerPair: RecordTtl 0 seconds must be between 1 second and 5 minutes"},
		{"reconcile too often", func(p *wso2.TrafficManagerPairProps) { p.ReconcileEvery = awscdk.Duration_Seconds(jsii.Number(10)) },
			"ReconcileEvery 10 seconds is below the 1-minute minimum"},
		{"no control plane", func(p *wso2.TrafficManagerPairProps) { p.ControlPlane = nil },
			"TrafficManagerPair: ControlPlane is required"},
		{"one offset", func(p *wso2.TrafficManagerPairProps) { p.Offsets = &[]*float64{jsii.Number(1)} },
			"Offsets gives 1 values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newNodeEnv(testkit.NewApp(nil))
			p := env.pairProps()
			tc.tune(p)
			msg := panicMessage(func() { wso2.NewTrafficManagerPair(env.stack, "Tms", p) })
			assert.Contains(t, msg, tc.want)
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Tms")), "nothing added before validation")
		})
	}
}

// Traffic managers sit behind no load balancer: each node reports WSO2's health to its own group
// (which keeps EC2 health checks), may mark only its own group's instances unhealthy, and a DNS
// hook that Route 53 never lets the updater complete lets the replacement into service.
func TestPairNodesReportTheirHealth(t *testing.T) {
	tmpl := pairTemplate(t)
	for _, g := range pair.Groups() {
		assert.True(t, g.ReportsHealth(), *g.Node().Id())
	}
	for _, tm := range []string{"Tm1", "Tm2"} {
		asgID, asg := resourceWithPrefixID(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "Tms"+tm+"ASG")
		p := testkit.Props(asg)
		assert.Equal(t, "EC2", p["HealthCheckType"], tm)
		results := map[string]any{}
		for _, h := range p["LifecycleHookSpecificationList"].([]any) {
			results[h.(map[string]any)["LifecycleHookName"].(string)] = h.(map[string]any)["DefaultResult"]
		}
		assert.Equal(t, map[string]any{wso2.LifecycleHookName: "ABANDON", wso2.DNSHookName: "CONTINUE"}, results,
			"%s: a node whose WSO2 never answers is replaced; one whose record Route 53 could not change comes up anyway", tm)

		lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "Tms"+tm+"LaunchTemplate"))
		assert.Contains(t, testkit.UserData(lt["LaunchTemplateData"].(map[string]any)), "\nREPORT_HEALTH=1\n", tm)

		policy := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::IAM::Policy", "Tms"+tm+"HealthPolicy"))
		raw, _ := json.Marshal(policy)
		assert.Contains(t, string(raw), `"Action":"autoscaling:SetInstanceHealth"`, tm)
		assert.Contains(t, string(raw), `"Ref":"`+asgID+`"`, "%s: its own group's ARN", tm)
		assert.Contains(t, string(raw), `"Ref":"Tms`+tm+`Role`, tm)
		statements := policy["PolicyDocument"].(map[string]any)["Statement"].([]any)
		assert.Len(t, statements, 1, tm)
	}
}

// Version, deprecated, still builds the pair Release builds; both names with different values
// are refused.
func TestPairDeprecatedVersion(t *testing.T) {
	build := func(tune func(p *wso2.TrafficManagerPairProps)) func(awscdk.App) {
		return func(app awscdk.App) {
			env := newNodeEnv(app)
			p := env.pairProps()
			tune(p)
			wso2.NewTrafficManagerPair(env.stack, "Tms", p)
		}
	}
	tmpl := sameTemplate(t,
		build(func(p *wso2.TrafficManagerPairProps) { p.Release = jsii.String("4.2.0") }),
		build(func(p *wso2.TrafficManagerPairProps) { p.Version = jsii.String("4.2.0") }))
	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "TmsTm1LaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	assert.Contains(t, decodeBlock(t, testkit.UserData(lt), "/etc/apimkit/deployment.toml"), "# WSO2 API Manager 4.2.0",
		"the release given by its deprecated name")

	env := newNodeEnv(testkit.NewApp(nil))
	p := env.pairProps()
	p.Release, p.Version = jsii.String("4.3.0"), jsii.String("4.2.0")
	assert.Equal(t, "TrafficManagerPair: Release is 4.3.0 and Version, its deprecated name, is 4.2.0: set Release only",
		panicMessage(func() { wso2.NewTrafficManagerPair(env.stack, "Tms", p) }))
	assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Tms")))
}
