package wso2_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/internal/bootscript"
	"github.com/apimkit/apimkit/lambda/keystore/handler"
	"github.com/apimkit/apimkit/test/testkit"
)

var keystoreHosts = []string{"*.apim.internal", "portal.example.com", "api.example.com"}

// keystoreAssembly is a network and the keystore with its defaults, under cdk-nag's AwsSolutions
// checks as the reference app applies them.
func keystoreAssembly(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "keystore", func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := stackIn(app, "us-west-1")
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
		wso2.NewApimKeystore(stack, "Keystore", &wso2.ApimKeystoreProps{Network: net, HostNames: keystoreHosts})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		return app
	})
}

func keystoreTemplate(t *testing.T) map[string]any {
	return keystoreAssembly(t).Stack(t, "Test").Template
}

// The secret outlives the stack, is encrypted with the deployment's key, and is created empty:
// the custom resource writes the keystore as its first version.
func TestKeystoreSecretIsRetainedUnderTheKey(t *testing.T) {
	tmpl := keystoreTemplate(t)
	id, secret := one(t, tmpl, "AWS::SecretsManager::Secret")
	assert.True(t, strings.HasPrefix(id, "Keystore"), id)
	assert.Equal(t, "Retain", secret["DeletionPolicy"])
	assert.Equal(t, "Retain", secret["UpdateReplacePolicy"])
	p := testkit.Props(secret)
	assert.Contains(t, fmt.Sprint(p["KmsKeyId"]), "KeystoreKey")
	assert.NotContains(t, p, "GenerateSecretString", "no generated value")
	assert.NotContains(t, p, "SecretString", "created empty: the custom resource writes the first version")
	_, key := resourceWithPrefixID(t, tmpl, "AWS::KMS::Key", "KeystoreKey")
	assert.Equal(t, "Retain", key["DeletionPolicy"])
	assert.Equal(t, true, testkit.Props(key)["EnableKeyRotation"])
}

// The function writes that one secret, encrypting through Secrets Manager for that secret
// alone, and can read nothing.
func TestKeystoreFunctionMayOnlyWriteItsSecret(t *testing.T) {
	tmpl := keystoreTemplate(t)
	secretID, _ := one(t, tmpl, "AWS::SecretsManager::Secret")
	keyID, _ := resourceWithPrefixID(t, tmpl, "AWS::KMS::Key", "KeystoreKey")
	d := policyDocuments(tmpl, "KeystoreFunction")
	var doc struct {
		Statement []struct {
			Sid       string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(d), &doc), d)
	got := map[string]string{}
	for _, s := range doc.Statement {
		b, _ := json.Marshal(s.Resource)
		got[fmt.Sprint(s.Action)] = string(b)
		if s.Sid == "EncryptThroughSecretsManager" {
			assert.Equal(t, "secretsmanager.us-west-1.amazonaws.com", s.Condition["StringEquals"]["kms:ViaService"])
			assert.Equal(t, map[string]any{"Ref": secretID}, s.Condition["StringEquals"]["kms:EncryptionContext:SecretARN"])
		}
	}
	assert.Equal(t, map[string]string{
		"[secretsmanager:DescribeSecret secretsmanager:PutSecretValue secretsmanager:UpdateSecretVersionStage]": `{"Ref":"` + secretID + `"}`,
		"[kms:Decrypt kms:GenerateDataKey]": `{"Fn::GetAtt":["` + keyID + `","Arn"]}`,
	}, got, "one write, one key, nothing else")
	assert.NotContains(t, d, "GetSecretValue")

	fn := resourceWithPrefix(t, tmpl, "AWS::Lambda::Function", "KeystoreFunction")
	p := testkit.Props(fn)
	assert.Equal(t, "provided.al2023", p["Runtime"])
	assert.Equal(t, []any{"arm64"}, p["Architectures"])
	assert.Contains(t, fmt.Sprint(p["VpcConfig"]), "NetworkApplicationSubnet1", "in the application tier")
	assert.EqualValues(t, 1, p["ReservedConcurrentExecutions"])
	sg := resourceWithPrefix(t, tmpl, "AWS::EC2::SecurityGroup", "KeystoreFunctionSecurityGroup")
	egress := testkit.Props(sg)["SecurityGroupEgress"].([]any)
	require.Len(t, egress, 1)
	assert.EqualValues(t, 443, egress[0].(map[string]any)["FromPort"], "HTTPS out, and nothing else")
	logs := resourceWithPrefix(t, tmpl, "AWS::Logs::LogGroup", "KeystoreFunctionLogs")
	assert.Contains(t, fmt.Sprint(testkit.Props(logs)["KmsKeyId"]), keyID)
}

// The custom resource writes to the secret, names the hosts, and carries no Revision until one
// is given.
func TestKeystoreCustomResource(t *testing.T) {
	tmpl := keystoreTemplate(t)
	secretID, _ := one(t, tmpl, "AWS::SecretsManager::Secret")
	_, cr := one(t, tmpl, "Custom::Wso2Keystore")
	p := testkit.Props(cr)
	assert.Equal(t, map[string]any{"Ref": secretID}, p["SecretArn"])
	assert.Equal(t, []any{"*.apim.internal", "portal.example.com", "api.example.com"}, p["HostNames"])
	assert.Equal(t, "3072", p["KeyBits"])
	assert.NotContains(t, p, "Revision")
	assert.Contains(t, fmt.Sprint(p["ServiceToken"]), "KeystoreFunction")

	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	wso2.NewApimKeystore(stack, "Keystore", &wso2.ApimKeystoreProps{Network: net, HostNames: keystoreHosts, Revision: jsii.String("2027-01")})
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	_, cr = one(t, asm.Stack(t, "Test").Template, "Custom::Wso2Keystore")
	assert.Equal(t, "2027-01", testkit.Props(cr)["Revision"])
}

// Every AwsSolutions finding on the keystore is suppressed with its reason.
func TestKeystoreHasNoUnsuppressedNagFindings(t *testing.T) {
	for _, m := range keystoreAssembly(t).Stack(t, "Test").Messages {
		if strings.Contains(m.Path, "/Keystore/") && strings.Contains(m.Text, "AwsSolutions-") {
			assert.NotContains(t, []string{"error", "warning"}, m.Level, "%s: %s", m.Path, m.Text)
		}
	}
}

func TestKeystorePropsAreChecked(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	for name, tc := range map[string]struct {
		props *wso2.ApimKeystoreProps
		want  string
	}{
		"no network":       {&wso2.ApimKeystoreProps{HostNames: keystoreHosts}, "ApimKeystore: Network is required"},
		"no host":          {&wso2.ApimKeystoreProps{Network: net}, "ApimKeystore: HostNames is empty"},
		"upper case":       {&wso2.ApimKeystoreProps{Network: net, HostNames: []string{"*.apim.internal", "API.example.com"}}, "ApimKeystore: HostNames[1] \"API.example.com\""},
		"inner wildcard":   {&wso2.ApimKeystoreProps{Network: net, HostNames: []string{"api.*.example.com"}}, "ApimKeystore: HostNames[0]"},
		"deploy-time host": {&wso2.ApimKeystoreProps{Network: net, HostNames: []string{*awscdk.Aws_REGION() + ".example.com"}}, "ApimKeystore: HostNames[0] is known only at deploy time"},
	} {
		t.Run(name, func(t *testing.T) {
			msg := panicMessage(func() { wso2.NewApimKeystore(stack, "Keystore", tc.props) })
			assert.Contains(t, msg, tc.want)
		})
	}
	assert.Nil(t, stack.Node().TryFindChild(jsii.String("Keystore")), "nothing added to the tree")
}

// Nodes given ApimKeystore's secret install it (no pack keystore, no warning), may read it and
// decrypt it through Secrets Manager, and are created only once the keystore is written: they
// know the secret by the custom resource's answer.
func TestNodesWaitForTheDeploymentsKeystore(t *testing.T) {
	app := testkit.NewApp(nil)
	env := newNodeEnv(app)
	ks := wso2.NewApimKeystore(env.stack, "Keystore", &wso2.ApimKeystoreProps{
		Network: env.network, HostNames: keystoreHosts, EncryptionKey: env.database.EncryptionKey(),
	})
	p := env.props(profiles.Gateway)
	p.UsePackKeystore = nil
	p.KeystoreSecret = ks.Secret()
	wso2.NewProfileAsg(env.stack, "Gateway", p)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	stack := asm.Stack(t, "Test")
	assertOneWarning(t, stack, "wso2carbon.jks", "", "with ApimKeystore")
	tmpl := stack.Template
	crID, _ := one(t, tmpl, "Custom::Wso2Keystore")
	lt, _ := json.Marshal(testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate")))
	assert.Contains(t, string(lt), `KEYSTORE_SECRET_ARN=",{"Fn::GetAtt":["`+crID+`","SecretArn"]}`,
		"the boot script reads the secret the custom resource wrote")
	d := policyDocuments(tmpl, "Gateway")
	assert.Regexp(t, `"Action":\["secretsmanager:DescribeSecret","secretsmanager:GetSecretValue"\],"Effect":"Allow","Resource":\[[^\]]*\{"Fn::GetAtt":\["`+crID+`","SecretArn"\]\}`, d)
	assert.Contains(t, d, `"Action":"kms:Decrypt","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-west-1.amazonaws.com"}}`)
	_, secret := resourceWithPrefixID(t, tmpl, "AWS::SecretsManager::Secret", "Keystore")
	assert.Contains(t, fmt.Sprint(testkit.Props(secret)["KmsKeyId"]), "DatabaseKey", "under the key given")
	assert.Empty(t, testkit.Resources(tmpl, "AWS::KMS::Key")["KeystoreKey"], "and no key of its own")
}

// What the function writes is what boot.sh accepts: the key entry it exports, and a password its
// own rule lets through (read from the script, so a change to either side shows here).
func TestTheKeystoreFitsTheBootScript(t *testing.T) {
	assert.Equal(t, bootscript.KeystoreAlias, handler.Alias)
	m := regexp.MustCompile(`KEYSTORE_PASSWORD" =~ (\^\S+\$) \]\]`).FindStringSubmatch(bootscript.Script)
	require.NotNil(t, m, "boot.sh checks the keystore password against a pattern")
	rule := regexp.MustCompile(m[1])
	ks, err := handler.Generate(rand.Reader, time.Now(), keystoreHosts, 2048)
	require.NoError(t, err)
	assert.Regexp(t, rule, ks.Password)
}
