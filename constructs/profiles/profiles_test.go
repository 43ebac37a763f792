package profiles

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden deployment.toml files")

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	require.NoError(t, err)
	return v
}

func TestLayouts(t *testing.T) {
	names := func(v string) []Name {
		l, err := Layout(mustVersion(t, v))
		require.NoError(t, err)
		var out []Name
		for _, p := range l {
			out = append(out, p.Name)
		}
		return out
	}
	assert.Equal(t, []Name{ControlPlane, Gateway, TrafficManager}, names("4.3.0"))
	assert.Equal(t, []Name{ControlPlane, Gateway, TrafficManager}, names("4.5.0"))
	assert.Equal(t, []Name{Publisher, DevPortal, KeyManager, Gateway, TrafficManager}, names("3.2.0"))

	_, err := ParseVersion("2.6.0")
	assert.EqualError(t, err, "version 2.6.0 is not supported: use 3.2.x or 4.x")
	_, err = ParseVersion("4.9.0")
	assert.ErrorContains(t, err, "version 4.9.0 is not a WSO2 API Manager release this library knows (3.2.0, 3.2.1, 4.0.0")
	_, err = ParseVersion("4.3")
	assert.EqualError(t, err, `version "4.3" is not major.minor.patch`)
	_, err = Lookup(mustVersion(t, "4.3.0"), Publisher)
	assert.EqualError(t, err, `profile "api-publisher" is not part of API Manager 4.3.0, which has control-plane, gateway-worker, traffic-manager`)
}

func TestProfileFacts(t *testing.T) {
	v := mustVersion(t, "4.3.0")
	tm, _ := Lookup(v, TrafficManager)
	assert.False(t, tm.Scalable, "traffic managers are pinned, one node per group")
	assert.Nil(t, tm.Exposure, "traffic managers are never behind a load balancer")
	assert.Equal(t, HealthCheck{"TCP", 9611, ""}, tm.Health)
	gw, _ := Lookup(v, Gateway)
	assert.Equal(t, []string{SharedDb}, gw.Databases)
	assert.Equal(t, &Exposure{8243, "gateway"}, gw.Exposure)
	cp, _ := Lookup(v, ControlPlane)
	assert.Equal(t, []string{ApimDb, SharedDb}, cp.Databases)
	assert.Equal(t, HealthCheck{"HTTPS", 9443, "/services/Version"}, cp.Health)
	assert.Equal(t, 9612, Port(PortBinary, 1), "ports move with the offset")
}

func TestPacksAndStartCommands(t *testing.T) {
	cases := []struct {
		version string
		profile Name
		want    Pack
	}{
		{"4.3.0", Gateway, Pack{"wso2am", "wso2am-4.3.0", []string{"bin/api-manager.sh", "--optimize", "-Dprofile=gateway-worker", "--skipConfigOptimization"}}},
		{"4.4.0", ControlPlane, Pack{"wso2am", "wso2am-4.4.0", []string{"bin/api-manager.sh", "--optimize", "-Dprofile=control-plane", "--skipConfigOptimization"}}},
		{"3.2.0", KeyManager, Pack{"wso2am", "wso2am-3.2.0", []string{"bin/wso2server.sh", "--optimize", "-Dprofile=api-key-manager", "--skipConfigOptimization"}}},
		{"4.5.0", ControlPlane, Pack{"wso2am-acp", "wso2am-acp-4.5.0", []string{"bin/api-cp.sh"}}},
		{"4.5.0", Gateway, Pack{"wso2am-universal-gw", "wso2am-universal-gw-4.5.0", []string{"bin/gateway.sh"}}},
		{"4.5.0", TrafficManager, Pack{"wso2am-tm", "wso2am-tm-4.5.0", []string{"bin/traffic-manager.sh"}}},
	}
	for _, c := range cases {
		got, err := PackOf(mustVersion(t, c.version), c.profile)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s %s", c.version, c.profile)
		for _, arg := range got.Start {
			if c.version >= "4.5" {
				assert.NotContains(t, arg, "-Dprofile", "split distributions start without -Dprofile")
			}
		}
	}
	p, _ := PackOf(mustVersion(t, "4.3.0"), Gateway)
	assert.Equal(t, "packs/wso2am-4.3.0.zip", p.ArchiveKey("packs/"))
}

// exampleInput is a full set of inputs: two control-plane nodes, two traffic managers at the
// article's offsets (tm1:9612, tm2:9613), both databases.
func exampleInput(v Version, p Name) Input {
	return Input{
		Version:         v,
		Profile:         p,
		Hostname:        map[Name]string{ControlPlane: "portal.example.com", Publisher: "portal.example.com", DevPortal: "portal.example.com", Gateway: "api.example.com", KeyManager: "km1.apim.internal", TrafficManager: "tm1.apim.internal"}[p],
		PortalHostname:  "portal.example.com",
		GatewayHostname: "api.example.com",
		ControlPlane:    []Node{{"cp1.apim.internal", 0}, {"cp2.apim.internal", 0}},
		TrafficManagers: []Node{{"tm1.apim.internal", 1}, {"tm2.apim.internal", 2}},
		Self:            map[Name]Node{TrafficManager: {"tm1.apim.internal", 1}, ControlPlane: {"cp1.apim.internal", 0}}[p],
		Offset:          map[Name]int{TrafficManager: 1}[p],
		Databases: map[string]Database{
			ApimDb:   {Host: "db.apim.internal", Port: 3306, Name: "apim_db", Username: "wso2apim"},
			SharedDb: {Host: "db.apim.internal", Port: 3306, Name: "shared_db", Username: "wso2apim"},
		},
	}
}

// Every profile of every modelled release renders, parses back as TOML, and matches its golden
// file in testdata/ (rewrite with -update and read the diff).
func TestRenderGoldens(t *testing.T) {
	for _, vs := range []string{"3.2.0", "4.3.0", "4.5.0"} {
		v := mustVersion(t, vs)
		layout, _ := Layout(v)
		for _, p := range layout {
			t.Run(vs+"/"+string(p.Name), func(t *testing.T) {
				out, err := Render(exampleInput(v, p.Name))
				require.NoError(t, err)
				var parsed map[string]any
				require.NoError(t, toml.Unmarshal(out, &parsed), "rendered TOML must parse:\n%s", out)
				assert.NotContains(t, string(out), "wso2apim-password", "no secret in the file")
				golden := filepath.Join("testdata", vs, string(p.Name)+".toml")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, out, 0o644))
					return
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./constructs/profiles -update")
				var wantParsed map[string]any
				require.NoError(t, toml.Unmarshal(want, &wantParsed))
				assert.Equal(t, wantParsed, parsed)
				assert.True(t, bytes.Equal(want, out), "%s differs byte for byte; rerun with -update and read the diff", golden)
			})
		}
	}
}

// The gateway gets §5's throttling block: decisions from every traffic manager, one url_group each.
func TestGatewayThrottlingBlock(t *testing.T) {
	out, err := Render(exampleInput(mustVersion(t, "4.3.0"), Gateway))
	require.NoError(t, err)
	var doc struct {
		Apim struct {
			Throttling struct {
				Decisions []string `toml:"throttle_decision_endpoints"`
				Groups    []struct {
					URLs     []string `toml:"traffic_manager_urls"`
					AuthURLs []string `toml:"traffic_manager_auth_urls"`
				} `toml:"url_group"`
			} `toml:"throttling"`
		} `toml:"apim"`
		Database map[string]any `toml:"database"`
	}
	require.NoError(t, toml.Unmarshal(out, &doc))
	th := doc.Apim.Throttling
	assert.Equal(t, []string{"tcp://tm1.apim.internal:8673", "tcp://tm2.apim.internal:8674"}, th.Decisions)
	require.Len(t, th.Groups, 2)
	assert.Equal(t, []string{"ssl://tm1.apim.internal:9712"}, th.Groups[0].URLs)
	assert.Equal(t, []string{"ssl://tm1.apim.internal:9712"}, th.Groups[0].AuthURLs)
	assert.Equal(t, []string{"ssl://tm2.apim.internal:9713"}, th.Groups[1].URLs)
	assert.Equal(t, []string{"shared_db"}, keys(doc.Database), "a gateway uses shared_db only")
	assert.Contains(t, string(out), "jdbc:mysql://db.apim.internal:3306/shared_db?sslMode=REQUIRED&amp;characterEncoding=UTF-8")
}

// A control-plane node reaches its own event hub, services and token-revocation endpoint on
// localhost. Given one name for the whole group (a load balancer) it publishes to its own stream
// only; given every node by name and itself among them, it publishes to each node's stream and
// duplicates what it receives to the others.
func TestControlPlaneEventHub(t *testing.T) {
	type hub struct {
		Service    string   `toml:"service_url"`
		Listening  []string `toml:"event_listening_endpoints"`
		Duplicates []string `toml:"event_duplicate_url"`
		Publish    struct {
			Groups []struct {
				URLs []string `toml:"urls"`
			} `toml:"url_group"`
		} `toml:"publish"`
	}
	render := func(cp []Node, self Node) (hub, string) {
		in := exampleInput(mustVersion(t, "4.3.0"), ControlPlane)
		in.ControlPlane, in.Self = cp, self
		out, err := Render(in)
		require.NoError(t, err)
		var doc struct {
			Apim struct {
				Hub hub `toml:"event_hub"`
			} `toml:"apim"`
			Listeners []struct {
				Properties map[string]any `toml:"properties"`
			} `toml:"event_listener"`
		}
		require.NoError(t, toml.Unmarshal(out, &doc))
		require.Len(t, doc.Listeners, 1)
		return doc.Apim.Hub, fmt.Sprint(doc.Listeners[0].Properties["notification_endpoint"])
	}
	publishedTo := func(h hub) (out []string) {
		for _, g := range h.Publish.Groups {
			out = append(out, g.URLs...)
		}
		return out
	}

	h, notify := render([]Node{{"cp.apim.internal", 0}}, Node{})
	assert.Equal(t, "https://localhost:9443/services/", h.Service)
	assert.Equal(t, []string{"tcp://localhost:8672"}, h.Listening)
	assert.Equal(t, "https://localhost:9443/internal/data/v1/notify", notify)
	assert.Equal(t, []string{"ssl://localhost:9711"}, publishedTo(h), "not to the load balancer, which may lead elsewhere")
	assert.Empty(t, h.Duplicates)

	nodes := []Node{{"cp1.apim.internal", 0}, {"cp2.apim.internal", 0}}
	h, _ = render(nodes, nodes[0])
	assert.Equal(t, []string{"tcp://localhost:8672"}, h.Listening)
	assert.Equal(t, []string{"ssl://localhost:9711", "ssl://cp2.apim.internal:9711"}, publishedTo(h),
		"its own stream on localhost: its name may lead through a load balancer, which cannot hairpin")
	assert.Equal(t, []string{"tcp://cp2.apim.internal:8672"}, h.Duplicates, "to the other node, not to itself")
	h, _ = render(nodes, nodes[1])
	assert.Equal(t, []string{"ssl://localhost:9711", "ssl://cp1.apim.internal:9711"}, publishedTo(h))
	assert.Equal(t, []string{"tcp://cp1.apim.internal:8672"}, h.Duplicates)
}

// Clients of a control plane named node by node listen to every node's broker and call the
// group's services by the name given for the whole group.
func TestControlPlaneServiceName(t *testing.T) {
	v := mustVersion(t, "4.3.0")
	for _, p := range []Name{Gateway, TrafficManager} {
		in := exampleInput(v, p)
		in.ControlPlaneService = Node{"cp.apim.internal", 0}
		out, err := Render(in)
		require.NoError(t, err)
		var doc struct {
			Apim struct {
				KeyManager struct {
					Service string `toml:"service_url"`
				} `toml:"key_manager"`
				Hub struct {
					Service   string   `toml:"service_url"`
					Listening []string `toml:"event_listening_endpoints"`
				} `toml:"event_hub"`
				OAuth struct {
					Revoke string `toml:"revoke_endpoint"`
				} `toml:"oauth_config"`
			} `toml:"apim"`
		}
		require.NoError(t, toml.Unmarshal(out, &doc))
		assert.Equal(t, "https://cp.apim.internal:9443/services/", doc.Apim.KeyManager.Service, p)
		assert.Equal(t, "https://cp.apim.internal:9443/services/", doc.Apim.Hub.Service, p)
		assert.Equal(t, []string{"tcp://cp1.apim.internal:8672", "tcp://cp2.apim.internal:8672"}, doc.Apim.Hub.Listening, p)
		if p == TrafficManager {
			assert.Equal(t, "https://cp.apim.internal:9443/oauth2/revoke", doc.Apim.OAuth.Revoke)
		}
	}
}

// Nodes whose servlet port the load balancer serves on 443 (the portals) say so, so that their
// links and OAuth callbacks name 443; the others keep their ports.
func TestPortalsKnowTheLoadBalancerPort(t *testing.T) {
	for _, v := range []string{"4.3.0", "3.2.0"} {
		version := mustVersion(t, v)
		layout, err := Layout(version)
		require.NoError(t, err)
		for _, p := range layout {
			out, err := Render(exampleInput(version, p.Name))
			require.NoError(t, err)
			var doc struct {
				Transport struct {
					HTTPS struct {
						Properties struct {
							ProxyPort int `toml:"proxyPort"`
						} `toml:"properties"`
					} `toml:"https"`
				} `toml:"transport"`
			}
			require.NoError(t, toml.Unmarshal(out, &doc))
			want := 0
			if p.Name == ControlPlane || p.Name == Publisher || p.Name == DevPortal {
				want = 443
			}
			assert.Equal(t, want, doc.Transport.HTTPS.Properties.ProxyPort, "%s %s", v, p.Name)
			if want == 443 {
				assert.Contains(t, string(out), "url = 'https://portal.example.com/devportal'", "%s %s links to the public portal", v, p.Name)
			}
		}
	}
}

// Given a truststore, the JDBC URLs verify the database's certificate against it; without one
// they still require TLS. A truststore that would break the URL is refused.
func TestDatabaseTrustStore(t *testing.T) {
	v := mustVersion(t, "4.3.0")
	in := exampleInput(v, Gateway)
	out, err := Render(in)
	require.NoError(t, err)
	assert.Contains(t, string(out), "shared_db?sslMode=REQUIRED&amp;characterEncoding=UTF-8")

	d := in.Databases[SharedDb]
	d.TrustStore, d.TrustStorePassword = "/opt/wso2/database-truststore.p12", "public-roots"
	in.Databases[SharedDb] = d
	out, err = Render(in)
	require.NoError(t, err)
	assert.Contains(t, string(out), "shared_db?sslMode=VERIFY_IDENTITY"+
		"&amp;trustCertificateKeyStoreUrl=file:/opt/wso2/database-truststore.p12&amp;trustCertificateKeyStoreType=PKCS12"+
		"&amp;trustCertificateKeyStorePassword=public-roots&amp;characterEncoding=UTF-8")

	for _, bad := range [][2]string{{"relative.p12", "secret"}, {"/opt/x.p12", ""}, {"/opt/x.p12", "abc&def"}, {"/opt/my store.p12", "secret"}, {"/opt/x.p12", "short"}} {
		d.TrustStore, d.TrustStorePassword = bad[0], bad[1]
		in.Databases[SharedDb] = d
		_, err = Render(in)
		assert.ErrorContains(t, err, "Databases[shared_db] needs an absolute TrustStore path and a TrustStorePassword of at least 6 characters", "%q", bad)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRenderNamesMissingInputs(t *testing.T) {
	v := mustVersion(t, "4.3.0")
	cases := []struct {
		profile Name
		mutate  func(*Input)
		want    string
	}{
		{Gateway, func(in *Input) { in.TrafficManagers = nil }, "TrafficManagers"},
		{Gateway, func(in *Input) { in.ControlPlane = nil }, "ControlPlane"},
		{TrafficManager, func(in *Input) { delete(in.Databases, ApimDb) }, "Databases[apim_db]"},
		{ControlPlane, func(in *Input) { in.Hostname = "" }, "Hostname"},
		{ControlPlane, func(in *Input) { in.GatewayHostname = "" }, "GatewayHostname"},
		{Gateway, func(in *Input) { d := in.Databases[SharedDb]; d.Username = ""; in.Databases[SharedDb] = d }, "Databases[shared_db] (Host, Port, Name, Username)"},
	}
	in := exampleInput(v, Gateway)
	in.TrafficManagers = []Node{{"tm.apim.internal", 1}, {"tm.apim.internal", 1}}
	_, err := Render(in)
	assert.EqualError(t, err, "deployment.toml for gateway-worker 4.3.0: TrafficManagers[1] repeats tm.apim.internal:9612: each node needs its own host or offset")
	for _, c := range cases {
		in := exampleInput(v, c.profile)
		c.mutate(&in)
		_, err := Render(in)
		if assert.Error(t, err) {
			assert.True(t, strings.HasPrefix(err.Error(), "deployment.toml for "+string(c.profile)+" 4.3.0: missing "), err.Error())
			assert.Contains(t, err.Error(), c.want)
		}
	}
	in = exampleInput(v, ControlPlane)
	in.Self = Node{}
	_, err = Render(in)
	assert.EqualError(t, err, "deployment.toml for control-plane 4.3.0: ControlPlane names 2 nodes and Self is none of them: "+
		"name this node as Self, or give one name for the whole group")
	_, err = Render(exampleInput(v, Publisher))
	assert.ErrorContains(t, err, `profile "api-publisher" is not part of API Manager 4.3.0`)
}

// The article's layout: tm1.local:9612 and tm2.local:9613 (offsets 1 and 2).
func TestXmlUrlGroups(t *testing.T) {
	tms := []Node{{"tm1.local", 1}, {"tm2.local", 2}}
	assert.Equal(t, "{ssl://tm1.local:9712},{ssl://tm2.local:9713}", ReceiverURLGroup(tms))
	assert.Equal(t, "{ssl://tm1.local:9712},{ssl://tm2.local:9713}", AuthURLGroup(tms))
}

// 3.2 gateways pull the publisher's artifacts instead of waiting for a push the load balancer
// would deliver to one node: the publisher saves them and announces them through the traffic
// managers, the gateways subscribe to the environment's label and fetch from the first traffic
// manager's internal data service. 4.x keeps its own synchronisation through the control plane.
func TestGatewayArtifactSynchronisation(t *testing.T) {
	type doc struct {
		Apim struct {
			Sync struct {
				Publisher map[string]any `toml:"publisher"`
				Gateway   map[string]any `toml:"gateway"`
			} `toml:"sync_runtime_artifacts"`
			Throttling struct {
				Service  string `toml:"service_url"`
				Username string `toml:"username"`
			} `toml:"throttling"`
		} `toml:"apim"`
	}
	render := func(v string, p Name) doc {
		out, err := Render(exampleInput(mustVersion(t, v), p))
		require.NoError(t, err)
		var d doc
		require.NoError(t, toml.Unmarshal(out, &d))
		return d
	}
	pub := render("3.2.0", Publisher).Apim.Sync.Publisher
	assert.Equal(t, map[string]any{"artifact_saver": "DBSaver", "publish_directly_to_gateway": false}, pub)
	gw := render("3.2.0", Gateway)
	assert.Equal(t, []any{"Default"}, gw.Apim.Sync.Gateway["gateway_labels"], "the label is the environment the publisher deploys to")
	assert.Equal(t, "DBRetriever", gw.Apim.Sync.Gateway["artifact_retriever"])
	assert.EqualValues(t, 15000, gw.Apim.Sync.Gateway["deployment_retry_duration"])
	assert.Equal(t, "https://tm1.apim.internal:9444/services/", gw.Apim.Throttling.Service, "tm1's servlet port, at its offset")
	assert.Equal(t, "$ref{super_admin.username}", gw.Apim.Throttling.Username)

	assert.Nil(t, render("4.3.0", Gateway).Apim.Sync.Gateway["artifact_retriever"], "4.x gateways sync through the control plane")
	assert.Empty(t, render("4.3.0", Gateway).Apim.Throttling.Service)
	for _, p := range []Name{DevPortal, KeyManager, TrafficManager} {
		assert.Nil(t, render("3.2.0", p).Apim.Sync.Publisher, p)
	}
}

// The gateway environment advertises WSO2's ws and wss ports, or, when the load balancer passes
// WebSocket handshakes on 443 (and serves no plain WebSocket), that endpoint under both keys.
func TestWebSocketEndpointFollowsTheLoadBalancer(t *testing.T) {
	endpoints := func(on bool) [2]string {
		in := exampleInput(mustVersion(t, "4.3.0"), ControlPlane)
		in.WebSocketOnHTTPS = on
		out, err := Render(in)
		require.NoError(t, err)
		var doc struct {
			Apim struct {
				Gateway struct {
					Environment []map[string]any `toml:"environment"`
				} `toml:"gateway"`
			} `toml:"apim"`
		}
		require.NoError(t, toml.Unmarshal(out, &doc))
		env := doc.Apim.Gateway.Environment[0]
		return [2]string{fmt.Sprint(env["ws_endpoint"]), fmt.Sprint(env["wss_endpoint"])}
	}
	assert.Equal(t, [2]string{"ws://api.example.com:9099", "wss://api.example.com:8099"}, endpoints(false))
	assert.Equal(t, [2]string{"wss://api.example.com", "wss://api.example.com"}, endpoints(true))
}

// A keystore of the deployment's own replaces the pack's as TLS and primary keystore; the pack's
// truststore keeps its own password reference, since its password does not change with it.
func TestOwnKeystore(t *testing.T) {
	in := exampleInput(mustVersion(t, "4.3.0"), Gateway)
	in.Keystore = &Keystore{File: "apimkit-keystore.p12", Alias: "wso2carbon", Type: "PKCS12"}
	out, err := Render(in)
	require.NoError(t, err)
	var doc struct {
		Keystore   map[string]map[string]any `toml:"keystore"`
		Truststore map[string]any            `toml:"truststore"`
	}
	require.NoError(t, toml.Unmarshal(out, &doc))
	for _, kind := range []string{"tls", "primary"} {
		assert.Equal(t, "apimkit-keystore.p12", doc.Keystore[kind]["file_name"], kind)
		assert.Equal(t, "PKCS12", doc.Keystore[kind]["type"], kind)
		assert.Equal(t, KeystorePasswordRef, doc.Keystore[kind]["password"], kind)
	}
	assert.Equal(t, "client-truststore.jks", doc.Truststore["file_name"])
	assert.Equal(t, TruststorePasswordRef, doc.Truststore["password"])
}

// In 3.2 the traffic managers are the event hub: the publisher deploys throttling policies
// through tm1's services, the portals and the key manager publish their events to both traffic
// managers, the key manager announces revoked tokens to tm1's internal data service (its own is
// removed from its profile), and the traffic managers subscribe to no other hub.
func TestThreeTwoEventsGoThroughTheTrafficManagers(t *testing.T) {
	type doc struct {
		Apim struct {
			Hub        map[string]any `toml:"event_hub"`
			Throttling struct {
				Service  string `toml:"service_url"`
				Username string `toml:"username"`
				Groups   []struct {
					URLs []string `toml:"traffic_manager_urls"`
				} `toml:"url_group"`
			} `toml:"throttling"`
		} `toml:"apim"`
		Listeners []struct {
			ID    string            `toml:"id"`
			Props map[string]string `toml:"properties"`
		} `toml:"event_listener"`
		Handlers []map[string]any `toml:"event_handler"`
	}
	render := func(p Name) doc {
		out, err := Render(exampleInput(mustVersion(t, "3.2.0"), p))
		require.NoError(t, err)
		var d doc
		require.NoError(t, toml.Unmarshal(out, &d))
		return d
	}
	assert.Equal(t, "https://tm1.apim.internal:9444/services/", render(Publisher).Apim.Throttling.Service, "policies deploy to tm1, at its offset")
	for _, p := range []Name{Publisher, DevPortal, KeyManager} {
		d := render(p)
		require.Len(t, d.Apim.Throttling.Groups, 2, p)
		assert.Equal(t, []string{"ssl://tm2.apim.internal:9713"}, d.Apim.Throttling.Groups[1].URLs, "%s publishes to each traffic manager", p)
		assert.Equal(t, "$ref{super_admin.username}", d.Apim.Throttling.Username, p)
	}
	assert.Empty(t, render(DevPortal).Apim.Throttling.Service, "only the publisher deploys policies")
	km := render(KeyManager)
	require.Len(t, km.Listeners, 1)
	assert.Equal(t, "token_revocation", km.Listeners[0].ID)
	assert.Equal(t, "https://tm1.apim.internal:9444/internal/data/v1/notify", km.Listeners[0].Props["notification_endpoint"])
	for _, p := range []Name{DevPortal, KeyManager} {
		require.Len(t, render(p).Handlers, 1, p)
		assert.Equal(t, "userPostSelfRegistration", render(p).Handlers[0]["name"], "%s: self sign-up gives the subscriber role", p)
	}
	assert.Nil(t, render(TrafficManager).Apim.Hub, "3.2 traffic managers are the hub")
}

// The server role selects WSO2's per-role defaults: a pack started as one profile takes the
// profile's name (3.2 and 4.3 alike), a 4.5 component distribution knows only "default".
func TestServerRoleSelectsTheRolesDefaults(t *testing.T) {
	role := func(v string, p Name) string {
		out, err := Render(exampleInput(mustVersion(t, v), p))
		require.NoError(t, err)
		var d struct {
			Server struct {
				Role string `toml:"server_role"`
			} `toml:"server"`
		}
		require.NoError(t, toml.Unmarshal(out, &d))
		return d.Server.Role
	}
	for _, p := range []Name{Publisher, DevPortal, KeyManager, Gateway, TrafficManager} {
		assert.Equal(t, string(p), role("3.2.0", p))
	}
	for _, p := range []Name{ControlPlane, Gateway, TrafficManager} {
		assert.Equal(t, string(p), role("4.3.0", p))
		assert.Equal(t, "default", role("4.5.0", p))
	}
}

// WSO2 writes a data source's validation query, then each pool option as an element: the query
// is a key of the database, not a pool option, or it would appear twice. Gateways (and the 4.x
// control plane) allow the API-key header in CORS, for the portal's try-out.
func TestDataSourceAndCorsKeys(t *testing.T) {
	for _, vs := range []string{"3.2.0", "4.3.0"} {
		out, err := Render(exampleInput(mustVersion(t, vs), Gateway))
		require.NoError(t, err)
		var d struct {
			Database map[string]map[string]any `toml:"database"`
			Apim     struct {
				Cors struct {
					Headers []string `toml:"allow_headers"`
				} `toml:"cors"`
			} `toml:"apim"`
		}
		require.NoError(t, toml.Unmarshal(out, &d))
		for name, db := range d.Database {
			assert.Equal(t, "SELECT 1", db["validationQuery"], "%s %s", vs, name)
			assert.NotContains(t, db["pool_options"], "validationQuery", "%s %s", vs, name)
		}
		assert.Contains(t, d.Apim.Cors.Headers, "apikey", vs)
	}
}

// Issue 14: the event hub's and the traffic managers' traffic carries the super admin's
// credentials. Every binary URL a node is told is the TLS receiver (ssl://, 9711); every broker
// URL is the release's JMS port, 8672 with ssl='true' where the release's templates take it
// (4.3 on), with the broker offering a protocol current Java accepts; 3.2, whose templates have
// no such option, keeps 5672 and carries no ssl keys.
func TestEventTrafficUsesTLSWhereTheReleaseCan(t *testing.T) {
	for release, tls := range map[string]bool{"3.2.0": false, "3.2.1": false, "4.0.0": false, "4.2.0": false,
		"4.3.0": true, "4.4.0": true, "4.5.0": true, "4.6.0": true} {
		assert.Equal(t, tls, mustVersion(t, release).JMSOverTLS(), release)
	}
	url := regexp.MustCompile(`^(tcp|ssl)://[^:]+:(\d+)$`)
	for _, release := range []string{"3.2.0", "4.3.0", "4.5.0"} {
		v := mustVersion(t, release)
		layout, err := Layout(v)
		require.NoError(t, err)
		for _, p := range layout {
			out, err := Render(exampleInput(v, p.Name))
			require.NoError(t, err)
			var doc map[string]any
			require.NoError(t, toml.Unmarshal(out, &doc))
			offsets := map[string]int{}
			var walk func(key string, v any)
			walk = func(key string, val any) {
				switch val := val.(type) {
				case map[string]any:
					for k, e := range val {
						walk(key+"."+k, e)
					}
				case []any:
					for _, e := range val {
						walk(key, e)
					}
				case string:
					m := url.FindStringSubmatch(val)
					if m == nil {
						return
					}
					port, _ := strconv.Atoi(m[2])
					switch {
					case port >= PortBinary && port < PortBinary+100 || port >= PortBinaryAuth && port < PortBinaryAuth+100:
						assert.Equal(t, "ssl", m[1], "%s %s %s: events go over TLS", release, p.Name, key)
						assert.GreaterOrEqual(t, port, PortBinaryAuth, "%s %s %s: the TLS receiver", release, p.Name, key)
					case port >= PortJMS && port < PortJMS+100 || port >= PortJMSSecure && port < PortJMSSecure+100:
						assert.Equal(t, "tcp", m[1], "%s %s %s", release, p.Name, key)
						assert.Equal(t, v.JMSPort()/1000, port/1000, "%s %s %s: the release's broker port", release, p.Name, key)
						offsets[strings.TrimPrefix(key, ".")]++
					}
				}
			}
			walk("", doc)
			apim, _ := doc["apim"].(map[string]any)
			flag := func(path ...string) any {
				var cur any = apim
				for _, k := range path {
					m, ok := cur.(map[string]any)
					if !ok {
						return nil
					}
					cur = m[k]
				}
				return cur
			}
			if !v.JMSOverTLS() {
				assert.Nil(t, flag("throttling", "jms"), "%s %s", release, p.Name)
				assert.Nil(t, flag("event_hub", "jms"), "%s %s", release, p.Name)
				assert.Nil(t, flag("event_hub", "ssl"), "%s %s", release, p.Name)
				assert.NotContains(t, doc, "broker", "%s %s", release, p.Name)
				continue
			}
			if offsets["apim.throttling.throttle_decision_endpoints"]+offsets["apim.throttling.event_duplicate_url"] > 0 {
				assert.Equal(t, true, flag("throttling", "jms", "ssl"), "%s %s: throttling brokers over TLS", release, p.Name)
			} else {
				assert.Nil(t, flag("throttling", "jms"), "%s %s: no broker URL, so the templates' plain local fallback must not get ssl", release, p.Name)
			}
			if offsets["apim.event_hub.event_listening_endpoints"] > 0 {
				assert.Equal(t, true, flag("event_hub", "ssl"), "%s %s", release, p.Name)
				assert.Equal(t, true, flag("event_hub", "jms", "ssl"), "%s %s", release, p.Name)
			}
			assert.Contains(t, string(out), "[broker.transport.amqp.ssl_connection]\nssl_enabled_protocols = 'TLSv1.2'", "%s %s", release, p.Name)
		}
	}
}
