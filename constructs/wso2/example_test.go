package wso2_test

// The examples the documentation shows: each Go block of README.md and docs/ is the body of one of
// these functions (test/doccheck holds the two together), so `go vet` and `go test` compile what a
// reader copies. They are compiled, not run, except ExampleTrafficManagerPair, which builds a
// whole hand-composed deployment (no synth) to show the order of the calls works.

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
)

func ExampleApimNetwork() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Network"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones:  jsii.Strings("us-west-1b", "us-west-1c"),
		InterfaceEndpoints: wso2.RecommendedInterfaceEndpoints(),
	})

	network.Subnets(wso2.TierApplication)                   // every WSO2 node's subnets
	network.SubnetsInAz(wso2.TierApplication, "us-west-1c") // pin one node (a traffic manager) to one zone
}

func ExampleApimDatabase() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Data"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	packs := wso2.NewPackBucket(stack, "Packs")
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{
		Network: network,
		Pack:    &wso2.SchemaPack{Bucket: packs, Key: jsii.String("packs/wso2am-4.3.0.zip")},
	})

	// WSO2 nodes (ProfileAsg) grant themselves the port and the secret. Anything else is
	// granted by intent, such as a team's schema-migration job in the management tier:
	migrations := awsec2.NewSecurityGroup(stack, jsii.String("Migrations"), &awsec2.SecurityGroupProps{Vpc: network.Vpc()})
	role := awsiam.NewRole(stack, jsii.String("MigrationsRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	db.Connections().AllowDefaultPortFrom(migrations, jsii.String("schema migrations"))
	db.GrantReadAppSecret(role) // the WSO2 user's password
}

func ExampleApimKeystore() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Data"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	keystore := wso2.NewApimKeystore(stack, "Keystore", &wso2.ApimKeystoreProps{
		Network:   network,
		HostNames: []string{"*.apim.internal", "portal.example.com", "api.example.com"},
	})
	_ = keystore.Secret() // ProfileAsgProps.KeystoreSecret and TrafficManagerPairProps.KeystoreSecret
}

func ExampleProfileAsg() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: network})
	packs := wso2.NewPackBucket(stack, "Packs")
	admin := wso2.NewAdminSecret(stack, "Admin", db.EncryptionKey())
	keystore := wso2.NewApimKeystore(stack, "Keystore", &wso2.ApimKeystoreProps{
		Network: network, HostNames: []string{"*.apim.internal", "portal.example.com", "api.example.com"},
	})
	promoter := wso2.NewPackPromoter(stack, "PackPromoter", &wso2.PackPromoterProps{Network: network, Bucket: packs})
	pack := promoter.Promote(stack, "Pack", "packs/wso2am-4.3.0.zip", nil) // the newest staged version, kept
	driver := promoter.Promote(stack, "JdbcDriver", wso2.DefaultJdbcDriverKey, nil)
	wiring := &wso2.NodeWiring{
		PortalHostname: jsii.String("portal.example.com"), GatewayHostname: jsii.String("api.example.com"),
		ControlPlane:    []profiles.Node{{Host: "cp.apim.internal"}},
		TrafficManagers: []profiles.Node{{Host: "tm1.apim.internal"}, {Host: "tm2.apim.internal"}},
	}
	gateway := wso2.NewProfileAsg(stack, "Gateway", &wso2.ProfileAsgProps{
		Network: network, Profile: profiles.Gateway, Wiring: wiring,
		Database: db, AdminSecret: admin, PackBucket: packs, KeystoreSecret: keystore.Secret(),
		Pack: pack, JdbcDriver: driver,
		NodeOptions: wso2.NodeOptions{RootVolumeGiB: jsii.Number(50)},
		MinCapacity: jsii.Number(2), MaxCapacity: jsii.Number(6),
	})
	wso2.NewApimLoadBalancer(stack, "LoadBalancer", &wso2.ApimLoadBalancerProps{
		Network: network,
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"),
			jsii.String("arn:aws:acm:us-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555")),
		Routes: []wso2.LoadBalancedProfile{
			{Profile: gateway, Hostname: jsii.String("api.example.com"), WebSocket: jsii.Bool(true)},
		},
	})
	// The traffic managers and the control plane these names lead to are added as in the
	// TrafficManagerPair example; until then the app holds only part of a deployment.
}

// ExampleTrafficManagerPair composes a 4.x deployment from the constructs, as ApimDeployment
// does: the pair first, since the other nodes take its names and ports.
func ExampleTrafficManagerPair() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: network})
	packs := wso2.NewPackBucket(stack, "Packs")
	admin := wso2.NewAdminSecret(stack, "Admin", db.EncryptionKey())
	keystore := wso2.NewApimKeystore(stack, "Keystore", &wso2.ApimKeystoreProps{
		Network: network, HostNames: []string{"*.apim.internal", "portal.example.com", "api.example.com"},
	})
	// Nodes boot the pack and driver a deploy promoted from staging/, pinned by version and digest.
	promoter := wso2.NewPackPromoter(stack, "PackPromoter", &wso2.PackPromoterProps{Network: network, Bucket: packs})
	pack := promoter.Promote(stack, "Pack", "packs/wso2am-4.3.0.zip", nil) // the newest staged version, kept
	driver := promoter.Promote(stack, "JdbcDriver", wso2.DefaultJdbcDriverKey, nil)

	// The control plane: one node per zone, each named (cp1, cp2) so their event hubs reach
	// each other, and the group as a whole named cp.
	controlPlane := []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
	service := profiles.Node{Host: "cp.apim.internal"}

	tms := wso2.NewTrafficManagerPair(stack, "TrafficManagers", &wso2.TrafficManagerPairProps{
		Network: network, Database: db, AdminSecret: admin, PackBucket: packs, KeystoreSecret: keystore.Secret(),
		Pack: pack, JdbcDriver: driver, ControlPlane: controlPlane, ControlPlaneService: &service,
	})
	node := func(id string, profile profiles.Name, selfByZone []profiles.Node) *wso2.ProfileAsg {
		return wso2.NewProfileAsg(stack, id, &wso2.ProfileAsgProps{
			Network: network, Profile: profile, Database: db, AdminSecret: admin, PackBucket: packs,
			KeystoreSecret: keystore.Secret(), Pack: pack, JdbcDriver: driver,
			Wiring: &wso2.NodeWiring{
				PortalHostname: jsii.String("portal.example.com"), GatewayHostname: jsii.String("api.example.com"),
				ControlPlane: controlPlane, ControlPlaneService: &service,
				TrafficManagers: tms.Nodes(), // names and ports (offsets included) from the pair
				SelfByZone:      selfByZone,
			},
		})
	}
	cp := node("ControlPlane", profiles.ControlPlane, controlPlane)
	gateway := node("Gateway", profiles.Gateway, nil)
	hub := wso2.NewApimInternalEndpoint(stack, "Hub", &wso2.ApimInternalEndpointProps{
		Network: network, Target: cp, Zone: tms.Zone(), RecordName: jsii.String("cp"),
		ZonalRecordNames: []string{"cp1", "cp2"},
		// The control-plane nodes also call each other's event receivers through their names.
		Ports: []int{profiles.PortServletHTTPS, profiles.PortJMS, profiles.PortBinary, profiles.PortBinaryAuth},
	})
	tms.AllowFrom(gateway, cp)                                   // 9711 and the broker (+ offsets)
	hub.AllowFrom(gateway, cp, tms.Groups()[0], tms.Groups()[1]) // the control plane's services
	fmt.Println(hub.Hostname(), tms.Nodes()[0].Host, tms.Nodes()[1].Host)
	// Output: cp.apim.internal tm1.apim.internal tm2.apim.internal
}

// ExamplePackPromoter pins what nodes boot: a deploy promotes one staged version of a pack (and
// of the JDBC driver) and the nodes' launch templates carry its version id and SHA-256.
func ExamplePackPromoter() {
	app := awscdk.NewApp(nil)
	dataStack := awscdk.NewStack(app, jsii.String("Data"), nil)
	appStack := awscdk.NewStack(app, jsii.String("Application"), nil)
	network := wso2.NewApimNetwork(dataStack, "Network", &wso2.ApimNetworkProps{})
	packs := wso2.NewPackBucket(dataStack, "Packs")
	promoter := wso2.NewPackPromoter(dataStack, "PackPromoter", &wso2.PackPromoterProps{Network: network, Bucket: packs})
	// A named version of staging/packs/wso2am-4.3.0.zip; nil takes the newest at creation and keeps it.
	pack := promoter.Promote(appStack, "Pack", "packs/wso2am-4.3.0.zip", jsii.String("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"))
	_ = pack // ProfileAsgProps.Pack, TrafficManagerPairProps.Pack
}

func ExampleBastion() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	// Session Manager only: no inbound port. Grant it SSH to a node with
	// bastion.Connections().AllowTo(node, awsec2.Port_Tcp(jsii.Number(22)), ...).
	bastion := wso2.NewBastion(stack, "Bastion", &wso2.BastionProps{Network: network})
	_ = bastion.SessionDocumentName() // aws ssm start-session --document-name <this>
}

func ExampleWumUpdater() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("us-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c"),
	})
	packs := wso2.NewPackBucket(stack, "Packs")
	subscription := wso2.NewUpdateCredentials(stack, "UpdateCredentials", nil)
	wso2.NewWumUpdater(stack, "Updater", &wso2.WumUpdaterProps{
		Network: network, PackBucket: packs, CredentialsSecret: subscription,
		Release:  jsii.String("4.3.0"),
		Schedule: jsii.String("cron(0 2 ? * SAT *)"),
		// New packs are staged under staging/; a deploy that names one promotes it (PackPromoter).
	})
}

// Example_consumerApp is the README's consumer program: the network and the state in a stack of
// their own, deployed first, and the nodes in another; the schema is loaded once the pack is in
// the bucket (-c packKey=...). It runs (an empty Output), so the program as printed synthesizes.
func Example_consumerApp() {
	app := awscdk.NewApp(nil)
	env := &awscdk.Environment{Region: jsii.String("eu-west-1")}
	data := awscdk.NewStack(app, jsii.String("ApimData"), &awscdk.StackProps{Env: env, TerminationProtection: jsii.Bool(true)})
	apim := awscdk.NewStack(app, jsii.String("Apim"), &awscdk.StackProps{Env: env})

	var packKey *string // none until the pack is uploaded: the first deploy makes the empty databases
	if k, ok := app.Node().TryGetContext(jsii.String("packKey")).(string); ok {
		packKey = jsii.String(k)
	}
	wso2.NewApimDeployment(apim, "Apim", &wso2.ApimDeploymentProps{
		Release:         jsii.String("4.3.0"),
		PortalHostname:  jsii.String("portal.example.com"),
		GatewayHostname: jsii.String("api.example.com"),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(apim, jsii.String("Certificate"),
			jsii.String("arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-3333-4444-555555555555")),
		NetworkScope:  data,
		DataScope:     data,
		SchemaPackKey: packKey,
	})
	app.Synth(nil)
	// Output:
}
