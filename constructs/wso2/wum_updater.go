package wso2

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/internal/bootscript"
	"github.com/apimkit/apimkit/internal/packupdate"
)

// WumUpdaterProps configures a WumUpdater.
type WumUpdaterProps struct {
	// Network places the update instance in its application tier. Required.
	Network *ApimNetwork
	// PackBucket holds the packs the updater refreshes (NewPackBucket). Required.
	PackBucket awss3.IBucket
	// CredentialsSecret holds the WSO2 subscription's username and password (JSON). Required.
	CredentialsSecret awssecretsmanager.ISecret
	// Release is the API Manager release whose packs are updated (from 4.5, each component
	// distribution), with the WSO2 Update tool each pack carries (WSO2 Updates 2.0; WUM was shut
	// down in March 2023). Default: DefaultApimVersion.
	Release *string
	// Version is Release.
	//
	// Deprecated: use Release.
	Version *string
	// PackPrefix is the key prefix of the packs. Default: DefaultPackPrefix.
	PackPrefix *string
	// Schedule is when updates are fetched, as an EventBridge expression: rate(...) or cron(...).
	// Default: cron(0 3 ? * SUN *), Sundays at 03:00 UTC.
	Schedule *string
	// InstanceType of the update instance. Default: c7i.large (x86-64, for which WSO2 ships its
	// update tool; on Graviton the packs must carry wso2update_linux_arm64).
	InstanceType awsec2.InstanceType
	// MachineImage is the update instance's AMI, Amazon Linux 2023 of its instance type's
	// architecture: a new one replaces the instance. ApimDeployment gives the deployment's
	// pinned image. Default: the latest Amazon Linux 2023, resolved at each deploy.
	MachineImage awsec2.IMachineImage
}

// WumUpdater is property A1: an update instance in the application tier, whose only way out is
// HTTPS through the NAT gateway (and the S3 endpoint), that on a schedule fetches WSO2's updates
// for the packs the nodes run with credentials from Secrets Manager, stages each updated pack as a
// new version of StagingPrefix + <prefix>/<home>.zip and announces it on EventBridge (source
// apimkit.packs) for the management tier's CI/CD. It changes nothing nodes run: its role may
// write only staged packs, and a deploy that names the staged version promotes it (PackPromoter)
// and rolls the groups onto it.
type WumUpdater struct {
	constructs.Construct
	instance awsec2.Instance
	rule     awsevents.Rule
}

const updaterName = "WumUpdater"

var scheduleExpr = regexp.MustCompile(`^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$`)

// NewWumUpdater builds the updater. It panics, before adding anything to the tree, when a prop is
// invalid.
func NewWumUpdater(scope constructs.Construct, id string, props *WumUpdaterProps) *WumUpdater {
	c := resolveWumUpdater(props)

	u := &WumUpdater{}
	constructs.NewConstruct_Override(u, scope, &id)
	pinFlags(u)
	ud := u.userData(props, c)
	sg, role := u.addAccess(props, c)
	u.addInstance(props, c, sg, role, ud)
	u.addSchedule(c)
	u.suppressFindings()
	weakenReferences(u)
	return u
}

// updaterConfig is a WumUpdater's props resolved and checked: what the updater is built from,
// worked out before anything is added to the tree.
type updaterConfig struct {
	release profiles.Version
	// homes are the release's pack homes, in its layout's order; prefix is the packs' key prefix.
	homes  []string
	prefix string
	// packs are the keys of the packs nodes run, which the updater reads; staged are the keys
	// of their staged updates, the only objects it writes.
	packs, staged []string
	schedule      string
	instanceType  awsec2.InstanceType
}

// resolveWumUpdater checks props and fills their defaults; a bad prop panics with its name.
func resolveWumUpdater(props *WumUpdaterProps) updaterConfig {
	if props == nil || props.Network == nil {
		propsError(updaterName, "Network is required")
	}
	props = currentUpdaterProps(props)
	if props.PackBucket == nil || props.CredentialsSecret == nil {
		propsError(updaterName, "PackBucket and CredentialsSecret are required: the updater reads the WSO2 subscription from the secret and writes packs to the bucket")
	}
	c := updaterConfig{schedule: "cron(0 3 ? * SUN *)", prefix: DefaultPackPrefix, instanceType: updaterInstanceType(props)}
	if props.Schedule != nil {
		c.schedule = *props.Schedule
	}
	if !scheduleExpr.MatchString(c.schedule) {
		propsError(updaterName, "Schedule %q is not an EventBridge expression: use rate(7 days) or cron(0 3 ? * SUN *)", c.schedule)
	}
	versionText := DefaultApimVersion
	if props.Release != nil {
		versionText = *props.Release
	}
	var err error
	if c.release, err = profiles.ParseVersion(versionText); err != nil {
		propsError(updaterName, "Release: %v", err)
	}
	layout, _ := profiles.Layout(c.release)
	for _, p := range layout {
		if pack, _ := profiles.PackOf(c.release, p.Name); !slices.Contains(c.homes, pack.Home) {
			c.homes = append(c.homes, pack.Home)
		}
	}
	if props.PackPrefix != nil {
		c.prefix = *props.PackPrefix
	}
	for _, h := range c.homes {
		c.packs = append(c.packs, c.prefix+"/"+h+".zip")
		c.staged = append(c.staged, StagingPrefix+c.prefix+"/"+h+".zip")
	}
	return c
}

// userData installs the update script and its settings (updater.env) on the instance; the
// subscription's credentials stay in their secret.
func (u *WumUpdater) userData(props *WumUpdaterProps, c updaterConfig) awsec2.UserData {
	// WSO2 Updates 2.0 serves 3.2 and 4.x alike, through the tool in each pack's bin folder.
	env, err := packupdate.Config{
		Region: *awscdk.Stack_Of(u).Region(), PackBucket: *props.PackBucket.BucketName(), PackPrefix: c.prefix, ProductHomes: c.homes,
		CredentialsSecretArn: *props.CredentialsSecret.SecretArn(), Tool: packupdate.UpdateTool, StagingPrefix: StagingPrefix,
		RunReportID: u.runReportID(),
	}.Env()
	if err != nil {
		propsError(updaterName, "%v", err)
	}
	ud := awsec2.UserData_ForLinux(nil)
	ud.AddCommands(
		jsii.String("dnf install -y -q python3 unzip"),
		jsii.String("install -d -m 0755 /etc/apimkit"),
		jsii.String("cat > /etc/apimkit/updater.env <<'APIMKIT_ENV'\n"+env+"APIMKIT_ENV"),
		jsii.String("base64 -d > /usr/local/sbin/apimkit-update <<'APIMKIT_B64'\n"+bootscript.Base64Lines([]byte(packupdate.Script))+"\nAPIMKIT_B64"),
		jsii.String("chmod 0755 /usr/local/sbin/apimkit-update"),
	)
	return ud
}

// addAccess adds the instance's security group (HTTPS out, nothing in) and role: Run Command's
// channels, the subscription's secret, the packs it reads and stages, its announcements and its
// run reports, nothing else.
func (u *WumUpdater) addAccess(props *WumUpdaterProps, c updaterConfig) (awsec2.SecurityGroup, awsiam.Role) {
	sg := awsec2.NewSecurityGroup(u, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Network.Vpc(),
		Description:      jsii.String("WSO2 update instance: HTTPS out (NAT gateway, S3 endpoint) and nothing in"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to WSO2's update servers and AWS APIs"), jsii.Bool(false))
	role := awsiam.NewRole(u, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("WSO2 update instance"),
	})
	// The agent's channels for Run Command, which runs the updates, and nothing else of
	// AmazonSSMManagedInstanceCore.
	grantAgentChannels(role, "RunCommandChannel", sessionChannel, commandChannel)
	if key := props.CredentialsSecret.EncryptionKey(); key != nil {
		grantSecretRead(role, props.CredentialsSecret, key)
	} else {
		props.CredentialsSecret.GrantRead(role, nil)
	}
	// It reads the packs nodes run and writes their staged updates, nothing else: the bucket's
	// policy would refuse a write outside the staging prefix anyway (PackPromoter).
	grantObjectRead(role, props.PackBucket, c.packs...)
	grantObjectWrite(role, props.PackBucket, c.staged...)
	// Announcements on the default bus, under the updater's own source only.
	stack := awscdk.Stack_Of(u)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("AnnounceThePacks"),
		Actions: jsii.Strings("events:PutEvents"),
		Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("events"), Resource: jsii.String("event-bus"),
			ResourceName: jsii.String("default")})),
		Conditions: &map[string]any{"StringEquals": map[string]any{"events:source": "apimkit.packs"}},
	}))
	// Each run reports its outcome (RunFailedMetric).
	grantPutMetricData(role, "ReportTheRun", packupdate.RunMetricNamespace)
	return sg, role
}

// addInstance adds the update instance in the network's first zone of the application tier, on
// an encrypted volume with a key of its own, IMDSv2 only (through a launch template) and
// replaced when its user data changes.
func (u *WumUpdater) addInstance(props *WumUpdaterProps, c updaterConfig, sg awsec2.SecurityGroup, role awsiam.Role, ud awsec2.UserData) {
	network := props.Network
	key := newKey(u, "Key", "Encrypts the WSO2 update instance's volume")
	allowEc2ToUseKey(key)
	u.instance = awsec2.NewInstance(u, jsii.String("Resource"), &awsec2.InstanceProps{
		Vpc:                       network.Vpc(),
		VpcSubnets:                network.SubnetsInAz(TierApplication, network.AvailabilityZones()[0]),
		InstanceType:              c.instanceType,
		MachineImage:              imageOr(props.MachineImage, c.instanceType),
		SecurityGroup:             sg,
		Role:                      role,
		UserData:                  ud,
		AssociatePublicIpAddress:  jsii.Bool(false),
		UserDataCausesReplacement: jsii.Bool(true),
		DetailedMonitoring:        jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(60), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), KmsKey: key, VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	lt := awsec2.NewLaunchTemplate(u, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		RequireImdsv2: jsii.Bool(true), HttpPutResponseHopLimit: jsii.Number(1), DetailedMonitoring: jsii.Bool(true),
	})
	u.instance.Instance().SetLaunchTemplate(&awsec2.CfnInstance_LaunchTemplateSpecificationProperty{
		LaunchTemplateId: lt.LaunchTemplateId(), Version: lt.LatestVersionNumber(),
	})
}

// addSchedule adds the rule that runs update.sh on the instance through Systems Manager Run
// Command on c.schedule, with a role that may send that one command to that one instance.
func (u *WumUpdater) addSchedule(c updaterConfig) {
	stack := awscdk.Stack_Of(u)
	eventsRole := awsiam.NewRole(u, jsii.String("ScheduleRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("Runs the WSO2 update script on the update instance"),
	})
	document := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ssm"), Account: jsii.String(""),
		Resource: jsii.String("document"), ResourceName: jsii.String("AWS-RunShellScript")})
	instanceArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("instance"), ResourceName: u.instance.InstanceId()})
	eventsRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ssm:SendCommand"), Resources: jsii.Strings(*document, *instanceArn),
	}))
	u.rule = awsevents.NewRule(u, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("Fetches WSO2 updates for the packs"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(c.schedule)),
		Targets:     &[]awsevents.IRuleTarget{&runCommandTarget{document: document, instance: u.instance.InstanceId(), role: eventsRole}},
	})
}

// suppressFindings records why the cdk-nag rules the updater trips do not apply.
func (u *WumUpdater) suppressFindings() {
	cdknag.NagSuppressions_AddResourceSuppressions(u, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Run Command's agent channels (ssm:UpdateInstanceInformation, ssmmessages and ec2messages) take no resource narrower than *; " +
				"the KMS action groups come from aws-cdk-lib's grant on the credentials secret's key; " +
				"PutMetricData, to report each run's outcome, takes no resource and is limited to the apimkit/Updates namespace."),
		},
		{
			Id:     jsii.String("AwsSolutions-EC29"),
			Reason: jsii.String("The update instance holds no state (packs live in the versioned bucket); it is replaced, not protected."),
		},
	}, jsii.Bool(true))
}

// runCommandTarget is an EventBridge target that runs the update script with Run Command.
type runCommandTarget struct {
	document, instance *string
	role               awsiam.IRole
}

// Bind implements awsevents.IRuleTarget.
func (r *runCommandTarget) Bind(_ interfacesawsevents.IRuleRef, _ *string) *awsevents.RuleTargetConfig {
	return &awsevents.RuleTargetConfig{
		Arn:  r.document,
		Role: r.role,
		RunCommandParameters: &awsevents.CfnRule_RunCommandParametersProperty{
			RunCommandTargets: []any{&awsevents.CfnRule_RunCommandTargetProperty{Key: jsii.String("InstanceIds"), Values: jsii.Strings(*r.instance)}},
		},
		Input: awsevents.RuleTargetInput_FromObject(map[string]any{
			"commands":         []string{"/usr/local/sbin/apimkit-update"},
			"executionTimeout": []string{"7200"},
		}),
	}
}

// Instance returns the update instance.
func (u *WumUpdater) Instance() awsec2.Instance { return u.instance }

// Rule returns the schedule rule.
func (u *WumUpdater) Rule() awsevents.Rule { return u.rule }

// runReportID names this updater on the run-outcome metric: unique in the app, known at synth.
func (u *WumUpdater) runReportID() string { return *u.Node().Addr() }

// RunFailedMetric is each run's outcome as the update script reports it: 1 when a run failed
// (the tool, an upload, an announcement), 0 when it succeeded; the maximum over the period.
func (u *WumUpdater) RunFailedMetric(period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(packupdate.RunMetricNamespace), MetricName: jsii.String(packupdate.RunMetricName),
		DimensionsMap: &map[string]*string{packupdate.RunMetricDimension: jsii.String(u.runReportID())},
		Statistic:     jsii.String("Maximum"), Period: period, Label: jsii.String("runs that failed"),
	})
}

// grantObjectWrite lets grantee put the given objects of bucket (and encrypt them through S3).
func grantObjectWrite(grantee awsiam.IGrantable, bucket awss3.IBucket, keys ...string) {
	arns := make([]*string, 0, len(keys))
	for _, k := range keys {
		arns = append(arns, bucket.ArnForObjects(jsii.String(k)))
	}
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("s3:PutObject"), Resources: &arns,
	}))
	if key := bucket.EncryptionKey(); key != nil {
		grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Encrypt"),
			Resources: jsii.Strings(*key.KeyArn()),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", *awscdk.Stack_Of(bucket).Region())},
			},
		}))
	}
}

// updaterInstanceType is the update instance's type: c7i.large unless given (x86: WSO2 ships its
// update tool for Linux on x86-64; an arm64 build is not in every pack).
func updaterInstanceType(props *WumUpdaterProps) awsec2.InstanceType {
	if props.InstanceType != nil {
		return props.InstanceType
	}
	return awsec2.InstanceType_Of(awsec2.InstanceClass_C7I, awsec2.InstanceSize_LARGE)
}
