package wso2_test

import (
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

// handOptions are the wiring mistakes a team composing the constructs by hand can make.
type handOptions struct {
	defaultHubPorts   bool // the hub endpoint left on its default ports (9443, 8672)
	skipTmGrant       bool // no TrafficManagerPair.AllowFrom
	deprecatedTmGrant bool // TrafficManagerPair.GrantAccessFrom, AllowFrom's deprecated name
	skipHubGrant      bool // no ApimInternalEndpoint.AllowFrom
	tmOffsets         bool // tm1 and tm2 at offsets 1 and 2 ...
	gatewayOwnTmNames bool // ... while the gateway names them itself at offset 0
	gatewayRelease    string
}

// handBuilt is a 4.x deployment composed from the lower-level constructs, as ExampleTrafficManagerPair
// does: a control plane named per zone behind its internal endpoint, gateways,
// and the traffic-manager pair.
func handBuilt(o handOptions) (awscdk.App, *wso2.ProfileAsg) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	admin := wso2.NewAdminSecret(env.stack, "Admin", env.database.EncryptionKey())
	cp := []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}
	service := profiles.Node{Host: "cp.apim.internal"}
	tp := &wso2.TrafficManagerPairProps{
		Network: env.network, Database: env.database, AdminSecret: admin, PackBucket: env.packs, Pack: testPack, JdbcDriver: testDriver,
		ControlPlane: cp, ControlPlaneService: &service, UsePackKeystore: jsii.Bool(true),
	}
	if o.tmOffsets {
		tp.Offsets = &[]*float64{jsii.Number(1), jsii.Number(2)}
	}
	tms := wso2.NewTrafficManagerPair(env.stack, "Tms", tp)
	tmNames := tms.Nodes()
	if o.gatewayOwnTmNames {
		tmNames = []profiles.Node{{Host: "tm1.apim.internal"}, {Host: "tm2.apim.internal"}}
	}
	group := func(id string, p profiles.Name, tmn []profiles.Node, release string, byZone []profiles.Node) *wso2.ProfileAsg {
		props := &wso2.ProfileAsgProps{
			Network: env.network, Profile: p, Database: env.database, AdminSecret: admin, PackBucket: env.packs, Pack: testPack, JdbcDriver: testDriver,
			UsePackKeystore: jsii.Bool(true),
			Wiring: &wso2.NodeWiring{
				PortalHostname: jsii.String("portal.example.com"), GatewayHostname: jsii.String("api.example.com"),
				ControlPlane: cp, ControlPlaneService: &service, TrafficManagers: tmn, SelfByZone: byZone,
			},
		}
		if release != "" {
			props.Release = jsii.String(release)
		}
		return wso2.NewProfileAsg(env.stack, id, props)
	}
	controlPlane := group("ControlPlane", profiles.ControlPlane, tms.Nodes(), "", cp)
	gateway := group("Gateway", profiles.Gateway, tmNames, o.gatewayRelease, nil)
	ports := []int{profiles.PortServletHTTPS, profiles.PortJMSSecure, profiles.PortBinaryAuth}
	if o.defaultHubPorts {
		ports = nil
	}
	hub := wso2.NewApimInternalEndpoint(env.stack, "Hub", &wso2.ApimInternalEndpointProps{
		Network: env.network, Target: controlPlane, Zone: tms.Zone(), RecordName: jsii.String("cp"),
		ZonalRecordNames: []string{"cp1", "cp2"}, Ports: ports,
	})
	switch {
	case o.deprecatedTmGrant:
		tms.GrantAccessFrom(gateway, controlPlane)
	case !o.skipTmGrant:
		tms.AllowFrom(gateway, controlPlane)
	}
	if !o.skipHubGrant {
		hub.AllowFrom(gateway, controlPlane, tms.Groups()[0], tms.Groups()[1])
	}
	return app, gateway
}

// wiringErrors runs the app's wiring check alone, as synth does, without synthesizing.
func wiringErrors(t *testing.T, app awscdk.App) string {
	t.Helper()
	check := app.Node().TryFindChild(jsii.String("ApimkitWiringCheck"))
	require.NotNil(t, check, "every ProfileAsg reports to its app's wiring check")
	var out []string
	for _, e := range *check.Node().Validate() {
		out = append(out, *e)
	}
	return strings.Join(out, "\n")
}

func TestWiringOfAHandBuiltDeploymentIsAccepted(t *testing.T) {
	app, _ := handBuilt(handOptions{})
	assert.Empty(t, wiringErrors(t, app))
}

// The first mistake: the control plane's nodes are told each other's binary receivers
// (cpN:9711) while the endpoint forwards 9443 and 8672 only.
func TestWiringRefusesAnEndpointThatDoesNotForwardWhatNodesAreTold(t *testing.T) {
	app, _ := handBuilt(handOptions{defaultHubPorts: true})
	got := wiringErrors(t, app)
	assert.Contains(t, got, "Test/ControlPlane (control-plane) is told ssl://cp2.apim.internal:9711")
	assert.Contains(t, got, "the internal endpoint Test/Hub forwards only [9443 8672]: add the port's base to ApimInternalEndpointProps.Ports")
	assert.NotContains(t, got, "9611", "events go to the TLS receiver alone")
}

func TestWiringRefusesAMissingTrafficManagerGrant(t *testing.T) {
	app, _ := handBuilt(handOptions{skipTmGrant: true})
	got := wiringErrors(t, app)
	assert.Contains(t, got, "Test/Gateway (gateway-worker) is told ssl://tm1.apim.internal:9711 (apim.throttling.url_group[0].traffic_manager_urls[0]), "+
		"but no security-group rule lets it reach Test/Tms/Tm1 on 9711: grant it with TrafficManagerPair.AllowFrom")
	assert.Contains(t, got, "Test/ControlPlane (control-plane) is told tcp://tm2.apim.internal:8672")
}

func TestWiringRefusesAMissingEndpointGrant(t *testing.T) {
	app, _ := handBuilt(handOptions{skipHubGrant: true})
	got := wiringErrors(t, app)
	assert.Contains(t, got, "Test/Gateway (gateway-worker) is told https://cp.apim.internal:9443 (apim.event_hub.service_url), "+
		"but no security-group rule lets it reach the internal endpoint Test/Hub on 9443: grant it with ApimInternalEndpoint.AllowFrom")
	assert.Contains(t, got, "Test/Tms/Tm1 (traffic-manager) is told tcp://cp1.apim.internal:8672")
}

// The third mistake, which the old README's TrafficManagerPair example made: offsets on the
// pair while the gateway names the traffic managers itself.
func TestWiringRefusesTrafficManagerNamesWithTheWrongOffset(t *testing.T) {
	app, _ := handBuilt(handOptions{tmOffsets: true, gatewayOwnTmNames: true})
	got := wiringErrors(t, app)
	assert.Contains(t, got, "Test/Gateway (gateway-worker) is told ssl://tm1.apim.internal:9711 (apim.throttling.url_group[0].traffic_manager_urls[0]), "+
		"but Test/Tms/Tm1 listens on 9612, 9712, 5673, 8673, 9444 (port offset 1): take the traffic managers' names and ports from TrafficManagerPair.Nodes()")
	assert.NotContains(t, got, "Test/ControlPlane", "the control plane took the pair's names")
}

func TestWiringRefusesNodesOfAnotherRelease(t *testing.T) {
	app, _ := handBuilt(handOptions{gatewayRelease: "4.5.0"})
	got := wiringErrors(t, app)
	assert.Contains(t, got, "Test/Gateway (gateway-worker) runs API Manager 4.5.0 and is told https://cp.apim.internal:9443 (apim.event_hub.service_url), "+
		"served by Test/ControlPlane, which runs 4.3.0: give every group of one deployment the same Release")
}

// A name in the deployment's private zone that nothing publishes fails synth itself, naming both
// ends.
func TestWiringMistakeFailsSynth(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	admin := wso2.NewAdminSecret(env.stack, "Admin", env.database.EncryptionKey())
	tms := wso2.NewTrafficManagerPair(env.stack, "Tms", &wso2.TrafficManagerPairProps{
		Network: env.network, Database: env.database, AdminSecret: admin, PackBucket: env.packs, Pack: testPack, JdbcDriver: testDriver,
		ControlPlane: []profiles.Node{{Host: "cp.apim.internal"}}, UsePackKeystore: jsii.Bool(true),
	})
	tms.AllowFrom(tms.Groups()[0])
	_, err := testkit.Synth(app)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Test/Tms/Tm1 (traffic-manager) is told https://cp.apim.internal:9443 (apim.event_hub.service_url), "+
		"but nothing in this app publishes cp.apim.internal in the private zone apim.internal")
}

// Commands added to a node's user data after the boot script's would never run: synth refuses
// them and names BootCommands.
func TestUserDataAddedToANodeIsRefused(t *testing.T) {
	app := testkit.NewApp(partialDeployment)
	env := newNodeEnv(app)
	g := wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
	assert.Empty(t, *g.Node().Validate())
	g.Group().AddUserData(jsii.String("echo corporate agent"))
	errs := *g.Node().Validate()
	require.Len(t, errs, 1)
	assert.Contains(t, *errs[0], "Test/Gateway: commands were added to the nodes' user data (Group().AddUserData")
	assert.Contains(t, *errs[0], "Give them as NodeOptions.BootCommands (BeforeSetup or AfterSetup) instead")
}

// Two deployments of one app on networks of their own may use the same private names: a node
// resolves a name in its own VPC, so each deployment's nodes are checked against their own
// servers, not against the other release's.
func TestWiringKeepsDeploymentsOnTwoNetworksApart(t *testing.T) {
	app := testkit.NewApp(nil)
	for _, d := range []struct{ id, release string }{{"Team45", "4.5.0"}, {"Article32", "3.2.0"}} {
		stack := awscdk.NewStack(app, jsii.String(d.id), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String("us-west-1")},
		})
		wso2.NewApimDeployment(stack, "Apim", deploymentProps(stack, d.release))
	}
	assert.Empty(t, wiringErrors(t, app))
}
