package wso2_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

func bastionTemplate(t *testing.T, name string, props func(net *wso2.ApimNetwork) *wso2.BastionProps) map[string]any {
	return testkit.Fixture(t, name, func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := stackIn(app, "us-west-1")
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
			AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"), AdminSSHCidrs: jsii.Strings("203.0.113.0/24"),
		})
		wso2.NewBastion(stack, "Bastion", props(net))
		return app
	}).Stack(t, "Test").Template
}

func ssmBastion(t *testing.T) map[string]any {
	return bastionTemplate(t, "bastion-ssm", func(net *wso2.ApimNetwork) *wso2.BastionProps {
		return &wso2.BastionProps{Network: net}
	})
}

func sshBastion(t *testing.T) map[string]any {
	return bastionTemplate(t, "bastion-ssh", func(net *wso2.ApimNetwork) *wso2.BastionProps {
		return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("203.0.113.0/24")}
	})
}

func TestBastionDefaultIsSessionManagerOnly(t *testing.T) {
	tmpl := ssmBastion(t)
	_, inst := one(t, tmpl, "AWS::EC2::Instance")
	p := testkit.Props(inst)
	assert.Contains(t, fmt.Sprint(p["NetworkInterfaces"]), "NetworkManagementSubnet1", "a private subnet, not the public tier")
	assert.Contains(t, fmt.Sprint(p["NetworkInterfaces"]), "AssociatePublicIpAddress:false")
	for id := range testkit.Resources(tmpl, "AWS::EC2::EIP") {
		assert.False(t, strings.HasPrefix(id, "Bastion"), "no Elastic IP in Session Manager mode")
	}
	assert.Nil(t, p["KeyName"])
	for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "Bastion") {
			assert.Nil(t, testkit.Props(sg)["SecurityGroupIngress"], "no inbound port at all")
			assert.Contains(t, fmt.Sprint(testkit.Props(sg)["SecurityGroupEgress"]), "443")
		}
	}
	assert.Empty(t, testkit.Resources(tmpl, "AWS::EC2::SecurityGroupIngress"))
}

func TestBastionIsHardened(t *testing.T) {
	for _, tmpl := range []map[string]any{ssmBastion(t), sshBastion(t)} {
		_, inst := one(t, tmpl, "AWS::EC2::Instance")
		p := testkit.Props(inst)
		assert.Contains(t, fmt.Sprint(p["ImageId"]), "al2023", "current Amazon Linux")
		assert.Equal(t, true, p["Monitoring"])
		ebs := p["BlockDeviceMappings"].([]any)[0].(map[string]any)["Ebs"].(map[string]any)
		assert.Equal(t, true, ebs["Encrypted"])
		assert.Contains(t, fmt.Sprint(ebs["KmsKeyId"]), "BastionKey")
		lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "BastionLaunchTemplate"))["LaunchTemplateData"].(map[string]any)
		assert.Equal(t, "required", lt["MetadataOptions"].(map[string]any)["HttpTokens"], "IMDSv2")
		assert.Contains(t, fmt.Sprint(p["LaunchTemplate"]), "BastionLaunchTemplate")

		_, doc := one(t, tmpl, "AWS::SSM::Document")
		inputs := testkit.Props(doc)["Content"].(map[string]any)["inputs"].(map[string]any)
		assert.Equal(t, true, inputs["cloudWatchEncryptionEnabled"])
		assert.Contains(t, fmt.Sprint(inputs["cloudWatchLogGroupName"]), "BastionSessionLogs")
		lg := resourceWithPrefix(t, tmpl, "AWS::Logs::LogGroup", "BastionSessionLogs")
		assert.NotNil(t, testkit.Props(lg)["KmsKeyId"])
		assert.Equal(t, float64(365), testkit.Props(lg)["RetentionInDays"])
		// The agent refuses an encrypted-logging session unless it can see the log group.
		policy := fmt.Sprint(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::IAM::Policy", "BastionRoleDefaultPolicy"))["PolicyDocument"])
		for _, action := range []string{"logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents"} {
			assert.Contains(t, policy, action)
		}

		_, alarm := resourceWithPrefixID(t, tmpl, "AWS::CloudWatch::Alarm", "BastionRecoverAlarm")
		assert.Contains(t, fmt.Sprint(testkit.Props(alarm)["AlarmActions"]), "ec2:recover", "self-healing")
	}
}

func TestBastionSshMode(t *testing.T) {
	tmpl := sshBastion(t)
	_, inst := one(t, tmpl, "AWS::EC2::Instance")
	assert.Contains(t, fmt.Sprint(testkit.Props(inst)["NetworkInterfaces"]), "NetworkPublicSubnet1")
	_, eip := one(t, tmpl, "AWS::EC2::EIPAssociation")
	assert.Contains(t, fmt.Sprint(testkit.Props(eip)["InstanceId"]), "Bastion")
	var ingress []any
	for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "Bastion") {
			ingress = testkit.Props(sg)["SecurityGroupIngress"].([]any)
		}
	}
	require.Len(t, ingress, 1, "SSH and nothing else")
	rule := ingress[0].(map[string]any)
	assert.Equal(t, "203.0.113.0/24", rule["CidrIp"])
	assert.EqualValues(t, 22, rule["FromPort"])
	assert.EqualValues(t, 22, rule["ToPort"])
}

func TestBastionRefusesBadProps(t *testing.T) {
	cases := []struct {
		name  string
		props func(net *wso2.ApimNetwork) *wso2.BastionProps
		want  string
	}{
		{"SSH mode without ranges", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, SSHFrom: &[]*string{}}
		}, "Bastion: SSHFrom is empty: SSH mode needs the admin ranges"},
		{"SSH from anywhere without opting in", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("0.0.0.0/0")}
		}, "Bastion: SSHFrom[0] is 0.0.0.0/0, which opens SSH to the whole internet"},
		{"a range that is not a CIDR", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("office")}
		}, `Bastion: SSHFrom[0] "office" is not an IPv4 CIDR block`},
		{"key pair in Session Manager mode", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, KeyPairName: jsii.String("admin")}
		}, "Bastion: KeyPairName was given without SSHFrom"},
		{"no network", func(*wso2.ApimNetwork) *wso2.BastionProps { return &wso2.BastionProps{} }, "Bastion: Network is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := testkit.NewApp(nil)
			stack := stackIn(app, "us-west-1")
			net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
			msg := panicMessage(func() { wso2.NewBastion(stack, "Bastion", tc.props(net)) })
			assert.Contains(t, msg, tc.want)
			assert.Nil(t, stack.Node().TryFindChild(jsii.String("Bastion")))
		})
	}
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	assert.NotPanics(t, func() {
		wso2.NewBastion(stack, "Bastion", &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("0.0.0.0/0"), AllowSSHFromAnywhere: jsii.Bool(true)})
	})
}

// A network mapped onto an existing VPC without a management tier has no place for a Session
// Manager bastion: the refusal names the ways out.
func TestBastionRefusesANetworkWithoutAManagementTier(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-1"), AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
		PublicSubnetIds: jsii.Strings("subnet-p1", "subnet-p2"), PrivateSubnetIds: jsii.Strings("subnet-a1", "subnet-a2"),
		IsolatedSubnetIds: jsii.Strings("subnet-d1", "subnet-d2"),
	})
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{ExistingVpc: vpc, ExistingSubnets: &wso2.ExistingTierSubnets{
		Public:      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		Application: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		Data:        &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
	}})
	msg := panicMessage(func() { wso2.NewBastion(stack, "Bastion", &wso2.BastionProps{Network: net}) })
	assert.Contains(t, msg, "Bastion: the network has no management tier for the bastion: give the network a management tier "+
		"(ApimNetwork creates one; with ExistingVpc, map ExistingSubnets.Management), or use SSH mode (SSHFrom)")
}

// Issue 14: the bastion's role carries Session Manager's channel and its session log, not
// AmazonSSMManagedInstanceCore (every parameter and document of the account), and the operators'
// policy starts sessions to the bastion through its logged document only.
func TestBastionRoleIsSessionManagerOnly(t *testing.T) {
	for _, tmpl := range []map[string]any{ssmBastion(t), sshBastion(t)} {
		role := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::IAM::Role", "BastionRole"))
		assert.Nil(t, role["ManagedPolicyArns"], "no managed policy")
		d := policyDocuments(tmpl, "BastionRole")
		assert.Contains(t, d, `"Action":["ssm:UpdateInstanceInformation","ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Effect":"Allow","Resource":"*","Sid":"SessionManagerChannel"`)
		for _, broad := range []string{"ssm:GetParameter", "ssm:GetDocument", "ssm:ListAssociations", "ec2messages:", "s3:GetObject", "ssm:*"} {
			assert.NotContains(t, d, broad)
		}

		_, policy := resourceWithPrefixID(t, tmpl, "AWS::IAM::ManagedPolicy", "BastionSessionPolicy")
		doc := testkit.Props(policy)["PolicyDocument"].(map[string]any)
		var start map[string]any
		for _, s := range doc["Statement"].([]any) {
			if s.(map[string]any)["Action"] == "ssm:StartSession" {
				start = s.(map[string]any)
			}
		}
		require.NotNil(t, start, "the operators may start sessions")
		assert.Equal(t, map[string]any{"BoolIfExists": map[string]any{"ssm:SessionDocumentAccessCheck": "true"}}, start["Condition"],
			"a session must name a document the policy allows: the default, unlogged one is refused")
		resources := fmt.Sprint(start["Resource"])
		assert.Contains(t, resources, "instance/")
		assert.Contains(t, resources, "instance/ map[Ref:Bastion", "the bastion instance")
		assert.Contains(t, resources, "BastionSessionDocument", "the logged document only")
		assert.NotContains(t, resources, "instance/*", "the bastion only")
		assert.Contains(t, fmt.Sprint(doc["Statement"]), "session/${aws:userid}-*", "operators end their own sessions only")
	}
}

// SshFrom and AllowSshFromAnywhere, deprecated, still build the bastion SSHFrom and
// AllowSSHFromAnywhere build; both names with different values are refused.
func TestBastionDeprecatedSSHNames(t *testing.T) {
	build := func(props func(net *wso2.ApimNetwork) *wso2.BastionProps) func(awscdk.App) {
		return func(app awscdk.App) {
			stack := stackIn(app, "us-west-1")
			net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
			wso2.NewBastion(stack, "Bastion", props(net))
		}
	}
	tmpl := sameTemplate(t, build(func(net *wso2.ApimNetwork) *wso2.BastionProps {
		return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("0.0.0.0/0"), AllowSSHFromAnywhere: jsii.Bool(true)}
	}), build(func(net *wso2.ApimNetwork) *wso2.BastionProps {
		return &wso2.BastionProps{Network: net, SshFrom: jsii.Strings("0.0.0.0/0"), AllowSshFromAnywhere: jsii.Bool(true)}
	}))
	assert.NotEmpty(t, testkit.Resources(tmpl, "AWS::EC2::EIP"), "SSH mode, from the deprecated name")

	cases := []struct {
		name  string
		props func(net *wso2.ApimNetwork) *wso2.BastionProps
		want  string
	}{
		{"ranges", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("203.0.113.0/24"), SshFrom: jsii.Strings("203.0.113.0/24", "198.51.100.0/24")}
		}, "Bastion: SSHFrom is [203.0.113.0/24] and SshFrom, its deprecated name, is [203.0.113.0/24 198.51.100.0/24]: set SSHFrom only"},
		{"anywhere", func(net *wso2.ApimNetwork) *wso2.BastionProps {
			return &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("203.0.113.0/24"),
				AllowSSHFromAnywhere: jsii.Bool(false), AllowSshFromAnywhere: jsii.Bool(true)}
		}, "Bastion: AllowSSHFromAnywhere is false and AllowSshFromAnywhere, its deprecated name, is true: set AllowSSHFromAnywhere only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := stackIn(testkit.NewApp(nil), "us-west-1")
			net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
			assert.Equal(t, tc.want, panicMessage(func() { wso2.NewBastion(stack, "Bastion", tc.props(net)) }))
			assert.Nil(t, stack.Node().TryFindChild(jsii.String("Bastion")))
		})
	}
}
