package wso2_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

// Issue 16: a group of nodes, the bastion and the updater are awsiam.IGrantable, so aws-cdk-lib's
// own Grant* methods take them and the permission lands on each one's role, and on no other.
func TestConstructsWithARoleAreGrantable(t *testing.T) {
	app := testkit.NewApp(partialDeployment)
	env := newNodeEnv(app)
	gateway := wso2.NewProfileAsg(env.stack, "Gateway", env.props(profiles.Gateway))
	bastion := wso2.NewBastion(env.stack, "Bastion", &wso2.BastionProps{Network: env.network})
	updater := wso2.NewWumUpdater(env.stack, "Updater", &wso2.WumUpdaterProps{
		Network: env.network, PackBucket: env.packs,
		CredentialsSecret: wso2.NewUpdateCredentials(env.stack, "Creds", env.database.EncryptionKey()),
	})
	queues := map[string]awssqs.Queue{}
	for name, g := range map[string]awsiam.IGrantable{"Gateway": gateway, "Bastion": bastion, "Updater": updater} {
		queues[name] = awssqs.NewQueue(env.stack, jsii.String("Queue"+name), nil)
		queues[name].GrantSendMessages(g)
	}
	assert.Equal(t, gateway.Role(), gateway.GrantPrincipal())
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	for _, name := range []string{"Gateway", "Bastion", "Updater"} {
		d := policyDocuments(tmpl, name)
		assert.Contains(t, d, "sqs:SendMessage", "%s's role gets its grant", name)
		for _, other := range []string{"Gateway", "Bastion", "Updater"} {
			if other != name {
				assert.NotContains(t, d, "Queue"+other, "%s's role gets no grant of %s's queue", name, other)
			}
		}
	}
}
