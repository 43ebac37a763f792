package profiles

import (
	"os"
	"slices"
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
	assert.Contains(t, got, "tcp://tm1.apim.internal:9612 apim.throttling.url_group[0].traffic_manager_urls[0]")
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
