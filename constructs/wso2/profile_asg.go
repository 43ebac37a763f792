package wso2

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/internal/bootscript"
)

// DefaultApimVersion is the WSO2 API Manager release nodes run when none is given.
const DefaultApimVersion = "4.3.0"

// NodeWiring is how a node finds its peers and how the public reaches it; it becomes the node's
// deployment.toml (see package profiles).
type NodeWiring struct {
	// Hostname is what the node calls itself. Default: the public portal host for portal
	// profiles, the public gateway host for gateways; required for the others.
	Hostname *string
	// PortalHostname and GatewayHostname are the public names behind the load balancer.
	PortalHostname  *string
	GatewayHostname *string
	// WebSocketOnHTTPS says the load balancer serves the gateways' secure WebSocket APIs on 443
	// (a LoadBalancedProfile with WebSocket), so the portals advertise wss://<gateway host>,
	// for plain WebSocket too (the load balancer serves none).
	// Default: false, WSO2's wss://<gateway host>:8099 and ws://<gateway host>:9099.
	WebSocketOnHTTPS *bool
	// WebSocketOnHttps is WebSocketOnHTTPS.
	//
	// Deprecated: use WebSocketOnHTTPS.
	WebSocketOnHttps *bool
	// ControlPlane lists the nodes serving key management and the event hub.
	ControlPlane []profiles.Node
	// ControlPlaneService is the one name of the control plane's services (key validation, the
	// event hub's service, token revocation) when ControlPlane names each node, such as
	// ApimInternalEndpoint's Hostname. Default: ControlPlane[0].
	ControlPlaneService *profiles.Node
	// TrafficManagers lists the traffic managers, one url_group each.
	TrafficManagers []profiles.Node
	// Self is this node as its peers name it (traffic managers).
	Self *profiles.Node
	// SelfByZone names the nodes of a group that peers name one by one, one node per zone of
	// the network, in the network's zone order: the node in zone i is SelfByZone[i] (a control
	// plane whose event hubs duplicate events to each other, named by ApimInternalEndpoint's
	// ZonalNodes). Each node renders its own zone's configuration at boot; the group keeps one
	// node per zone (MinCapacity and MaxCapacity default to the number of zones; more is
	// refused), and a zone that cannot launch is retried rather than doubled up in another
	// (capacity distribution balanced-only). Not with Self or Subnets.
	SelfByZone []profiles.Node
}

// ProfileAsgProps configures a ProfileAsg.
type ProfileAsgProps struct {
	// Network places the nodes in its application subnets. Required.
	Network *ApimNetwork
	// Profile is the WSO2 profile the nodes run, such as profiles.Gateway. Required.
	Profile profiles.Name
	// Release is the API Manager release.
	// Default: DefaultApimVersion (4.3.0).
	Release *string
	// Version is Release.
	//
	// Deprecated: use Release.
	Version *string
	// Wiring renders the nodes' deployment.toml. Required.
	Wiring *NodeWiring
	// Database gives the nodes its port and its application secret, when the profile uses a
	// database. Required for every profile but a 4.x gateway, which may use ExistingDbSecret.
	Database *ApimDatabase
	// AdminSecret holds the super admin's password (JSON with a password field), shared by every
	// node. The nodes decrypt it with its own key (EncryptionKey()); one that names none is taken
	// to be under the database's key, as NewAdminSecret makes it. Required.
	AdminSecret awssecretsmanager.ISecret
	// PackBucket holds the packs and the JDBC driver. Required.
	PackBucket awss3.IBucket
	// Pack pins the pack the nodes install (holding the release's <pack home>/ folder): they download
	// exactly that S3 version and refuse it, before unpacking, unless its SHA-256 is the pinned
	// one. A new pin is a launch-template change, rolled out like any other. PackPromoter.Promote
	// makes one from a staged upload. Required.
	Pack *PinnedObject
	// JdbcDriver pins the MySQL Connector/J jar alike. Required.
	JdbcDriver *PinnedObject
	// KeystoreSecret holds the deployment's keystore, shared by every node: "keystore", a PKCS12
	// file in base64 whose key entry is wso2carbon (bootscript.KeystoreAlias), with a certificate
	// naming the hosts the nodes call each other by (*.<zone>, say) and the public names; and
	// "password", 6 or more letters, digits or ._~@%+=-, which opens it and its key. The nodes
	// use it as TLS and primary keystore and trust its certificate in place of the pack's.
	// Encrypt it with Secrets Manager's own key, or give the secret with its key
	// (Secret_FromSecretAttributes with EncryptionKey; the nodes then decrypt through Secrets
	// Manager only). Set it when the deployment is created: WSO2 encrypts data it keeps with
	// this key, which a later change of keystore leaves unreadable. ApimKeystore makes one at
	// deploy time (ApimKeystore.Secret()).
	// Required, unless UsePackKeystore is true.
	KeystoreSecret awssecretsmanager.ISecret
	// KeystoreRevision names the revision of the keystore in KeystoreSecret (ApimKeystoreProps'
	// Revision, or your own label for a secret you replace): changing it rolls every node, so
	// none keeps the keystore it read at boot once the secret holds another. A digest of it is
	// the nodes' KeystoreRevisionTag. ApimDeployment sets it from its keystore. Literal text; needs
	// KeystoreSecret. Default: none (a new keystore reaches a node when it is next replaced).
	KeystoreRevision *string
	// NodeOptions are the node settings every WSO2 group shares (instance types, image,
	// volume, keys, logs, boot commands).
	NodeOptions
	// UsePackKeystore runs the nodes on the pack's own wso2carbon.jks, issued to localhost, whose
	// private key ships with every WSO2 download: anyone can sign tokens these nodes accept and
	// impersonate them over TLS. For throwaway test deployments only; synth warns
	// (apimkit:defaultKeystore). Not with KeystoreSecret.
	// Default: false; without KeystoreSecret the construct refuses to build.
	UsePackKeystore *bool
	// MinCapacity, MaxCapacity of the group.
	// Default: 2 and 4 for scalable profiles (one node per zone at least); 1 and 1 otherwise.
	MinCapacity *float64
	MaxCapacity *float64
	// Subnets overrides where the nodes run (a traffic manager pinned to one zone).
	// Default: the application subnets of every zone.
	Subnets *awsec2.SubnetSelection
	// CpuTargetPercent is the target of CPU target tracking (scalable profiles whose
	// MaxCapacity is above MinCapacity).
	// Default: 60.
	CpuTargetPercent *float64
	// ExtraLaunchHooks adds launch lifecycle hooks, defined in the group itself like the node's own
	// (TrafficManagerPair adds the one its DNS updater completes).
	// Default: none.
	ExtraLaunchHooks []LaunchHook
	// NotificationTopic receives the group's launch, termination and error notifications.
	// Default: none (the activity history and CloudTrail still record them).
	NotificationTopic awssns.ITopic
}

// NodeOptions are the settings of a WSO2 node that every group takes alike: ProfileAsgProps and
// TrafficManagerPairProps embed them, and ApimDeploymentProps gives them per profile.
type NodeOptions struct {
	// InstanceTypes the group may launch, in order of preference; more than one lets the group
	// find capacity when a type runs short in a zone.
	// Default: m7g.xlarge, m7gd.xlarge and c7g.2xlarge (Graviton, 16 GiB); m7i.xlarge,
	// m6i.xlarge and m7a.xlarge for X86_64. All of them encrypt traffic between instances (Nitro).
	InstanceTypes []awsec2.InstanceType
	// Architecture of the AMI and instance type.
	// Default: ARM_64.
	Architecture awsec2.AmazonLinuxCpuType
	// MachineImage is the nodes' AMI: an Amazon Linux 2023 image (the boot script uses dnf) of
	// Architecture. Pin one, or cache the lookup (CachedInContext), to roll the nodes onto a new
	// AMI only when you choose.
	// Default: the latest Amazon Linux 2023 of Architecture, resolved at each deploy, so a deploy
	// after a new AMI is published rolls the nodes.
	MachineImage awsec2.IMachineImage
	// RootVolumeGiB sizes the encrypted gp3 root volume.
	// Default: 30.
	RootVolumeGiB *float64
	// StartupGracePeriod covers WSO2's start-up before health checks count.
	// Default: 15 minutes.
	StartupGracePeriod awscdk.Duration
	// LogRetention bounds the node log groups (carbon, audit, HTTP access).
	// Default: one year.
	LogRetention awslogs.RetentionDays
	// EncryptionKey encrypts the root volumes and the log groups.
	// Default: a new customer-managed key.
	EncryptionKey awskms.IKey
	// BootCommands are a team's own shell commands on every node (corporate agents,
	// hardening). Commands added to the group's user data afterwards (Group().AddUserData)
	// would never run, since the boot script takes over the instance: synth refuses them.
	// Default: none.
	BootCommands *BootCommands
}

// BootCommands run as root under bash with -euo pipefail; a failing command abandons the
// launch, so the group replaces the node.
type BootCommands struct {
	// BeforeSetup runs first, before the JDK, the pack and the configuration are installed.
	BeforeSetup []string
	// AfterSetup runs once WSO2 answers its health check, before the node is reported in
	// service.
	AfterSetup []string
}

// DefaultPackPrefix is the key prefix of the promoted packs the nodes install
// (<prefix>/<pack home>.zip); operators and the updater upload under StagingPrefix + it.
const DefaultPackPrefix = "packs"

// LaunchHook is a launch lifecycle hook another component completes.
type LaunchHook struct {
	Name string
	// Timeout is how long the hook waits before its default result.
	Timeout awscdk.Duration
	// DefaultResult is what a launch the component never completes comes to once Timeout has
	// passed: ABANDON replaces the instance, CONTINUE lets it into service (the node's own hook
	// still abandons a node whose WSO2 never answered).
	// Default: ABANDON.
	DefaultResult awsautoscaling.DefaultResult
}

// ProfileAsg is one WSO2 profile as an Auto Scaling group of identical nodes (property P2): an
// Amazon Linux 2023 launch template with IMDSv2 and an encrypted root volume, a least-privilege
// role, a boot script that installs the pack and configuration and reports the node in service
// only once it answers its health check, logs and memory/disk metrics through the CloudWatch
// agent, rolling updates and target-tracking scaling. Flows are granted with Connections().
type ProfileAsg struct {
	constructs.Construct
	group   awsautoscaling.AutoScalingGroup
	sg      awsec2.SecurityGroup
	role    awsiam.Role
	profile profiles.Profile
	version profiles.Version
	offset  int
	logs    map[string]awslogs.LogGroup
	// zonal is the number of zones whose nodes are named one each (Wiring.SelfByZone), or 0.
	zonal int
	// configs are the nodes' deployment.toml files, one per zone with Wiring.SelfByZone.
	configs [][]byte
	// network is where the nodes resolve the names their configuration gives.
	network *ApimNetwork
	// reportHealth says the nodes report WSO2's health to the group themselves: the profile is
	// not exposed, and no internal endpoint has put the group behind a load balancer (which
	// turns it off, and removes healthPolicy, before synth).
	reportHealth bool
	healthPolicy awsiam.Policy
}

const profileAsgName = "ProfileAsg"

// LifecycleHookName is the launch hook the boot script completes.
const LifecycleHookName = "apimkit-node-ready"

// NewProfileAsg builds the group. It panics, before adding anything to the tree, when a prop is
// invalid.
func NewProfileAsg(scope constructs.Construct, id string, props *ProfileAsgProps) *ProfileAsg {
	if props == nil || props.Network == nil {
		propsError(profileAsgName, "Network is required: the nodes run in its application subnets")
	}
	props = currentProfileAsgProps(props)
	c := resolveProfileAsg(props)
	version, profile, offset := c.version, c.profile, c.offset
	minCap, maxCap := c.minCap, c.maxCap
	toml, zoneConfigs := c.toml, c.zoneConfigs

	n := &ProfileAsg{profile: profile, version: version, offset: offset, logs: map[string]awslogs.LogGroup{}, zonal: len(props.Wiring.SelfByZone),
		network: props.Network, reportHealth: profile.Exposure == nil}
	if toml != nil {
		n.configs = [][]byte{toml}
	}
	for _, z := range zoneConfigs {
		n.configs = append(n.configs, z.DeploymentToml)
	}
	constructs.NewConstruct_Override(n, scope, &id)
	pinFlags(n)
	wiring := wiringOf(n)
	wiring.clients = append(wiring.clients, n)
	stack := awscdk.Stack_Of(n)

	key := props.EncryptionKey
	if key == nil {
		key = newKey(n, "Key", fmt.Sprintf("Encrypts the %s nodes' volumes and logs (%s)", profile.Name, *n.Node().Path()))
	}
	allowLogsToUseKey(key, stack)
	allowAutoScalingToUseKey(key, stack)

	n.addAccess(props)
	logBase := fmt.Sprintf("/apimkit/%s/%s", *stack.StackName(), strings.ToLower(id))
	n.addLogs(props, key, logBase)

	grace := props.StartupGracePeriod
	if grace == nil {
		grace = awscdk.Duration_Minutes(jsii.Number(15))
	}
	ud := n.userData(props, c, grace, logBase)

	template := n.addLaunchTemplate(props, c, key, ud)
	n.addGroup(props, c, grace, template)
	n.addLifecyclePermissions()
	// A group fixed at one size (one node per zone in as many zones) has nothing to track:
	// CloudFormation rejects target tracking on a group whose MaxSize is not above MinSize.
	if profile.Scalable && maxCap > minCap {
		target := 60.0
		if props.CpuTargetPercent != nil {
			target = *props.CpuTargetPercent
		}
		n.group.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsautoscaling.CpuUtilizationScalingProps{
			TargetUtilizationPercent: jsii.Number(target),
		})
	}
	n.suppressFindings(props.NotificationTopic == nil)
	if props.KeystoreSecret == nil {
		warnDefaultKeystore(stack)
	}
	weakenReferences(n)
	return n
}

// userDataGuard refuses commands added to a node's user data after the boot script's: the
// script ends by handing the instance to boot.sh, so they would never run.
type userDataGuard struct {
	userData awsec2.UserData
	want     string
	path     string
}

// Validate is called by the CDK when the app is synthesized.
func (g *userDataGuard) Validate() *[]*string {
	if *g.userData.Render() == g.want {
		return &[]*string{}
	}
	return &[]*string{jsii.String(fmt.Sprintf("%s: commands were added to the nodes' user data (Group().AddUserData or the launch "+
		"template's), after the boot script hands the instance to WSO2's setup: they would never run. Give them as "+
		"NodeOptions.BootCommands (BeforeSetup or AfterSetup) instead", g.path))}
}

// checkKeystore refuses nodes that would run on the pack's public keystore unless they were
// asked to by name (UsePackKeystore), and a keystore given together with that opt-out.
func checkKeystore(construct string, secret awssecretsmanager.ISecret, usePack *bool) {
	pack := usePack != nil && *usePack
	switch {
	case secret == nil && !pack:
		propsError(construct, "KeystoreSecret is required: without it the nodes would sign tokens and serve TLS with the "+
			"pack's wso2carbon.jks, whose private key ships with every WSO2 download. Give the deployment its own keystore "+
			"(NewApimKeystore(...).Secret(), or a secret of your own), or set UsePackKeystore: true for a throwaway test deployment")
	case secret != nil && pack:
		propsError(construct, "KeystoreSecret and UsePackKeystore were both given: drop UsePackKeystore to use the "+
			"deployment's keystore, or KeystoreSecret to run on the pack's")
	}
}

// checkKeystoreRevision refuses a keystore revision without a keystore, and one known only at
// deploy time (its digest must change the launch template's tags at synth to roll the nodes).
func checkKeystoreRevision(construct string, secret awssecretsmanager.ISecret, revision *string) {
	switch {
	case revision == nil:
	case secret == nil:
		propsError(construct, "KeystoreRevision names a revision of KeystoreSecret, which was not given")
	case unresolved(revision):
		propsError(construct, "KeystoreRevision is known only at deploy time: give literal text, changed only when the keystore is")
	}
}

// revisionDigest is what a keystore revision puts on the nodes' launch template: the first 128
// bits of its SHA-256 in hex, so any text may name a revision, of any length.
func revisionDigest(revision string) string {
	sum := sha256.Sum256([]byte(revision))
	return hex.EncodeToString(sum[:16])
}

// warnDefaultKeystore warns, once per stack, that nodes run with the pack's own keystore.
func warnDefaultKeystore(stack awscdk.Stack) {
	const marker = "ApimkitDefaultKeystore"
	if stack.Node().TryFindChild(jsii.String(marker)) != nil {
		return
	}
	c := constructs.NewConstruct(stack, jsii.String(marker))
	awscdk.Annotations_Of(c).AddWarningV2(jsii.String("apimkit:defaultKeystore"), jsii.String(
		"UsePackKeystore: WSO2 nodes use the pack's wso2carbon.jks, whose private key ships with every WSO2 "+
			"download: anyone can sign tokens these nodes accept and impersonate them over TLS. Keep this to "+
			"throwaway test deployments; give any other its own keystore (ApimKeystore, or KeystoreSecret)."), nil)
}

// defaultInstanceTypes are types with at least 16 GiB that encrypt traffic between instances in
// transit (AWS Control Tower CT.AUTOSCALING.PR.11 lists them).
func defaultInstanceTypes(arch awsec2.AmazonLinuxCpuType) []awsec2.InstanceType {
	of := awsec2.InstanceType_Of
	if arch == awsec2.AmazonLinuxCpuType_X86_64 {
		return []awsec2.InstanceType{
			of(awsec2.InstanceClass_M7I, awsec2.InstanceSize_XLARGE),
			of(awsec2.InstanceClass_M6I, awsec2.InstanceSize_XLARGE),
			of(awsec2.InstanceClass_M7A, awsec2.InstanceSize_XLARGE),
		}
	}
	return []awsec2.InstanceType{
		of(awsec2.InstanceClass_M7G, awsec2.InstanceSize_XLARGE),
		of(awsec2.InstanceClass_M7GD, awsec2.InstanceSize_XLARGE),
		of(awsec2.InstanceClass_C7G, awsec2.InstanceSize_XLARGE2),
	}
}

func notifications(topic awssns.ITopic) *[]*awsautoscaling.NotificationConfiguration {
	if topic == nil {
		return nil
	}
	return &[]*awsautoscaling.NotificationConfiguration{{Topic: topic, ScalingEvents: awsautoscaling.ScalingEvents_ALL()}}
}

// renderNodeConfig renders the node's deployment.toml; verifyDatabase points its JDBC URLs at
// the truststore boot.sh builds from the database's roots.
func renderNodeConfig(version profiles.Version, profile profiles.Profile, props *ProfileAsgProps, self *profiles.Node, offset int, verifyDatabase bool) []byte {
	w := props.Wiring
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	host := str(w.Hostname)
	if host == "" && profile.Exposure != nil {
		host = str(w.PortalHostname)
		if profile.Exposure.Role == "gateway" {
			host = str(w.GatewayHostname)
		}
	}
	in := profiles.Input{
		Version: version, Profile: profile.Name, Hostname: host, Offset: offset,
		PortalHostname: str(w.PortalHostname), GatewayHostname: str(w.GatewayHostname),
		ControlPlane: w.ControlPlane, TrafficManagers: w.TrafficManagers,
		Databases: map[string]profiles.Database{},
	}
	if self != nil {
		in.Self = *self
	}
	if w.ControlPlaneService != nil {
		in.ControlPlaneService = *w.ControlPlaneService
	}
	in.WebSocketOnHTTPS = w.WebSocketOnHTTPS != nil && *w.WebSocketOnHTTPS
	if props.KeystoreSecret != nil {
		in.Keystore = &profiles.Keystore{File: bootscript.KeystoreFile, Alias: bootscript.KeystoreAlias, Type: "PKCS12"}
	}
	for _, name := range profile.Databases {
		db := profiles.Database{
			Host: bootscript.DbHostPlaceholder, Port: props.Network.DatabasePort(), Name: name, Username: props.Database.AppUsername(),
		}
		if verifyDatabase {
			db.TrustStore, db.TrustStorePassword = bootscript.DatabaseTrustStore, bootscript.DatabaseTrustStorePassword
		}
		in.Databases[name] = db
	}
	out, err := profiles.Render(in)
	if err != nil {
		propsError(profileAsgName, "Wiring: %v", err)
	}
	if strings.Contains(string(out), "${Token[") {
		propsError(profileAsgName, "Wiring holds a value known only at deploy time; host names and ports must be literal")
	}
	return out
}

// latestAmazonLinuxFor is the latest Amazon Linux 2023 for an instance type's architecture, for
// the single instances (bastion, update instance).
func latestAmazonLinuxFor(it awsec2.InstanceType) awsec2.IMachineImage {
	arch := awsec2.AmazonLinuxCpuType_X86_64
	if it.Architecture() == awsec2.InstanceArchitecture_ARM_64 {
		arch = awsec2.AmazonLinuxCpuType_ARM_64
	}
	return awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: arch})
}

func javaPackage(v profiles.Version) string {
	if v.Major == 3 {
		return "java-11-amazon-corretto-headless"
	}
	return "java-21-amazon-corretto-headless"
}

// nodeMetricsNamespace holds the memory and disk metrics the nodes' CloudWatch agent reports, and
// the health check failures of nodes that report their own health.
const nodeMetricsNamespace = bootscript.HealthMetricNamespace

// cloudWatchAgentConfig ships the carbon, audit and HTTP access logs, and the memory and disk
// metrics EC2 does not report.
func cloudWatchAgentConfig(home, logBase string) []byte {
	logs := fmt.Sprintf("/opt/wso2/%s/repository/logs/", home)
	file := func(path, group string) map[string]any {
		return map[string]any{"file_path": logs + path, "log_group_name": logBase + "/" + group, "log_stream_name": "{instance_id}"}
	}
	cfg := map[string]any{
		"agent": map[string]any{"run_as_user": "root"},
		"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": []any{
			file("wso2carbon.log", "carbon"),
			file("audit.log", "audit"),
			file("http_access_*.log", "http-access"),
		}}}},
		"metrics": map[string]any{
			"namespace":              nodeMetricsNamespace,
			"append_dimensions":      map[string]any{"AutoScalingGroupName": "${aws:AutoScalingGroupName}"},
			"aggregation_dimensions": []any{[]string{"AutoScalingGroupName"}},
			"metrics_collected": map[string]any{
				"mem":  map[string]any{"measurement": []string{"mem_used_percent"}},
				"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": []string{"/"}},
			},
		},
	}
	b, _ := json.Marshal(cfg)
	return b
}

// allowAutoScalingToUseKey lets the Auto Scaling service-linked role use key for the encrypted
// volumes of the instances it launches.
func allowAutoScalingToUseKey(key awskms.IKey, stack awscdk.Stack) {
	key.AddToResourcePolicy(autoScalingStatement(stack, "AllowAutoScalingVolumes",
		"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"), jsii.Bool(true))
	grants := autoScalingStatement(stack, "AllowAutoScalingGrantsForVolumes", "kms:CreateGrant")
	grants.AddCondition(jsii.String("Bool"), map[string]any{"kms:GrantIsForAWSResource": "true"})
	key.AddToResourcePolicy(grants, jsii.Bool(true))
}

// autoScalingStatement allows the account's Auto Scaling service-linked role. The role is named
// in a condition rather than as the principal, because a key policy that names a role which does
// not exist yet (an account that never had an Auto Scaling group) is refused.
func autoScalingStatement(stack awscdk.Stack, sid string, actions ...string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnEquals": map[string]any{"aws:PrincipalArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"),
				ResourceName: jsii.String("aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
			})},
		},
	})
}

func (n *ProfileAsg) suppressFindings(noTopic bool) {
	cdknag.NagSuppressions_AddResourceSuppressions(n.group, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("CdkNagValidationFailure"),
		Reason: jsii.String("cdk-nag's EC26 rule cannot read a launch template inside a mixed-instances policy; the " +
			"template's root volume is encrypted with the group's key (the construct tests assert it)."),
	}}, jsii.Bool(true))
	if noTopic {
		cdknag.NagSuppressions_AddResourceSuppressions(n.group, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-AS3"),
			Reason: jsii.String("No NotificationTopic was given; scaling activity stays in the group's activity " +
				"history and CloudTrail, and failed launches are abandoned by the lifecycle hook."),
		}}, jsii.Bool(true))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(n.role, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Session Manager's channel (ssm:UpdateInstanceInformation and the four ssmmessages " +
				"actions) takes no resource narrower than *. autoscaling:DescribeAutoScalingInstances has no resource-level permissions; the node " +
				"uses it to find its own group. The CloudWatch agent's ec2:DescribeTags, " +
				"logs:DescribeLogGroups and cloudwatch:PutMetricData take none either (the last is limited to the " +
				"nodes' namespace); its log writes name the node's own log groups, whose ARNs end in :* for their streams. " +
				"The KMS action groups come from aws-cdk-lib's grants on the secrets' key."),
		},
	}, jsii.Bool(true))
}

// useLoadBalancerHealthChecks makes the group replace nodes its load balancers find unhealthy,
// for groups behind a load balancer their profile does not expose publicly. The load balancer
// then checks the nodes: they stop reporting their own health.
func (n *ProfileAsg) useLoadBalancerHealthChecks() {
	cfn := n.group.Node().DefaultChild().(awsautoscaling.CfnAutoScalingGroup)
	cfn.SetHealthCheckType(jsii.String("ELB"))
	if n.healthPolicy != nil {
		n.Node().TryRemoveChild(n.healthPolicy.Node().Id())
		n.healthPolicy = nil
	}
	n.reportHealth = false
}

// groupLogicalID is the group's logical id, which the nodes signal.
type groupLogicalID struct{ n *ProfileAsg }

// Produce is called by the CDK when the user data is resolved.
func (g *groupLogicalID) Produce() *string {
	stack := awscdk.Stack_Of(g.n)
	id := stack.Resolve(stack.GetLogicalId(g.n.group.Node().DefaultChild().(awscdk.CfnElement)))
	if s, ok := id.(string); ok {
		return &s
	}
	return id.(*string)
}

// reportHealthFlag is the nodes' REPORT_HEALTH, read when the template is synthesized.
type reportHealthFlag struct{ n *ProfileAsg }

// Produce is called by the CDK when the user data is resolved.
func (f *reportHealthFlag) Produce() *string {
	if f.n.reportHealth {
		return jsii.String("1")
	}
	return jsii.String("0")
}

// ReportsHealth says whether the nodes report WSO2's health to the group themselves (see
// MetricHealthCheckFailures): nodes of a profile no load balancer exposes, such as traffic
// managers, unless an ApimInternalEndpoint put them behind one, whose checks then count.
func (n *ProfileAsg) ReportsHealth() bool { return n.reportHealth }

// MetricHealthCheckFailures is the health check failures in a row the nodes report, per group
// (Maximum over period): from bootscript.HealthFailures on, a node has reported itself unhealthy
// and the group replaces it. Nodes publish it only while a check fails; ReportsHealth says
// whether they publish it at all.
func (n *ProfileAsg) MetricHealthCheckFailures(period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(bootscript.HealthMetricNamespace), MetricName: jsii.String(bootscript.HealthMetricName),
		DimensionsMap: &map[string]*string{"AutoScalingGroupName": n.group.AutoScalingGroupName()},
		Statistic:     jsii.String("Maximum"), Period: period,
	})
}

// Connections lets flows be granted by intent: gateway.Connections().AllowTo(trafficManager, port).
func (n *ProfileAsg) Connections() awsec2.Connections { return n.group.Connections() }

// Group returns the Auto Scaling group.
func (n *ProfileAsg) Group() awsautoscaling.AutoScalingGroup { return n.group }

// Role returns the nodes' instance role.
func (n *ProfileAsg) Role() awsiam.IRole { return n.role }

// Profile returns the WSO2 profile the nodes run.
func (n *ProfileAsg) Profile() profiles.Profile { return n.profile }

// Port returns one of the profile's ports moved by the nodes' offset.
func (n *ProfileAsg) Port(base int) int { return profiles.Port(base, n.offset) }

// LogGroups returns the node log groups by kind: carbon, audit, http-access.
func (n *ProfileAsg) LogGroups() map[string]awslogs.ILogGroup {
	out := map[string]awslogs.ILogGroup{}
	for k, v := range n.logs {
		out[k] = v
	}
	return out
}

// nodeGroupConfig is a ProfileAsg's props resolved and checked: what the group is built from,
// worked out before anything is added to the tree.
type nodeGroupConfig struct {
	version        profiles.Version
	profile        profiles.Profile
	pack           profiles.Pack
	minCap, maxCap float64
	arch           awsec2.AmazonLinuxCpuType
	instanceTypes  []awsec2.InstanceType
	offset         int
	subnets        *awsec2.SubnetSelection
	// roots are the database's certificate authorities (nil: not checked).
	roots []byte
	// toml is the one deployment.toml of a group not named per zone; zoneConfigs are those of a
	// group that is, one per zone.
	toml        []byte
	zoneConfigs []bootscript.ZoneConfig
}

// resolveProfileAsg checks props and fills their defaults; a bad prop panics with its name.
func resolveProfileAsg(props *ProfileAsgProps) nodeGroupConfig {
	versionText := DefaultApimVersion
	if props.Release != nil {
		versionText = *props.Release
	}
	version, err := profiles.ParseVersion(versionText)
	if err != nil {
		propsError(profileAsgName, "Release: %v", err)
	}
	if props.Profile == "" {
		propsError(profileAsgName, "Profile is required, for example profiles.Gateway")
	}
	profile, err := profiles.Lookup(version, props.Profile)
	if err != nil {
		propsError(profileAsgName, "Profile: %v", err)
	}
	pack, _ := profiles.PackOf(version, profile.Name)
	if props.Wiring == nil {
		propsError(profileAsgName, "Wiring is required: the nodes' deployment.toml is rendered from it")
	}
	for name, h := range map[string]*string{"Wiring.PortalHostname": props.Wiring.PortalHostname, "Wiring.GatewayHostname": props.Wiring.GatewayHostname, "Wiring.Hostname": props.Wiring.Hostname} {
		if h != nil {
			checkHostname(profileAsgName, name, h)
		}
	}
	if props.AdminSecret == nil {
		propsError(profileAsgName, "AdminSecret is required: every node shares the super admin's password")
	}
	if props.PackBucket == nil {
		propsError(profileAsgName, "PackBucket is required: nodes install the pack and JDBC driver from it")
	}
	checkPinned(profileAsgName, "Pack", props.Pack)
	checkPinned(profileAsgName, "JdbcDriver", props.JdbcDriver)
	checkKeystore(profileAsgName, props.KeystoreSecret, props.UsePackKeystore)
	checkKeystoreRevision(profileAsgName, props.KeystoreSecret, props.KeystoreRevision)
	if props.Database == nil {
		propsError(profileAsgName, "Database is required: %s uses %s", profile.Name, strings.Join(profile.Databases, " and "))
	}
	minCap, maxCap := 1.0, 1.0
	if profile.Scalable {
		minCap, maxCap = 2, 4
	}
	if props.MinCapacity != nil {
		minCap = *props.MinCapacity
	}
	if props.MaxCapacity != nil {
		maxCap = *props.MaxCapacity
	}
	zones := props.Network.AvailabilityZones()
	if byZone := props.Wiring.SelfByZone; len(byZone) > 0 {
		if !profile.Scalable {
			propsError(profileAsgName, "Wiring.SelfByZone: %s nodes are one per group (use one group per node, with Self)", profile.Name)
		}
		if props.Wiring.Self != nil || props.Subnets != nil {
			propsError(profileAsgName, "Wiring.SelfByZone names one node per zone of the network: drop Wiring.Self and Subnets")
		}
		if len(byZone) != len(zones) {
			propsError(profileAsgName, "Wiring.SelfByZone names %d nodes for the network's %d zones: name one per zone, in the network's order", len(byZone), len(zones))
		}
		for i, n := range byZone {
			if n.Offset != byZone[0].Offset {
				propsError(profileAsgName, "Wiring.SelfByZone[%d] has offset %d, SelfByZone[0] %d: the nodes of one group share their ports", i, n.Offset, byZone[0].Offset)
			}
		}
		// Every zone's name should lead to a node: one node per zone unless told otherwise.
		if props.MaxCapacity == nil {
			maxCap = float64(len(zones))
		}
		if props.MinCapacity == nil {
			minCap = min(float64(len(zones)), maxCap)
		}
		if maxCap > float64(len(zones)) {
			propsError(profileAsgName, "MaxCapacity %v: with Wiring.SelfByZone the group keeps one node per zone, at most %d", maxCap, len(zones))
		}
	}
	if minCap < 0 || maxCap < 1 || minCap > maxCap {
		propsError(profileAsgName, "MinCapacity %v and MaxCapacity %v: need 0 <= min <= max and max >= 1", minCap, maxCap)
	}
	if !profile.Scalable && maxCap > 1 {
		propsError(profileAsgName, "%s nodes are not scaled: peers name each node, so MaxCapacity must be 1 (use one group per node)", profile.Name)
	}
	arch := props.Architecture
	if arch == "" {
		arch = awsec2.AmazonLinuxCpuType_ARM_64
	}
	instanceTypes := props.InstanceTypes
	if len(instanceTypes) == 0 {
		instanceTypes = defaultInstanceTypes(arch)
	}
	wantArm := arch == awsec2.AmazonLinuxCpuType_ARM_64
	for i, it := range instanceTypes {
		checkInstanceType(profileAsgName, fmt.Sprintf("InstanceTypes[%d]", i), it)
		if isArm := it.Architecture() == awsec2.InstanceArchitecture_ARM_64; isArm != wantArm {
			propsError(profileAsgName, "InstanceTypes[%d] %s does not match Architecture %s: pick instance types of that architecture", i, *it.ToString(), arch)
		}
	}
	offset := 0
	if props.Wiring.Self != nil {
		offset = props.Wiring.Self.Offset
	}
	if len(props.Wiring.SelfByZone) > 0 {
		offset = props.Wiring.SelfByZone[0].Offset
	}
	for i, h := range props.ExtraLaunchHooks {
		if r := h.DefaultResult; r != "" && r != awsautoscaling.DefaultResult_ABANDON && r != awsautoscaling.DefaultResult_CONTINUE {
			propsError(profileAsgName, "ExtraLaunchHooks[%d] (%s): DefaultResult %q must be ABANDON or CONTINUE", i, h.Name, r)
		}
	}
	if offset < 0 || offset > 1000 {
		propsError(profileAsgName, "Wiring.Self.Offset %d must be between 0 and 1000", offset)
	}
	reserved := map[int]string{22: "SSH", 80: "HTTP", 443: "HTTPS", props.Network.DatabasePort(): "the database"}
	for _, base := range profile.Ports {
		if what, ok := reserved[profiles.Port(base, offset)]; ok {
			propsError(profileAsgName, "Wiring.Self.Offset %d moves port %d onto %d, the port of %s: choose another offset", offset, base, profiles.Port(base, offset), what)
		}
	}
	subnets := props.Subnets
	if subnets == nil {
		subnets = props.Network.Subnets(TierApplication)
	}
	if ids := props.Network.Vpc().SelectSubnets(subnets).SubnetIds; ids == nil || len(*ids) == 0 {
		propsError(profileAsgName, "Subnets selects no subnet of the network: select application subnets")
	}
	roots := props.Database.databaseRoots()
	var toml []byte
	var zoneConfigs []bootscript.ZoneConfig
	if len(props.Wiring.SelfByZone) == 0 {
		toml = renderNodeConfig(version, profile, props, props.Wiring.Self, offset, roots != nil)
	}
	for i, self := range props.Wiring.SelfByZone {
		zoneConfigs = append(zoneConfigs, bootscript.ZoneConfig{
			Zone: zones[i], DeploymentToml: renderNodeConfig(version, profile, props, &self, offset, roots != nil),
		})
	}
	return nodeGroupConfig{
		version: version, profile: profile, pack: pack, minCap: minCap, maxCap: maxCap, arch: arch,
		instanceTypes: instanceTypes, offset: offset, subnets: subnets, roots: roots, toml: toml, zoneConfigs: zoneConfigs,
	}
}

// addAccess adds the nodes' security group (HTTPS out only; flows are granted later) and role
// (Session Manager's channel, the pinned objects, the secrets they read), and lets them reach the
// database.
func (n *ProfileAsg) addAccess(props *ProfileAsgProps) {
	profile := n.profile
	n.sg = awsec2.NewSecurityGroup(n, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Network.Vpc(),
		Description:      jsii.String(fmt.Sprintf("WSO2 %s nodes: only the flows granted to them", profile.Name)),
		AllowAllOutbound: jsii.Bool(false),
	})
	n.sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to AWS APIs, S3 and package repositories (NAT gateway or endpoints)"), jsii.Bool(false))

	n.role = awsiam.NewRole(n, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("WSO2 %s node", profile.Name)),
	})
	// Session Manager's channel, and nothing else of AmazonSSMManagedInstanceCore: that policy
	// also lets the node read every SSM parameter and document of the account.
	n.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("SessionManagerChannel"),
		Actions: jsii.Strings("ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
			"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"),
		Resources: jsii.Strings("*"),
	}))
	grantObjectRead(n.role, props.PackBucket, *props.Pack.Key, *props.JdbcDriver.Key)
	props.Database.GrantReadAppSecret(n.role)
	props.Database.GrantReadSecret(n.role, props.AdminSecret)
	if ks := props.KeystoreSecret; ks != nil {
		grantSecretRead(n.role, ks, ks.EncryptionKey())
	}
	// Granted from the node's side: when the database is in another stack, the rule then lives
	// with the nodes and the database's stack does not depend on theirs.
	awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{n.sg}}).
		AllowToDefaultPort(props.Database, jsii.String(fmt.Sprintf("WSO2 %s nodes to the database", profile.Name)))
}

// addLogs adds the nodes' log groups under logBase, encrypted with key, and what the CloudWatch
// agent needs to ship them.
func (n *ProfileAsg) addLogs(props *ProfileAsgProps, key awskms.IKey, logBase string) {
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}
	// In a fixed order, so the template's bytes are the same at every synth.
	for _, g := range []struct{ kind, cid string }{{"carbon", "CarbonLogs"}, {"audit", "AuditLogs"}, {"http-access", "HttpAccessLogs"}} {
		kind, cid := g.kind, g.cid
		n.logs[kind] = awslogs.NewLogGroup(n, jsii.String(cid), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(logBase + "/" + kind),
			Retention:     retention,
			EncryptionKey: key,
			// Kept when the stack is deleted or the group replaced; removed when the stack's
			// first create fails, or its fixed name would block the next try.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
	}
	// The CloudWatch agent's needs, rather than AWS's CloudWatchAgentServerPolicy (which lets a
	// node create, write and shorten the retention of any log group): streams in the node's own
	// log groups, its metrics' namespace, and the tag lookup behind the group-name dimension.
	var logArns []*string
	for _, kind := range slices.Sorted(maps.Keys(n.logs)) {
		logArns = append(logArns, n.logs[kind].LogGroupArn())
	}
	n.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ShipOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
		Resources: &logArns,
	}))
	grantPutMetricData(n.role, "PutOwnMetrics", nodeMetricsNamespace)
	n.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AgentLookups"),
		Actions:   jsii.Strings("ec2:DescribeTags", "logs:DescribeLogGroups"),
		Resources: jsii.Strings("*"),
	}))
}

// userData is the nodes' user data: the boot script with everything it installs, pins, reads
// and reports, rendered from the resolved props.
func (n *ProfileAsg) userData(props *ProfileAsgProps, c nodeGroupConfig, grace awscdk.Duration, logBase string) string {
	stack := awscdk.Stack_Of(n)
	pack, version, offset := c.pack, c.version, c.offset
	toml, zoneConfigs, roots := c.toml, c.zoneConfigs, c.roots
	health := c.profile.Health
	cfg := bootscript.Config{
		Region:            *stack.Region(),
		PackBucket:        *props.PackBucket.BucketName(),
		PackKey:           *props.Pack.Key,
		PackVersion:       *props.Pack.VersionId,
		PackSha256:        *props.Pack.Sha256,
		PackHome:          pack.Home,
		JdbcDriverKey:     *props.JdbcDriver.Key,
		JdbcDriverVersion: *props.JdbcDriver.VersionId,
		JdbcDriverSha256:  *props.JdbcDriver.Sha256,
		DbSecretArn:       *props.Database.AppSecret().SecretArn(),
		AdminSecretArn:    *props.AdminSecret.SecretArn(),
		StartCommand:      pack.Start,
		JavaPackage:       javaPackage(version),
		HealthProtocol:    health.Protocol,
		HealthPort:        profiles.Port(health.Port, offset),
		HealthPath:        health.Path,
		// The node has the grace period to become healthy once installed; the launch hook
		// allows five more minutes for the installation.
		HealthTimeoutSeconds:  int(*grace.ToSeconds(nil)),
		LifecycleHook:         LifecycleHookName,
		DeploymentToml:        toml,
		ZoneConfigs:           zoneConfigs,
		CloudWatchAgentConfig: cloudWatchAgentConfig(pack.Home, logBase),
		DatabaseRoots:         roots,
	}
	if props.KeystoreSecret != nil {
		cfg.KeystoreSecretArn = *props.KeystoreSecret.SecretArn()
	}
	if b := props.BootCommands; b != nil {
		cfg.BeforeSetup, cfg.AfterSetup = b.BeforeSetup, b.AfterSetup
	}
	// The group's logical id, known once it exists (the user data is written first).
	cfg.SignalStack = *stack.StackName()
	cfg.SignalResource = *awscdk.Lazy_String(&groupLogicalID{n}, nil)
	if n.reportHealth {
		// Decided at synth: an internal endpoint created after the group turns it off.
		cfg.ReportHealth = *awscdk.Lazy_String(&reportHealthFlag{n}, nil)
	}
	ud, err := cfg.UserData()
	if err != nil {
		propsError(profileAsgName, "%v", err)
	}
	return ud
}

// addLaunchTemplate adds the nodes' launch template: the image, the first instance type, the
// user data (guarded against additions), IMDSv2 and an encrypted root volume under key.
func (n *ProfileAsg) addLaunchTemplate(props *ProfileAsgProps, c nodeGroupConfig, key awskms.IKey, ud string) awsec2.LaunchTemplate {
	arch, instanceTypes := c.arch, c.instanceTypes
	volume := 30.0
	if props.RootVolumeGiB != nil {
		volume = *props.RootVolumeGiB
	}
	image := props.MachineImage
	if image == nil {
		image = awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: arch})
	}
	userData := awsec2.UserData_Custom(jsii.String(ud))
	n.Node().AddValidation(&userDataGuard{userData: userData, want: ud, path: *n.Node().Path()})
	template := awsec2.NewLaunchTemplate(n, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		MachineImage:            image,
		InstanceType:            instanceTypes[0],
		SecurityGroup:           n.sg,
		Role:                    n.role,
		UserData:                userData,
		RequireImdsv2:           jsii.Bool(true),
		HttpPutResponseHopLimit: jsii.Number(1),
		DetailedMonitoring:      jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(volume), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), KmsKey: key, VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: jsii.Bool(true),
			}),
		}},
	})
	if props.KeystoreRevision != nil {
		// In the launch template's data (its instances' and volumes' tags), so a new revision is a
		// new template version, which the group rolls out like any other; and an operator sees
		// which keystore revision a node booted with. Not in the user data, which is near EC2's
		// 16 KB limit for a control plane with boot commands.
		awscdk.Tags_Of(template).Add(jsii.String(KeystoreRevisionTag), jsii.String(revisionDigest(*props.KeystoreRevision)), nil)
	}
	return template
}

// KeystoreRevisionTag is the tag whose value, a SHA-256 digest of ProfileAsgProps.KeystoreRevision,
// every node of a group carries: a new revision changes the launch template and so rolls the
// group.
const KeystoreRevisionTag = "apimkit:keystore-revision"

// addGroup adds the Auto Scaling group: health checks, rolling updates on the nodes' signals,
// the instance types, the zones and the launch hooks.
func (n *ProfileAsg) addGroup(props *ProfileAsgProps, c nodeGroupConfig, grace awscdk.Duration, template awsec2.LaunchTemplate) {
	profile, minCap, maxCap, instanceTypes, subnets := c.profile, c.minCap, c.maxCap, c.instanceTypes, c.subnets
	network := props.Network
	var checks awsautoscaling.HealthChecks
	if profile.Exposure != nil {
		checks = awsautoscaling.HealthChecks_WithAdditionalChecks(&awsautoscaling.AdditionalHealthChecksOptions{
			AdditionalTypes: &[]awsautoscaling.AdditionalHealthCheckType{awsautoscaling.AdditionalHealthCheckType_ELB},
			GracePeriod:     grace,
		})
	} else {
		checks = awsautoscaling.HealthChecks_Ec2(&awsautoscaling.Ec2HealthChecksOptions{GracePeriod: grace})
	}
	// A launch-template change (a promoted pack, new user data, a new image) rolls the group one
	// node at a time, each proven by the node itself: it signals SUCCESS only once WSO2 answers
	// its health check and it is in service, FAILURE when its boot fails. A failure, or a node
	// silent for the hook's timeout, fails the update, and CloudFormation rolls the stack back,
	// to the previous launch template, in the same way. New nodes start before old ones stop
	// (MinInstancesInService at the group's minimum, which CloudFormation allows only below
	// MaxSize: a group fixed at its size, such as a traffic manager, gets one node of headroom,
	// used only by updates, since nothing scales it). A group whose
	// nodes are named per zone is the exception: a replacement started beside the node it
	// replaces could land in another zone, which would then answer to two names and leave one
	// unanswered; it is replaced one node at a time, stopped then started, its other zones
	// serving meanwhile.
	ready := awscdk.Duration_Seconds(jsii.Number(*grace.ToSeconds(nil) + 300))
	groupMax, inService := maxCap, minCap
	switch {
	case len(props.Wiring.SelfByZone) > 0:
		inService = min(minCap, maxCap-1)
	case minCap == maxCap:
		groupMax = maxCap + 1
	}
	groupProps := &awsautoscaling.AutoScalingGroupProps{
		Vpc:          network.Vpc(),
		VpcSubnets:   subnets,
		MinCapacity:  jsii.Number(minCap),
		MaxCapacity:  jsii.Number(groupMax),
		HealthChecks: checks,
		// No DesiredCapacity: each deploy would reset the group to it (aws-cdk-lib warns), and
		// a rolling update sets it as it goes. The group starts at MinCapacity.
		Signals: awsautoscaling.Signals_WaitForMinCapacity(&awsautoscaling.SignalsOptions{Timeout: ready}),
		UpdatePolicy: awsautoscaling.UpdatePolicy_RollingUpdate(&awsautoscaling.RollingUpdateOptions{
			MinInstancesInService: jsii.Number(inService),
			MaxBatchSize:          jsii.Number(1),
			WaitOnResourceSignals: jsii.Bool(true),
			// How long each batch has to signal: the launch hook's own timeout.
			PauseTime:            ready,
			MinSuccessPercentage: jsii.Number(100),
		}),
		DefaultInstanceWarmup: grace,
		Notifications:         notifications(props.NotificationTopic),
		// Group metrics (in service, pending, ...) for dashboards and the traffic managers' alarms.
		GroupMetrics: &[]awsautoscaling.GroupMetrics{awsautoscaling.GroupMetrics_All()},
	}
	if len(props.Wiring.SelfByZone) > 0 {
		// Each zone's name leads to that zone's node alone (zonal load-balancer names). If a
		// zone cannot launch, the group waits for it instead of starting a second node in
		// another zone, which would answer to that zone's name and miss its peer's events.
		groupProps.AzCapacityDistributionStrategy = awsautoscaling.CapacityDistributionStrategy_BALANCED_ONLY
	}
	if len(instanceTypes) > 1 {
		overrides := make([]*awsautoscaling.LaunchTemplateOverrides, 0, len(instanceTypes))
		for _, it := range instanceTypes {
			overrides = append(overrides, &awsautoscaling.LaunchTemplateOverrides{InstanceType: it})
		}
		groupProps.MixedInstancesPolicy = &awsautoscaling.MixedInstancesPolicy{
			LaunchTemplate:          template,
			LaunchTemplateOverrides: &overrides,
			InstancesDistribution: &awsautoscaling.InstancesDistribution{
				OnDemandPercentageAboveBaseCapacity: jsii.Number(100),
				OnDemandAllocationStrategy:          awsautoscaling.OnDemandAllocationStrategy_PRIORITIZED,
			},
		}
	} else {
		groupProps.LaunchTemplate = template
	}
	n.group = awsautoscaling.NewAutoScalingGroup(n, jsii.String("Resource"), groupProps)
	// The launch hook is part of the group itself, so even its first instances wait for the boot
	// script to report them healthy (a hook added later would miss them).
	cfn := n.group.Node().DefaultChild().(awsautoscaling.CfnAutoScalingGroup)
	// Naming the zones as well as the subnets lets tools that read the template alone (AWS
	// Control Tower's CT.AUTOSCALING.PR.1) see the spread.
	cfn.AddPropertyOverride(jsii.String("AvailabilityZones"), network.Vpc().SelectSubnets(subnets).AvailabilityZones)
	awscdk.Annotations_Of(cfn).AcknowledgeWarning(jsii.String("CloudFormation-Validate::W3010"),
		jsii.String("The zones are the network's, named on purpose (the subnets name them too)."))
	hooks := []map[string]any{{
		"LifecycleHookName":   LifecycleHookName,
		"LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
		"HeartbeatTimeout":    int(*grace.ToSeconds(nil)) + 300,
		"DefaultResult":       "ABANDON",
	}}
	for _, h := range props.ExtraLaunchHooks {
		result := awsautoscaling.DefaultResult_ABANDON
		if h.DefaultResult != "" {
			result = h.DefaultResult
		}
		hooks = append(hooks, map[string]any{
			"LifecycleHookName":   h.Name,
			"LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
			"HeartbeatTimeout":    int(*h.Timeout.ToSeconds(nil)),
			"DefaultResult":       string(result),
		})
	}
	cfn.AddPropertyOverride(jsii.String("LifecycleHookSpecificationList"), hooks)
}

// addLifecyclePermissions lets the nodes find their group, complete their own launch and, where
// no load balancer checks them, report their own health.
func (n *ProfileAsg) addLifecyclePermissions() {
	// Signals (above) lets the nodes' role signal this stack alone (cloudformation:SignalResource
	// on its stack id), the permission boot.sh needs to report each node.
	// The boot script looks its group up first thing: that permission is in the role's default
	// policy, which the launch template waits for. Completing the launch names the group, so it
	// is a policy of its own, created once the group is; the boot script needs it only after WSO2
	// has started, minutes later, and retries it.
	n.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("FindOwnGroup"),
		Actions:   jsii.Strings("autoscaling:DescribeAutoScalingInstances"),
		Resources: jsii.Strings("*"),
	}))
	lifecycle := awsiam.NewPolicy(n, jsii.String("LifecyclePolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{n.role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("CompleteOwnLaunch"),
				Actions:   jsii.Strings("autoscaling:CompleteLifecycleAction"),
				Resources: jsii.Strings(*n.group.AutoScalingGroupArn()),
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(lifecycle, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("CompleteLifecycleAction is limited to this group (its ARN carries a wildcard only for the " +
			"group's generated id)."),
	}}, jsii.Bool(true))
	if n.reportHealth {
		// The health reporter marks its own instance unhealthy, in this group only.
		n.healthPolicy = awsiam.NewPolicy(n, jsii.String("HealthPolicy"), &awsiam.PolicyProps{
			Roles: &[]awsiam.IRole{n.role},
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("ReportOwnHealth"),
					Actions:   jsii.Strings("autoscaling:SetInstanceHealth"),
					Resources: jsii.Strings(*n.group.AutoScalingGroupArn()),
				}),
			},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(n.healthPolicy, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("SetInstanceHealth is limited to this group (its ARN carries a wildcard only for the " +
				"group's generated id)."),
		}}, jsii.Bool(true))
	}
}
