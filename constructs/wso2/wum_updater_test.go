package wso2_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

func updaterTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "updater", func() awscdk.App {
		app := testkit.NewApp(partialDeployment)
		env := newNodeEnv(app)
		gw := wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
		wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
			Network: env.network, PackBucket: env.packs,
			CredentialsSecret:    wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
			Schedule:             jsii.String("rate(7 days)"),
			RefreshTargets:       []constructs.IConstruct{gw},
			MinHealthyPercentage: jsii.Number(90),
		})
		return app
	}).Stack(t, "Test").Template
}

func TestUpdaterInstanceIsPrivateWithHttpsOnly(t *testing.T) {
	tmpl := updaterTemplate(t)
	inst := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::Instance", "Updater"))
	assert.Contains(t, fmt.Sprint(inst["NetworkInterfaces"]), "NetworkApplicationSubnet1", "a private subnet")
	assert.Contains(t, fmt.Sprint(inst["NetworkInterfaces"]), "AssociatePublicIpAddress:false")
	ebs := inst["BlockDeviceMappings"].([]any)[0].(map[string]any)["Ebs"].(map[string]any)
	assert.Equal(t, true, ebs["Encrypted"])
	sg := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::SecurityGroup", "UpdaterSecurityGroup"))
	assert.Nil(t, sg["SecurityGroupIngress"], "nothing in")
	egress := sg["SecurityGroupEgress"].([]any)
	require.Len(t, egress, 1)
	assert.EqualValues(t, 443, egress[0].(map[string]any)["FromPort"], "HTTPS out only (NAT gateway or S3 endpoint)")

	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "UpdaterLaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	assert.Equal(t, "required", lt["MetadataOptions"].(map[string]any)["HttpTokens"], "IMDSv2")
	assert.Contains(t, fmt.Sprint(inst["LaunchTemplate"]), "UpdaterLaunchTemplate")
	raw, _ := json.Marshal(inst["UserData"])
	assert.Contains(t, string(raw), "TOOL=\\\"update-tool\\\"")
	assert.Contains(t, string(raw), "PRODUCT_HOMES=\\\"wso2am-4.3.0\\\"")
	assert.NotContains(t, string(raw), "password", "no credentials in user data")
}

func TestUpdaterScheduleAndPermissions(t *testing.T) {
	tmpl := updaterTemplate(t)
	rule := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::Events::Rule", "UpdaterSchedule"))
	assert.Equal(t, "rate(7 days)", rule["ScheduleExpression"])
	target := rule["Targets"].([]any)[0].(map[string]any)
	assert.Contains(t, fmt.Sprint(target["Arn"]), "document/AWS-RunShellScript")
	assert.Contains(t, fmt.Sprint(target["RunCommandParameters"]), "InstanceIds")
	assert.Contains(t, fmt.Sprint(target["Input"]), "/usr/local/sbin/apimkit-update")

	d := policyDocuments(tmpl, "UpdaterRole")
	assert.Contains(t, d, "s3:PutObject")
	assert.Contains(t, d, `/packs/wso2am-4.3.0.zip"`, "write of the pack objects only")
	assert.NotContains(t, d, `/*"`)
	assert.Contains(t, d, `"Action":"events:PutEvents","Condition":{"StringEquals":{"events:source":"apimkit.packs"}}`,
		"announces under its own source only")
	assert.Contains(t, d, `"Action":"cloudwatch:PutMetricData","Condition":{"StringEquals":{"cloudwatch:namespace":"apimkit/Updates"}}`,
		"reports its runs in its own namespace only")
	assert.Contains(t, d, "autoscaling:StartInstanceRefresh")
	assert.Contains(t, d, "GatewayASG", "refresh of the chosen group only")
	assert.Contains(t, d, `{"Ref":"Creds`, "reads the subscription secret")
}

func TestWumUpdaterRefusesBadProps(t *testing.T) {
	cases := []struct {
		name string
		tune func(e nodeEnv, p *wso2.WumUpdaterProps)
		want string
	}{
		{"invalid schedule", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.Schedule = jsii.String("every sunday") },
			`WumUpdater: Schedule "every sunday" is not an EventBridge expression`},
		{"refresh target that is not a ProfileAsg", func(e nodeEnv, p *wso2.WumUpdaterProps) {
			sg := awsec2.NewSecurityGroup(e.stack, jsii.String("NotAGroup"), &awsec2.SecurityGroupProps{Vpc: e.network.Vpc()})
			p.RefreshTargets = []constructs.IConstruct{sg}
		}, "WumUpdater: RefreshTargets[0] (Test/NotAGroup) is not a ProfileAsg"},
		{"min healthy out of range", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.MinHealthyPercentage = jsii.Number(120) },
			"WumUpdater: MinHealthyPercentage 120 must be a whole number from 0 to 100"},
		{"no credentials", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.CredentialsSecret = nil },
			"WumUpdater: PackBucket and CredentialsSecret are required"},
		{"unsupported version", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.Version = jsii.String("2.6.0") },
			"WumUpdater: Version: version 2.6.0 is not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newNodeEnv(testkit.NewApp(nil))
			p := &wso2.WumUpdaterProps{Network: env.network, PackBucket: env.packs,
				CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey())}
			tc.tune(env, p)
			msg := panicMessage(func() { wso2.NewWumUpdater(env.stack, "Updater", p) })
			assert.Contains(t, msg, tc.want)
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Updater")))
		})
	}
}

// The 3.2 layout updates its one pack with the update tool too (WUM was shut down), on an x86
// instance by default, for which WSO2 ships the tool.
func TestUpdaterUsesTheUpdateToolFor32(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
		Network: env.network, PackBucket: env.packs, Version: jsii.String("3.2.0"),
		CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
	})
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	inst := testkit.Props(resourceWithPrefix(t, asm.Stack(t, "Test").Template, "AWS::EC2::Instance", "Updater"))
	raw, _ := json.Marshal(inst["UserData"])
	assert.Contains(t, string(raw), "TOOL=\\\"update-tool\\\"")
	assert.Contains(t, string(raw), "PRODUCT_HOMES=\\\"wso2am-3.2.0\\\"")
	assert.Equal(t, "c7i.large", inst["InstanceType"])
	assert.Contains(t, fmt.Sprint(inst["ImageId"]), "al2023amikernel61x8664", "an x86 Amazon Linux 2023 image")
}

// A group whose nodes are named per zone is refreshed one node at a time, never above its size (half kept
// with two zones); the others launch replacements first, at the given share.
func TestUpdaterRefreshesZoneNamedGroupsStopFirst(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	gw := wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
	cpProps := env.props(profiles.ControlPlane)
	nodes := []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
	cpProps.Wiring.ControlPlane, cpProps.Wiring.SelfByZone = nodes, nodes
	cp := wso2.NewProfileAsg(env.stack, "ControlPlane", cpProps)
	wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
		Network: env.network, PackBucket: env.packs, RefreshTargets: []constructs.IConstruct{gw, cp},
		CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
	})
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	raw, _ := json.Marshal(testkit.Props(resourceWithPrefix(t, asm.Stack(t, "Test").Template, "AWS::EC2::Instance", "Updater"))["UserData"])
	ud := string(raw)
	segment := func(key string) string {
		i := strings.Index(ud, key+"=")
		require.GreaterOrEqual(t, i, 0, key)
		end := strings.Index(ud[i:], `\n`)
		require.Greater(t, end, 0, key)
		return ud[i : i+end]
	}
	refresh, first := segment("REFRESH_GROUPS"), segment("REPLACE_FIRST_GROUPS")
	assert.Contains(t, refresh, "GatewayASG")
	assert.NotContains(t, refresh, "ControlPlaneASG")
	assert.Contains(t, first, "ControlPlaneASG")
	assert.Contains(t, first, `:50`)
}

// Single-node groups (a traffic-manager pair) are refreshed one after the other, in the order
// given, and the updater may follow their refreshes.
func TestUpdaterRefreshesTrafficManagersOneByOne(t *testing.T) {
	app := testkit.NewApp(partialDeployment)
	env := newNodeEnv(app)
	tms := wso2.NewTrafficManagerPair(env.stack, "Tms", &wso2.TrafficManagerPairProps{
		Network: env.network, Database: env.database, PackBucket: env.packs,
		AdminSecret:     wso2.NewAdminSecret(env.stack, "PairAdmin", env.database.EncryptionKey()),
		ControlPlane:    []profiles.Node{{Host: "cp.apim.internal"}},
		UsePackKeystore: jsii.Bool(true),
	})
	wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
		Network: env.network, PackBucket: env.packs,
		RefreshTargets:    []constructs.IConstruct{tms.Groups()[0], tms.Groups()[1]},
		CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
	})
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	raw, _ := json.Marshal(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::Instance", "Updater"))["UserData"])
	ud := string(raw)
	i := strings.Index(ud, "ONE_BY_ONE_GROUPS=")
	require.GreaterOrEqual(t, i, 0)
	line := ud[i : i+strings.Index(ud[i:], `\n`)]
	tm1, tm2 := strings.Index(line, "TmsTm1ASG"), strings.Index(line, "TmsTm2ASG")
	assert.True(t, tm1 > 0 && tm2 > tm1, "tm1, then tm2: %s", line)
	refreshLine := ud[strings.Index(ud, "REFRESH_GROUPS="):]
	assert.NotContains(t, refreshLine[:strings.Index(refreshLine, `\n`)], "TmsTm1ASG")
	var policies []string
	for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		policies = append(policies, fmt.Sprint(testkit.Props(pol)["PolicyDocument"]))
	}
	assert.Contains(t, strings.Join(policies, "\n"), "Action:autoscaling:DescribeInstanceRefreshes Effect:Allow Resource:* Sid:FollowTheRefreshes")
}

// Issue 14: the updater's role carries the agent's channels for Run Command, not
// AmazonSSMManagedInstanceCore.
func TestUpdaterRoleHasNoManagedInstanceCore(t *testing.T) {
	tmpl := updaterTemplate(t)
	role := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::IAM::Role", "UpdaterRole"))
	assert.Nil(t, role["ManagedPolicyArns"], "no managed policy")
	d := policyDocuments(tmpl, "UpdaterRole")
	for _, action := range []string{"ssm:UpdateInstanceInformation", "ssmmessages:OpenControlChannel", "ec2messages:GetMessages", "ec2messages:SendReply"} {
		assert.Contains(t, d, action)
	}
	for _, broad := range []string{"ssm:GetParameter", "ssm:GetDocument", "ssm:ListInstanceAssociations", "ssm:*"} {
		assert.NotContains(t, d, broad)
	}
}
