package wso2

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// DNSHookName is the launch hook the DNS updater completes once a node's record names it.
const DNSHookName = "apimkit-tm-dns"

// TrafficManagerPairProps configures a TrafficManagerPair.
type TrafficManagerPairProps struct {
	// Network places the nodes in its application subnets, one zone each. Required.
	Network *ApimNetwork
	// Database, AdminSecret and PackBucket are as for ProfileAsg. Required.
	Database    *ApimDatabase
	AdminSecret awssecretsmanager.ISecret
	PackBucket  awss3.IBucket
	// ControlPlane lists the control-plane nodes the traffic managers report to. Required.
	ControlPlane []profiles.Node
	// ControlPlaneService is the control plane's one service name when ControlPlane names each
	// node (NodeWiring.ControlPlaneService). Default: ControlPlane[0].
	ControlPlaneService *profiles.Node
	// Release is the API Manager release. Default: DefaultApimVersion.
	Release *string
	// Version is Release.
	//
	// Deprecated: use Release.
	Version *string
	// NodeOptions are the nodes' settings, as for ProfileAsg: pin tm1 and tm2 to an image, size
	// them, or add boot commands like any node.
	NodeOptions
	// Pack, JdbcDriver, KeystoreSecret, KeystoreRevision and UsePackKeystore are as for
	// ProfileAsg: Pack (the traffic manager's pack) and JdbcDriver are required, KeystoreSecret
	// unless UsePackKeystore is true.
	Pack             *PinnedObject
	JdbcDriver       *PinnedObject
	KeystoreSecret   awssecretsmanager.ISecret
	KeystoreRevision *string
	UsePackKeystore  *bool
	// ZoneName is the private hosted zone created for the nodes' names. A name ending in .local
	// collides with multicast DNS on many Linux resolvers and gets a warning.
	// Default: apim.internal.
	ZoneName *string
	// ExistingZone uses a private hosted zone the caller has instead of creating one.
	// Default: a new zone associated with the network's VPC.
	ExistingZone awsroute53.IPrivateHostedZone
	// AvailabilityZones pins tm1 and tm2, in that order, to two different zones.
	// Default: the network's first two zones.
	AvailabilityZones *[]*string
	// Offsets are the port offsets of tm1 and tm2 (the article: 1 and 2, so tm1.local:9612 and
	// tm2.local:9613). Default: 0 and 0.
	Offsets *[]*float64
	// RecordTtl is the time-to-live of the nodes' records, 1 second to 5 minutes.
	// Default: 30 seconds.
	RecordTtl awscdk.Duration
	// ReconcileEvery is how often the updater repairs drift. Default: 5 minutes.
	ReconcileEvery awscdk.Duration
	// AlarmTopic receives the updater's alarms (errors, dead letters). Default: none.
	AlarmTopic awssns.ITopic
	// NotificationTopic receives the groups' scaling notifications. Default: none.
	NotificationTopic awssns.ITopic
}

// TrafficManagerPair is the article's traffic-manager layer (T1-T3): two 1..1 Auto Scaling groups,
// tm1 and tm2, each pinned to its own zone and never behind a load balancer, reached by names in a
// private hosted zone that a Go Lambda keeps pointing at each group's live instance. With no load
// balancer to check them, the nodes report WSO2's health to their groups themselves
// (ProfileAsg.ReportsHealth), so a crashed or hung traffic manager is replaced.
type TrafficManagerPair struct {
	constructs.Construct
	zone     awsroute53.IPrivateHostedZone
	zoneName string
	nodes    []profiles.Node
	groups   []*ProfileAsg
	updater  awslambda.Function
	dlq      awssqs.Queue
}

const pairName = "TrafficManagerPair"

// dnsLabel is one label of a DNS name: lower-case letters, digits and inner hyphens, 63 at most.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NewTrafficManagerPair builds the pair. It panics, before adding anything to the tree, when a
// prop is invalid.
func NewTrafficManagerPair(scope constructs.Construct, id string, props *TrafficManagerPairProps) *TrafficManagerPair {
	if props == nil || props.Network == nil {
		propsError(pairName, "Network is required")
	}
	props = currentPairProps(props)
	if props.Database == nil || props.AdminSecret == nil || props.PackBucket == nil {
		propsError(pairName, "Database, AdminSecret and PackBucket are required: the nodes install and configure themselves from them")
	}
	if len(props.ControlPlane) == 0 {
		propsError(pairName, "ControlPlane is required: traffic managers report to the control plane's event hub")
	}
	checkKeystore(pairName, props.KeystoreSecret, props.UsePackKeystore)
	checkKeystoreRevision(pairName, props.KeystoreSecret, props.KeystoreRevision)
	checkPinned(pairName, "Pack", props.Pack)
	checkPinned(pairName, "JdbcDriver", props.JdbcDriver)
	if props.ExistingZone != nil && props.ZoneName != nil {
		propsError(pairName, "ExistingZone and ZoneName were both given: the zone's name comes from ExistingZone; drop one of them")
	}
	zoneName := "apim.internal"
	if props.ZoneName != nil {
		zoneName = strings.TrimSuffix(strings.ToLower(*props.ZoneName), ".")
	}
	if props.ExistingZone != nil {
		zoneName = strings.TrimSuffix(*props.ExistingZone.ZoneName(), ".")
	} else {
		labels := strings.Split(zoneName, ".")
		for _, l := range labels {
			if !dnsLabel.MatchString(l) {
				propsError(pairName, "ZoneName %q is not a DNS name: use labels of letters, digits and hyphens, such as apim.internal", zoneName)
			}
		}
	}
	azs := props.Network.AvailabilityZones()[:2]
	if props.AvailabilityZones != nil {
		if len(*props.AvailabilityZones) != 2 {
			propsError(pairName, "AvailabilityZones names %d zones: give exactly two, tm1's then tm2's", len(*props.AvailabilityZones))
		}
		azs = []string{*(*props.AvailabilityZones)[0], *(*props.AvailabilityZones)[1]}
	}
	if azs[0] == azs[1] {
		propsError(pairName, "tm1 and tm2 must be in different availability zones, both got %s", azs[0])
	}
	offsets := []int{0, 0}
	if props.Offsets != nil {
		if len(*props.Offsets) != 2 {
			propsError(pairName, "Offsets gives %d values: give tm1's and tm2's", len(*props.Offsets))
		}
		offsets = []int{int(*(*props.Offsets)[0]), int(*(*props.Offsets)[1])}
	}
	ttl := 30.0
	if props.RecordTtl != nil {
		ttl = *props.RecordTtl.ToSeconds(nil)
		if ttl < 1 || ttl > 300 {
			propsError(pairName, "RecordTtl %s must be between 1 second and 5 minutes: gateways follow a replaced node only as fast as the TTL lets them", *props.RecordTtl.ToHumanString())
		}
	}
	every := awscdk.Duration_Minutes(jsii.Number(5))
	if props.ReconcileEvery != nil {
		every = props.ReconcileEvery
		if *every.ToSeconds(nil) < 60 {
			propsError(pairName, "ReconcileEvery %s is below the 1-minute minimum of a schedule", *every.ToHumanString())
		}
	}
	nodes := []profiles.Node{{Host: "tm1." + zoneName, Offset: offsets[0]}, {Host: "tm2." + zoneName, Offset: offsets[1]}}

	p := &TrafficManagerPair{zoneName: zoneName, nodes: nodes}
	constructs.NewConstruct_Override(p, scope, &id)
	pinFlags(p)
	if strings.HasSuffix(zoneName, ".local") || zoneName == "local" {
		awscdk.Annotations_Of(p).AddWarningV2(jsii.String("apimkit:localZone"), jsii.String(
			fmt.Sprintf("ZoneName %q: .local is multicast DNS on many Linux resolvers (nss-mdns, systemd-resolved), "+
				"so gateways may never ask Route 53 for the traffic managers; prefer a name under .internal", zoneName)), nil)
	}
	network := props.Network
	p.zone = props.ExistingZone
	if p.zone == nil {
		p.zone = awsroute53.NewPrivateHostedZone(p, jsii.String("Zone"), &awsroute53.PrivateHostedZoneProps{
			ZoneName: jsii.String(zoneName),
			Vpc:      network.Vpc(),
			Comment:  jsii.String("WSO2 API Manager traffic managers, kept current by the tmdns updater"),
		})
	}

	for i, node := range nodes {
		self := node
		g := NewProfileAsg(p, fmt.Sprintf("Tm%d", i+1), &ProfileAsgProps{
			Network: network, Profile: profiles.TrafficManager, Release: props.Release,
			Wiring: &NodeWiring{
				Hostname: jsii.String(node.Host), Self: &self,
				ControlPlane: props.ControlPlane, ControlPlaneService: props.ControlPlaneService, TrafficManagers: nodes,
			},
			Database: props.Database, AdminSecret: props.AdminSecret, PackBucket: props.PackBucket,
			Pack: props.Pack, JdbcDriver: props.JdbcDriver,
			KeystoreSecret: props.KeystoreSecret, KeystoreRevision: props.KeystoreRevision, UsePackKeystore: props.UsePackKeystore,
			NodeOptions: props.NodeOptions,
			MinCapacity: jsii.Number(1), MaxCapacity: jsii.Number(1),
			Subnets: network.SubnetsInAz(TierApplication, azs[i]),
			// A Route 53 outage must not keep a replacement out of service: after ten minutes
			// the node goes in with its record unchanged, and the reconcile repairs the record.
			// The updater still abandons, on purpose, an instance it cannot name.
			ExtraLaunchHooks: []LaunchHook{{Name: DNSHookName, Timeout: awscdk.Duration_Minutes(jsii.Number(10)),
				DefaultResult: awsautoscaling.DefaultResult_CONTINUE}},
			NotificationTopic: props.NotificationTopic,
		})
		p.groups = append(p.groups, g)
	}
	wiring := wiringOf(p)
	wiring.addZone(network, zoneName)
	for i, n := range nodes {
		wiring.direct[nameKey{network, n.Host}] = p.groups[i]
	}
	// A launch-template change replaces each node stopped-then-started; CloudFormation updates tm2
	// after tm1, so one of them is always running.
	p.groups[1].Group().Node().AddDependency(p.groups[0].Group())
	// Each traffic manager forwards throttle events to the other's broker (event_duplicate_url).
	jms := p.groups[0].version.JMSPort()
	p.groups[0].Connections().AllowTo(p.groups[1], awsec2.Port_Tcp(jsii.Number(p.groups[1].Port(jms))), jsii.String("tm1 to tm2 event duplication"))
	p.groups[1].Connections().AllowTo(p.groups[0], awsec2.Port_Tcp(jsii.Number(p.groups[0].Port(jms))), jsii.String("tm2 to tm1 event duplication"))

	p.addUpdater(props, ttl, every)
	weakenReferences(p)
	return p
}

func (p *TrafficManagerPair) addUpdater(props *TrafficManagerPairProps, ttl float64, every awscdk.Duration) {
	network := props.Network
	stack := awscdk.Stack_Of(p)
	key := newKey(p, "UpdaterKey", "Encrypts the traffic-manager DNS updater's dead letters and logs")
	allowLogsToUseKey(key, stack)
	// EventBridge delivers failed events to the dead-letter queue through the key.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowEventBridgeDeadLetters"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(true))
	p.dlq = awssqs.NewQueue(p, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(p.dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter destination of the DNS updater and its event rules."),
	}}, jsii.Bool(true))

	sg := awsec2.NewSecurityGroup(p, jsii.String("UpdaterSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("Traffic-manager DNS updater: HTTPS to Route 53, Auto Scaling and EC2 only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to AWS APIs"), jsii.Bool(false))

	var nodeEnv []string
	for i, n := range p.nodes {
		nodeEnv = append(nodeEnv, n.Host+"="+*p.groups[i].Group().AutoScalingGroupName())
	}
	p.updater = awslambda.NewFunction(p, jsii.String("Updater"), &awslambda.FunctionProps{
		Description:                  jsii.String("Points tm1/tm2 at their groups' live instances; completes the DNS launch hook"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         goLambdaCode("tmdns"),
		MemorySize:                   jsii.Number(256),
		Timeout:                      awscdk.Duration_Minutes(jsii.Number(2)),
		Vpc:                          network.Vpc(),
		VpcSubnets:                   network.Subnets(TierApplication),
		SecurityGroups:               &[]awsec2.ISecurityGroup{sg},
		ReservedConcurrentExecutions: jsii.Number(2),
		Environment: &map[string]*string{
			"TMDNS_ZONE_ID": p.zone.HostedZoneId(),
			"TMDNS_TTL":     jsii.String(fmt.Sprint(int(ttl))),
			"TMDNS_HOOK":    jsii.String(DNSHookName),
			"TMDNS_NODES":   jsii.String(strings.Join(nodeEnv, ",")),
		},
		LogGroup: awslogs.NewLogGroup(p, jsii.String("UpdaterLogs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_ONE_YEAR, EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		}),
		RetryAttempts: jsii.Number(2),
		OnFailure:     awslambdadestinations.NewSqsDestination(p.dlq),
	})

	zoneArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("route53"), Region: jsii.String(""), Account: jsii.String(""),
		Resource: jsii.String("hostedzone"), ResourceName: p.zone.HostedZoneId()})
	var names []string
	for _, n := range p.nodes {
		names = append(names, n.Host)
	}
	p.updater.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ChangeOnlyTheNodeRecords"),
		Actions:   jsii.Strings("route53:ChangeResourceRecordSets"),
		Resources: jsii.Strings(*zoneArn),
		Conditions: &map[string]any{
			"ForAllValues:StringEquals": map[string]any{
				"route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
				"route53:ChangeResourceRecordSetsRecordTypes":           []string{"A"},
				// DELETE when the stack is deleted, so the zone can go with it.
				"route53:ChangeResourceRecordSetsActions": []string{"UPSERT", "DELETE"},
			},
		},
	}))
	p.updater.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ReadTheZone"), Actions: jsii.Strings("route53:ListResourceRecordSets"), Resources: jsii.Strings(*zoneArn),
	}))
	var groupArns []*string
	for _, g := range p.groups {
		groupArns = append(groupArns, g.Group().AutoScalingGroupArn())
	}
	p.updater.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CompleteTheNodesLaunches"), Actions: jsii.Strings("autoscaling:CompleteLifecycleAction"), Resources: &groupArns,
	}))
	p.updater.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("FindTheLiveInstances"),
		Actions:   jsii.Strings("autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"),
		Resources: jsii.Strings("*"),
	}))

	var groupNames []*string
	for _, g := range p.groups {
		groupNames = append(groupNames, g.Group().AutoScalingGroupName())
	}
	target := awseventstargets.NewLambdaFunction(p.updater, &awseventstargets.LambdaFunctionProps{
		RetryAttempts:   jsii.Number(4),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(1)),
		DeadLetterQueue: p.dlq,
	})
	launchRule := awsevents.NewRule(p, jsii.String("LaunchRule"), &awsevents.RuleProps{
		Description: jsii.String("Traffic-manager launches waiting on the DNS hook"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.autoscaling"),
			DetailType: jsii.Strings("EC2 Instance-launch Lifecycle Action"),
			Detail: &map[string]any{
				"AutoScalingGroupName": groupNames,
				"LifecycleHookName":    []string{DNSHookName},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
	schedule := awsevents.NewRule(p, jsii.String("ReconcileSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Repairs traffic-manager records that drifted"),
		Schedule:    awsevents.Schedule_Rate(every),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(p.updater, &awseventstargets.LambdaFunctionProps{
			Event:           awsevents.RuleTargetInput_FromObject(map[string]string{"action": "reconcile"}),
			RetryAttempts:   jsii.Number(2),
			DeadLetterQueue: p.dlq,
		})},
	})
	reconcile := awscdk.NewCustomResource(p, jsii.String("DeployReconcile"), &awscdk.CustomResourceProps{
		ServiceToken: p.updater.FunctionArn(),
		ResourceType: jsii.String("Custom::TmDnsReconcile"),
		Properties:   &map[string]any{"Groups": groupNames, "Nodes": names},
	})
	for _, g := range p.groups {
		reconcile.Node().AddDependency(g.Group())
	}
	// Deleting the stack deletes the rules before the reconcile resource, whose delete removes
	// the records, so nothing writes them again before the zone is deleted.
	launchRule.Node().AddDependency(reconcile)
	schedule.Node().AddDependency(reconcile)

	if props.AlarmTopic != nil {
		action := awscloudwatchactions.NewSnsAction(props.AlarmTopic)
		// In a fixed order, so the template's bytes are the same at every synth.
		for _, a := range []struct {
			id     string
			metric awscloudwatch.IMetric
		}{
			{"UpdaterErrors", p.updater.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))})},
			{"DeadLetters", p.dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))})},
		} {
			id, metric := a.id, a.metric
			alarm := awscloudwatch.NewAlarm(p, jsii.String(id+"Alarm"), &awscloudwatch.AlarmProps{
				Metric: metric, Threshold: jsii.Number(0), EvaluationPeriods: jsii.Number(1),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
				AlarmDescription:   jsii.String("Traffic-manager DNS updater: " + id),
			})
			alarm.AddAlarmAction(action)
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(p.updater, &[]*cdknag.NagPackSuppression{
		vpcFunctionPolicies(),
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("DescribeAutoScalingGroups and DescribeInstances have no resource-level permissions; " +
				"record changes are limited to the two node names, type A, UPSERT (and DELETE, when the stack is deleted), in this zone."),
		},
	}, jsii.Bool(true))
}

// Nodes returns tm1 and tm2 as the gateways' and control plane's wiring names them.
func (p *TrafficManagerPair) Nodes() []profiles.Node { return append([]profiles.Node(nil), p.nodes...) }

// Groups returns the two groups, tm1's first.
func (p *TrafficManagerPair) Groups() []*ProfileAsg { return append([]*ProfileAsg(nil), p.groups...) }

// Zone returns the private hosted zone of the nodes' names.
func (p *TrafficManagerPair) Zone() awsroute53.IPrivateHostedZone { return p.zone }

// Updater returns the DNS updater function.
func (p *TrafficManagerPair) Updater() awslambda.IFunction { return p.updater }

// ReceiverURLGroup is the 2.x/3.x api-manager.xml <ReceiverUrlGroup> value for these nodes.
func (p *TrafficManagerPair) ReceiverURLGroup() string { return profiles.ReceiverURLGroup(p.nodes) }

// AuthURLGroup is the 2.x/3.x api-manager.xml <AuthUrlGroup> value for these nodes.
func (p *TrafficManagerPair) AuthURLGroup() string { return profiles.AuthURLGroup(p.nodes) }

// AllowFrom lets peers (gateways, the control plane) reach both nodes on the binary receiver's
// TLS port (9711), which takes the events, and the broker (8672 with TLS from 4.3, 5672
// in 3.2), which serves the throttle decisions, moved by each node's offset. The plain binary
// port, 9611, stays closed: the nodes' configuration sends events over TLS.
func (p *TrafficManagerPair) AllowFrom(peers ...awsec2.IConnectable) {
	p.grant([]int{profiles.PortBinaryAuth, p.groups[0].version.JMSPort()}, peers)
}

// AllowPublishFrom opens both traffic managers' binary TLS receivers (9711 plus their offsets)
// to peers that publish events but listen on no broker, such as the 3.2 key manager.
func (p *TrafficManagerPair) AllowPublishFrom(peers ...awsec2.IConnectable) {
	p.grant([]int{profiles.PortBinaryAuth}, peers)
}

func (p *TrafficManagerPair) grant(bases []int, peers []awsec2.IConnectable) {
	for _, g := range p.groups {
		for _, base := range bases {
			for _, peer := range peers {
				peer.Connections().AllowTo(g, awsec2.Port_Tcp(jsii.Number(g.Port(base))), jsii.String(fmt.Sprintf("to traffic manager %d", g.Port(base))))
			}
		}
	}
}
