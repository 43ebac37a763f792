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
	for name, tmpl := range map[string]map[string]any{
		"apim_network":                  articleTemplate(t),
		"apim_database":                 fullDatabase(t).Stack(t, "Test").Template,
		"profile_asg_and_load_balancer": nodesTemplate(t),
		"traffic_manager_pair":          pairTemplate(t),
		"bastion_ssh":                   sshBastion(t),
		"wum_updater":                   updaterTemplate(t),
		"internal_endpoint":             endpointTemplate(t),
	} {
		t.Run(name, func(t *testing.T) {
			testkit.Golden(t, filepath.Join("testdata", name+".template.json"), tmpl)
		})
	}
}
