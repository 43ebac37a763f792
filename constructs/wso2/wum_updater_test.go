package wso2_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
		wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
		wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
			Network: env.network, PackBucket: env.packs,
			CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
			Schedule:          jsii.String("rate(7 days)"),
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
	var role []map[string]any
	for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		if strings.HasPrefix(fmt.Sprint(testkit.Props(pol)["Roles"]), "[map[Ref:UpdaterRole") {
			for _, st := range testkit.Props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				role = append(role, st.(map[string]any))
			}
		}
	}
	var writes, reads []string
	for _, st := range role {
		switch fmt.Sprint(st["Action"]) {
		case "s3:PutObject":
			writes = append(writes, fmt.Sprint(st["Resource"]))
		case "[s3:GetObject s3:GetObjectVersion]":
			reads = append(reads, fmt.Sprint(st["Resource"]))
		}
	}
	require.Len(t, writes, 1)
	assert.Contains(t, writes[0], `/staging/packs/wso2am-4.3.0.zip`, "writes the staged pack")
	assert.NotContains(t, strings.ReplaceAll(writes[0], "/staging/packs/", ""), "/packs/", "and never the pack nodes install")
	assert.Contains(t, strings.Join(reads, " "), `/packs/wso2am-4.3.0.zip`, "reads the pack nodes run, the base of its update")
	assert.NotContains(t, d, `/*"`)
	assert.NotContains(t, d, "autoscaling:", "no instance refresh: only a deploy rolls the nodes")
	assert.Contains(t, d, `"Action":"events:PutEvents","Condition":{"StringEquals":{"events:source":"apimkit.packs"}}`,
		"announces under its own source only")
	assert.Contains(t, d, `"Action":"cloudwatch:PutMetricData","Condition":{"StringEquals":{"cloudwatch:namespace":"apimkit/Updates"}}`,
		"reports its runs in its own namespace only")
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
		{"no credentials", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.CredentialsSecret = nil },
			"WumUpdater: PackBucket and CredentialsSecret are required"},
		{"unsupported version", func(_ nodeEnv, p *wso2.WumUpdaterProps) { p.Release = jsii.String("2.6.0") },
			"WumUpdater: Release: version 2.6.0 is not supported"},
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
		Network: env.network, PackBucket: env.packs, Release: jsii.String("3.2.0"),
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

// Version, deprecated, still builds the updater Release builds; both names with different values
// are refused, the same value by both is not.
func TestUpdaterDeprecatedVersion(t *testing.T) {
	build := func(tune func(p *wso2.WumUpdaterProps)) func(awscdk.App) {
		return func(app awscdk.App) {
			env := newNodeEnv(app)
			p := &wso2.WumUpdaterProps{Network: env.network, PackBucket: env.packs,
				CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey())}
			tune(p)
			wso2.NewWumUpdater(env.stack, "Updater", p)
		}
	}
	tmpl := sameTemplate(t,
		build(func(p *wso2.WumUpdaterProps) { p.Release = jsii.String("3.2.0") }),
		build(func(p *wso2.WumUpdaterProps) { p.Version = jsii.String("3.2.0") }))
	raw, _ := json.Marshal(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::Instance", "Updater"))["UserData"])
	assert.Contains(t, string(raw), "PRODUCT_HOMES=\\\"wso2am-3.2.0\\\"", "the release given by its deprecated name")

	for _, tc := range []struct {
		name, release, version, want string
	}{
		{"different", "4.3.0", "3.2.0", "WumUpdater: Release is 4.3.0 and Version, its deprecated name, is 3.2.0: set Release only"},
		{"the same", "4.3.0", "4.3.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newNodeEnv(testkit.NewApp(nil))
			p := &wso2.WumUpdaterProps{Network: env.network, PackBucket: env.packs, Release: jsii.String(tc.release), Version: jsii.String(tc.version),
				CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey())}
			assert.Equal(t, tc.want, panicMessage(func() { wso2.NewWumUpdater(env.stack, "Updater", p) }))
		})
	}
}
