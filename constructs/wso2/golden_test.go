package wso2_test

import (
	"path/filepath"
	"testing"

	"github.com/apimkit/apimkit/test/testkit"
)

// One golden template per construct fixture, in testdata/. Rewrite with
// `go test ./constructs/wso2 -run TestConstructGoldens -update` and read the diff: a changed
// logical id replaces that resource in every user's account.
func TestConstructGoldens(t *testing.T) {
	// Each fixture is synthesized in its own subtest, so -run can pick one.
	for name, tmpl := range map[string]func(*testing.T) map[string]any{
		"apim_network":                  articleTemplate,
		"apim_database":                 func(t *testing.T) map[string]any { return fullDatabase(t).Stack(t, "Test").Template },
		"profile_asg_and_load_balancer": nodesTemplate,
		"traffic_manager_pair":          pairTemplate,
		"bastion_ssh":                   sshBastion,
		"wum_updater":                   updaterTemplate,
		"internal_endpoint":             endpointTemplate,
		"apim_keystore":                 keystoreTemplate,
	} {
		t.Run(name, func(t *testing.T) {
			testkit.Golden(t, filepath.Join("testdata", name+".template.json"), tmpl(t))
		})
	}
}
