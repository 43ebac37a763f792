package wso2

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// ApimDeploymentProps configures an ApimDeployment. Only the host names and the certificate are
// required; every part takes overrides of its own props (the fields the deployment wires itself,
// such as a group's Network or Wiring, are refused there).
type ApimDeploymentProps struct {
	// Release is the WSO2 API Manager release: 3.2.x (publisher, developer portal, key manager,
	// gateways, traffic managers), 4.0 to 4.4 (control plane, gateways, traffic managers of one
	// pack started with -Dprofile), 4.5 and later (the same roles as separate distributions).
	// Default: DefaultApimVersion.
	Release *string
	// PortalHostname is the public name of the portals (publisher, developer portal, admin),
	// and GatewayHostname the public name of the APIs: DNS names, without scheme, port or path.
	// The load balancer routes them and every node is configured with them. Required.
	PortalHostname  *string
	GatewayHostname *string
	// Certificate is the ACM certificate of both host names, in the stack's region. Required.
	Certificate awscertificatemanager.ICertificate
	// KeystoreSecret is a keystore of your own (ProfileAsgProps.KeystoreSecret). Not with
	// KeystoreProps or UsePackKeystore.
	// Default: the deployment's own, made at deploy time by an ApimKeystore (in DataScope) for
	// *.<zone> and the two host names.
	KeystoreSecret awssecretsmanager.ISecret
	// KeystoreRevision names the revision of KeystoreSecret: changing it rolls every node onto
	// what the secret then holds (ProfileAsgProps.KeystoreRevision). Only with KeystoreSecret;
	// the deployment's own keystore takes KeystoreProps.Revision, which rolls the nodes alike.
	KeystoreRevision *string
	// KeystoreProps override the new ApimKeystore's props (Revision, EncryptionKey, HostNames).
	KeystoreProps *ApimKeystoreProps
	// UsePackKeystore runs every node on the pack's own wso2carbon.jks, whose private key ships
	// with every WSO2 download (ProfileAsgProps.UsePackKeystore): for throwaway test
	// deployments only.
	// Default: false.
	UsePackKeystore *bool

	// ExistingNetwork runs the deployment in a network the caller built (ApimNetwork, which
	// can also wrap an existing VPC). Not with NetworkProps.
	// Default: a new ApimNetwork.
	ExistingNetwork *ApimNetwork
	// NetworkProps are the new network's props. Default: ApimNetwork's defaults.
	NetworkProps *ApimNetworkProps
	// ExistingDatabase uses a database the caller built. Not with DatabaseProps.
	// Default: a new ApimDatabase.
	ExistingDatabase *ApimDatabase
	// DatabaseProps override the new database's props (Network is the deployment's).
	// Default: ApimDatabase's defaults, alarms to the alarm topic.
	DatabaseProps *ApimDatabaseProps
	// SchemaPackKey is the key, in the pack bucket, of the WSO2 pack whose dbscripts load the
	// database's schema (ApimDatabaseProps.Pack). Default: none; the databases and user are
	// created, and a later deploy that names the pack loads the schema.
	SchemaPackKey *string
	// ExistingPackBucket holds the packs and the JDBC driver. Default: NewPackBucket.
	ExistingPackBucket awss3.IBucket
	// PackVersions names, by pack home (wso2am-4.3.0; from 4.5 wso2am-acp-<v>,
	// wso2am-universal-gw-<v> and wso2am-tm-<v>), the S3 version of
	// staging/packs/<home>.zip that this deploy promotes to packs/<home>.zip and pins in the
	// nodes' launch templates; a new version rolls the nodes onto it. JdbcDriverVersion does the
	// same for staging/drivers/mysql-connector-j.jar.
	// Default: the newest staged version when the deployment is created, kept on every later
	// deploy until a version is named here (an upload alone changes nothing).
	PackVersions      map[string]*string
	JdbcDriverVersion *string
	// ExistingAlarmTopic receives every alarm and the groups' notifications.
	// Default: NewAlarmTopic.
	ExistingAlarmTopic awssns.ITopic
	// ExistingZone is the private hosted zone of the internal names. Not with ZoneName.
	// Default: a new zone named ZoneName.
	ExistingZone awsroute53.IPrivateHostedZone
	// ZoneName is the new private zone's name. Default: apim.internal.
	ZoneName *string

	// Nodes are the settings of every WSO2 node, the traffic managers' included.
	// Default: ProfileAsg's, but the machine image (MachineImageId).
	Nodes *NodeOptions
	// MachineImageId is the AMI every WSO2 node boots (an Amazon Linux 2023 image of the nodes'
	// Architecture, in the stack's region), so nodes roll onto a new image only when this
	// changes. A MachineImage in Nodes, Profiles or TrafficManagerProps wins over it.
	// Default: in a stack with an account and region, Amazon Linux 2023 of each architecture
	// the deployment uses, looked up at the first synth and kept in cdk.context.json (commit
	// it; `cdk context --reset <key>` then a deploy moves every instance to the current image);
	// in an environment-agnostic stack, where nothing can be looked up, the latest image at
	// each deploy, with a synth warning. The bastion and the update instance take the same
	// lookup of their own architecture.
	MachineImageId *string
	// Profiles override a group's props by profile (capacity, instance types, ...), over Nodes.
	// profiles.TrafficManager is refused here: use TrafficManagerProps.
	Profiles map[profiles.Name]*ProfileAsgProps
	// TrafficManagerProps override the traffic-manager pair's props (offsets, zones, record
	// TTL, node options over Nodes).
	TrafficManagerProps *TrafficManagerPairProps
	// LoadBalancerProps override the public load balancer's (web ACL, idle timeout, access-log
	// bucket, blocked paths). Its routes come from the release's topology.
	LoadBalancerProps *ApimLoadBalancerProps
	// BastionProps override the bastion's (SSH mode, instance type).
	BastionProps *BastionProps
	// UpdaterProps override the updater's (schedule, instance type).
	UpdaterProps *WumUpdaterProps
	// OperationsProps override the dashboard's and alarms' (dashboard name).
	OperationsProps *ApimOperationsProps

	// NetworkScope and DataScope place the network, and the stateful parts (database, secrets,
	// pack bucket, alarm topic), in constructs of their own, such as stacks that a team keeps
	// apart and protects from deletion. Default: the deployment itself.
	NetworkScope constructs.Construct
	DataScope    constructs.Construct
}

// ApimDeployment is the whole reference architecture in one construct: network, database,
// every profile of the chosen release, the traffic-manager pair, the hub's internal endpoint,
// the public load balancer, the bastion, the updater and the operator's dashboard and alarms,
// wired by the release's topology (profiles.TopologyOf). Every part is reachable through a
// method, and every node's configuration is checked against the listeners and security-group
// rules when the app is synthesized.
type ApimDeployment struct {
	constructs.Construct
	topology         profiles.Topology
	network          *ApimNetwork
	database         *ApimDatabase
	keystore         *ApimKeystore
	keystoreRevision *string // what every node's launch template carries of the keystore's revision
	keystoreSecret   awssecretsmanager.ISecret
	packs            awss3.IBucket
	promoter         *PackPromoter
	pins             map[string]*PinnedObject
	driver           *PinnedObject
	alarms           awssns.ITopic
	admin            awssecretsmanager.ISecret
	credentials      awssecretsmanager.ISecret
	tms              *TrafficManagerPair
	groups           map[profiles.Name]*ProfileAsg
	images           *deploymentImages
	hub              *ApimInternalEndpoint
	lb               *ApimLoadBalancer
	bastion          *Bastion
	updater          *WumUpdater
	operations       *ApimOperations
}

const deploymentName = "ApimDeployment"

// hostName is a DNS name: labels of letters, digits and hyphens, no scheme, port or path.
var hostName = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)

// checkHostname refuses a host name with a scheme, port or path, naming the prop.
func checkHostname(construct, prop string, s *string) {
	if s == nil || *s == "" {
		propsError(construct, "%s is required: the public DNS name, such as api.example.com", prop)
	}
	if unresolved(s) {
		return
	}
	if !hostName.MatchString(*s) {
		propsError(construct, "%s %q is not a host name: give the DNS name alone, such as api.example.com, without scheme, port or path", prop, *s)
	}
}

// instanceTypeName is an EC2 instance type as family.size (m7g.xlarge, c7i.metal-24xl).
var instanceTypeName = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// checkInstanceType refuses an instance type that is not family.size, naming the prop.
func checkInstanceType(construct, prop string, it awsec2.InstanceType) {
	name := *it.ToString()
	if strings.HasPrefix(name, "db.") {
		propsError(construct, "%s %q starts with db.: give the EC2 type (%s); RDS adds db. itself", prop, name, strings.TrimPrefix(name, "db."))
	}
	if !instanceTypeName.MatchString(name) {
		propsError(construct, "%s %q is not an instance type: give family.size, such as m7g.xlarge", prop, name)
	}
}

// constructIDs are the groups' construct ids, kept as the reference app's first releases named
// them (ids are part of the deployed resources' logical ids).
var constructIDs = map[profiles.Name]string{
	profiles.ControlPlane: "ControlPlane", profiles.Gateway: "Gateway", profiles.Publisher: "Publisher",
	profiles.DevPortal: "DevPortal", profiles.KeyManager: "KeyManager",
}

// NewApimDeployment builds the deployment. It panics, before adding anything to the tree, when a
// prop is invalid.
func NewApimDeployment(scope constructs.Construct, id string, props *ApimDeploymentProps) *ApimDeployment {
	if props == nil {
		propsError(deploymentName, "PortalHostname, GatewayHostname and Certificate are required")
	}
	checkHostname(deploymentName, "PortalHostname", props.PortalHostname)
	checkHostname(deploymentName, "GatewayHostname", props.GatewayHostname)
	if props.Certificate == nil {
		propsError(deploymentName, "Certificate is required: the ACM certificate of %s and %s", *props.PortalHostname, *props.GatewayHostname)
	}
	release := DefaultApimVersion
	if props.Release != nil {
		release = *props.Release
	}
	version, err := profiles.ParseVersion(release)
	if err != nil {
		propsError(deploymentName, "Release: %v", err)
	}
	topology, _ := profiles.TopologyOf(version)
	for name, pair := range map[string][2]bool{
		"ExistingNetwork and NetworkProps":   {props.ExistingNetwork != nil, props.NetworkProps != nil},
		"ExistingDatabase and DatabaseProps": {props.ExistingDatabase != nil, props.DatabaseProps != nil},
		"ExistingZone and ZoneName":          {props.ExistingZone != nil, props.ZoneName != nil},
		"ExistingDatabase and SchemaPackKey": {props.ExistingDatabase != nil, props.SchemaPackKey != nil},
		"KeystoreSecret and KeystoreProps":   {props.KeystoreSecret != nil, props.KeystoreProps != nil},
		"KeystoreSecret and UsePackKeystore": {props.KeystoreSecret != nil, props.UsePackKeystore != nil && *props.UsePackKeystore},
		"KeystoreProps and UsePackKeystore":  {props.KeystoreProps != nil, props.UsePackKeystore != nil && *props.UsePackKeystore},
	} {
		if pair[0] && pair[1] {
			propsError(deploymentName, "%s were both given: the existing part comes as it is; drop one of them", name)
		}
	}
	if props.KeystoreRevision != nil && props.KeystoreSecret == nil {
		propsError(deploymentName, "KeystoreRevision names a revision of KeystoreSecret, which was not given "+
			"(the deployment's own keystore takes its revision in KeystoreProps.Revision)")
	}
	homes := packHomes(version)
	for home := range props.PackVersions {
		if !slices.Contains(homes, home) {
			propsError(deploymentName, "PackVersions[%q]: API Manager %s installs the packs %v", home, version, homes)
		}
	}
	for p := range props.Profiles {
		if !slices.Contains(topology.Profiles, p) || p == profiles.TrafficManager {
			propsError(deploymentName, "Profiles[%q]: API Manager %s deploys %v here (traffic managers through TrafficManagerProps)",
				p, version, slices.DeleteFunc(slices.Clone(topology.Profiles), func(n profiles.Name) bool { return n == profiles.TrafficManager }))
		}
	}

	d := &ApimDeployment{topology: topology, groups: map[profiles.Name]*ProfileAsg{}}
	constructs.NewConstruct_Override(d, scope, &id)
	d.images = newDeploymentImages(d, props.MachineImageId)
	pinFlags(d)
	networkScope, dataScope := props.NetworkScope, props.DataScope
	if networkScope == nil {
		networkScope = d
	}
	if dataScope == nil {
		dataScope = d
	}
	d.addNetworkAndData(props, networkScope, dataScope)
	d.warnUnprotectedScopes(props, networkScope, dataScope)
	d.addNodes(props)
	d.addAccess(props)
	return d
}

// warnUnprotectedScopes warns, once per stack, when the network or the stateful parts are placed
// in a stack other than the deployment's own that has no termination protection. The
// deployment's stack reaches them through weak references (Fn::GetStackOutput) unless the app
// names a reference strength, and those, unlike exports, do not stop CloudFormation from deleting
// the stack they read from: a `cdk destroy` of the network would remove the NAT gateways, routes
// and endpoints the running nodes use before failing on the subnets still in use.
func (d *ApimDeployment) warnUnprotectedScopes(props *ApimDeploymentProps, networkScope, dataScope constructs.Construct) {
	own := awscdk.Stack_Of(d)
	warned := map[string]bool{}
	for _, part := range []struct {
		what  string
		scope constructs.Construct
		holds bool
	}{
		{"the network", networkScope, props.ExistingNetwork == nil},
		{"the stateful parts (database, secrets, pack bucket, keystore)", dataScope, true},
	} {
		stack := awscdk.Stack_Of(part.scope)
		path := *stack.Node().Path()
		protected := stack.TerminationProtection() != nil && *stack.TerminationProtection()
		if !part.holds || path == *own.Node().Path() || protected || warned[path] {
			continue
		}
		warned[path] = true
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("apimkit:unprotectedStack"), jsii.String(fmt.Sprintf(
			"ApimDeployment: stack %s holds %s that stack %s stands on, and has no termination protection, "+
				"which the references between them do not give: set TerminationProtection: true in its StackProps "+
				"(docs/deploying.md, \"A failed first deploy, and taking a deployment down\", gives the order to delete them in)",
			path, part.what, *own.Node().Path())), nil)
	}
}

func (d *ApimDeployment) addNetworkAndData(props *ApimDeploymentProps, networkScope, dataScope constructs.Construct) {
	d.network = props.ExistingNetwork
	if d.network == nil {
		np := &ApimNetworkProps{}
		overrideProps("NetworkProps", np, props.NetworkProps)
		d.network = NewApimNetwork(networkScope, "Network", np)
	}
	d.alarms = props.ExistingAlarmTopic
	if d.alarms == nil {
		d.alarms = NewAlarmTopic(dataScope, "Alarms", nil)
	}
	d.packs = props.ExistingPackBucket
	if d.packs == nil {
		d.packs = NewPackBucket(dataScope, "Packs")
	}
	d.promoter = NewPackPromoter(dataScope, "PackPromoter", &PackPromoterProps{Network: d.network, Bucket: d.packs})
	d.database = props.ExistingDatabase
	if d.database == nil {
		dp := &ApimDatabaseProps{Network: d.network, AlarmTopic: d.alarms}
		if props.SchemaPackKey != nil {
			dp.Pack = &SchemaPack{Bucket: d.packs, Key: props.SchemaPackKey}
		}
		overrideProps("DatabaseProps", dp, props.DatabaseProps, "Network")
		d.database = NewApimDatabase(dataScope, "Database", dp)
	}
	d.admin = NewAdminSecret(dataScope, "AdminSecret", d.database.EncryptionKey())
	d.keystoreSecret, d.keystoreRevision = props.KeystoreSecret, props.KeystoreRevision
	if d.keystoreSecret == nil && (props.UsePackKeystore == nil || !*props.UsePackKeystore) {
		kp := &ApimKeystoreProps{Network: d.network, HostNames: []string{"*." + zoneNameOf(props), *props.PortalHostname, *props.GatewayHostname}}
		overrideProps("KeystoreProps", kp, props.KeystoreProps, "Network")
		d.keystore = NewApimKeystore(dataScope, "Keystore", kp)
		d.keystoreSecret, d.keystoreRevision = d.keystore.Secret(), d.keystore.Revision()
	}
	d.credentials = NewUpdateCredentials(dataScope, "UpdateCredentials", d.database.EncryptionKey())
	// What an operator acts on after the first deploy: upload the packs, subscribe, store the
	// WSO2 subscription.
	for _, out := range []struct {
		id    string
		value *string
		what  string
	}{
		{"PackBucketName", d.packs.BucketName(), "bucket of the WSO2 packs and the JDBC driver"},
		{"AlarmTopicArn", d.alarms.TopicArn(), "topic every alarm notifies: subscribe to it"},
		{"UpdateCredentialsArn", d.credentials.SecretArn(), "secret to put the WSO2 subscription's username and password in"},
	} {
		awscdk.NewCfnOutput(dataScope, jsii.String(out.id), &awscdk.CfnOutputProps{Value: out.value, Description: jsii.String(out.what)})
	}
}

// addNodes adds the traffic managers and the release's groups, each told its peers by the
// topology's names.
func (d *ApimDeployment) addNodes(props *ApimDeploymentProps) {
	t := d.topology
	zoneName := zoneNameOf(props)
	zones := len(d.network.AvailabilityZones())
	service := profiles.Node{Host: t.HubLabel + "." + zoneName}
	controlPlane := []profiles.Node{service}
	if t.HubPerZone {
		controlPlane = t.HubNodes(zoneName, zones)
	}
	nodes := &NodeOptions{}
	overrideProps("Nodes", nodes, props.Nodes)
	release := jsii.String(t.Version.String())
	// What the nodes boot is part of this deployment: each pack and the driver, promoted from
	// staging by a custom resource whose answers the launch templates pin.
	d.pins = map[string]*PinnedObject{}
	for _, home := range packHomes(t.Version) {
		d.pins[home] = d.promoter.Promote(d, "PackPromotion-"+home, DefaultPackPrefix+"/"+home+".zip", props.PackVersions[home])
	}
	d.driver = d.promoter.Promote(d, "JdbcDriverPromotion", DefaultJdbcDriverKey, props.JdbcDriverVersion)
	tmPack, _ := profiles.PackOf(t.Version, profiles.TrafficManager)

	tp := &TrafficManagerPairProps{
		Network: d.network, Release: release, Database: d.database, AdminSecret: d.admin, PackBucket: d.packs,
		KeystoreSecret: d.keystoreSecret, KeystoreRevision: d.keystoreRevision, UsePackKeystore: props.UsePackKeystore, ControlPlane: controlPlane, ControlPlaneService: &service,
		AlarmTopic: d.alarms, NotificationTopic: d.alarms, NodeOptions: *nodes,
		Pack: d.pins[tmPack.Home], JdbcDriver: d.driver,
	}
	if props.ExistingZone != nil {
		tp.ExistingZone = props.ExistingZone
	} else {
		tp.ZoneName = jsii.String(zoneName)
	}
	overrideProps("TrafficManagerProps", tp, props.TrafficManagerProps,
		"Network", "Release", "Version", "Database", "AdminSecret", "PackBucket", "ControlPlane", "ControlPlaneService", "ZoneName", "ExistingZone",
		"KeystoreSecret", "KeystoreRevision", "UsePackKeystore", "Pack", "JdbcDriver")
	if tp.MachineImage == nil {
		tp.MachineImage = d.images.node(tp.Architecture)
	}
	d.tms = NewTrafficManagerPair(d, "TrafficManagers", tp)

	for _, p := range t.Profiles {
		if p == profiles.TrafficManager {
			continue
		}
		wiring := &NodeWiring{
			PortalHostname: props.PortalHostname, GatewayHostname: props.GatewayHostname,
			ControlPlane: controlPlane, ControlPlaneService: &service, TrafficManagers: d.tms.Nodes(),
			WebSocketOnHTTPS: jsii.Bool(slices.ContainsFunc(t.Routes, func(r profiles.Route) bool { return r.WebSocket })),
		}
		if p == t.Hub {
			if lookup, _ := profiles.Lookup(t.Version, p); lookup.Exposure == nil {
				wiring.Hostname = jsii.String(service.Host) // not exposed: it goes by its internal name
			}
			if t.HubPerZone {
				wiring.SelfByZone = controlPlane
			}
		}
		pack, _ := profiles.PackOf(t.Version, p)
		gp := &ProfileAsgProps{
			Network: d.network, Profile: p, Release: release, Wiring: wiring,
			Database: d.database, AdminSecret: d.admin, PackBucket: d.packs,
			Pack: d.pins[pack.Home], JdbcDriver: d.driver,
			NotificationTopic: d.alarms, KeystoreSecret: d.keystoreSecret, KeystoreRevision: d.keystoreRevision, UsePackKeystore: props.UsePackKeystore,
			NodeOptions: *nodes,
		}
		overrideProps(fmt.Sprintf("Profiles[%q]", p), gp, props.Profiles[p],
			"Network", "Profile", "Release", "Version", "Wiring", "Database", "AdminSecret", "PackBucket", "KeystoreSecret", "KeystoreRevision", "UsePackKeystore",
			"Pack", "JdbcDriver")
		if gp.MachineImage == nil {
			gp.MachineImage = d.images.node(gp.Architecture)
		}
		d.groups[p] = NewProfileAsg(d, constructIDs[p], gp)
	}

	awscdk.NewCfnOutput(d, jsii.String("ReceiverUrlGroup"), &awscdk.CfnOutputProps{
		Value:       jsii.String(d.tms.ReceiverURLGroup()),
		Description: jsii.String("APIM 2.x/3.x api-manager.xml <ReceiverUrlGroup> for these traffic managers"),
	})
	awscdk.NewCfnOutput(d, jsii.String("AuthUrlGroup"), &awscdk.CfnOutputProps{
		Value:       jsii.String(d.tms.AuthURLGroup()),
		Description: jsii.String("APIM 2.x/3.x api-manager.xml <AuthUrlGroup> for these traffic managers"),
	})
}

// addAccess adds the load balancer and the hub's endpoint, grants the topology's flows in one
// loop, then adds the bastion, the updater and the operations view.
func (d *ApimDeployment) addAccess(props *ApimDeploymentProps) {
	t := d.topology
	var routes []LoadBalancedProfile
	for _, r := range t.Routes {
		lr := LoadBalancedProfile{Profile: d.groups[r.Profile], Hostname: props.PortalHostname}
		if r.Host == profiles.GatewayHost {
			lr.Hostname = props.GatewayHostname
		}
		if len(r.Paths) > 0 {
			lr.PathPatterns = jsii.Strings(r.Paths...)
		}
		if r.Sticky {
			lr.Sticky = jsii.Bool(true)
		}
		if r.RequestsPerTarget > 0 {
			lr.RequestsPerTarget = jsii.Number(r.RequestsPerTarget)
		}
		if r.WebSocket {
			lr.WebSocket = jsii.Bool(true)
		}
		routes = append(routes, lr)
	}
	lp := &ApimLoadBalancerProps{Network: d.network, Certificate: props.Certificate, Routes: routes}
	if t.ServicesOnPortal {
		// The release calls its own admin services through the public portal name (3.2's
		// account recovery and self sign-up): refusing /services* there would break them.
		lp.BlockedPaths = jsii.Strings(slices.DeleteFunc(DefaultBlockedPaths(), func(p string) bool { return p == "/services*" })...)
	}
	overrideProps("LoadBalancerProps", lp, props.LoadBalancerProps, "Network", "Certificate", "CertificateArn", "Routes")
	d.lb = NewApimLoadBalancer(d, "LoadBalancer", lp)

	hub := d.groups[t.Hub]
	ep := &ApimInternalEndpointProps{
		Network: d.network, Target: hub, Zone: d.tms.Zone(), RecordName: jsii.String(t.HubLabel),
		AccessLogBucket: d.lb.AccessLogBucket(), Ports: t.HubPorts,
		ZonalRecordNames: t.HubNodeLabels(len(d.network.AvailabilityZones())),
	}
	d.hub = NewApimInternalEndpoint(d, "HubEndpoint", ep)

	for _, f := range t.Flows {
		clients := d.groupsOf(f.From)
		switch f.To {
		case profiles.PeerTrafficManagers:
			d.tms.grant(f.Ports, connectables(clients))
		case profiles.PeerFirstTrafficManager:
			tm1 := d.tms.Groups()[0]
			for _, c := range clients {
				for _, base := range f.Ports {
					port := tm1.Port(base)
					c.Connections().AllowTo(tm1, awsec2.Port_Tcp(jsii.Number(float64(port))),
						jsii.String(fmt.Sprintf("%s to tm1 %d: %s", displayName(f.From), port, f.Why)))
				}
			}
		case profiles.PeerHub:
			// Through the endpoint's name, and straight to the nodes, which see the callers'
			// own addresses.
			for _, c := range clients {
				for _, base := range f.Ports {
					port := hub.Port(base)
					d.hub.Connections().AllowFrom(c, awsec2.Port_Tcp(jsii.Number(float64(port))),
						jsii.String(fmt.Sprintf("to the %s internal endpoint %d", d.hub.Hostname(), port)))
					c.Connections().AllowTo(hub, awsec2.Port_Tcp(jsii.Number(float64(port))),
						jsii.String(fmt.Sprintf("%s to %s %d", c.Profile().Name, hub.Profile().Name, port)))
				}
			}
		case profiles.PeerHubNodes:
			for _, c := range clients {
				for _, base := range f.Ports {
					port := hub.Port(base)
					d.hub.Connections().AllowFrom(c, awsec2.Port_Tcp(jsii.Number(float64(port))),
						jsii.String(fmt.Sprintf("control-plane nodes to each other %d", port)))
				}
			}
		}
	}

	// A2: Session Manager by default; SSH from the admin ranges when they are given.
	bp := &BastionProps{Network: d.network, AlarmTopic: d.alarms}
	overrideProps("BastionProps", bp, props.BastionProps, "Network")
	if bp.MachineImage == nil {
		bp.MachineImage = d.images.forInstanceType(bastionInstanceType(bp))
	}
	d.bastion = NewBastion(d, "Bastion", bp)
	for _, g := range d.Groups() {
		d.bastion.Connections().AllowTo(g, awsec2.Port_Tcp(jsii.Number(22)), jsii.String("bastion SSH"))
	}
	// A1: packs are updated on a schedule, staged and announced; a deploy that names a staged
	// version promotes it and rolls the groups onto it (PackVersions).
	up := &WumUpdaterProps{
		Network: d.network, PackBucket: d.packs, CredentialsSecret: d.credentials,
		Release: jsii.String(t.Version.String()),
	}
	overrideProps("UpdaterProps", up, props.UpdaterProps, "Network", "PackBucket", "CredentialsSecret", "Release", "Version")
	if up.MachineImage == nil {
		up.MachineImage = d.images.forInstanceType(updaterInstanceType(up))
	}
	d.updater = NewWumUpdater(d, "Updater", up)
	op := &ApimOperationsProps{
		AlarmTopic: d.alarms, LoadBalancer: d.lb, Groups: d.Groups(),
		TrafficManagers: d.tms, Database: d.database, Updater: d.updater,
	}
	overrideProps("OperationsProps", op, props.OperationsProps, "AlarmTopic", "LoadBalancer", "Groups", "TrafficManagers", "Database", "Updater")
	d.operations = NewApimOperations(d, "Operations", op)
	awscdk.NewCfnOutput(d, jsii.String("BastionSessionDocument"), &awscdk.CfnOutputProps{
		Value:       d.bastion.SessionDocumentName(),
		Description: jsii.String("aws ssm start-session --target <bastion instance> --document-name <this>"),
	})
	awscdk.NewCfnOutput(d, jsii.String("BastionSessionPolicyArn"), &awscdk.CfnOutputProps{
		Value:       d.bastion.SessionPolicy().ManagedPolicyArn(),
		Description: jsii.String("Attach to the operators' roles: sessions to the bastion through the logged document only"),
	})
	awscdk.NewCfnOutput(d, jsii.String("LoadBalancerDns"), &awscdk.CfnOutputProps{
		Value:       d.lb.DNSName(),
		Description: jsii.String("Point the portal and gateway host names here (CNAME or alias)"),
	})
}

// zoneNameOf is the private zone the internal names are published in.
func zoneNameOf(props *ApimDeploymentProps) string {
	if props.ExistingZone != nil {
		return strings.TrimSuffix(*props.ExistingZone.ZoneName(), ".")
	}
	if props.ZoneName != nil {
		return strings.TrimSuffix(strings.ToLower(*props.ZoneName), ".")
	}
	return "apim.internal"
}

func displayName(p profiles.Name) string {
	return map[profiles.Name]string{profiles.Gateway: "gateway", profiles.Publisher: "publisher", profiles.KeyManager: "key manager",
		profiles.DevPortal: "developer portal", profiles.ControlPlane: "control plane", profiles.TrafficManager: "traffic manager"}[p]
}

// groupsOf returns the groups running profile p: both traffic managers for TrafficManager.
func (d *ApimDeployment) groupsOf(p profiles.Name) []*ProfileAsg {
	if p == profiles.TrafficManager {
		return d.tms.Groups()
	}
	return []*ProfileAsg{d.groups[p]}
}

func connectables(groups []*ProfileAsg) []awsec2.IConnectable {
	out := make([]awsec2.IConnectable, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	return out
}

// overrideProps sets every field src gives (non-zero) on dst, both pointers to the same props
// struct, descending into embedded structs such as NodeOptions; a field in owned, which the
// deployment sets itself, is refused with a message naming it.
func overrideProps(prop string, dst, src any, owned ...string) {
	sv := reflect.ValueOf(src)
	if sv.IsNil() {
		return
	}
	merge(prop, reflect.ValueOf(dst).Elem(), sv.Elem(), owned)
}

func merge(prop string, dst, src reflect.Value, owned []string) {
	for i := range src.NumField() {
		f := src.Type().Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			merge(prop, dst.Field(i), src.Field(i), owned)
			continue
		}
		if src.Field(i).IsZero() {
			continue
		}
		if slices.Contains(owned, f.Name) {
			propsError(deploymentName, "%s.%s is set by the deployment, which wires its parts together; leave it out "+
				"(to change it, compose the constructs yourself)", prop, f.Name)
		}
		dst.Field(i).Set(src.Field(i))
	}
}

// Network returns the deployment's network.
func (d *ApimDeployment) Network() *ApimNetwork { return d.network }

// Database returns the deployment's database.
func (d *ApimDeployment) Database() *ApimDatabase { return d.database }

// Keystore returns the deployment's own keystore, or nil when KeystoreSecret or UsePackKeystore
// was given.
func (d *ApimDeployment) Keystore() *ApimKeystore { return d.keystore }

// KeystoreSecret returns the secret every node takes its keystore from, or nil with
// UsePackKeystore.
func (d *ApimDeployment) KeystoreSecret() awssecretsmanager.ISecret { return d.keystoreSecret }

// PackBucket returns the bucket of the packs and the JDBC driver.
func (d *ApimDeployment) PackBucket() awss3.IBucket { return d.packs }

// PackPromoter returns the promoter, the only principal that writes the packs nodes install.
func (d *ApimDeployment) PackPromoter() *PackPromoter { return d.promoter }

// PinnedPacks returns the packs the nodes install, by pack home, and the JDBC driver, as this
// deploy promoted them.
func (d *ApimDeployment) PinnedPacks() (map[string]*PinnedObject, *PinnedObject) {
	out := map[string]*PinnedObject{}
	for k, v := range d.pins {
		out[k] = v
	}
	return out, d.driver
}

// packHomes are the pack homes a release installs, in the layout's order.
func packHomes(v profiles.Version) []string {
	layout, _ := profiles.Layout(v)
	var homes []string
	for _, p := range layout {
		pack, _ := profiles.PackOf(v, p.Name)
		if !slices.Contains(homes, pack.Home) {
			homes = append(homes, pack.Home)
		}
	}
	return homes
}

// AlarmTopic returns the topic every alarm notifies.
func (d *ApimDeployment) AlarmTopic() awssns.ITopic { return d.alarms }

// AdminSecret returns the super admin's secret.
func (d *ApimDeployment) AdminSecret() awssecretsmanager.ISecret { return d.admin }

// UpdateCredentials returns the secret the updater signs in to WSO2 with.
func (d *ApimDeployment) UpdateCredentials() awssecretsmanager.ISecret { return d.credentials }

// TrafficManagers returns the traffic-manager pair.
func (d *ApimDeployment) TrafficManagers() *TrafficManagerPair { return d.tms }

// Profile returns the group running profile p, or nil when the release has none.
func (d *ApimDeployment) Profile(p profiles.Name) *ProfileAsg { return d.groups[p] }

// Groups returns every WSO2 group in a stable order: the release's profiles, then tm1 and tm2.
func (d *ApimDeployment) Groups() []*ProfileAsg {
	var out []*ProfileAsg
	for _, n := range []profiles.Name{profiles.ControlPlane, profiles.Publisher, profiles.DevPortal, profiles.KeyManager, profiles.Gateway} {
		if g, ok := d.groups[n]; ok {
			out = append(out, g)
		}
	}
	return append(out, d.tms.Groups()...)
}

// HubEndpoint returns the internal endpoint of the hub (the 4.x control plane, the 3.2 key
// manager).
func (d *ApimDeployment) HubEndpoint() *ApimInternalEndpoint { return d.hub }

// LoadBalancer returns the public load balancer.
func (d *ApimDeployment) LoadBalancer() *ApimLoadBalancer { return d.lb }

// Bastion returns the bastion.
func (d *ApimDeployment) Bastion() *Bastion { return d.bastion }

// Updater returns the pack updater.
func (d *ApimDeployment) Updater() *WumUpdater { return d.updater }

// Operations returns the dashboard and alarms.
func (d *ApimDeployment) Operations() *ApimOperations { return d.operations }

// Topology returns the release's topology the deployment is wired from.
func (d *ApimDeployment) Topology() profiles.Topology { return d.topology }
