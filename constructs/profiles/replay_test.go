package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles/confmap"
)

// nodeEnv is the environment the boot script gives the WSO2 service (its secrets file and its
// unit's Environment= lines): the $env{} names a deployment.toml may use.
func nodeEnv(t *testing.T) confmap.Env {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "bootscript", "boot.sh"))
	require.NoError(t, err)
	env := confmap.BootEnv(string(b))
	require.Contains(t, env.Vars, "WSO2_DB_PASSWORD", "boot.sh no longer reads as expected")
	return env
}

var loaded = map[string]*confmap.Facts{}

func facts(t *testing.T, v string) *confmap.Facts {
	t.Helper()
	if f, ok := loaded[v]; ok {
		return f
	}
	f, err := confmap.Load(v)
	require.NoError(t, err)
	loaded[v] = f
	return f
}

// replayInputs are the inputs the library renders nodes from, per layout: the goldens' (the
// reference app's nodes render the same way, through ProfileAsg), a control plane reached by one
// name for the whole group, a multi-zone control plane whose nodes are named one per zone
// (Wiring.SelfByZone: each node is Self in turn), the second traffic manager, the load
// balancer's WebSocket route, the deployment keystore and a verified database connection.
func replayInputs(v Version, p Name) map[string]Input {
	out := map[string]Input{"example": exampleInput(v, p)}
	one := exampleInput(v, p)
	one.ControlPlane, one.Self = []Node{{"cp.apim.internal", 0}}, Node{}
	if p == TrafficManager {
		one.Self = Node{"tm1.apim.internal", 1}
	}
	out["one control-plane name"] = one
	zonal := []Node{{"cp-a.apim.internal", 0}, {"cp-b.apim.internal", 0}, {"cp-c.apim.internal", 0}}
	for _, self := range zonal {
		in := exampleInput(v, p)
		in.ControlPlane, in.ControlPlaneService = zonal, Node{"cp.apim.internal", 0}
		if p == ControlPlane {
			in.Self = self
		}
		out["zonal control plane, self "+self.Host] = in
	}
	tm2 := exampleInput(v, p)
	if p == TrafficManager {
		tm2.Self, tm2.Hostname, tm2.Offset = Node{"tm2.apim.internal", 2}, "tm2.apim.internal", 2
	}
	out["tm2"] = tm2
	own := exampleInput(v, p)
	own.WebSocketOnHTTPS = true
	own.Keystore = &Keystore{File: "apimkit.p12", Alias: "apimkit", Type: "PKCS12"}
	for name, db := range own.Databases {
		db.TrustStore, db.TrustStorePassword = "/etc/apimkit/database-ca.p12", "changeit"
		own.Databases[name] = db
	}
	out["own keystore, wss on 443, verified database"] = own
	return out
}

// Every deployment.toml the library writes maps cleanly through WSO2's config mapper of its
// release: every key is read by a template, infer.json or default.json, every reference
// resolves, every array is an array. Replayed: each golden in testdata/ (what the reference
// app's nodes get) and renders of every layout variant (replayInputs).
func TestReplayThroughWSO2ConfigMapper(t *testing.T) {
	env := nodeEnv(t)
	for _, vs := range []string{"3.2.0", "4.3.0", "4.5.0"} {
		v, f := mustVersion(t, vs), facts(t, vs)
		layout, _ := Layout(v)
		for _, p := range layout {
			golden, err := os.ReadFile(filepath.Join("testdata", vs, string(p.Name)+".toml"))
			require.NoError(t, err)
			assert.Empty(t, confmap.Replay(golden, f, env), "%s golden %s", vs, p.Name)
			for name, in := range replayInputs(v, p.Name) {
				out, err := Render(in)
				require.NoError(t, err, "%s %s %s", vs, p.Name, name)
				assert.Empty(t, confmap.Replay(out, f, env), "%s %s, %s:\n%s", vs, p.Name, name, out)
			}
		}
	}
}

// The replay goes red on each of issue 15's findings when it comes back, and on a misspelled key.
func TestReplayCatchesTheFindings(t *testing.T) {
	env := nodeEnv(t)
	golden := func(v string, p Name) string {
		b, err := os.ReadFile(filepath.Join("testdata", v, string(p)+".toml"))
		require.NoError(t, err)
		return string(b)
	}
	replace := func(t *testing.T, doc, old, new string) []byte {
		t.Helper()
		require.Contains(t, doc, old)
		return []byte(strings.Replace(doc, old, new, 1))
	}

	t.Run("3.2.0 without [server] node_ip does not start", func(t *testing.T) {
		for _, p := range []Name{Publisher, DevPortal, KeyManager, Gateway, TrafficManager} {
			doc := replace(t, golden("3.2.0", p), "node_ip = '$env{WSO2_NODE_IP}'\n", "")
			assert.Contains(t, confmap.Replay(doc, facts(t, "3.2.0"), env),
				`$ref{server.node_ip} in clustering.local_member_host names nothing: the mapper stops with "Configuration with key server.node_ip doesn't exist" and the server does not start`, p)
		}
		// The 4.x defaults define it.
		assert.Empty(t, confmap.Replay([]byte(golden("4.3.0", Gateway)), facts(t, "4.3.0"), env))
		// A variable the boot script does not set stops the mapper too.
		doc := replace(t, golden("3.2.0", Gateway), "$env{WSO2_NODE_IP}", "$env{NODE_IP}")
		assert.Contains(t, confmap.Replay(doc, facts(t, "3.2.0"), env),
			`$env{NODE_IP} in server.node_ip: the node has no such variable, the mapper stops with "Environment variable NODE_IP not defined in system"`)
	})

	t.Run("$ref{} in [[event_listener]] reaches identity.xml as text", func(t *testing.T) {
		for v, p := range map[string]Name{"3.2.0": KeyManager, "4.3.0": ControlPlane, "4.5.0": ControlPlane} {
			doc := replace(t, golden(v, p), "username = '${admin.username}'", "username = '$ref{super_admin.username}'")
			assert.Equal(t, []string{
				"$ref{super_admin.username} in event_listener[].properties.username is inside an array of tables, where the mapper resolves no $ref{}: it reaches the XML as text",
			}, confmap.Replay(doc, facts(t, v), env), v)
		}
	})

	t.Run("3.2.0 reads no gateway_type or provider in a gateway environment", func(t *testing.T) {
		for _, p := range []Name{Publisher, DevPortal} {
			doc := replace(t, golden("3.2.0", p), "name = 'Default'\n", "name = 'Default'\ngateway_type = 'Regular'\nprovider = 'wso2'\n")
			assert.Equal(t, []string{
				"apim.gateway.environment[].gateway_type is read by no template, infer.json or default.json of 3.2.0",
				"apim.gateway.environment[].provider is read by no template, infer.json or default.json of 3.2.0",
			}, confmap.Replay(doc, facts(t, "3.2.0"), env), p)
		}
	})

	t.Run("a misspelled key", func(t *testing.T) {
		doc := replace(t, golden("4.5.0", Gateway), "throttle_decision_endpoints", "throttle_decision_endpoint")
		assert.Equal(t, []string{"apim.throttling.throttle_decision_endpoint is read by no template, infer.json or default.json of 4.5.0"},
			confmap.Replay(doc, facts(t, "4.5.0"), env))
	})

	t.Run("a table where WSO2 loops over an array", func(t *testing.T) {
		doc := golden("4.3.0", TrafficManager) + "\n[apim.throttling.url_group]\ntraffic_manager_urls = ['tcp://tm2.apim.internal:9613']\ntraffic_manager_auth_urls = ['ssl://tm2.apim.internal:9713']\n"
		assert.Contains(t, confmap.Replay([]byte(doc), facts(t, "4.3.0"), env),
			"apim.throttling.url_group is a table, but the templates loop over it as an array: write [[apim.throttling.url_group]]")
	})
}
