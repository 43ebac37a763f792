package refarch

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/apimkit/apimkit/test/testkit/nodepath"
)

func configFrom(t *testing.T, ctx map[string]any) (Config, error) {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	return ConfigFromContext(app.Node())
}

func TestConfigDefaultsAreTheArticlesLayout(t *testing.T) {
	c, err := configFrom(t, map[string]any{})
	require.NoError(t, err)
	assert.Equal(t, Config{
		Region:             "us-west-1",
		Azs:                []string{"us-west-1b", "us-west-1c"},
		InterfaceEndpoints: true,
		StackPrefix:        "apim",
		CertificateArn:     PlaceholderCertificateArn,
		PortalHostname:     "portal.apim.example.com",
		GatewayHostname:    "api.apim.example.com",
		Version:            "4.3.0",
		Zone:               "apim.internal",
		Layout:             Layout4x,
		WebAcl:             true,
	}, c)
}

func TestConfigMachineImage(t *testing.T) {
	c, err := configFrom(t, map[string]any{"machineImageId": "ami-0123456789abcdef0"})
	require.NoError(t, err)
	assert.Equal(t, "ami-0123456789abcdef0", c.MachineImageId)
	_, err = configFrom(t, map[string]any{"machineImageId": "al2023"})
	assert.ErrorContains(t, err, `context "machineImageId" is "al2023": give an AMI id`)
}

func TestConfigReadsCommandLineAndJsonForms(t *testing.T) {
	c, err := configFrom(t, map[string]any{
		"account":            "123456789012",
		"region":             "eu-west-1",
		"adminSshCidrs":      " 203.0.113.0/24 , 198.51.100.0/24,",
		"singleNatGateway":   "true",
		"interfaceEndpoints": false,
		"vpcCidr":            "10.20.0.0/16",
	})
	require.NoError(t, err)
	assert.Equal(t, "123456789012", c.Account)
	assert.Equal(t, []string{"eu-west-1b", "eu-west-1c"}, c.Azs, "default zones follow the region")
	assert.Equal(t, []string{"203.0.113.0/24", "198.51.100.0/24"}, c.AdminSSH)
	assert.True(t, c.SingleNat)
	assert.False(t, c.InterfaceEndpoints)
	assert.Equal(t, "10.20.0.0/16", c.VpcCidr)

	c, err = configFrom(t, map[string]any{"azs": []any{"eu-west-1a", "eu-west-1c", "eu-west-1b"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west-1a", "eu-west-1c", "eu-west-1b"}, c.Azs)
}

func TestConfigRefusesANonBoolean(t *testing.T) {
	_, err := configFrom(t, map[string]any{"singleNatGateway": "maybe"})
	assert.ErrorContains(t, err, `context "singleNatGateway" must be true or false`)
}

// The pack key alone names a pack in the app's own bucket; an existing bucket may bring its KMS
// key, given by ARN.
func TestConfigPackBucketAndKey(t *testing.T) {
	c, err := configFrom(t, map[string]any{"packKey": "packs/wso2am-4.3.0.zip"})
	require.NoError(t, err)
	assert.Empty(t, c.PackBucket, "the app's own bucket")
	assert.Equal(t, "packs/wso2am-4.3.0.zip", c.PackKey)
	c, err = configFrom(t, map[string]any{"packBucket": "my-packs", "packKey": "wso2am-4.3.0.zip",
		"packBucketKeyArn": "arn:aws:kms:us-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
	require.NoError(t, err)
	assert.Equal(t, "my-packs", c.PackBucket)
	_, err = configFrom(t, map[string]any{"packBucketKeyArn": "arn:aws:kms:us-west-1:123456789012:key/1234abcd"})
	assert.ErrorContains(t, err, `context "packBucketKeyArn" needs "packBucket"`)
	_, err = configFrom(t, map[string]any{"packBucket": "my-packs", "packBucketKeyArn": "alias/packs"})
	assert.ErrorContains(t, err, `context "packBucketKeyArn" is "alias/packs": give the key's ARN`)
}

func TestConfigLayout(t *testing.T) {
	c, err := configFrom(t, map[string]any{"layout": "3.2"})
	require.NoError(t, err)
	assert.Equal(t, Layout32, c.Layout)
	assert.Equal(t, "3.2.0", c.Version, "the 3.2 layout defaults to the article's release")
	_, err = configFrom(t, map[string]any{"layout": "2.6"})
	assert.ErrorContains(t, err, `context "layout" is "2.6": use "4.x" or "3.2"`)
}

func TestConfigMysql(t *testing.T) {
	c, err := configFrom(t, nil)
	require.NoError(t, err)
	assert.Empty(t, c.MysqlVersion, "the library's default")
	assert.Nil(t, c.MysqlExtendedSupport, "RDS's default, with the construct's warning")
	c, err = configFrom(t, map[string]any{"mysqlVersion": "8.4.7", "mysqlExtendedSupport": "false"})
	require.NoError(t, err)
	assert.Equal(t, "8.4.7", c.MysqlVersion)
	require.NotNil(t, c.MysqlExtendedSupport)
	assert.False(t, *c.MysqlExtendedSupport)
	_, err = configFrom(t, map[string]any{"mysqlVersion": "5.7.44"})
	assert.ErrorContains(t, err, `context "mysqlVersion" is "5.7.44": give a MySQL 8.0 or 8.4 release`)
	_, err = configFrom(t, map[string]any{"mysqlExtendedSupport": "maybe"})
	assert.ErrorContains(t, err, `context "mysqlExtendedSupport" must be true or false`)
}

func TestConfigKeystore(t *testing.T) {
	c, err := configFrom(t, map[string]any{"keystoreSecretArn": "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim/keystore-AbCdEf"})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim/keystore-AbCdEf", c.KeystoreSecretArn)
	_, err = configFrom(t, map[string]any{"keystoreSecretArn": "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim/keystore"})
	assert.ErrorContains(t, err, `context "keystoreSecretArn" is "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim/keystore": give the secret's complete ARN`)
	_, err = configFrom(t, map[string]any{"keystoreSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:apim/keystore-AbCdEf"})
	assert.ErrorContains(t, err, `context "keystoreSecretArn" names a secret in eu-west-1: the nodes read it in their own region, us-west-1`)
}

// The Network and Data stacks, which the others reach, cannot be deleted by accident.
func TestStacksOthersStandOnAreProtected(t *testing.T) {
	ctx := map[string]any{}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	c, err := ConfigFromContext(app.Node())
	require.NoError(t, err)
	d := New(app, c)
	assert.True(t, *d.NetworkStack.TerminationProtection(), "Network")
	assert.True(t, *d.DataStack.TerminationProtection(), "Data")
	assert.False(t, *d.AppStack.TerminationProtection(), "Application: nothing stands on it")
	assert.NotNil(t, d.Profile("control-plane"), "the deployment's parts are reachable from the app")
}

// keystoreRevision replaces the deployment's own keystore (its Revision, which every node's launch
// template carries, so they roll onto it).
func TestConfigKeystoreRevision(t *testing.T) {
	ctx := map[string]any{"keystoreRevision": "2027-01"}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	c, err := ConfigFromContext(app.Node())
	require.NoError(t, err)
	d := New(app, c)
	require.NotNil(t, d.Keystore())
	assert.Equal(t, "2027-01", *d.Keystore().Revision())
}

func TestConfigReadReplicas(t *testing.T) {
	c, err := configFrom(t, map[string]any{"readReplicas": float64(2)}) // a number in cdk.json
	require.NoError(t, err)
	assert.Equal(t, "2", c.ReadReplicas)
	for _, bad := range []string{"6", "-1", "one", "1.5"} {
		_, err = configFrom(t, map[string]any{"readReplicas": bad})
		assert.ErrorContains(t, err, `context "readReplicas" is "`+bad+`": give a number of read replicas from 0 to 5`)
	}
}

// A deploy names the staged versions it promotes; a malformed entry is refused by name.
func TestConfigPackVersions(t *testing.T) {
	c, err := configFrom(t, map[string]any{"packVersions": "wso2am-4.3.0=3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", "jdbcDriverVersion": "Dv.7k_Zz2"})
	require.NoError(t, err)
	assert.Equal(t, []string{"wso2am-4.3.0=3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"}, c.PackVersions)
	assert.Equal(t, "Dv.7k_Zz2", c.JdbcDriverVersion)
	_, err = configFrom(t, map[string]any{"packVersions": "wso2am-4.3.0"})
	assert.ErrorContains(t, err, `context "packVersions" holds "wso2am-4.3.0": give <pack home>=<S3 version id`)
	_, err = configFrom(t, map[string]any{"jdbcDriverVersion": "a b"})
	assert.ErrorContains(t, err, `context "jdbcDriverVersion" is "a b"`)
}
