// Package refarch composes the library's constructs into the reference deployment of WSO2 API
// Manager on AWS. The runnable app in apps/reference calls it; the tests in test/ call it too, so
// what they check is exactly what an operator deploys.
package refarch

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
)

// Context keys the app reads (cdk.json, or -c key=value on the command line).
const (
	CtxAccount     = "account"
	CtxRegion      = "region"
	CtxAzs         = "azs"
	CtxVpcCidr     = "vpcCidr"
	CtxAdminSSH    = "adminSshCidrs"
	CtxSingleNat   = "singleNatGateway"
	CtxEndpoints   = "interfaceEndpoints"
	CtxStackPrefix = "stackPrefix"
	CtxPackBucket  = "packBucket"
	CtxPackKey     = "packKey"
	CtxPackKeyArn  = "packBucketKeyArn"
	CtxCertificate = "certificateArn"
	CtxPortalHost  = "portalHostname"
	CtxGatewayHost = "gatewayHostname"
	CtxVersion     = "apimVersion"
	CtxZone        = "internalZone"
	CtxLayout      = "layout"
	CtxMysql       = "mysqlVersion"
	CtxMysqlES     = "mysqlExtendedSupport"
	CtxKeystore    = "keystoreSecretArn"
	CtxPasswordRev = "appPasswordRevision"
	DefaultRegion  = "us-west-1"
	DefaultPrefix  = "apim"
)

// Config is what the reference deployment can be told from the CDK context. The zero value of a
// field means its default.
type Config struct {
	// Account is the AWS account to deploy to. Default: environment-agnostic; the account of the
	// credentials `cdk deploy` runs with.
	Account string
	// Region to deploy to. Default: us-west-1, the article's region.
	Region string
	// Azs are the availability zones to span. Default: the article's us-west-1b and us-west-1c
	// (with another region, its zones b and c).
	Azs []string
	// VpcCidr is the VPC block. Default: 10.0.0.0/16.
	VpcCidr string
	// AdminSSH lists admin ranges allowed to reach a bastion over SSH. Default: none.
	AdminSSH []string
	// SingleNat uses one NAT gateway instead of one per zone. Default: false.
	SingleNat bool
	// InterfaceEndpoints adds the recommended interface endpoints. Default: true.
	InterfaceEndpoints bool
	// StackPrefix starts every stack name. Default: apim.
	StackPrefix string
	// PackBucket is an existing bucket holding the packs and the JDBC driver. Default: a bucket
	// the app creates (in the Data stack).
	PackBucket string
	// PackBucketKeyArn is the KMS key an existing PackBucket encrypts its objects with, which
	// the nodes, the schema function and the updater are then allowed to use through S3.
	// Default: none (SSE-S3).
	PackBucketKeyArn string
	// PackKey is the WSO2 product pack (a zip in the pack bucket) whose schema scripts
	// initialise the database. Default: none; the databases and user are created, and the
	// schema is loaded by a later deploy that names the pack.
	PackKey string
	// CertificateArn is the ACM certificate of the public host names. Default: a placeholder
	// that synthesizes but does not deploy.
	CertificateArn string
	// PortalHostname and GatewayHostname are the public names. Default: portal.apim.example.com
	// and api.apim.example.com.
	PortalHostname, GatewayHostname string
	// Version is the WSO2 API Manager release. Default: 4.3.0.
	Version string
	// Zone is the private DNS zone of the internal node names. Default: apim.internal.
	Zone string
	// Layout is the deployment's shape: Layout4x (control plane, gateways, traffic managers) or
	// Layout32 (the article's publisher, developer portal, key manager, gateways, traffic
	// managers). Default: Layout4x.
	Layout string
	// MysqlVersion is the database's MySQL version, 8.0.x or 8.4.x. Default: wso2.DefaultMysqlVersion.
	MysqlVersion string
	// MysqlExtendedSupport is ApimDatabaseProps.ExtendedSupport, nil when not given.
	MysqlExtendedSupport *bool
	// KeystoreSecretArn is the complete ARN of the deployment's keystore secret
	// (ProfileAsgProps.KeystoreSecret). Default: none, the pack's keystore.
	KeystoreSecretArn string
	// AppPasswordRevision, when changed, makes the next deploy set the WSO2 user's password to
	// the application secret's (ApimDatabaseProps.AppPasswordRevision). Default: none.
	AppPasswordRevision string
}

var secretArn = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)

var mysqlVersion = regexp.MustCompile(`^8\.(0|4)\.\d+$`)

var kmsKeyArn = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$`)

// The layouts the reference app can deploy.
const (
	Layout4x = "4.x"
	Layout32 = "3.2"
)

// PlaceholderCertificateArn lets the app synthesize without a certificate; a deploy needs a real
// one (-c certificateArn=...).
const PlaceholderCertificateArn = "arn:aws:acm:us-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"

// ConfigFromContext reads the Config from the app's context, applying defaults.
func ConfigFromContext(node constructs.Node) (Config, error) {
	c := Config{
		Account:             str(node, CtxAccount),
		Region:              str(node, CtxRegion),
		VpcCidr:             str(node, CtxVpcCidr),
		StackPrefix:         str(node, CtxStackPrefix),
		PackBucket:          str(node, CtxPackBucket),
		PackKey:             str(node, CtxPackKey),
		PackBucketKeyArn:    str(node, CtxPackKeyArn),
		CertificateArn:      str(node, CtxCertificate),
		PortalHostname:      str(node, CtxPortalHost),
		GatewayHostname:     str(node, CtxGatewayHost),
		Version:             str(node, CtxVersion),
		Zone:                str(node, CtxZone),
		Layout:              str(node, CtxLayout),
		MysqlVersion:        str(node, CtxMysql),
		KeystoreSecretArn:   str(node, CtxKeystore),
		AppPasswordRevision: str(node, CtxPasswordRev),
		InterfaceEndpoints:  true,
	}
	if c.KeystoreSecretArn != "" && !secretArn.MatchString(c.KeystoreSecretArn) {
		return c, fmt.Errorf("context %q is %q: give the secret's complete ARN, ending in its six-character suffix", CtxKeystore, c.KeystoreSecretArn)
	}
	if c.MysqlVersion != "" && !mysqlVersion.MatchString(c.MysqlVersion) {
		return c, fmt.Errorf("context %q is %q: give a MySQL 8.0 or 8.4 release, such as 8.4.7", CtxMysql, c.MysqlVersion)
	}
	if c.PackBucketKeyArn != "" && c.PackBucket == "" {
		return c, fmt.Errorf("context %q needs %q: it is the key of an existing bucket (the app's own bucket brings its key)", CtxPackKeyArn, CtxPackBucket)
	}
	if c.PackBucketKeyArn != "" && !kmsKeyArn.MatchString(c.PackBucketKeyArn) {
		return c, fmt.Errorf("context %q is %q: give the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias", CtxPackKeyArn, c.PackBucketKeyArn)
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.KeystoreSecretArn != "" {
		if region := strings.Split(c.KeystoreSecretArn, ":")[3]; region != c.Region {
			return c, fmt.Errorf("context %q names a secret in %s: the nodes read it in their own region, %s", CtxKeystore, region, c.Region)
		}
	}
	if c.StackPrefix == "" {
		c.StackPrefix = DefaultPrefix
	}
	switch c.Layout {
	case "", Layout4x:
		c.Layout = Layout4x
	case Layout32:
		if c.Version == "" {
			c.Version = "3.2.0"
		}
	default:
		return c, fmt.Errorf("context %q is %q: use %q or %q", CtxLayout, c.Layout, Layout4x, Layout32)
	}
	defaults := map[*string]string{
		&c.CertificateArn: PlaceholderCertificateArn, &c.PortalHostname: "portal.apim.example.com",
		&c.GatewayHostname: "api.apim.example.com", &c.Version: wso2.DefaultApimVersion, &c.Zone: "apim.internal",
	}
	for field, def := range defaults {
		if *field == "" {
			*field = def
		}
	}
	c.Azs = list(node, CtxAzs)
	if len(c.Azs) == 0 {
		c.Azs = []string{c.Region + "b", c.Region + "c"}
	}
	c.AdminSSH = list(node, CtxAdminSSH)
	var err error
	if c.SingleNat, err = boolean(node, CtxSingleNat, false); err != nil {
		return c, err
	}
	if c.InterfaceEndpoints, err = boolean(node, CtxEndpoints, true); err != nil {
		return c, err
	}
	if node.TryGetContext(jsii.String(CtxMysqlES)) != nil {
		es, err := boolean(node, CtxMysqlES, true)
		if err != nil {
			return c, err
		}
		c.MysqlExtendedSupport = &es
	}
	return c, nil
}

// Deployment is the built reference deployment.
type Deployment struct {
	NetworkStack awscdk.Stack
	Network      *wso2.ApimNetwork
	// DataStack holds the state: it is termination-protected.
	DataStack awscdk.Stack
	Database  *wso2.ApimDatabase
	// AlarmTopic receives every alarm; subscribe to it.
	AlarmTopic awssns.ITopic
	// PackBucket holds the WSO2 packs and the JDBC driver the nodes install.
	PackBucket awss3.IBucket
	// AdminSecret holds the WSO2 super admin's password.
	AdminSecret awssecretsmanager.ISecret
	// AppStack holds the WSO2 nodes and the load balancer.
	AppStack awscdk.Stack
	// Profiles are the layout's groups by profile; ControlPlane (4.x only) and Gateway are two of them.
	Profiles        map[profiles.Name]*wso2.ProfileAsg
	ControlPlane    *wso2.ProfileAsg
	Gateway         *wso2.ProfileAsg
	TrafficManagers *wso2.TrafficManagerPair
	// HubEndpoint publishes the control plane's (3.2: key manager's) internal name.
	HubEndpoint *wso2.ApimInternalEndpoint
	Bastion     *wso2.Bastion
	Updater     *wso2.WumUpdater
	// Operations is the dashboard and the alarms an operator watches.
	Operations *wso2.ApimOperations
	// UpdateCredentials holds the WSO2 subscription the updater signs in with.
	UpdateCredentials awssecretsmanager.ISecret
	LoadBalancer      *wso2.ApimLoadBalancer
}

// Stacks returns every stack of the deployment.
func (d *Deployment) Stacks() []awscdk.Stack {
	return []awscdk.Stack{d.NetworkStack, d.DataStack, d.AppStack}
}

// New adds the reference deployment to app, with the cdk-nag AwsSolutions checks applied to it.
func New(app awscdk.App, c Config) *Deployment {
	env := &awscdk.Environment{Region: jsii.String(c.Region)}
	if c.Account != "" {
		env.Account = jsii.String(c.Account)
	}
	d := &Deployment{}
	d.NetworkStack = awscdk.NewStack(app, jsii.String("Network"), &awscdk.StackProps{
		Env:         env,
		StackName:   jsii.String(c.StackPrefix + "-network"),
		Description: jsii.String("WSO2 API Manager reference deployment: VPC, subnet tiers, NAT, network ACLs, flow logs, endpoints"),
	})
	props := &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings(c.Azs...),
		SingleNatGateway:  jsii.Bool(c.SingleNat),
	}
	if c.VpcCidr != "" {
		props.Cidr = jsii.String(c.VpcCidr)
	}
	if len(c.AdminSSH) > 0 {
		props.AdminSshCidrs = jsii.Strings(c.AdminSSH...)
	}
	if c.InterfaceEndpoints {
		props.InterfaceEndpoints = wso2.RecommendedInterfaceEndpoints()
	}
	d.Network = wso2.NewApimNetwork(d.NetworkStack, "Network", props)

	d.DataStack = awscdk.NewStack(app, jsii.String("Data"), &awscdk.StackProps{
		Env:                   env,
		StackName:             jsii.String(c.StackPrefix + "-data"),
		Description:           jsii.String("WSO2 API Manager reference deployment: MySQL on RDS (Multi-AZ), its secrets and schema"),
		TerminationProtection: jsii.Bool(true),
	})
	d.AlarmTopic = wso2.NewAlarmTopic(d.DataStack, "Alarms", nil)
	if c.PackBucket != "" {
		attrs := &awss3.BucketAttributes{BucketName: jsii.String(c.PackBucket)}
		if c.PackBucketKeyArn != "" {
			attrs.EncryptionKey = awskms.Key_FromKeyArn(d.DataStack, jsii.String("PackBucketKey"), jsii.String(c.PackBucketKeyArn))
		}
		d.PackBucket = awss3.Bucket_FromBucketAttributes(d.DataStack, jsii.String("PackBucket"), attrs)
	} else {
		d.PackBucket = wso2.NewPackBucket(d.DataStack, "Packs")
	}
	dbProps := &wso2.ApimDatabaseProps{Network: d.Network, AlarmTopic: d.AlarmTopic, ExtendedSupport: c.MysqlExtendedSupport}
	if c.AppPasswordRevision != "" {
		dbProps.AppPasswordRevision = jsii.String(c.AppPasswordRevision)
	}
	if c.MysqlVersion != "" {
		dbProps.EngineVersion = awsrds.MysqlEngineVersion_Of(jsii.String(c.MysqlVersion), jsii.String(c.MysqlVersion[:3]))
	}
	if c.PackKey != "" {
		dbProps.Pack = &wso2.SchemaPack{Bucket: d.PackBucket, Key: jsii.String(c.PackKey)}
	}
	d.Database = wso2.NewApimDatabase(d.DataStack, "Database", dbProps)
	d.AdminSecret = wso2.NewAdminSecret(d.DataStack, "AdminSecret", d.Database.EncryptionKey())
	d.UpdateCredentials = wso2.NewUpdateCredentials(d.DataStack, "UpdateCredentials", d.Database.EncryptionKey())
	// What an operator acts on after the first deploy: upload the packs, subscribe, store the
	// WSO2 subscription.
	for _, out := range []struct{ id, value, what string }{
		{"PackBucketName", *d.PackBucket.BucketName(), "bucket of the WSO2 packs and the JDBC driver"},
		{"AlarmTopicArn", *d.AlarmTopic.TopicArn(), "topic every alarm notifies: subscribe to it"},
		{"UpdateCredentialsArn", *d.UpdateCredentials.SecretArn(), "secret to put the WSO2 subscription's username and password in"},
	} {
		awscdk.NewCfnOutput(d.DataStack, jsii.String(out.id), &awscdk.CfnOutputProps{Value: jsii.String(out.value), Description: jsii.String(out.what)})
	}

	d.AppStack = awscdk.NewStack(app, jsii.String("Application"), &awscdk.StackProps{
		Env:         env,
		StackName:   jsii.String(c.StackPrefix + "-app"),
		Description: jsii.String("WSO2 API Manager reference deployment: control plane and gateway groups, public load balancer"),
	})
	d.addNodes(c)

	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return d
}

// addNodes adds the WSO2 nodes of the chosen layout behind the load balancer, the traffic
// managers (whose names and throttling configuration the others get from the pair), the bastion
// and the updater, and grants the flows of §3 of the reference architecture.
func (d *Deployment) addNodes(c Config) {
	// The node serving key management and the event hub: the 4.x control plane, the 3.2 key
	// manager. Its internal name is published by an ApimInternalEndpoint in the pair's zone.
	hubLabel := "cp"
	if c.Layout == Layout32 {
		hubLabel = "km"
	}
	hubName := hubLabel + "." + c.Zone
	service := profiles.Node{Host: hubName}
	controlPlane := []profiles.Node{service}
	// The 4.x control plane keeps one node per zone, each named for its zone (cp1, cp2, ...)
	// through the hub endpoint, so its event hubs duplicate events to each other and every client
	// listens to each; its services keep the one name for the group.
	var zonalLabels []string
	if c.Layout != Layout32 {
		controlPlane = nil
		for i := range d.Network.AvailabilityZones() {
			label := fmt.Sprintf("%s%d", hubLabel, i+1)
			zonalLabels = append(zonalLabels, label)
			controlPlane = append(controlPlane, profiles.Node{Host: label + "." + c.Zone})
		}
	}
	var keystore awssecretsmanager.ISecret
	if c.KeystoreSecretArn != "" {
		keystore = awssecretsmanager.Secret_FromSecretCompleteArn(d.AppStack, jsii.String("Keystore"), jsii.String(c.KeystoreSecretArn))
	}
	d.TrafficManagers = wso2.NewTrafficManagerPair(d.AppStack, "TrafficManagers", &wso2.TrafficManagerPairProps{
		Network: d.Network, Version: jsii.String(c.Version), ZoneName: jsii.String(c.Zone),
		Database: d.Database, AdminSecret: d.AdminSecret, PackBucket: d.PackBucket, KeystoreSecret: keystore,
		ControlPlane: controlPlane, ControlPlaneService: &service, AlarmTopic: d.AlarmTopic, NotificationTopic: d.AlarmTopic,
	})
	node := func(id string, p profiles.Name) *wso2.ProfileAsg {
		wiring := &wso2.NodeWiring{
			PortalHostname:      jsii.String(c.PortalHostname),
			GatewayHostname:     jsii.String(c.GatewayHostname),
			ControlPlane:        controlPlane,
			ControlPlaneService: &service,
			TrafficManagers:     d.TrafficManagers.Nodes(),
			WebSocketOnHttps:    jsii.Bool(true), // the gateway route below serves WebSocket
		}
		if p == profiles.KeyManager {
			wiring.Hostname = jsii.String(hubName) // not exposed: it goes by its internal name
		}
		if p == profiles.ControlPlane {
			wiring.SelfByZone = controlPlane
		}
		g := wso2.NewProfileAsg(d.AppStack, id, &wso2.ProfileAsgProps{
			Network: d.Network, Profile: p, Version: jsii.String(c.Version),
			Wiring:   wiring,
			Database: d.Database, AdminSecret: d.AdminSecret, PackBucket: d.PackBucket,
			NotificationTopic: d.AlarmTopic, KeystoreSecret: keystore,
		})
		d.Profiles[p] = g
		return g
	}
	d.Profiles = map[profiles.Name]*wso2.ProfileAsg{}
	portal, api := jsii.String(c.PortalHostname), jsii.String(c.GatewayHostname)
	var hub *wso2.ProfileAsg
	var hubClients, tmClients, tmPublishers []*wso2.ProfileAsg
	var routes []wso2.LoadBalancedProfile
	if c.Layout == Layout32 {
		publisher := node("Publisher", profiles.Publisher)
		devportal := node("DevPortal", profiles.DevPortal)
		hub = node("KeyManager", profiles.KeyManager)
		d.Gateway = node("Gateway", profiles.Gateway)
		hubClients = []*wso2.ProfileAsg{d.Gateway, publisher, devportal}
		// 3.2's traffic managers are the event hub: the portals and the key manager publish
		// their events there. The portals also listen on their brokers (key-manager changes,
		// apim.key_manager.enable_retriever); the key manager only publishes.
		tmClients = []*wso2.ProfileAsg{d.Gateway, publisher, devportal}
		tmPublishers = []*wso2.ProfileAsg{hub}
		routes = []wso2.LoadBalancedProfile{
			{Profile: publisher, Hostname: portal, Sticky: jsii.Bool(true),
				PathPatterns: jsii.Strings("/publisher*", "/api/am/publisher*", "/admin*")},
			{Profile: devportal, Hostname: portal, Sticky: jsii.Bool(true)},
			{Profile: d.Gateway, Hostname: api, RequestsPerTarget: jsii.Number(3000), WebSocket: jsii.Bool(true)},
			// The management console (/carbon) is not routed: the load balancer refuses it
			// (BlockedPaths), and admins reach it from inside (Session Manager port forwarding).
		}
	} else {
		d.ControlPlane = node("ControlPlane", profiles.ControlPlane)
		d.Gateway = node("Gateway", profiles.Gateway)
		hub = d.ControlPlane
		hubClients = []*wso2.ProfileAsg{d.Gateway}
		tmClients = []*wso2.ProfileAsg{d.Gateway, d.ControlPlane}
		routes = []wso2.LoadBalancedProfile{
			{Profile: d.ControlPlane, Hostname: portal, Sticky: jsii.Bool(true)},
			{Profile: d.Gateway, Hostname: api, RequestsPerTarget: jsii.Number(3000), WebSocket: jsii.Bool(true)},
		}
	}
	connectables := func(groups []*wso2.ProfileAsg) []awsec2.IConnectable {
		out := make([]awsec2.IConnectable, 0, len(groups))
		for _, g := range groups {
			out = append(out, g)
		}
		return out
	}
	d.TrafficManagers.GrantAccessFrom(connectables(tmClients)...)
	d.TrafficManagers.GrantPublishFrom(connectables(tmPublishers)...)
	if c.Layout == Layout32 {
		// 3.2 calls tm1's services: gateways fetch the publisher's API artifacts from its
		// internal data service (their [apim.throttling] service_url), the publisher deploys
		// throttling policies through its admin services, and the key manager announces revoked
		// tokens to it.
		tm1 := d.TrafficManagers.Groups()[0]
		port := tm1.Port(profiles.PortServletHTTPS)
		for _, c := range []struct {
			client *wso2.ProfileAsg
			why    string
		}{
			{d.Gateway, "gateway to tm1 %d: API artifacts"},
			{d.Profiles[profiles.Publisher], "publisher to tm1 %d: throttling policies"},
			{d.Profiles[profiles.KeyManager], "key manager to tm1 %d: revoked tokens"},
		} {
			c.client.Connections().AllowTo(tm1, awsec2.Port_Tcp(jsii.Number(float64(port))), jsii.String(fmt.Sprintf(c.why, port)))
		}
	}
	awscdk.NewCfnOutput(d.AppStack, jsii.String("ReceiverUrlGroup"), &awscdk.CfnOutputProps{
		Value:       jsii.String(d.TrafficManagers.ReceiverUrlGroup()),
		Description: jsii.String("APIM 2.x/3.x api-manager.xml <ReceiverUrlGroup> for these traffic managers"),
	})
	awscdk.NewCfnOutput(d.AppStack, jsii.String("AuthUrlGroup"), &awscdk.CfnOutputProps{
		Value:       jsii.String(d.TrafficManagers.AuthUrlGroup()),
		Description: jsii.String("APIM 2.x/3.x api-manager.xml <AuthUrlGroup> for these traffic managers"),
	})
	lbProps := &wso2.ApimLoadBalancerProps{
		Network: d.Network, CertificateArn: jsii.String(c.CertificateArn), Routes: routes,
	}
	if c.Layout == Layout32 {
		// 3.2's account recovery and self sign-up call the node's own admin services through
		// its public name (identity.server.service.contextURL, which 3.2 sets from no
		// deployment.toml key): refusing /services* there would break them.
		lbProps.BlockedPaths = jsii.Strings(slices.DeleteFunc(wso2.DefaultBlockedPaths(), func(p string) bool { return p == "/services*" })...)
	}
	d.LoadBalancer = wso2.NewApimLoadBalancer(d.AppStack, "LoadBalancer", lbProps)
	// §3: key validation and the event hub; the traffic managers report to the hub too. Clients
	// reach the hub through its internal endpoint (the name their configuration carries), and
	// directly, for the per-node event-listening endpoints of a control plane with several nodes.
	// The endpoint forwards the ports the hub listens on (the 3.2 key manager has no JMS broker:
	// the traffic managers carry the events there); the direct rules open the same ones.
	endpointProps := &wso2.ApimInternalEndpointProps{
		Network: d.Network, Target: hub, Zone: d.TrafficManagers.Zone(), RecordName: jsii.String(hubLabel),
		AccessLogBucket: d.LoadBalancer.AccessLogBucket(), ZonalRecordNames: zonalLabels,
	}
	if len(zonalLabels) > 0 {
		// The control-plane nodes publish to each other's binary receivers too.
		endpointProps.Ports = []int{profiles.PortServletHTTPS, profiles.PortJMS, profiles.PortBinary, profiles.PortBinaryAuth}
	}
	d.HubEndpoint = wso2.NewApimInternalEndpoint(d.AppStack, "HubEndpoint", endpointProps)
	if len(zonalLabels) > 0 {
		if got := d.HubEndpoint.ZonalNodes(); fmt.Sprint(got) != fmt.Sprint(controlPlane) {
			panic(fmt.Sprintf("refarch: the hub endpoint names %v, the nodes were told %v", got, controlPlane))
		}
		// Each control-plane node duplicates events to the others' brokers and publishes to
		// their binary receivers, through its peers' zonal names.
		for _, base := range []int{profiles.PortJMS, profiles.PortBinary, profiles.PortBinaryAuth} {
			port := hub.Port(base)
			d.HubEndpoint.Connections().AllowFrom(hub, awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("control-plane nodes to each other %d", port)))
		}
	}
	for _, client := range append(hubClients, d.TrafficManagers.Groups()...) {
		for _, port := range d.HubEndpoint.Ports() {
			if port == hub.Port(profiles.PortBinary) || port == hub.Port(profiles.PortBinaryAuth) {
				continue // the control plane's own peers only (above)
			}
			d.HubEndpoint.Connections().AllowFrom(client, awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("to the %s internal endpoint %d", d.HubEndpoint.Hostname(), port)))
			client.Connections().AllowTo(hub, awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("%s to %s %d", client.Profile().Name, hub.Profile().Name, port)))
		}
	}

	// A2: Session Manager by default; SSH from the admin ranges when they are given.
	bastionProps := &wso2.BastionProps{Network: d.Network, AlarmTopic: d.AlarmTopic}
	if len(c.AdminSSH) > 0 {
		bastionProps.SshFrom = jsii.Strings(c.AdminSSH...)
	}
	d.Bastion = wso2.NewBastion(d.AppStack, "Bastion", bastionProps)
	var scalable []constructs.IConstruct
	for _, g := range d.Nodes() {
		d.Bastion.Connections().AllowTo(g, awsec2.Port_Tcp(jsii.Number(22)), jsii.String("bastion SSH"))
		if g.Profile().Scalable {
			scalable = append(scalable, g)
		}
	}
	// A1: packs are updated on a schedule, announced, and rolled out to the scalable profiles,
	// then to tm1 and, once it is back, tm2.
	refresh := scalable
	for _, tm := range d.TrafficManagers.Groups() {
		refresh = append(refresh, tm)
	}
	d.Updater = wso2.NewWumUpdater(d.AppStack, "Updater", &wso2.WumUpdaterProps{
		Network: d.Network, PackBucket: d.PackBucket, CredentialsSecret: d.UpdateCredentials,
		Version: jsii.String(c.Version), RefreshTargets: refresh,
	})
	d.Operations = wso2.NewApimOperations(d.AppStack, "Operations", &wso2.ApimOperationsProps{
		AlarmTopic: d.AlarmTopic, LoadBalancer: d.LoadBalancer, Groups: d.Nodes(),
		TrafficManagers: d.TrafficManagers, Database: d.Database, Updater: d.Updater,
		DashboardName: jsii.String(c.StackPrefix + "-operations"),
	})
	awscdk.NewCfnOutput(d.AppStack, jsii.String("BastionSessionDocument"), &awscdk.CfnOutputProps{
		Value:       d.Bastion.SessionDocumentName(),
		Description: jsii.String("aws ssm start-session --target <bastion instance> --document-name <this>"),
	})
	awscdk.NewCfnOutput(d.AppStack, jsii.String("LoadBalancerDns"), &awscdk.CfnOutputProps{
		Value:       d.LoadBalancer.DnsName(),
		Description: jsii.String("Point the portal and gateway host names here (CNAME or alias)"),
	})
}

// Nodes returns every WSO2 group of the deployment, in a stable order: the layout's profiles,
// then tm1 and tm2.
func (d *Deployment) Nodes() []*wso2.ProfileAsg {
	var out []*wso2.ProfileAsg
	for _, n := range []profiles.Name{profiles.ControlPlane, profiles.Publisher, profiles.DevPortal, profiles.KeyManager, profiles.Gateway} {
		if g, ok := d.Profiles[n]; ok {
			out = append(out, g)
		}
	}
	return append(out, d.TrafficManagers.Groups()...)
}

func str(node constructs.Node, key string) string {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case string:
		return strings.TrimSpace(v)
	case float64: // a number in cdk.json, such as a revision
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// list reads a context value given either as a JSON array (cdk.json) or as a comma-separated
// string (-c key=a,b on the command line).
func list(node constructs.Node, key string) []string {
	var raw []string
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case string:
		raw = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			raw = append(raw, fmt.Sprint(e))
		}
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func boolean(node constructs.Node, key string, def bool) (bool, error) {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("context %q must be true or false", key)
}
