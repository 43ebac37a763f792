package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/reach"
	"github.com/apimkit/apimkit/test/testkit"
)

const (
	someInternetHost = "198.51.100.7"
	adminHost        = "203.0.113.9"
)

func network(t *testing.T, asm *testkit.Assembly) *reach.Network {
	t.Helper()
	n, err := reach.Load(asm.Stack(t, "Network").Template)
	require.NoError(t, err)
	return n
}

type flow struct {
	from, to reach.Endpoint
	port     int
	want     bool
}

func checkFlows(t *testing.T, n *reach.Network, flows []flow) {
	t.Helper()
	for _, f := range flows {
		v := n.Connect(f.from, f.to, f.port)
		if f.want {
			assert.True(t, v.Allowed, "%s -> %s:%d should get through: %s", f.from, f.to, f.port, v.Reason)
		} else {
			assert.False(t, v.Allowed, "%s -> %s:%d should be dropped", f.from, f.to, f.port)
		}
	}
}

// The flows of §3 of the reference architecture that the network alone decides. Later constructs
// add their flows here, with security groups.
func TestReachability(t *testing.T) {
	n := network(t, reference(t))
	internet := reach.Internet(someInternetHost)
	pub, app, mgmt, data := n.Tier("Public"), n.Tier("Application"), n.Tier("Management"), n.Tier("Data")
	require.Len(t, app, 2)
	var flows []flow
	for i := range app {
		other := 1 - i
		flows = append(flows,
			// Private tiers reach the internet on 443 only.
			flow{reach.In(app[i]), internet, 443, true},
			flow{reach.In(mgmt[i]), internet, 443, true},
			flow{reach.In(app[i]), internet, 80, false},
			flow{reach.In(app[i]), internet, 22, false},
			flow{reach.In(mgmt[i]), internet, 8080, false},
			// The data tier reaches nothing outside the VPC...
			flow{reach.In(data[i]), internet, 443, false},
			// ...and is reached only on the database port from the application and management tiers.
			flow{reach.In(app[i]), reach.In(data[i]), 3306, true},
			flow{reach.In(app[i]), reach.In(data[other]), 3306, true},
			flow{reach.In(mgmt[i]), reach.In(data[other]), 3306, true},
			flow{reach.PublicIn(pub[i]), reach.In(data[i]), 3306, false},
			flow{reach.In(app[i]), reach.In(data[i]), 22, false},
			flow{reach.In(app[i]), reach.In(data[i]), 5432, false},
			flow{reach.In(data[i]), reach.In(app[i]), 9443, false},
			flow{reach.In(data[i]), reach.In(mgmt[i]), 8140, false},
			// The public tier admits web traffic from the internet, and no SSH without admin
			// ranges. (Its ACL must admit replies on every port from 1024 up; what listens
			// there is for the load balancer's and bastion's security groups to decide.)
			flow{internet, reach.PublicIn(pub[i]), 443, true},
			flow{internet, reach.PublicIn(pub[i]), 80, true},
			flow{internet, reach.PublicIn(pub[i]), 22, false},
			flow{internet, reach.PublicIn(pub[i]), 23, false},
			flow{internet, reach.PublicIn(pub[i]), 445, false},
			// Nothing in a private tier is addressable from the internet.
			flow{internet, reach.In(app[i]), 8243, false},
			flow{internet, reach.In(mgmt[i]), 443, false},
			flow{internet, reach.In(data[i]), 3306, false},
			// Load balancer to nodes and back; bastion to instances; node to node across zones.
			flow{reach.PublicIn(pub[i]), reach.In(app[other]), 9443, true},
			flow{reach.PublicIn(pub[i]), reach.In(app[i]), 8243, true},
			flow{reach.PublicIn(pub[i]), reach.In(app[i]), 22, true},
			flow{reach.PublicIn(pub[i]), reach.In(mgmt[i]), 22, true},
			flow{reach.PublicIn(pub[i]), reach.In(data[i]), 22, false},
			flow{reach.In(app[i]), reach.In(app[other]), 9611, true},
			flow{reach.In(app[i]), reach.In(mgmt[other]), 8140, true},
		)
	}
	checkFlows(t, n, flows)
	for _, s := range append(app, mgmt...) {
		v := n.Connect(reach.In(s), internet, 443)
		require.NotNil(t, v.NatSubnet, s.Name)
		assert.Equal(t, s.AZ, v.NatSubnet.AZ, "%s in %s leaves through its own zone's NAT gateway", s.Name, s.AZ)
	}
}

func TestReachabilityWithAdminSshAndOneNatGateway(t *testing.T) {
	n := network(t, referenceWithAdminSSH(t))
	pub, app := n.Tier("Public"), n.Tier("Application")
	checkFlows(t, n, []flow{
		{reach.Internet(adminHost), reach.PublicIn(pub[0]), 22, true},
		{reach.Internet("198.51.100.200"), reach.PublicIn(pub[1]), 22, true},
		{reach.Internet(someInternetHost), reach.PublicIn(pub[0]), 22, false},
		{reach.In(app[1]), reach.Internet(someInternetHost), 443, true},
	})
	v := n.Connect(reach.In(app[1]), reach.Internet(someInternetHost), 443)
	assert.Equal(t, pub[0].AZ, v.NatSubnet.AZ, "with one NAT gateway every zone leaves through the first")
}

// The model is only worth having if it catches a network that synthesizes but drops traffic. Each
// mutation removes one rule of the reference template that a flow depends on.
func TestReachabilityCatchesBrokenNetworks(t *testing.T) {
	base := reference(t).Stack(t, "Network").Template
	internet := reach.Internet(someInternetHost)
	cases := []struct {
		name   string
		remove string // logical-id prefix of the resource to delete
		flow   func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int)
		reason string
	}{
		{
			name:   "application tier drops NAT return traffic",
			remove: "NetworkApplicationAclIngress130",
			flow: func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int) {
				return reach.In(n.Tier("Application")[0]), internet, 443
			},
			reason: "reply",
		},
		{
			name:   "public tier drops replies to the NAT gateway",
			remove: "NetworkPublicAclIngress120",
			flow: func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int) {
				return reach.In(n.Tier("Management")[1]), internet, 443
			},
			reason: "reply to the NAT gateway",
		},
		{
			name:   "public tier cannot forward private traffic out",
			remove: "NetworkPublicAclEgress100",
			flow: func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int) {
				return reach.In(n.Tier("Application")[1]), internet, 443
			},
			reason: "request out of the NAT subnet",
		},
		{
			name:   "data tier cannot reply to the application tier",
			remove: "NetworkDataAclEgress100",
			flow: func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int) {
				return reach.In(n.Tier("Application")[0]), reach.In(n.Tier("Data")[1]), 3306
			},
			reason: "reply",
		},
		{
			name:   "a private zone loses its default route",
			remove: "NetworkApplicationSubnet2DefaultRoute",
			flow: func(n *reach.Network) (reach.Endpoint, reach.Endpoint, int) {
				return reach.In(n.Tier("Application")[1]), internet, 443
			},
			reason: "no route",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := reach.Load(without(t, base, tc.remove))
			require.NoError(t, err)
			from, to, port := tc.flow(n)
			v := n.Connect(from, to, port)
			assert.False(t, v.Allowed, "the broken network must fail the flow")
			assert.Contains(t, v.Reason, tc.reason)
		})
	}
}

// without returns a deep copy of tmpl minus the one resource whose logical id starts with prefix.
func without(t *testing.T, tmpl map[string]any, prefix string) map[string]any {
	t.Helper()
	raw, err := json.Marshal(tmpl)
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	res := c["Resources"].(map[string]any)
	var hit []string
	for id := range res {
		if strings.HasPrefix(id, prefix) {
			hit = append(hit, id)
		}
	}
	require.Len(t, hit, 1, "exactly one resource starts with %s", prefix)
	delete(res, hit[0])
	return c
}
