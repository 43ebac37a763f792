package profiles

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every flow and route of each layout names profiles of that layout and ports its server listens
// on; the hub is the node that serves key validation.
func TestTopologyIsConsistentWithTheLayout(t *testing.T) {
	for _, release := range []string{"3.2.0", "4.3.0", "4.5.0"} {
		v := mustVersion(t, release)
		topo, err := TopologyOf(v)
		require.NoError(t, err)
		layout, _ := Layout(v)
		require.Len(t, topo.Profiles, len(layout))
		assert.Contains(t, topo.Profiles, topo.Hub, release)
		hub, _ := Lookup(v, topo.Hub)
		tm, _ := Lookup(v, TrafficManager)
		for _, p := range topo.HubPorts {
			assert.Contains(t, hub.Ports, p, "%s: the hub's endpoint forwards a port the hub listens on", release)
		}
		for _, f := range topo.Flows {
			assert.Contains(t, topo.Profiles, f.From, "%s: %+v", release, f)
			server := hub
			if f.To == PeerTrafficManagers || f.To == PeerFirstTrafficManager {
				server = tm
			}
			for _, p := range f.Ports {
				assert.Contains(t, server.Ports, p, "%s: %+v", release, f)
				if f.To == PeerHub || f.To == PeerHubNodes {
					assert.Contains(t, topo.HubPorts, p, "%s: %+v goes through the hub's endpoint", release, f)
				}
			}
		}
		for _, r := range topo.Routes {
			p, err := Lookup(v, r.Profile)
			require.NoError(t, err)
			require.NotNil(t, p.Exposure, "%s: %s is routed", release, r.Profile)
			assert.Equal(t, string(r.Host), p.Exposure.Role, "%s: %s", release, r.Profile)
		}
	}
}

func TestHubNodesAreNamedPerZoneIn4x(t *testing.T) {
	topo, _ := TopologyOf(mustVersion(t, "4.5.0"))
	assert.Equal(t, []Node{{Host: "cp1.z.internal"}, {Host: "cp2.z.internal"}, {Host: "cp3.z.internal"}}, topo.HubNodes("z.internal", 3))
	topo, _ = TopologyOf(mustVersion(t, "3.2.0"))
	assert.Nil(t, topo.HubNodes("z.internal", 3), "the 3.2 key manager goes by one name")
	assert.True(t, topo.ServicesOnPortal)
}

func TestEndpointsNamesEveryPeerWithAPort(t *testing.T) {
	raw, err := os.ReadFile("testdata/4.5.0/gateway-worker.toml")
	require.NoError(t, err)
	eps, err := Endpoints(raw)
	require.NoError(t, err)
	var got []string
	for _, e := range eps {
		got = append(got, e.String()+" "+e.Key)
	}
	assert.Contains(t, got, "ssl://tm1.apim.internal:9712 apim.throttling.url_group[0].traffic_manager_urls[0]")
	assert.Contains(t, got, "https://cp1.apim.internal:9443 apim.key_manager.service_url")
	assert.False(t, slices.ContainsFunc(eps, func(e Endpoint) bool { return e.Host == "localhost" || e.Host == "db.apim.internal" }),
		"the node itself and the JDBC URLs are not peers: %v", got)
	_, err = Endpoints([]byte("not = [toml"))
	assert.Error(t, err)
}

func TestServesScheme(t *testing.T) {
	assert.True(t, ServesScheme(PortBinaryAuth, "ssl"))
	assert.False(t, ServesScheme(PortBinary, "ssl"))
	assert.False(t, ServesScheme(1234, "tcp"))
}

// browserPaths are requests browsers and API clients make on the portal host, per layout (3.2:
// the publisher serves its portal, its REST API and the admin portal).
var browserPaths = map[string][]string{
	"4.x": {
		"/publisher/apis", "/devportal/apis", "/admin/settings", "/api/am/publisher/v4/apis", "/api/am/devportal/v3/apis",
		"/api/am/admin/v4/throttling/policies/advanced", "/api/am/service-catalog/v1/services", "/oauth2/token", "/oauth2/authorize",
		"/oauth2/jwks", "/oidc/logout", "/commonauth", "/logincontext", "/authenticationendpoint/login.do",
		"/accountrecoveryendpoint/recoverpassword.do", "/api/identity/user/v1.0/me", "/client-registration/v0.17/register",
		"/.well-known/webfinger",
	},
	"3.2": {
		"/publisher/apis", "/devportal/apis", "/admin/settings", "/api/am/publisher/v1/apis", "/api/am/store/v1/apis",
		"/api/am/admin/v1/throttling/policies/advanced", "/oauth2/token", "/oauth2/authorize", "/oidc/logout", "/commonauth",
		"/authenticationendpoint/login.do", "/accountrecoveryendpoint/recoverpassword.do", "/client-registration/v0.17/register",
		"/.well-known/webfinger",
	},
}

// nodeOnlyPaths are served by the control plane (the 3.2 key manager and portals) to the other
// nodes or to operators, never to a browser.
var nodeOnlyPaths = []string{
	"/internal/data/v1/runtime-artifacts", "/internal/data/v1/keyManagers", "/keymanager-operations/dcr/register",
	"/api/am/gateway/v2/redeploy-api", "/api/am/devops/v0/tenant-logs/carbon.super", "/carbon/admin/login.jsp",
	"/", "/scim2/Users",
}

// portalRoute is the first portal route whose paths match path, as the load balancer tries them.
func portalRoute(topo Topology, path string) (Name, bool) {
	for _, r := range topo.Routes {
		if r.Host != PortalHost {
			continue
		}
		if len(r.Paths) == 0 || slices.ContainsFunc(r.Paths, func(p string) bool { return PathPatternMatches(p, path) }) {
			return r.Profile, true
		}
	}
	return "", false
}

// Issue 14: the portal host forwards what browsers and API clients use, to the profile serving
// it, and nothing only nodes call; every release's portal host is an allowlist.
func TestPortalHostIsAnAllowlist(t *testing.T) {
	for _, release := range KnownReleases {
		v := mustVersion(t, release)
		topo, err := TopologyOf(v)
		require.NoError(t, err)
		layout := "4.x"
		if v.Major == 3 {
			layout = "3.2"
		}
		for _, r := range topo.Routes {
			if r.Host == PortalHost {
				assert.NotEmpty(t, r.Paths, "%s: %s serves the portal host by an allowlist", release, r.Profile)
			}
		}
		for _, path := range browserPaths[layout] {
			p, ok := portalRoute(topo, path)
			assert.True(t, ok, "%s: %s is forwarded", release, path)
			if v.Major == 3 && (strings.HasPrefix(path, "/publisher") || strings.HasPrefix(path, "/admin") || strings.HasPrefix(path, "/api/am/publisher")) {
				assert.Equal(t, Publisher, p, "%s: %s", release, path)
			}
		}
		for _, path := range nodeOnlyPaths {
			p, ok := portalRoute(topo, path)
			assert.False(t, ok, "%s: %s is refused on the portal host, but %s serves it", release, path, p)
		}
		governance, _ := portalRoute(topo, "/api/am/governance/v1/rulesets")
		assert.Equal(t, v.Minor >= 5 && v.Major == 4, governance != "", "%s: the governance REST API exists from 4.5", release)
	}
}

func TestPathPatternMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/publisher*", "/publisher", true},
		{"/publisher*", "/publisher/apis", true},
		{"/oauth2/*", "/oauth2", false},
		{"/oauth2/*", "/oauth2/token", true},
		{"/t/*/carbon*", "/t/a.com/carbon/admin", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/Publisher*", "/publisher", false},
		{"*/..*", "/publisher/../internal", true},
	} {
		assert.Equal(t, c.want, PathPatternMatches(c.pattern, c.path), "%+v", c)
	}
}
