package wso2_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

// The names v0.6.0 renamed still work until the next minor release (CHANGELOG.md): each is the
// new one under its old name.
func TestDeprecatedNamesStillWork(t *testing.T) {
	// GrantAccessFrom opens what AllowFrom opens: the wiring check, which refuses a node told
	// a traffic manager no rule lets it reach, finds nothing missing.
	app, _ := handBuilt(handOptions{deprecatedTmGrant: true})
	assert.Empty(t, wiringErrors(t, app))
	app, _ = handBuilt(handOptions{skipTmGrant: true})
	assert.NotEmpty(t, wiringErrors(t, app), "and without it the check does find the rules missing")

	pairTemplate(t) // builds pair
	assert.Equal(t, pair.ReceiverURLGroup(), pair.ReceiverUrlGroup())
	assert.Equal(t, pair.AuthURLGroup(), pair.AuthUrlGroup())
	assert.Equal(t, wso2.DNSHookName, wso2.DnsHookName)
	assert.Equal(t, profiles.ApimDb, wso2.ApimDb)
	assert.Equal(t, profiles.SharedDb, wso2.SharedDb)

	stack := stackIn(testkit.NewApp(nil), "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	b := wso2.NewBastion(stack, "Bastion", &wso2.BastionProps{Network: net, SSHFrom: jsii.Strings("203.0.113.0/24")})
	assert.Equal(t, *b.PublicIP(), *b.PublicIp())
}
