package profiles

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Node is a peer a node talks to: a host name and that node's port offset.
type Node struct {
	Host   string
	Offset int
}

func (n Node) url(scheme string, base int) string {
	return fmt.Sprintf("%s://%s:%d", scheme, n.Host, Port(base, n.Offset))
}

// Database is how a node reaches one database.
type Database struct {
	Host string
	Port int
	Name string
	// Username of the WSO2 application user.
	Username string
	// TrustStore, when set, is the path of a PKCS12 truststore holding the authorities the
	// database's certificate must chain to, and TrustStorePassword opens it (it holds public
	// certificates only). Unset: the connection is encrypted but the certificate is not checked.
	TrustStore, TrustStorePassword string
}

// Default references WSO2 resolves at start from the node's environment, so no secret is written
// into deployment.toml; the boot script sets the variables from Secrets Manager.
const (
	DbPasswordRef       = "$env{WSO2_DB_PASSWORD}"
	AdminPasswordRef    = "$env{WSO2_ADMIN_PASSWORD}"
	KeystorePasswordRef = "$env{WSO2_KEYSTORE_PASSWORD}"
	// TruststorePasswordRef opens the pack's client-truststore.jks, whose password stays the
	// pack's when the keystore is replaced.
	TruststorePasswordRef = "$env{WSO2_TRUSTSTORE_PASSWORD}"
	// NodeIPRef is the node's private address, which the boot script reads from the instance
	// metadata into the service's environment.
	NodeIPRef = "$env{WSO2_NODE_IP}"
)

// Keystore is the node's TLS and primary keystore.
type Keystore struct {
	File  string
	Alias string
	// Type is JKS or PKCS12. Default: JKS.
	Type string
}

// Input is everything deployment.toml is rendered from.
type Input struct {
	Version Version
	Profile Name
	// Hostname is what the node calls itself: its public host name for exposed profiles, its
	// internal name otherwise.
	Hostname string
	// Offset is this node's port offset.
	Offset int
	// PortalHostname and GatewayHostname are the public names behind the load balancer.
	PortalHostname  string
	GatewayHostname string
	// ControlPlane lists the nodes serving key management and the event hub (4.x control plane,
	// 3.2 key manager), reached on their servlet, JMS and binary ports.
	ControlPlane []Node
	// ControlPlaneService is the name the other nodes use for the control plane's services (key
	// validation, the event hub's service_url, token revocation) when ControlPlane names each
	// node: one name for the whole group, such as a load balancer's. Default: ControlPlane[0].
	ControlPlaneService Node
	// TrafficManagers lists the traffic-manager nodes, one url_group each.
	TrafficManagers []Node
	// Self is this node as its peers name it, for the lists it must leave out of its own
	// duplicate URLs (traffic managers and control-plane nodes). A control-plane node whose
	// ControlPlane names several nodes must be one of them; one name for the whole group (a load
	// balancer) needs no Self.
	Self Node
	// Databases by name (apim_db, shared_db); the profile says which it needs.
	Databases map[string]Database
	// AdminUsername is the super admin. Default: admin.
	AdminUsername string
	// Keystore defaults to the pack's wso2carbon.jks.
	Keystore *Keystore
	// GatewayEnvironment names the gateway environment and label. Default: Default.
	GatewayEnvironment string
	// WebSocketOnHTTPS says the load balancer passes the gateways' secure WebSocket APIs on 443
	// (an ApimLoadBalancer route with WebSocket): the gateway environment then advertises
	// wss://<gateway host>, under ws_endpoint too, since nothing serves plain WebSocket.
	// Default: false, WSO2's wss://<gateway host>:8099 and ws://<gateway host>:9099.
	WebSocketOnHTTPS bool
}

// Render returns the deployment.toml of a node. A missing input the profile needs is an error
// that names it.
func Render(in Input) ([]byte, error) {
	p, in, err := resolve(in)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# WSO2 API Manager %s, %s node. Rendered by apimkit; secrets are $env{...}\n# references resolved at start.\n\n", in.Version, p.Name)
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	if err := enc.Encode(document(p, in)); err != nil {
		return nil, fmt.Errorf("deployment.toml for %s %s: %w", p.Name, in.Version, err)
	}
	return buf.Bytes(), nil
}

// resolve looks the profile up, checks that in gives what the profile needs, and fills the
// defaults of the fields left empty.
func resolve(in Input) (Profile, Input, error) {
	p, err := Lookup(in.Version, in.Profile)
	if err != nil {
		return Profile{}, in, err
	}
	fail := func(format string, args ...any) (Profile, Input, error) {
		return Profile{}, in, fmt.Errorf("deployment.toml for %s %s: "+format, append([]any{p.Name, in.Version}, args...)...)
	}
	if missing := missingInputs(p, in); len(missing) > 0 {
		return fail("missing %s", strings.Join(missing, ", "))
	}
	for _, db := range p.Databases {
		d := in.Databases[db]
		if d.TrustStore == "" && d.TrustStorePassword == "" {
			continue
		}
		if !urlWord.MatchString(d.TrustStore) || !strings.HasPrefix(d.TrustStore, "/") || !urlWord.MatchString(d.TrustStorePassword) ||
			len(d.TrustStorePassword) < 6 {
			return fail("Databases[%s] needs an absolute TrustStore path and a TrustStorePassword "+
				"of at least 6 characters (keytool's minimum), both of letters, digits and ._/- only (they go into the JDBC URL)", db)
		}
	}
	for field, nodes := range map[string][]Node{"ControlPlane": in.ControlPlane, "TrafficManagers": in.TrafficManagers} {
		seen := map[string]bool{}
		for i, n := range nodes {
			addr := fmt.Sprintf("%s:%d", n.Host, Port(PortBinary, n.Offset))
			if seen[addr] {
				return fail("%s[%d] repeats %s: each node needs its own host or offset", field, i, addr)
			}
			seen[addr] = true
		}
	}
	if p.Name == ControlPlane && len(in.ControlPlane) > 1 && !hasHost(in.ControlPlane, in.Self.Host) {
		return fail("ControlPlane names %d nodes and Self is none of them: "+
			"name this node as Self, or give one name for the whole group", len(in.ControlPlane))
	}
	if in.AdminUsername == "" {
		in.AdminUsername = "admin"
	}
	if in.Keystore == nil {
		in.Keystore = &Keystore{File: "wso2carbon.jks", Alias: "wso2carbon"}
	}
	if in.GatewayEnvironment == "" {
		in.GatewayEnvironment = "Default"
	}
	if in.ControlPlaneService.Host == "" && len(in.ControlPlane) > 0 {
		in.ControlPlaneService = in.ControlPlane[0]
	}
	return p, in, nil
}

// missingInputs names the fields of in that profile p needs and in leaves empty.
func missingInputs(p Profile, in Input) []string {
	var missing []string
	need := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	need(in.Hostname != "", "Hostname")
	for _, db := range p.Databases {
		d, ok := in.Databases[db]
		need(ok && d.Host != "" && d.Port > 0 && d.Name != "" && d.Username != "", "Databases["+db+"] (Host, Port, Name, Username)")
	}
	need(p.Name == ControlPlane || len(in.ControlPlane) > 0, "ControlPlane")
	// Every profile talks to the traffic managers: the 3.2 portals and key manager publish
	// their events there too.
	need(len(in.TrafficManagers) > 0, "TrafficManagers")
	if p.Exposure != nil || p.Name == ControlPlane {
		need(in.GatewayHostname != "", "GatewayHostname")
		need(in.PortalHostname != "", "PortalHostname")
	}
	return missing
}

// document is the deployment.toml of a resolved input as TOML tables: what every node has, then
// the [apim] settings of the profile's side (portals and key management, gateway or traffic
// manager).
func document(p Profile, in Input) map[string]any {
	doc := map[string]any{
		"server": map[string]any{
			"hostname":    in.Hostname,
			"offset":      in.Offset,
			"server_role": serverRole(in.Version, p.Name),
		},
		"super_admin": map[string]any{
			"username":             in.AdminUsername,
			"password":             AdminPasswordRef,
			"create_admin_account": true,
		},
		"user_store": map[string]any{"type": "database_unique_id"},
		"keystore":   keystores(*in.Keystore),
		"truststore": map[string]any{"file_name": "client-truststore.jks", "type": "JKS", "password": TruststorePasswordRef},
	}
	if in.Version.Major == 3 {
		// 3.2's default.json (carbon-kernel 4.6.0) sets clustering.local_member_host to
		// $ref{server.node_ip} and defines no server.node_ip: its config mapper (1.0.2) stops
		// with "Configuration with key server.node_ip doesn't exist" unless the file sets it
		// (WSO2 added a default of 127.0.0.1 in later releases). The mapper resolves $env{} in
		// a top-level value before any $ref{}, so the reference reads the address the boot
		// script puts in the service's environment. $sys{carbon.local.ip} would not do: Carbon
		// sets that property only after the mapper has run.
		doc["server"].(map[string]any)["node_ip"] = NodeIPRef
	}
	dbs := map[string]any{}
	for _, name := range p.Databases {
		dbs[name] = database(in.Databases[name])
	}
	// A gateway keeps the shared (registry) data source even though it rarely uses it.
	doc["database"] = dbs

	apim := map[string]any{}
	switch p.Name {
	case ControlPlane, Publisher, DevPortal, KeyManager:
		addManagementSide(p, in, doc, apim)
	case Gateway:
		addGatewaySide(in, apim)
	case TrafficManager:
		addTrafficManagerSide(in, apim)
	}
	doc["apim"] = apim
	if in.Version.JMSOverTLS() {
		// The broker's TLS port offers only TLSv1 by default, which current Java refuses
		// (jdk.tls.disabledAlgorithms): the nodes' TLS connections to it would never
		// handshake.
		doc["broker"] = map[string]any{"transport": map[string]any{"amqp": map[string]any{
			"ssl_connection": map[string]any{"ssl_enabled_protocols": "TLSv1.2"},
		}}}
	}
	if p.Exposure != nil && p.Exposure.TargetPort == PortServletHTTPS {
		// The load balancer serves the portals on 443: the links and OAuth callbacks the node
		// writes must carry that port, not 9443.
		doc["transport"] = map[string]any{"https": map[string]any{"properties": map[string]any{"proxyPort": 443}}}
	}
	return doc
}

// addManagementSide adds the settings of the profiles that serve the portals and key
// management: the 4.x control plane and the 3.2 publisher, developer portal and key manager.
func addManagementSide(p Profile, in Input, doc, apim map[string]any) {
	if p.Name != KeyManager {
		apim["gateway"] = map[string]any{"environment": []any{gatewayEnvironment(in)}}
	}
	switch p.Name {
	case ControlPlane:
		addControlPlaneHub(in, doc, apim)
	case KeyManager:
		// The key manager calls its own services on localhost: through its internal name
		// the load balancer could send the connection back to the node it came from, which
		// a load balancer that keeps the caller's address cannot do.
		apim["key_manager"] = map[string]any{"service_url": servicesURL(Node{"localhost", in.Offset})}
	default:
		apim["key_manager"] = map[string]any{"service_url": servicesURL(in.ControlPlaneService)}
	}
	// 4.x: the control plane's policies and events reach the traffic managers. 3.2: the
	// traffic managers are the event hub, so the portals and the key manager publish their
	// events (applications, subscriptions, keys, revocations) to each of them too, and the
	// publisher (where the admin portal runs) deploys throttling policies to them through the
	// first one's services.
	th := throttling(in.TrafficManagers, in.Version)
	if p.Name == KeyManager {
		// It publishes events only and takes no throttle decisions: it never listens on the
		// traffic managers' brokers. Without decision endpoints its templates fall back to
		// its own broker's plain port, where jms.ssl would break the connection.
		delete(th, "throttle_decision_endpoints")
		delete(th, "jms")
	}
	if p.Name == Publisher {
		th["service_url"] = servicesURL(in.TrafficManagers[0])
	}
	if in.Version.Major == 3 {
		th["username"], th["password"] = "$ref{super_admin.username}", "$ref{super_admin.password}"
	}
	apim["throttling"] = th
	if p.Name == Publisher {
		// 3.x: the gateways are a group behind a load balancer, which the publisher's direct
		// push would reach one node of. It saves each API's artifacts in apim_db instead and
		// announces them through the traffic managers; every gateway pulls them.
		apim["sync_runtime_artifacts"] = map[string]any{"publisher": map[string]any{
			"artifact_saver": "DBSaver", "publish_directly_to_gateway": false,
		}}
	}
	if p.Name == KeyManager {
		// 3.2: revoked tokens are announced by the traffic managers' internal data service
		// (the key manager's own is removed from its profile); tm1 passes them to its peer.
		doc["event_listener"] = tokenRevocation(in.TrafficManagers[0])
	}
	if p.Name == ControlPlane || p.Name == DevPortal || p.Name == KeyManager {
		// Self-registered users get the subscriber role (WSO2's templates for these roles).
		doc["event_handler"] = []any{map[string]any{"name": "userPostSelfRegistration", "subscriptions": []string{"POST_ADD_USER"}}}
	}
	if p.Name == ControlPlane {
		// Application names may hold spaces, as in WSO2's control-plane template.
		doc["service_provider"] = map[string]any{"sp_name_regex": `^[\sa-zA-Z0-9._-]*$`}
		apim["cors"] = cors(in.Version)
	}
	if p.Name != KeyManager {
		// The portal's public address, for the links the nodes write (the default is
		// localhost).
		apim["devportal"] = map[string]any{"url": "https://" + in.PortalHostname + "/devportal"}
	}
}

// addControlPlaneHub adds a 4.x control-plane node's event hub and token-revocation listener.
// The node's own event hub, services and token-revocation endpoint are reached on localhost: its
// hostname is the public portal name, whose load balancer serves 443 only, and the default
// certificate names localhost.
func addControlPlaneHub(in Input, doc, apim map[string]any) {
	self := Node{"localhost", in.Offset}
	hub := eventHub(self, []Node{self}, in.Version)
	if hasHost(in.ControlPlane, in.Self.Host) {
		// The list names each control-plane node: publish to every hub's stream (this node's
		// own on localhost: its name may lead through a load balancer, which cannot send a
		// node's connection back to it) and pass the events received here on to the others.
		peers := others(in.ControlPlane, in.Self)
		hub["publish"] = map[string]any{"url_group": urlGroups(append([]Node{self}, peers...), "urls", "auth_urls")}
		if len(peers) > 0 {
			hub["event_duplicate_url"] = urls(peers, "tcp", in.Version.JMSPort())
		}
	} else {
		// The list is one name for the whole group (a load balancer), which may lead back to
		// this node: publish to its own stream only.
		hub["publish"] = map[string]any{"url_group": urlGroups([]Node{self}, "urls", "auth_urls")}
	}
	apim["event_hub"] = hub
	doc["event_listener"] = tokenRevocation(self)
}

// addGatewaySide adds a gateway's key validation, throttling and artifact synchronisation.
func addGatewaySide(in Input, apim map[string]any) {
	apim["key_manager"] = map[string]any{"service_url": servicesURL(in.ControlPlaneService)}
	apim["cors"] = cors(in.Version)
	th := throttling(in.TrafficManagers, in.Version)
	apim["throttling"] = th
	if in.Version.Major == 3 {
		// The publisher's artifacts, announced on the traffic managers' brokers, are pulled
		// from the first traffic manager's internal data service (3.2 serves it on the
		// traffic managers, which read apim_db; the URL is service_url's host and port).
		th["service_url"] = servicesURL(in.TrafficManagers[0])
		th["username"], th["password"] = "$ref{super_admin.username}", "$ref{super_admin.password}"
		apim["sync_runtime_artifacts"] = map[string]any{"gateway": map[string]any{
			"gateway_labels":     []string{in.GatewayEnvironment},
			"artifact_retriever": "DBRetriever",
			// 3.2 reads the retry duration whenever a retriever is named: always give it.
			"deployment_retry_duration": 15000,
			"data_retrieval_mode":       "sync",
			"event_waiting_time":        5000,
		}}
	}
	if in.Version.Major == 4 {
		apim["event_hub"] = eventHub(in.ControlPlaneService, in.ControlPlane, in.Version)
		apim["sync_runtime_artifacts"] = map[string]any{"gateway": map[string]any{"gateway_labels": []string{in.GatewayEnvironment}}}
	}
}

// addTrafficManagerSide adds a traffic manager's event hub (4.x), the copies of its events to
// its peers and the broker it publishes decisions on.
func addTrafficManagerSide(in Input, apim map[string]any) {
	apim["key_manager"] = map[string]any{"service_url": servicesURL(in.ControlPlaneService)}
	if in.Version.Major == 4 {
		// 3.2's traffic managers are the event hub themselves.
		apim["event_hub"] = eventHub(in.ControlPlaneService, in.ControlPlane, in.Version)
	}
	th := map[string]any{
		"event_duplicate_url": urls(others(in.TrafficManagers, in.Self), "tcp", in.Version.JMSPort()),
		// Its own broker, where it publishes decisions, at its offset.
		"throttle_decision_endpoints": urls([]Node{{"localhost", in.Offset}}, "tcp", in.Version.JMSPort()),
	}
	if in.Version.JMSOverTLS() {
		th["jms"] = map[string]any{"ssl": true}
	}
	apim["throttling"] = th
	apim["oauth_config"] = map[string]any{"revoke_endpoint": in.ControlPlaneService.url("https", PortServletHTTPS) + "/oauth2/revoke"}
}

// tokenRevocation is the identity event listener that announces revoked tokens to the internal
// data service of node. It signs in as the super admin through ${admin.username} and
// ${admin.password}, which Carbon resolves when it reads identity.xml, as WSO2's own files do:
// the config mapper resolves no $ref{} inside an array of tables ([[event_listener]]), so
// $ref{super_admin.username} would reach identity.xml as text and every notification would fail
// to authenticate.
func tokenRevocation(node Node) []any {
	return []any{map[string]any{
		"id": "token_revocation", "type": "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler",
		"name": "org.wso2.is.notification.ApimOauthEventInterceptor", "order": 1,
		"properties": map[string]any{
			"notification_endpoint":     node.url("https", PortServletHTTPS) + "/internal/data/v1/notify",
			"username":                  "${admin.username}",
			"password":                  "${admin.password}",
			"header.X-WSO2-KEY-MANAGER": "default",
		},
	}}
}

// cors is WSO2's own CORS setting for gateways and the control plane, whose allowed headers
// carry the API key (the Developer Portal's try-out) and the publisher's test key.
func cors(v Version) map[string]any {
	testHeader := "Internal-Key" // 4.x
	if v.Major == 3 {
		testHeader = "testKey"
	}
	headers := []string{"authorization", "Access-Control-Allow-Origin", "Content-Type", "SOAPAction", "apikey", testHeader}
	return map[string]any{
		"allow_origins":     "*",
		"allow_methods":     []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"},
		"allow_headers":     headers,
		"allow_credentials": false,
	}
}

// serverRole selects WSO2's per-role defaults (infer.json): a pack run as one of its profiles
// knows each profile's role by name; a 4.5 component distribution knows only "default", already
// the defaults of its component.
func serverRole(v Version, n Name) string {
	if v.SplitDistributions() {
		return "default"
	}
	return string(n)
}

func keystores(k Keystore) map[string]any {
	if k.Type == "" {
		k.Type = "JKS"
	}
	ks := map[string]any{"file_name": k.File, "type": k.Type, "alias": k.Alias, "password": KeystorePasswordRef, "key_password": KeystorePasswordRef}
	return map[string]any{"tls": ks, "primary": ks}
}

// urlWord is what may go into a JDBC URL parameter unescaped.
var urlWord = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

func database(d Database) map[string]any {
	// Connector/J 8 or later (com.mysql.cj.jdbc.Driver): TLS always; with a truststore, the
	// certificate must chain to it and name the host connected to (the RDS endpoint).
	tls := "sslMode=REQUIRED"
	if d.TrustStore != "" {
		tls = "sslMode=VERIFY_IDENTITY&amp;trustCertificateKeyStoreUrl=file:" + d.TrustStore +
			"&amp;trustCertificateKeyStoreType=PKCS12&amp;trustCertificateKeyStorePassword=" + d.TrustStorePassword
	}
	return map[string]any{
		"type":     "mysql",
		"url":      fmt.Sprintf("jdbc:mysql://%s:%d/%s?%s&amp;characterEncoding=UTF-8", d.Host, d.Port, d.Name, tls),
		"username": d.Username,
		"password": DbPasswordRef,
		"driver":   "com.mysql.cj.jdbc.Driver",
		// Validated connections let the pool drop sockets to a failed-over primary. The query
		// is a key of its own: WSO2 writes every pool option as an element after it.
		"validationQuery": "SELECT 1",
		"pool_options":    map[string]any{"testOnBorrow": true, "validationInterval": 30000},
	}
}

func gatewayEnvironment(in Input) map[string]any {
	gw := in.GatewayHostname
	ws, wss := fmt.Sprintf("ws://%s:%d", gw, PortWebSocket), fmt.Sprintf("wss://%s:%d", gw, PortWebSocketSecure)
	if in.WebSocketOnHTTPS {
		// The load balancer passes WebSocket handshakes on 443 to the gateways' wss port, and
		// serves no plain WebSocket: both entries name the one endpoint that answers, so the
		// portal never shows a URL that cannot connect.
		wss = "wss://" + gw
		ws = wss
	}
	env := map[string]any{
		"name":                       in.GatewayEnvironment,
		"type":                       "hybrid",
		"display_in_api_console":     true,
		"description":                "Gateways behind the public load balancer",
		"show_as_token_endpoint_url": true,
		"service_url":                "https://" + gw + "/services/",
		"ws_endpoint":                ws,
		"wss_endpoint":               wss,
		"http_endpoint":              "http://" + gw,
		"https_endpoint":             "https://" + gw,
	}
	if in.Version.Major == 4 {
		// 4.x environments name their gateway's type and provider; 3.2's carry neither (its
		// api-manager.xml reads one top-level apim.gateway_type, whose default, Synapse, is the
		// only gateway it runs).
		env["gateway_type"], env["provider"] = "Regular", "wso2"
	}
	return env
}

// throttling is the [apim.throttling] block of §5: decisions from every traffic manager's
// broker, and one url_group per traffic manager so each event reaches both.
func throttling(tms []Node, v Version) map[string]any {
	th := map[string]any{
		"throttle_decision_endpoints": urls(tms, "tcp", v.JMSPort()),
		"url_group":                   urlGroups(tms, "traffic_manager_urls", "traffic_manager_auth_urls"),
	}
	if v.JMSOverTLS() {
		// ssl='true' on every broker URL the templates build from the decision endpoints
		// (and from the traffic managers' event_duplicate_url).
		th["jms"] = map[string]any{"ssl": true}
	}
	return th
}

// urlGroups are binary-transport url_groups, one per node. The events themselves go to the
// TLS receiver (ssl://, 9711), not only the sign-in: the data agent sends over TLS whatever
// receiver URL says ssl, in every supported release (carbon-analytics-common 5.1.22 on), so
// the super admin's session and the events never cross the network in the clear.
func urlGroups(nodes []Node, urlKey, authKey string) []any {
	out := make([]any, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, map[string]any{
			urlKey:  []string{n.url("ssl", PortBinaryAuth)},
			authKey: []string{n.url("ssl", PortBinaryAuth)},
		})
	}
	return out
}

// servicesURL is a node's admin services endpoint (key validation, the event hub's service).
func servicesURL(n Node) string { return n.url("https", PortServletHTTPS) + "/services/" }

// eventHub is the [apim.event_hub] table of a node: the hub's services on service and its
// brokers on listeners, signed in as the super admin.
func eventHub(service Node, listeners []Node, v Version) map[string]any {
	hub := map[string]any{
		"enable":                    true,
		"username":                  "$ref{super_admin.username}",
		"password":                  "$ref{super_admin.password}",
		"service_url":               servicesURL(service),
		"event_listening_endpoints": urls(listeners, "tcp", v.JMSPort()),
	}
	if v.JMSOverTLS() {
		// api-manager.xml reads jms.ssl for the listening endpoints; jndi-cp.properties and
		// jndi2-cp.properties read ssl for the same endpoints and for event_duplicate_url.
		hub["ssl"] = true
		hub["jms"] = map[string]any{"ssl": true}
	}
	return hub
}

func urls(nodes []Node, scheme string, base int) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.url(scheme, base))
	}
	return out
}

func hasHost(nodes []Node, host string) bool {
	return slices.ContainsFunc(nodes, func(n Node) bool { return n.Host == host })
}

func others(nodes []Node, self Node) []Node {
	var out []Node
	for _, n := range nodes {
		if n.Host != self.Host {
			out = append(out, n)
		}
	}
	return out
}

// ReceiverURLGroup is the 2.x/3.x api-manager.xml <ReceiverUrlGroup> for the traffic managers,
// one {...} per node so each event reaches all, over TLS like the url_groups the deployment.toml
// gets: {ssl://tm1.local:9712},{ssl://tm2.local:9713}.
func ReceiverURLGroup(tms []Node) string { return urlGroupXML(tms, "ssl", PortBinaryAuth) }

// AuthURLGroup is the matching <AuthUrlGroup>: {ssl://tm1.local:9712},{ssl://tm2.local:9713}.
func AuthURLGroup(tms []Node) string { return urlGroupXML(tms, "ssl", PortBinaryAuth) }

func urlGroupXML(tms []Node, scheme string, base int) string {
	parts := make([]string, 0, len(tms))
	for _, n := range tms {
		parts = append(parts, "{"+n.url(scheme, base)+"}")
	}
	return strings.Join(parts, ",")
}
