package wso2

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/netplan"
)

// BastionProps configures a Bastion.
type BastionProps struct {
	// Network places the bastion: its management tier in Session Manager mode, its public tier in
	// SSH mode. Required.
	Network *ApimNetwork
	// SSHFrom switches to SSH mode: the bastion gets an Elastic IP in the public tier and admits
	// SSH from these ranges only (the network's AdminSSHCidrs must admit them too).
	// Default: Session Manager mode, no inbound port at all.
	SSHFrom *[]*string
	// AllowSSHFromAnywhere lets SSHFrom contain 0.0.0.0/0. Default: false.
	AllowSSHFromAnywhere *bool
	// SshFrom is SSHFrom.
	//
	// Deprecated: use SSHFrom.
	SshFrom *[]*string
	// AllowSshFromAnywhere is AllowSSHFromAnywhere.
	//
	// Deprecated: use AllowSSHFromAnywhere.
	AllowSshFromAnywhere *bool
	// KeyPairName is the EC2 key pair for SSH mode. Default: none (use EC2 Instance Connect or
	// Session Manager to place keys).
	KeyPairName *string
	// InstanceType of the bastion. Default: c7g.medium (Graviton; encrypts traffic between
	// instances in transit, as AWS Control Tower's CT.EC2.PR.19 asks).
	InstanceType awsec2.InstanceType
	// SessionLogRetention bounds how long session transcripts are kept. Default: one year.
	SessionLogRetention awslogs.RetentionDays
	// AlarmTopic is told when the instance is recovered. Default: none.
	AlarmTopic awssns.ITopic
	// MachineImage is the bastion's AMI, Amazon Linux 2023 of its instance type's architecture:
	// a new one replaces the instance. ApimDeployment gives the deployment's pinned image.
	// Default: the latest Amazon Linux 2023, resolved at each deploy.
	MachineImage awsec2.IMachineImage
}

// Bastion is the hardened administrative entry of property A2: by default an instance reached only
// through Session Manager (no inbound port), in SSH mode an instance with an Elastic IP in the
// public tier that admits SSH from named ranges only. IMDSv2, an encrypted volume, a role with
// Session Manager and its own session log only, current Amazon Linux, sessions logged to an
// encrypted log group, and automatic recovery. Grant it SSH to nodes with Connections().
type Bastion struct {
	constructs.Construct
	instance awsec2.Instance
	logs     awslogs.LogGroup
	document awsssm.CfnDocument
	// sessionPolicy is the operators' policy (SessionPolicy).
	sessionPolicy awsiam.ManagedPolicy
	eip           awsec2.CfnEIP
}

const bastionName = "Bastion"

// NewBastion builds the bastion. It panics, before adding anything to the tree, when a prop is
// invalid.
func NewBastion(scope constructs.Construct, id string, props *BastionProps) *Bastion {
	if props == nil || props.Network == nil {
		propsError(bastionName, "Network is required")
	}
	props = currentBastionProps(props)
	sshMode := props.SSHFrom != nil
	var ranges []netip.Prefix
	if sshMode {
		if len(*props.SSHFrom) == 0 {
			propsError(bastionName, "SSHFrom is empty: SSH mode needs the admin ranges it admits (or leave SSHFrom unset for Session Manager, which needs none)")
		}
		anywhereOK := props.AllowSSHFromAnywhere != nil && *props.AllowSSHFromAnywhere
		for i, s := range *props.SSHFrom {
			p, err := netplan.ParseCidr(fmt.Sprintf("SSHFrom[%d]", i), *s)
			if err != nil {
				propsError(bastionName, "%v", err)
			}
			if p.Bits() == 0 && !anywhereOK {
				propsError(bastionName, "SSHFrom[%d] is %s, which opens SSH to the whole internet: list your admin ranges, or set AllowSSHFromAnywhere to true to accept the risk", i, p)
			}
			ranges = append(ranges, p)
		}
	} else if props.KeyPairName != nil {
		propsError(bastionName, "KeyPairName was given without SSHFrom: Session Manager mode takes no key pair")
	}
	tier := TierManagement
	if sshMode {
		tier = TierPublic
	}
	if !props.Network.HasTier(tier) {
		fix := "give the network a management tier (ApimNetwork creates one; with ExistingVpc, map ExistingSubnets.Management), or use SSH mode (SSHFrom), which runs in the public tier"
		if sshMode {
			fix = "give the network a public tier, or drop SSHFrom for Session Manager mode in the management tier"
		}
		propsError(bastionName, "the network has no %s tier for the bastion: %s", strings.ToLower(string(tier)), fix)
	}

	b := &Bastion{}
	constructs.NewConstruct_Override(b, scope, &id)
	pinFlags(b)
	stack := awscdk.Stack_Of(b)
	network := props.Network

	key := newKey(b, "Key", "Encrypts the bastion's volume and session logs")
	allowLogsToUseKey(key, stack)
	retention := props.SessionLogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}
	b.logs = awslogs.NewLogGroup(b, jsii.String("SessionLogs"), &awslogs.LogGroupProps{
		Retention: retention, EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// A Session Manager document of the bastion's own (the account-wide default document is not
	// ours to change): sessions started with it are logged, encrypted, to the log group.
	b.document = awsssm.NewCfnDocument(b, jsii.String("SessionDocument"), &awsssm.CfnDocumentProps{
		DocumentType: jsii.String("Session"),
		Content: map[string]any{
			"schemaVersion": "1.0",
			"description":   "apimkit bastion sessions, logged to CloudWatch Logs",
			"sessionType":   "Standard_Stream",
			"inputs": map[string]any{
				"cloudWatchLogGroupName":      b.logs.LogGroupName(),
				"cloudWatchEncryptionEnabled": true,
				"cloudWatchStreamingEnabled":  true,
				"kmsKeyId":                    key.KeyArn(),
				"runAsEnabled":                false,
				"idleSessionTimeout":          "20",
			},
		},
	})

	sg := awsec2.NewSecurityGroup(b, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("Bastion: no inbound but admin SSH (SSH mode); egress only as granted and HTTPS"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to Session Manager and package repositories"), jsii.Bool(false))
	for _, r := range ranges {
		sg.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(r.String())), awsec2.Port_Tcp(jsii.Number(22)), jsii.String("SSH from an admin range"), jsii.Bool(false))
	}
	if sshMode {
		for _, r := range ranges {
			if r.Bits() == 0 {
				cdknag.NagSuppressions_AddResourceSuppressions(sg, &[]*cdknag.NagPackSuppression{{
					Id: jsii.String("AwsSolutions-EC23"),
					// The prop's name before v0.6.0: this text is in deployed templates, which
					// the rename leaves byte-identical.
					Reason: jsii.String("SSH from anywhere was explicitly accepted with AllowSshFromAnywhere."),
				}}, jsii.Bool(false))
			}
		}
	}

	role := awsiam.NewRole(b, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("Bastion: Session Manager and its own session log only"),
	})
	grantAgentChannels(role, "SessionManagerChannel", sessionChannel)
	b.logs.GrantWrite(role)
	key.GrantEncryptDecrypt(role)
	// With cloudWatchEncryptionEnabled, the agent checks that the log group is encrypted before
	// it opens a session, and refuses the session if it cannot look.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SessionLogChecks"),
		Actions:   jsii.Strings("logs:DescribeLogGroups"),
		Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SessionLogStreams"),
		Actions:   jsii.Strings("logs:DescribeLogStreams"),
		Resources: jsii.Strings(*b.logs.LogGroupArn()),
	}))

	instanceType := bastionInstanceType(props)
	var keyPair awsec2.IKeyPair
	if props.KeyPairName != nil {
		keyPair = awsec2.KeyPair_FromKeyPairName(b, jsii.String("KeyPair"), props.KeyPairName)
	}
	subnets := network.SubnetsInAz(tier, network.AvailabilityZones()[0])
	b.instance = awsec2.NewInstance(b, jsii.String("Resource"), &awsec2.InstanceProps{
		Vpc:                       network.Vpc(),
		VpcSubnets:                subnets,
		InstanceType:              instanceType,
		MachineImage:              imageOr(props.MachineImage, instanceType),
		SecurityGroup:             sg,
		Role:                      role,
		DetailedMonitoring:        jsii.Bool(true),
		KeyPair:                   keyPair,
		AssociatePublicIpAddress:  jsii.Bool(false),
		UserDataCausesReplacement: jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(16), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), KmsKey: key, VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	// Security updates at every boot; the instance carries nothing else.
	b.instance.UserData().AddCommands(jsii.String("dnf upgrade -y --security"))
	allowEc2ToUseKey(key)
	if sshMode {
		b.eip = awsec2.NewCfnEIP(b, jsii.String("Eip"), &awsec2.CfnEIPProps{Domain: jsii.String("vpc")})
		awsec2.NewCfnEIPAssociation(b, jsii.String("EipAssociation"), &awsec2.CfnEIPAssociationProps{
			AllocationId: b.eip.AttrAllocationId(),
			InstanceId:   b.instance.InstanceId(),
		})
	}
	// Recovery keeps the instance, its address and its volume when its host fails.
	recover := awscloudwatch.NewAlarm(b, jsii.String("RecoverAlarm"), &awscloudwatch.AlarmProps{
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/EC2"), MetricName: jsii.String("StatusCheckFailed_System"),
			DimensionsMap: &map[string]*string{"InstanceId": b.instance.InstanceId()},
			Statistic:     jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(1)),
		}),
		Threshold: jsii.Number(0), EvaluationPeriods: jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		AlarmDescription:   jsii.String("Bastion host failure: recover the instance"),
	})
	recover.AddAlarmAction(awscloudwatchactions.NewEc2Action(awscloudwatchactions.Ec2InstanceAction_RECOVER))
	if props.AlarmTopic != nil {
		recover.AddAlarmAction(awscloudwatchactions.NewSnsAction(props.AlarmTopic))
	}

	// IMDSv2 (and detailed monitoring, which AWS Control Tower's CT.EC2.PR.10 reads from the
	// template) through a launch template of the bastion's own.
	lt := awsec2.NewLaunchTemplate(b, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		RequireImdsv2:           jsii.Bool(true),
		HttpPutResponseHopLimit: jsii.Number(1),
		DetailedMonitoring:      jsii.Bool(true),
	})
	b.instance.Instance().SetLaunchTemplate(&awsec2.CfnInstance_LaunchTemplateSpecificationProperty{
		LaunchTemplateId: lt.LaunchTemplateId(),
		Version:          lt.LatestVersionNumber(),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(b, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The log-stream wildcard is within the bastion's own session log group; the KMS action groups are aws-cdk-lib's grant on the bastion's own key; " +
				"logs:DescribeLogGroups lists groups by prefix and takes no narrower resource, and the SSM agent needs it to see that the session log is encrypted; " +
				"Session Manager's channel (ssm:UpdateInstanceInformation and the four ssmmessages actions) takes no resource narrower than *."),
		},
		{
			Id: jsii.String("AwsSolutions-EC29"),
			Reason: jsii.String("The bastion holds no state: termination protection would only stand in the way of " +
				"replacing it; it is recovered automatically instead."),
		},
	}, jsii.Bool(true))
	b.sessionPolicy = newSessionPolicy(b, stack, b.instance, b.document, key)
	weakenReferences(b)
	return b
}

// newSessionPolicy is the policy an operator's role needs to reach the bastion: sessions to the
// bastion only, and only with its logged document (ssm:SessionDocumentAccessCheck makes
// Session Manager refuse a session that names no document, which would run the account's
// default, unlogged one), ending or resuming only the caller's own sessions.
func newSessionPolicy(b *Bastion, stack awscdk.Stack, instance awsec2.Instance, document awsssm.CfnDocument, key awskms.IKey) awsiam.ManagedPolicy {
	arn := func(service, resource string, name *string) string {
		return *stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: name})
	}
	policy := awsiam.NewManagedPolicy(b, jsii.String("SessionPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Operators: Session Manager sessions to the WSO2 bastion through its logged document only"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("StartLoggedSessionsToTheBastion"),
				Actions:    jsii.Strings("ssm:StartSession"),
				Resources:  jsii.Strings(arn("ec2", "instance", instance.InstanceId()), arn("ssm", "document", document.Ref())),
				Conditions: &map[string]any{"BoolIfExists": map[string]any{"ssm:SessionDocumentAccessCheck": "true"}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("OwnSessionsOnly"),
				Actions:   jsii.Strings("ssm:TerminateSession", "ssm:ResumeSession"),
				Resources: jsii.Strings(arn("ssm", "session", jsii.String("${aws:userid}-*"))),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EncryptTheSession"),
				Actions:   jsii.Strings("kms:GenerateDataKey"),
				Resources: jsii.Strings(*key.KeyArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("FindTheBastion"),
				Actions:   jsii.Strings("ssm:DescribeSessions", "ssm:GetConnectionStatus", "ssm:DescribeInstanceInformation", "ec2:DescribeInstances"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The session-ARN wildcard is the caller's own sessions (${aws:userid}-*); the describe calls the console and CLI " +
			"make to find the bastion and list sessions take no resource."),
	}}, jsii.Bool(true))
	return policy
}

// bastionInstanceType is the bastion's instance type: c7g.medium unless given.
func bastionInstanceType(props *BastionProps) awsec2.InstanceType {
	if props.InstanceType != nil {
		return props.InstanceType
	}
	return awsec2.InstanceType_Of(awsec2.InstanceClass_C7G, awsec2.InstanceSize_MEDIUM)
}

// allowEc2ToUseKey lets EC2 use the key for the instance's encrypted volume, through grants for
// AWS resources only.
func allowEc2ToUseKey(key awskms.IKey) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowEbsThroughEc2"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
		Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringLike": map[string]any{"kms:ViaService": "ec2.*.amazonaws.com"}},
	}), jsii.Bool(true))
}

// Connections grants the bastion SSH to nodes: bastion.Connections().AllowTo(node, Port_Tcp(22)).
func (b *Bastion) Connections() awsec2.Connections { return b.instance.Connections() }

// Instance returns the bastion instance.
func (b *Bastion) Instance() awsec2.Instance { return b.instance }

// SessionLogGroup returns the encrypted log group of session transcripts.
func (b *Bastion) SessionLogGroup() awslogs.ILogGroup { return b.logs }

// SessionPolicy is the managed policy to attach to the operators' roles (or permission sets):
// Session Manager sessions to the bastion, through its logged document only. It grants no
// session to any other instance: reach the nodes from the bastion.
func (b *Bastion) SessionPolicy() awsiam.IManagedPolicy { return b.sessionPolicy }

// SessionDocumentName names the Session Manager document that logs sessions; start sessions with
// `aws ssm start-session --target <id> --document-name <name>`.
func (b *Bastion) SessionDocumentName() *string { return b.document.Ref() }

// PublicIP is the Elastic IP of SSH mode, or nil in Session Manager mode.
func (b *Bastion) PublicIP() *string {
	if b.eip == nil {
		return nil
	}
	return b.eip.AttrPublicIp()
}
