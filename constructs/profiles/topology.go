package profiles

import "fmt"

// Peer is what a flow of a topology leads to.
type Peer string

// The peers a flow can reach.
const (
	// PeerHub is the hub's one service name (an internal load balancer) and the hub's nodes
	// behind it.
	PeerHub Peer = "hub"
	// PeerHubNodes are the hub's nodes named one by one, per zone (a 4.x control plane whose
	// event hubs share their events).
	PeerHubNodes Peer = "hub-nodes"
	// PeerTrafficManagers is every traffic manager, each by its own name.
	PeerTrafficManagers Peer = "traffic-managers"
	// PeerFirstTrafficManager is tm1 alone, whose services 3.2 calls.
	PeerFirstTrafficManager Peer = "tm1"
)

// Flow is one kind of connection between the nodes of a deployment: every node of profile From
// opens connections to To on Ports (base ports; the server's offset moves them).
type Flow struct {
	From  Name
	To    Peer
	Ports []int
	// Why says what travels, for the rule's description.
	Why string
}

// HostRole is which public host name a route serves.
type HostRole string

// The public host names of a deployment.
const (
	PortalHost  HostRole = "portal"
	GatewayHost HostRole = "gateway"
)

// Route is one profile served by the public load balancer.
type Route struct {
	Profile Name
	Host    HostRole
	// Paths are the paths the route forwards (load balancer path patterns: * any characters, ?
	// one). A host whose routes all have paths refuses every other path. Empty: every path.
	Paths []string
	// Sticky keeps a browser on one node.
	Sticky bool
	// RequestsPerTarget scales the group on requests per node per minute; 0: not at all.
	RequestsPerTarget float64
	// WebSocket also serves the gateways' secure WebSocket APIs on 443.
	WebSocket bool
}

// Topology is how the nodes of one release call each other and how the internet reaches them:
// the data a deployment is wired from.
type Topology struct {
	Version Version
	// Profiles are the groups of the layout, the traffic managers last.
	Profiles []Name
	// Hub is the profile serving key validation and the event hub's services: the 4.x control
	// plane, the 3.2 key manager. Its nodes are reached through one internal name, HubLabel.
	Hub      Name
	HubLabel string
	// HubPerZone names the hub's nodes one per zone (HubLabel1, HubLabel2, ...), for a hub
	// whose nodes share their events with each other.
	HubPerZone bool
	// HubPorts are the hub's base ports its internal name forwards.
	HubPorts []int
	// Flows are every connection between the groups, but the traffic managers' between
	// themselves (TrafficManagerPair's) and the database's.
	Flows []Flow
	// Routes are the public load balancer's, in priority order.
	Routes []Route
	// ServicesOnPortal says the release calls its own SOAP admin services (/services) through
	// the public portal name, so the load balancer must not refuse them there.
	ServicesOnPortal bool
}

// TopologyOf returns the topology of release v: facts from WSO2's documentation and its
// per-profile templates of each release, checked by the conformance tests' independent flow
// table.
func TopologyOf(v Version) (Topology, error) {
	layout, err := Layout(v)
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Version: v}
	for _, p := range layout {
		t.Profiles = append(t.Profiles, p.Name)
	}
	// Events go to the binary receivers' TLS port, 9711 (render.go's urlGroups); decisions
	// and events come from the brokers on the release's JMS port (TLS from 4.5).
	jms := v.JMSPort()
	tmAccess := []int{PortBinaryAuth, jms}
	if v.Major == 3 {
		t.Hub, t.HubLabel, t.HubPorts = KeyManager, "km", []int{PortServletHTTPS}
		t.ServicesOnPortal = true
		t.Flows = []Flow{
			// 3.2's traffic managers are the event hub: the portals publish there and listen
			// on their brokers; the key manager only publishes.
			{Gateway, PeerTrafficManagers, tmAccess, "throttling events and decisions"},
			{Publisher, PeerTrafficManagers, tmAccess, "events and policies"},
			{DevPortal, PeerTrafficManagers, tmAccess, "events"},
			{KeyManager, PeerTrafficManagers, []int{PortBinaryAuth}, "events"},
			{Gateway, PeerFirstTrafficManager, []int{PortServletHTTPS}, "API artifacts"},
			{Publisher, PeerFirstTrafficManager, []int{PortServletHTTPS}, "throttling policies"},
			{KeyManager, PeerFirstTrafficManager, []int{PortServletHTTPS}, "revoked tokens"},
			{Gateway, PeerHub, []int{PortServletHTTPS}, "key validation"},
			{Publisher, PeerHub, []int{PortServletHTTPS}, "key manager services"},
			{DevPortal, PeerHub, []int{PortServletHTTPS}, "key manager services"},
			{TrafficManager, PeerHub, []int{PortServletHTTPS}, "key manager services, token revocation"},
		}
		t.Routes = []Route{
			{Profile: Publisher, Host: PortalHost, Sticky: true, Paths: []string{"/publisher*", "/api/am/publisher*", "/admin*"}},
			{Profile: DevPortal, Host: PortalHost, Sticky: true, Paths: portalPaths(v)},
			{Profile: Gateway, Host: GatewayHost, RequestsPerTarget: 3000, WebSocket: true},
		}
		return t, nil
	}
	t.Hub, t.HubLabel, t.HubPerZone = ControlPlane, "cp", true
	t.HubPorts = []int{PortServletHTTPS, jms, PortBinaryAuth}
	t.Flows = []Flow{
		{Gateway, PeerTrafficManagers, tmAccess, "throttling events and decisions"},
		{ControlPlane, PeerTrafficManagers, tmAccess, "policies and events"},
		{Gateway, PeerHub, []int{PortServletHTTPS, jms}, "key validation, event hub"},
		{TrafficManager, PeerHub, []int{PortServletHTTPS, jms}, "event hub, token revocation"},
		{ControlPlane, PeerHubNodes, []int{jms, PortBinaryAuth}, "events shared between the control-plane nodes"},
	}
	t.Routes = []Route{
		{Profile: ControlPlane, Host: PortalHost, Sticky: true, Paths: portalPaths(v)},
		{Profile: Gateway, Host: GatewayHost, RequestsPerTarget: 3000, WebSocket: true},
	}
	return t, nil
}

// HubNodes are the hub's per-zone names in zone, one per zone (HubLabel1.zone, ...), or nil
// when the hub is reached by its one name only.
func (t Topology) HubNodes(zone string, zones int) []Node {
	if !t.HubPerZone {
		return nil
	}
	out := make([]Node, 0, zones)
	for _, l := range t.HubNodeLabels(zones) {
		out = append(out, Node{Host: l + "." + zone})
	}
	return out
}

// HubNodeLabels are the labels of HubNodes.
func (t Topology) HubNodeLabels(zones int) []string {
	if !t.HubPerZone {
		return nil
	}
	out := make([]string, 0, zones)
	for i := range zones {
		out = append(out, fmt.Sprintf("%s%d", t.HubLabel, i+1))
	}
	return out
}

// portalPaths are the paths of the portal host that browsers and API clients use, but those of
// the 3.2 publisher's own route: the portals' web applications, the REST APIs they call (and
// apictl calls), the OAuth 2.0, OpenID Connect and login endpoints, account recovery and self
// sign-up. What only other nodes call (internal/data/v1, keymanager-operations, the SOAP admin
// services, the gateway and devops REST APIs) and the management console are left out, so the
// load balancer refuses them. The web applications are those each release's distribution ships
// (product-apim's assembly, the 4.5.0 pack's webapps); the endpoints are its identity
// configuration's (oauth2, oidc, commonauth, logincontext, .well-known).
func portalPaths(v Version) []string {
	login := []string{
		"/oauth2/*", "/oidc/*", "/commonauth*", "/logincontext*",
		"/authenticationendpoint/*", "/accountrecoveryendpoint/*",
		// Account recovery and self sign-up call the identity REST APIs through the public
		// name; apictl registers its client through client-registration.
		"/api/identity/*", "/client-registration/*", "/.well-known/*",
	}
	if v.Major == 3 {
		// 3.2's developer portal and its REST API (store), the admin REST API both portals
		// deploy, and the SOAP services its account recovery calls through the public name.
		return append([]string{"/devportal*", "/api/am/store/*", "/api/am/admin/*"}, append(login, "/services/*")...)
	}
	paths := []string{
		"/publisher*", "/devportal*", "/admin*",
		"/api/am/publisher/*", "/api/am/devportal/*", "/api/am/admin/*", "/api/am/service-catalog/*",
	}
	if v.Minor >= 5 {
		// 4.5 adds the governance REST API the publisher and admin portals call.
		paths = append(paths, "/api/am/governance/*")
	}
	return append(paths, login...)
}

// PathPatternMatches reports whether a load balancer path pattern matches path: case-sensitive,
// * any run of characters (slashes included), ? exactly one.
func PathPatternMatches(pattern, path string) bool {
	if pattern == "" {
		return path == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(path); i++ {
			if PathPatternMatches(pattern[1:], path[i:]) {
				return true
			}
		}
		return false
	case '?':
		return path != "" && PathPatternMatches(pattern[1:], path[1:])
	}
	return path != "" && path[0] == pattern[0] && PathPatternMatches(pattern[1:], path[1:])
}
