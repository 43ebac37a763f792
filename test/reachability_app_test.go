package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/reach"
	"github.com/apimkit/apimkit/test/testkit"
)

// appNetwork loads the network of an assembly with the security groups of all its stacks.
func appNetwork(t *testing.T, asm *testkit.Assembly, templates ...map[string]any) *reach.Network {
	t.Helper()
	n := network(t, asm)
	if templates == nil {
		for _, s := range asm.Stacks {
			templates = append(templates, s.Template)
		}
	}
	g, err := reach.LoadGroups(templates...)
	require.NoError(t, err)
	n.Groups = g
	return n
}

type app struct {
	internet, lb, gw, hub, hubEndpoint, tm1, tm2, db, bastion, updater, schemaFn, dnsUpdater reach.Endpoint
	// awsAPI is an interface endpoint's address in each zone (private DNS answers with both).
	awsAPI  []reach.Endpoint
	portals []reach.Endpoint
	// hubPorts are the ports the hub listens on for its clients.
	hubPorts []int
	// jms is the brokers' port: their TLS port from 4.3, the plain one in 3.2.
	jms int
}

// place puts one endpoint of each kind where the app puts it: nodes in the application tier, the
// database in the data tier, the load balancer in the public tier, the bastion in the management
// tier (Session Manager mode), each with its own security group.
func place(t *testing.T, n *reach.Network, layout string) app {
	t.Helper()
	group := func(prefix string) string {
		id, err := n.Groups.Find(prefix)
		require.NoError(t, err)
		return id
	}
	appTier, pub, mgmt, data := n.Tier("Application"), n.Tier("Public"), n.Tier("Management"), n.Tier("Data")
	a := app{
		internet:   reach.Internet(someInternetHost),
		lb:         reach.PublicIn(pub[0]).WithGroup(group("LoadBalancerSecurityGroup")),
		gw:         reach.In(appTier[0]).WithGroup(group("GatewaySecurityGroup")),
		tm1:        reach.In(appTier[0]).WithGroup(group("TrafficManagersTm1SecurityGroup")),
		tm2:        reach.In(appTier[1]).WithGroup(group("TrafficManagersTm2SecurityGroup")),
		db:         reach.In(data[1]).WithGroup(group("DatabaseSecurityGroup")),
		bastion:    reach.In(mgmt[0]).WithGroup(group("BastionSecurityGroup")),
		updater:    reach.In(appTier[0]).WithGroup(group("UpdaterSecurityGroup")),
		schemaFn:   reach.LambdaIn(appTier[1]).WithGroup(group("DatabaseSchemaFunctionSecurityGroup")),
		dnsUpdater: reach.LambdaIn(appTier[0]).WithGroup(group("TrafficManagersUpdaterSecurityGroup")),
		// The internal endpoint's address in the other zone from the gateway's.
		hubEndpoint: reach.In(appTier[1]).WithGroup(group("HubEndpointSecurityGroup")),
		hubPorts:    []int{9443, 8672},
		jms:         8672,
		awsAPI: []reach.Endpoint{
			reach.In(appTier[0]).WithGroup(group("NetworkEndpointSecurityGroup")),
			reach.In(appTier[1]).WithGroup(group("NetworkEndpointSecurityGroup")),
		},
	}
	if layout == "3.2" {
		a.hub = reach.In(appTier[1]).WithGroup(group("KeyManagerSecurityGroup"))
		a.hubPorts = []int{9443} // the 3.2 key manager has no JMS broker
		a.jms = 5672             // 3.2's templates take no ssl option for a broker URL
		a.portals = []reach.Endpoint{
			reach.In(appTier[1]).WithGroup(group("PublisherSecurityGroup")),
			reach.In(appTier[0]).WithGroup(group("DevPortalSecurityGroup")),
		}
	} else {
		a.hub = reach.In(appTier[1]).WithGroup(group("ControlPlaneSecurityGroup"))
		a.portals = []reach.Endpoint{a.hub}
	}
	return a
}

// Every flow of §3 gets through end to end, with security groups, network ACLs and routes
// evaluated together, and flows outside the table do not.
func TestReachabilityOfTheWholeApp(t *testing.T) {
	for name, asm := range layouts(t) {
		n := appNetwork(t, asm)
		a := place(t, n, name)
		var flows []flow
		ok := func(from, to reach.Endpoint, ports ...int) {
			for _, p := range ports {
				flows = append(flows, flow{from, to, p, true})
			}
		}
		no := func(from, to reach.Endpoint, ports ...int) {
			for _, p := range ports {
				flows = append(flows, flow{from, to, p, false})
			}
		}
		ok(a.internet, a.lb, 443, 80)
		ok(a.lb, a.gw, 8243, 9443, 8099) // 8099: WebSocket handshakes the load balancer passes on
		no(a.internet, a.lb, 8099, 9099)
		for _, p := range a.portals {
			ok(a.lb, p, 9443)
		}
		for _, tm := range []reach.Endpoint{a.tm1, a.tm2} {
			ok(a.gw, tm, 9711, a.jms)
			no(a.gw, tm, 9611) // events go to the TLS receiver; the plain one is closed
			ok(tm, a.hub, a.hubPorts...)
			ok(tm, a.hubEndpoint, a.hubPorts...)
			ok(tm, a.db, 3306)
			ok(a.bastion, tm, 22)
			no(a.lb, tm, 9611, 9443)
		}
		ok(a.tm1, a.tm2, a.jms)
		ok(a.tm2, a.tm1, a.jms)
		ok(a.gw, a.hub, a.hubPorts...)
		ok(a.gw, a.hubEndpoint, a.hubPorts...)
		ok(a.hubEndpoint, a.hub, a.hubPorts...)
		if name == "3.2" {
			no(a.gw, a.hub, 5672)
			no(a.gw, a.hubEndpoint, 5672)
			ok(a.gw, a.tm1, 9443) // the publisher's artifacts, from tm1's internal data service
			no(a.gw, a.tm2, 9443)
			// The traffic managers are 3.2's event hub: the portals and the key manager publish
			// their events to both, and the portals listen on their brokers; the publisher
			// deploys policies and the key manager announces revoked tokens through tm1's services.
			for _, c := range append([]reach.Endpoint{a.hub}, a.portals...) {
				ok(c, a.tm1, 9711)
				ok(c, a.tm2, 9711)
				no(c, a.tm1, 9611)
			}
			for _, p := range a.portals {
				ok(p, a.tm1, 5672)
				ok(p, a.tm2, 5672)
			}
			ok(a.portals[0], a.tm1, 9443)
			ok(a.hub, a.tm1, 9443)
			no(a.portals[1], a.tm1, 9443)
			no(a.hub, a.tm2, 5672) // the key manager only publishes
		} else {
			no(a.gw, a.tm1, 9443)
			// The control-plane nodes reach each other through their zonal names on the
			// endpoint: duplicated events to the brokers, published ones to the receivers. The
			// receivers are theirs alone.
			peer := reach.In(n.Tier("Application")[0]).WithGroup(a.hub.Group)
			ok(peer, a.hubEndpoint, a.jms, 9711)
			ok(a.hubEndpoint, a.hub, a.jms, 9711)
			no(peer, a.hubEndpoint, 5672, 9611) // the plain broker and receiver stay closed
			no(a.gw, a.tm1, 5672)
			no(a.gw, a.hubEndpoint, 9611, 9711)
			no(a.tm1, a.hubEndpoint, 9611)
		}
		ok(a.gw, a.db, 3306)
		ok(a.hub, a.db, 3306)
		ok(a.schemaFn, a.db, 3306)
		ok(a.bastion, a.gw, 22)
		ok(a.bastion, a.hub, 22)
		// Private nodes reach the internet for packs and updates through their zone's NAT gateway.
		ok(a.gw, a.internet, 443)
		ok(a.tm2, a.internet, 443)
		ok(a.updater, a.internet, 443)
		ok(a.bastion, a.internet, 443)
		// The functions call AWS APIs and answer CloudFormation over HTTPS through the NAT
		// gateway, from any source port Lambda picks.
		ok(a.schemaFn, a.internet, 443)
		ok(a.dnsUpdater, a.internet, 443)
		// Every node reaches the AWS APIs' interface endpoints in both zones: Session Manager for
		// the bastion, Secrets Manager, logs and metrics for the nodes and functions.
		for _, api := range a.awsAPI {
			for _, from := range []reach.Endpoint{a.bastion, a.gw, a.hub, a.tm1, a.tm2, a.updater, a.schemaFn, a.dnsUpdater} {
				ok(from, api, 443)
			}
			no(a.internet, api, 443)
			no(a.db, api, 443)
		}

		no(a.internet, a.lb, 22, 8080)
		no(a.lb, a.hubEndpoint, 9443)
		no(a.hubEndpoint, a.gw, 8243)
		no(a.hubEndpoint, a.db, 3306)
		for _, e := range []reach.Endpoint{a.gw, a.hub, a.hubEndpoint, a.tm1, a.db, a.bastion, a.updater} {
			no(a.internet, e, 22, 443, 8243, 9443, 3306)
		}
		no(a.lb, a.db, 3306)
		no(a.gw, a.db, 22)
		no(a.bastion, a.db, 22, 3306)
		no(a.hub, a.gw, 8243)
		no(a.tm1, a.gw, 8243)
		no(a.db, a.internet, 443)
		no(a.db, a.gw, 9443)
		no(a.updater, a.internet, 80)
		no(a.gw, a.internet, 80)
		no(a.updater, a.gw, 22)
		checkFlows(t, n, flows)
	}
}

// The security groups count: removing the one rule that lets gateways out to tm1's binary TLS
// port stops that flow, and only that one.
func TestReachabilityCatchesAMissingGroupRule(t *testing.T) {
	asm := reference(t)
	var templates []map[string]any
	for _, s := range asm.Stacks {
		tmpl := s.Template
		if s.ID == "Application" {
			var victim string
			for id := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupEgress") {
				if strings.HasPrefix(id, "GatewaySecurityGroupto") && strings.Contains(id, "Tm1") && strings.Contains(id, "9711") {
					victim = id
				}
			}
			require.NotEmpty(t, victim)
			tmpl = without(t, tmpl, victim)
		}
		templates = append(templates, tmpl)
	}
	n := appNetwork(t, asm, templates...)
	a := place(t, n, "4.x")
	v := n.Connect(a.gw, a.tm1, 9711)
	assert.False(t, v.Allowed)
	assert.Contains(t, v.Reason, "lets nothing out")
	assert.True(t, n.Connect(a.gw, a.tm1, a.jms).Allowed, "the other ports are untouched")
	assert.True(t, n.Connect(a.gw, a.tm2, 9711).Allowed, "and so is tm2")
}
