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
	return func() awscdk.App {
		app := testkit.NewApp(extra)
		cfg, err := refarch.ConfigFromContext(app.Node())
		if err != nil {
			panic(err)
		}
		refarch.New(app, cfg)
		return app
	}
}

// reference is the reference deployment with its defaults.
func reference(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference", referenceApp(nil))
}

// referenceWithAdminSSH adds admin SSH ranges and a single NAT gateway, the options that change
// the network's rule tables and routes.
func referenceWithAdminSSH(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-admin-ssh", referenceApp(map[string]any{
		refarch.CtxAdminSSH:  "203.0.113.0/24,198.51.100.128/25",
		refarch.CtxSingleNat: "true",
	}))
}
