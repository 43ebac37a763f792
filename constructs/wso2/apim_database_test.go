package wso2_test

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/internal/lambdabuild"
	"github.com/apimkit/apimkit/internal/lambdazip"
	"github.com/apimkit/apimkit/lambda/dbinit/rdsca"
	"github.com/apimkit/apimkit/test/testkit"
)

// databaseStack builds a network and a database in one stack; tune adjusts the props.
func databaseStack(tune func(stack awscdk.Stack, p *wso2.ApimDatabaseProps)) func() awscdk.App {
	return func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := stackIn(app, "us-west-1")
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
		props := &wso2.ApimDatabaseProps{Network: net}
		if tune != nil {
			tune(stack, props)
		}
		db := wso2.NewApimDatabase(stack, "Database", props)
		// A WSO2 node stand-in that is granted the database and its secret.
		node := awsec2.NewSecurityGroup(stack, jsii.String("NodeSg"), &awsec2.SecurityGroupProps{Vpc: net.Vpc(), AllowAllOutbound: jsii.Bool(false)})
		db.Connections().AllowDefaultPortFrom(node, jsii.String("WSO2 node"))
		role := awsiam.NewRole(stack, jsii.String("NodeRole"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil)})
		db.GrantReadAppSecret(role)
		return app
	}
}

func defaultDatabase(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "database-default", databaseStack(nil))
}

func fullDatabase(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "database-full", databaseStack(func(stack awscdk.Stack, p *wso2.ApimDatabaseProps) {
		p.ReadReplicas = jsii.Number(2)
		p.ReplicaInstanceType = awsec2.InstanceType_Of(awsec2.InstanceClass_R7G, awsec2.InstanceSize_LARGE)
		p.AlarmTopic = awssns.NewTopic(stack, jsii.String("Topic"), nil)
		p.BackupRetention = awscdk.Duration_Days(jsii.Number(14))
		p.MaxConnections = jsii.Number(1000)
		p.Pack = &wso2.SchemaPack{
			Bucket: awss3.Bucket_FromBucketName(stack, jsii.String("Packs"), jsii.String("my-packs")),
			Key:    jsii.String("wso2am-4.3.0.zip"),
		}
	}))
}

// one returns the single resource of a type, or fails.
func one(t *testing.T, tmpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	res := testkit.Resources(tmpl, typ)
	require.Len(t, res, 1, typ)
	for id, r := range res {
		return id, r
	}
	return "", nil
}

func primary(t *testing.T, tmpl map[string]any) (string, map[string]any) {
	t.Helper()
	for id, r := range testkit.Resources(tmpl, "AWS::RDS::DBInstance") {
		if testkit.Props(r)["SourceDBInstanceIdentifier"] == nil {
			return id, r
		}
	}
	t.Fatal("no primary instance")
	return "", nil
}

func TestDatabaseDefaults(t *testing.T) {
	tmpl := defaultDatabase(t).Stack(t, "Test").Template
	_, db := primary(t, tmpl)
	p := testkit.Props(db)
	want := map[string]any{
		"Engine": "mysql", "EngineVersion": "8.0.46", "DBInstanceClass": "db.m7g.large",
		"MultiAZ": true, "StorageEncrypted": true, "StorageType": "gp3",
		"AllocatedStorage": "100", "MaxAllocatedStorage": float64(500),
		"BackupRetentionPeriod": float64(7), "DeletionProtection": true, "DeleteAutomatedBackups": false,
		"PubliclyAccessible": false, "ManageMasterUserPassword": true, "MasterUsername": "apim_master",
		"EnablePerformanceInsights": true, "MonitoringInterval": float64(60), "EnableIAMDatabaseAuthentication": true,
		"Port": "3306", "DBInstanceIdentifier": "test-database", "CACertificateIdentifier": "rds-ca-rsa2048-g1",
	}
	for k, v := range want {
		assert.Equal(t, v, p[k], k)
	}
	assert.Nil(t, p["MasterUserPassword"], "no password in the template")
	assert.ElementsMatch(t, []any{"audit", "error", "general", "slowquery"}, p["EnableCloudwatchLogsExports"])
	assert.Contains(t, fmt.Sprint(p["KmsKeyId"]), "DatabaseKey")
	assert.Contains(t, fmt.Sprint(p["PerformanceInsightsKMSKeyId"]), "DatabaseKey")
	assert.Equal(t, "Snapshot", db["DeletionPolicy"])
	assert.Equal(t, "Snapshot", db["UpdateReplacePolicy"])

	// In the data tier.
	_, group := one(t, tmpl, "AWS::RDS::DBSubnetGroup")
	subnets := fmt.Sprint(testkit.Props(group)["SubnetIds"])
	assert.Contains(t, subnets, "NetworkDataSubnet1")
	assert.Contains(t, subnets, "NetworkDataSubnet2")
	assert.NotContains(t, subnets, "Application")

	_, params := one(t, tmpl, "AWS::RDS::DBParameterGroup")
	pp := testkit.Props(params)["Parameters"].(map[string]any)
	assert.Equal(t, "1", pp["require_secure_transport"], "TLS only")
	assert.Equal(t, "600", pp["max_connections"])
	assert.Equal(t, "1", pp["slow_query_log"])

	for _, kind := range []string{"audit", "error", "general", "slowquery"} {
		found := false
		for _, lg := range testkit.Resources(tmpl, "AWS::Logs::LogGroup") {
			if testkit.Props(lg)["LogGroupName"] == "/aws/rds/instance/test-database/"+kind {
				found = true
				assert.Equal(t, float64(365), testkit.Props(lg)["RetentionInDays"])
				assert.NotNil(t, testkit.Props(lg)["KmsKeyId"])
				assert.Equal(t, "RetainExceptOnCreate", lg["DeletionPolicy"], "kept, except when the first create fails (its name is fixed)")
				assert.Equal(t, "Retain", lg["UpdateReplacePolicy"])
			}
		}
		assert.True(t, found, "log group for %s exists before the instance exports to it", kind)
	}
	assert.Len(t, testkit.Resources(tmpl, "AWS::CloudWatch::Alarm"), 3)
	for _, a := range testkit.Resources(tmpl, "AWS::CloudWatch::Alarm") {
		assert.Nil(t, testkit.Props(a)["AlarmActions"], "no topic, no actions")
	}
}

func TestDatabaseSecrets(t *testing.T) {
	tmpl := defaultDatabase(t).Stack(t, "Test").Template
	secrets := testkit.Resources(tmpl, "AWS::SecretsManager::Secret")
	require.Len(t, secrets, 1, "only the WSO2 user's secret: RDS manages the master's")
	for _, s := range secrets {
		p := testkit.Props(s)
		assert.Contains(t, fmt.Sprint(p["GenerateSecretString"]), `"username":"wso2apim"`)
		assert.Contains(t, fmt.Sprint(p["KmsKeyId"]), "DatabaseKey")
		assert.Equal(t, "Retain", s["DeletionPolicy"], "the snapshot holds this user's password")
	}
	_, att := one(t, tmpl, "AWS::SecretsManager::SecretTargetAttachment")
	assert.Equal(t, "AWS::RDS::DBInstance", testkit.Props(att)["TargetType"])
	// The node stand-in may read the application secret, and only that secret.
	found := false
	for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		doc := fmt.Sprint(testkit.Props(pol))
		if strings.Contains(doc, "NodeRole") {
			found = true
			assert.Contains(t, doc, "secretsmanager:GetSecretValue")
			assert.Contains(t, doc, "DatabaseAppSecret")
			assert.NotContains(t, doc, "MasterUserSecret")
		}
	}
	assert.True(t, found, "GrantReadAppSecret wrote a policy for the node role")
}

func TestDatabaseIsReachedOnlyByWhatIsGranted(t *testing.T) {
	tmpl := defaultDatabase(t).Stack(t, "Test").Template
	var dbSg string
	for id, sg := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "DatabaseSecurityGroup") {
			dbSg = id
			assert.Nil(t, testkit.Props(sg)["SecurityGroupIngress"], "no inline (CIDR) ingress on the database")
		}
	}
	require.NotEmpty(t, dbSg)
	var from []string
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupIngress") {
		p := testkit.Props(r)
		if !strings.Contains(fmt.Sprint(p["GroupId"]), dbSg) {
			continue
		}
		assert.EqualValues(t, 3306, p["FromPort"])
		assert.EqualValues(t, 3306, p["ToPort"])
		assert.Nil(t, p["CidrIp"])
		from = append(from, fmt.Sprint(p["SourceSecurityGroupId"]))
	}
	require.Len(t, from, 2, "the schema function and the granted node")
	assert.Contains(t, strings.Join(from, " "), "DatabaseSchemaFunctionSecurityGroup")
	assert.Contains(t, strings.Join(from, " "), "NodeSg")
}

func TestSchemaFunctionAndResource(t *testing.T) {
	for _, tc := range []struct {
		name string
		asm  *testkit.Assembly
		pack bool
	}{{"default", defaultDatabase(t), false}, {"with pack", fullDatabase(t), true}} {
		tmpl := tc.asm.Stack(t, "Test").Template
		var fn map[string]any
		for id, r := range testkit.Resources(tmpl, "AWS::Lambda::Function") {
			if strings.HasPrefix(id, "DatabaseSchemaFunction") {
				fn = r
			}
		}
		require.NotNil(t, fn, tc.name)
		p := testkit.Props(fn)
		assert.Equal(t, "provided.al2023", p["Runtime"], tc.name)
		assert.Equal(t, []any{"arm64"}, p["Architectures"])
		assert.Equal(t, "bootstrap", p["Handler"])
		assert.EqualValues(t, 1, p["ReservedConcurrentExecutions"])
		vpc := p["VpcConfig"].(map[string]any)
		assert.Contains(t, fmt.Sprint(vpc["SubnetIds"]), "NetworkApplicationSubnet1")
		assert.Contains(t, fmt.Sprint(vpc["SubnetIds"]), "NetworkApplicationSubnet2")
		assert.Contains(t, fmt.Sprint(vpc["SecurityGroupIds"]), "DatabaseSchemaFunctionSecurityGroup")

		_, cr := one(t, tmpl, "Custom::Wso2Schema")
		cp := testkit.Props(cr)
		assert.Equal(t, "true", cp["Tls"], "us-west-1's RDS roots are embedded: the certificate is verified")
		assert.Equal(t, []any{
			map[string]any{"Name": "apim_db", "Charset": "latin1", "Script": "dbscripts/apimgt/mysql.sql"},
			map[string]any{"Name": "shared_db", "Charset": "utf8mb4", "Script": "dbscripts/mysql.sql"},
		}, cp["Databases"])
		assert.Equal(t, "Retain", cr["DeletionPolicy"])
		// The database key (storage, secrets, logs) decrypts only what Secrets Manager hands over.
		keyGrants := 0
		for id, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
			if !strings.HasPrefix(id, "DatabaseSchemaFunction") {
				continue
			}
			for _, st := range testkit.Props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				if strings.Contains(fmt.Sprint(st["Action"]), "kms:") && strings.Contains(fmt.Sprint(st["Resource"]), "DatabaseKey") {
					assert.Contains(t, fmt.Sprint(st["Condition"]), "kms:ViaService:secretsmanager.us-west-1.amazonaws.com", "%s: %v", tc.name, st)
					keyGrants++
				}
			}
		}
		assert.Positive(t, keyGrants, "%s: the function may decrypt its secrets", tc.name)
		assert.Nil(t, cp["AppPasswordRevision"], "%s: none unless asked for", tc.name)
		if tc.pack {
			assert.Equal(t, "my-packs", cp["PackBucket"])
			assert.Equal(t, "wso2am-4.3.0.zip", cp["PackKey"])
			policies := ""
			for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
				policies += fmt.Sprint(testkit.Props(pol))
			}
			assert.Contains(t, policies, "arn:aws:s3:::my-packs/wso2am-4.3.0.zip", "read of the pack object only")
			assert.NotContains(t, policies, "arn:aws:s3:::my-packs/*")
		} else {
			assert.Nil(t, cp["PackKey"])
		}
	}
}

// The function's code is the zip this module ships, copied as it is: a Go binary for arm64
// Linux named bootstrap, executable; nothing is built at synth.
func TestSchemaFunctionIsBuiltForArm64(t *testing.T) {
	asm := defaultDatabase(t)
	matches, err := filepath.Glob(filepath.Join(asm.Dir, "asset.*.zip"))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	shipped, err := lambdazip.Zip("dbinit")
	require.NoError(t, err)
	staged, err := os.ReadFile(matches[0])
	require.NoError(t, err)
	assert.True(t, bytes.Equal(shipped, staged), "the shipped zip, unchanged")
	// aws-cdk-lib names the asset after the SHA-256 of the custom hash, the zip's SHA-256: the
	// same on every machine.
	assert.Equal(t, "asset."+lambdabuild.Sum([]byte(lambdabuild.Sum(shipped)))+".zip", filepath.Base(matches[0]))
	r, err := zip.NewReader(bytes.NewReader(staged), int64(len(staged)))
	require.NoError(t, err)
	require.Len(t, r.File, 1)
	assert.Equal(t, "bootstrap", r.File[0].Name)
	assert.NotZero(t, r.File[0].Mode()&0o111, "executable")
	rc, err := r.File[0].Open()
	require.NoError(t, err)
	bin, err := io.ReadAll(rc)
	require.NoError(t, err)
	f, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err)
	assert.Equal(t, elf.EM_AARCH64, f.Machine)
}

func TestReplicasAndAlarms(t *testing.T) {
	tmpl := fullDatabase(t).Stack(t, "Test").Template
	replicas := 0
	for id, r := range testkit.Resources(tmpl, "AWS::RDS::DBInstance") {
		p := testkit.Props(r)
		if p["SourceDBInstanceIdentifier"] == nil {
			assert.Equal(t, float64(14), p["BackupRetentionPeriod"])
			continue
		}
		replicas++
		assert.Equal(t, "db.r7g.large", p["DBInstanceClass"], id)
		assert.Nil(t, p["StorageEncrypted"], "%s inherits encryption from the encrypted primary (CloudFormation refuses the property here)", id)
		assert.Contains(t, fmt.Sprint(p["SourceDBInstanceIdentifier"]), "DatabaseF44359DD", id)
		assert.Contains(t, fmt.Sprint(p["VPCSecurityGroups"]), "DatabaseSecurityGroup", id)
		assert.Equal(t, "rds-ca-rsa2048-g1", p["CACertificateIdentifier"], id)
	}
	assert.Equal(t, 2, replicas)
	alarms := testkit.Resources(tmpl, "AWS::CloudWatch::Alarm")
	assert.Len(t, alarms, 5, "CPU, storage, connections, and lag per replica")
	lag := 0
	for _, a := range alarms {
		p := testkit.Props(a)
		assert.Contains(t, fmt.Sprint(p["AlarmActions"]), "Topic", "every alarm notifies the topic")
		if p["MetricName"] == "ReplicaLag" {
			lag++
		}
		if p["MetricName"] == "DatabaseConnections" {
			assert.Equal(t, float64(800), p["Threshold"], "80% of MaxConnections")
		}
	}
	assert.Equal(t, 2, lag)
}

// The schema function verifies the database's certificate where it holds the region's RDS root;
// elsewhere it encrypts without verifying, with a warning unless the user chose that.
func TestSchemaFunctionVerificationFollowsTheRegion(t *testing.T) {
	const uncovered = "xx-test-1" // a region no embedded root names
	require.False(t, rdsca.Covers(uncovered))
	database := func(app awscdk.App, id, region string, verify *bool) {
		stack := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(region)},
		})
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings(region+"a", region+"b")})
		wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: net, VerifyServerCertificate: verify})
	}
	app := testkit.NewApp(nil)
	database(app, "Covered", "us-west-1", nil)
	agnostic := awscdk.NewStack(app, jsii.String("Agnostic"), nil) // region known only at deploy
	agnosticNet := wso2.NewApimNetwork(agnostic, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	wso2.NewApimDatabase(agnostic, "Database", &wso2.ApimDatabaseProps{Network: agnosticNet})
	database(app, "Uncovered", uncovered, nil)
	database(app, "Acknowledged", uncovered, jsii.Bool(false))
	database(app, "Declined", "us-west-1", jsii.Bool(false))
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	for stack, want := range map[string]struct {
		tls     string
		warning string
	}{
		"Covered": {"true", ""}, "Uncovered": {"skip-verify", "no Amazon RDS root for " + uncovered + ", so it and the WSO2 nodes encrypt"},
		"Acknowledged": {"skip-verify", ""}, "Declined": {"skip-verify", ""},
		"Agnostic": {"true", "the WSO2 nodes, which get their region's root at synth, will only encrypt"},
	} {
		s := asm.Stack(t, stack)
		_, cr := one(t, s.Template, "Custom::Wso2Schema")
		assert.Equal(t, want.tls, testkit.Props(cr)["Tls"], stack)
		assertOneWarning(t, s, "schema function", want.warning, stack)
	}

	app = testkit.NewApp(nil)
	msg := panicMessage(func() { database(app, "Insisted", uncovered, jsii.Bool(true)) })
	assert.Contains(t, msg, "ApimDatabase: VerifyServerCertificate: the schema function embeds no Amazon RDS root for "+uncovered)
	assert.Contains(t, msg, "us-west-1", "the message lists the regions it has")
	assert.Nil(t, app.Node().FindChild(jsii.String("Insisted")).Node().TryFindChild(jsii.String("Database")), "nothing added")
}

func TestApimDatabaseRefusesBadProps(t *testing.T) {
	cases := []struct {
		name string
		tune func(stack awscdk.Stack, p *wso2.ApimDatabaseProps)
		want []string
	}{
		{"no network", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) { p.Network = nil },
			[]string{"Network is required"}},
		{"replicas without backups", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.ReadReplicas = jsii.Number(1)
			p.BackupRetention = awscdk.Duration_Days(jsii.Number(0))
		}, []string{"ReadReplicas needs automated backups", "at least 1 day"}},
		{"retention below a day", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.BackupRetention = awscdk.Duration_Hours(jsii.Number(12))
		}, []string{"BackupRetention 12 hours is below 1 day"}},
		{"retention above 35 days", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.BackupRetention = awscdk.Duration_Days(jsii.Number(60))
		}, []string{"BackupRetention 60 days is above the 35 days", "AWS Backup"}},
		{"too many replicas", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) { p.ReadReplicas = jsii.Number(6) },
			[]string{"ReadReplicas 6 must be a whole number from 0 to 5"}},
		{"storage bound below storage", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.AllocatedStorageGiB = jsii.Number(200)
			p.MaxAllocatedStorageGiB = jsii.Number(100)
		}, []string{"MaxAllocatedStorageGiB 100 is below AllocatedStorageGiB 200"}},
		{"storage bound too close to storage", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.AllocatedStorageGiB = jsii.Number(200)
			p.MaxAllocatedStorageGiB = jsii.Number(210)
		}, []string{"MaxAllocatedStorageGiB 210 is less than 10% above AllocatedStorageGiB 200"}},
		{"storage bound just under 10% above", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.AllocatedStorageGiB = jsii.Number(200)
			p.MaxAllocatedStorageGiB = jsii.Number(219)
		}, []string{"MaxAllocatedStorageGiB 219 is less than 10% above AllocatedStorageGiB 200"}},
		{"removal that destroys data", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) { p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY },
			[]string{"RemovalPolicy DESTROY would delete the data", "SNAPSHOT"}},
		{"application user named like the master", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) { p.AppUsername = jsii.String("APIM_MASTER") },
			[]string{`AppUsername "APIM_MASTER"`, "not be the master user apim_master"}},
		{"pack without key", func(stack awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.Pack = &wso2.SchemaPack{Bucket: awss3.Bucket_FromBucketName(stack, jsii.String("B"), jsii.String("my-packs"))}
		}, []string{"Pack needs both Bucket and Key"}},
		{"db. given twice", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.InstanceType = awsec2.NewInstanceType(jsii.String("db.r7g.large"))
		}, []string{`InstanceType "db.r7g.large" starts with db.: give the EC2 type (r7g.large); RDS adds db. itself`}},
		{"instance type without size", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) {
			p.ReplicaInstanceType = awsec2.NewInstanceType(jsii.String("r7glarge"))
		}, []string{`ReplicaInstanceType "r7glarge" is not an instance type: give family.size`}},
		{"connection limit too low", func(_ awscdk.Stack, p *wso2.ApimDatabaseProps) { p.MaxConnections = jsii.Number(10) },
			[]string{"MaxConnections 10 must be between 50 and 16000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := testkit.NewApp(nil)
			stack := stackIn(app, "us-west-1")
			net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
			props := &wso2.ApimDatabaseProps{Network: net}
			tc.tune(stack, props)
			msg := panicMessage(func() { wso2.NewApimDatabase(stack, "Database", props) })
			if assert.NotEmpty(t, msg, "NewApimDatabase accepted the props") {
				assert.True(t, strings.HasPrefix(msg, "ApimDatabase: "), msg)
				for _, w := range tc.want {
					assert.Contains(t, msg, w)
				}
			}
			assert.Nil(t, stack.Node().TryFindChild(jsii.String("Database")), "nothing added before validation")
		})
	}
}

// A storage bound exactly 10% above the start is what RDS accepts.
// Issue 16: a secret under a key of its own is read with that key, not the database's; one
// imported with no key is taken to be under the database's key, as NewAdminSecret makes it.
func TestGrantReadSecretDecryptsWithTheSecretsOwnKey(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: net})
	ownKey := awskms.NewKey(stack, jsii.String("AdminKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	own := wso2.NewAdminSecret(stack, "OwnKeyAdmin", ownKey)
	imported := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Imported"), jsii.String("apim/admin"))
	roles := map[string]awsiam.Role{}
	for name, secret := range map[string]awssecretsmanager.ISecret{"OwnRole": own, "ImportedRole": imported} {
		roles[name] = awsiam.NewRole(stack, jsii.String(name), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil)})
		db.GrantReadSecret(roles[name], secret)
	}
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	decrypts := func(role string) string {
		var keys []string
		for _, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
			p := testkit.Props(pol)
			if !strings.Contains(fmt.Sprint(p["Roles"]), role) {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				if fmt.Sprint(st["Action"]) == "kms:Decrypt" {
					keys = append(keys, fmt.Sprint(st["Resource"]))
				}
			}
		}
		require.Len(t, keys, 1, "%s decrypts with one key", role)
		return keys[0]
	}
	assert.Contains(t, decrypts("OwnRole"), "AdminKey", "the secret's own key")
	assert.NotContains(t, decrypts("OwnRole"), "DatabaseKey")
	assert.Contains(t, decrypts("ImportedRole"), "DatabaseKey", "a secret naming no key: the database's")
}

func TestStorageBoundOfExactlyTenPercentIsAccepted(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "us-west-1")
	net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
	for i, sizes := range [][2]float64{{100, 110}, {200, 220}} {
		msg := panicMessage(func() {
			wso2.NewApimDatabase(stack, fmt.Sprintf("Database%d", i), &wso2.ApimDatabaseProps{
				Network: net, AllocatedStorageGiB: jsii.Number(sizes[0]), MaxAllocatedStorageGiB: jsii.Number(sizes[1]),
			})
		})
		assert.Empty(t, msg, "%v GiB growing to %v GiB", sizes[0], sizes[1])
	}
}

// MySQL 8.0 left RDS standard support on 31 July 2026: synth says what that costs, or what RDS
// does instead, unless ExtendedSupport says the charge is meant; the template names the choice
// only when it is false, since RDS takes it at create time only.
func TestMysql80ExtendedSupportIsSaid(t *testing.T) {
	app := testkit.NewApp(nil)
	database := func(id string, version awsrds.MysqlEngineVersion, extended *bool) {
		stack := awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String("us-west-1")},
		})
		net := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1c")})
		wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: net, EngineVersion: version, ExtendedSupport: extended})
	}
	database("Default", nil, nil)
	database("Meant", nil, jsii.Bool(true))
	database("Off", nil, jsii.Bool(false))
	database("Current", awsrds.MysqlEngineVersion_VER_8_4_7(), nil)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	for stack, want := range map[string]struct{ lifecycle, warning string }{
		"Default": {"", "enrolled in RDS Extended Support, billed per vCPU-hour"},
		"Meant":   {"", ""}, // RDS's default: nothing a stack update would have to change
		"Off":     {"open-source-rds-extended-support-disabled", "RDS refuses to create such an instance"},
		"Current": {"", ""},
	} {
		s := asm.Stack(t, stack)
		_, db := one(t, s.Template, "AWS::RDS::DBInstance")
		if want.lifecycle == "" {
			assert.Nil(t, testkit.Props(db)["EngineLifecycleSupport"], stack)
		} else {
			assert.Equal(t, want.lifecycle, testkit.Props(db)["EngineLifecycleSupport"], stack)
		}
		assertOneWarning(t, s, "standard support", want.warning, stack)
	}
}

// assertOneWarning checks the stack's warnings about topic: none when want is empty, else exactly
// one, containing want.
func assertOneWarning(t *testing.T, s *testkit.Stack, topic, want, stack string) {
	t.Helper()
	var warnings []string
	for _, m := range s.Messages {
		if m.Level == "warning" && strings.Contains(m.Text, topic) {
			warnings = append(warnings, m.Text)
		}
	}
	if want == "" {
		assert.Empty(t, warnings, stack)
	} else if assert.Len(t, warnings, 1, stack) {
		assert.Contains(t, warnings[0], want, stack)
	}
}
