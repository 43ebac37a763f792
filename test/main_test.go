// Package test holds the cross-cutting tests of whole apps: golden snapshots of the reference
// deployment, the network reachability model evaluated on it, and the compliance gates (cdk-nag,
// cfn-guard with the AWS Control Tower rules, cfn-lint).
package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/apimkit/apimkit/apps/reference/refarch"
	"github.com/apimkit/apimkit/test/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// referenceApp builds the reference deployment exactly as `make synth` does: the context of
// cdk.json plus extra, read by the same ConfigFromContext.
func referenceApp(extra map[string]any) func() awscdk.App {
	return func() awscdk.App { return buildReference(testkit.NewApp(extra)) }
}

// buildReference adds the reference deployment to app, configured from app's context.
func buildReference(app awscdk.App) awscdk.App {
	cfg, err := refarch.ConfigFromContext(app.Node())
	if err != nil {
		panic(err)
	}
	refarch.New(app, cfg)
	return app
}

// reference is the reference deployment with its defaults.
func reference(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference", referenceApp(nil))
}

// referenceWithAdminSSH adds admin SSH ranges and a single NAT gateway, the options that change
// the network's rule tables and routes, the deployment's own keystore, a schema loaded from a
// pack in the app's own bucket, and a revision of the WSO2 user's password.
func referenceWithAdminSSH(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-admin-ssh", referenceApp(map[string]any{
		"adminSshCidrs":       "203.0.113.0/24,198.51.100.128/25",
		"singleNatGateway":    "true",
		"keystoreSecretArn":   testKeystoreArn,
		"packKey":             testPackKey,
		"appPasswordRevision": "2026-11",
	}))
}

const testPackKey = "packs/wso2am-4.3.0.zip"

const testKeystoreArn = "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf"

// reference32 is the article-era layout: publisher, developer portal, key manager, gateways and
// the traffic-manager pair.
func reference32(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-3.2", referenceApp(map[string]any{"layout": refarch.Layout32}))
}

// reference3az spans three zones of a region that has them, and takes its packs (and the schema)
// from an existing bucket encrypted with a KMS key of its own.
func reference3az(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-3az", referenceApp(map[string]any{
		"region": "us-east-1", "azs": "us-east-1a,us-east-1b,us-east-1c",
		"packBucket": testPackBucket, "packBucketKeyArn": testPackBucketKeyArn, "packKey": testPackKey,
	}))
}

// referenceWithReplica adds a read replica to the database.
func referenceWithReplica(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-replica", referenceApp(map[string]any{"readReplicas": "1"}))
}

const (
	testPackBucket       = "team-wso2-packs"
	testPackBucketKeyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// layouts are the fixtures every conformance test checks.
func layouts(t *testing.T) map[string]*testkit.Assembly {
	return map[string]*testkit.Assembly{"4.x": reference(t), "3.2": reference32(t)}
}
