package test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/diagram"
	"github.com/apimkit/apimkit/test/testkit"
)

// The drawing generator still runs on the current app, shows every part of the architecture, and
// Graphviz accepts what it writes.
func TestDiagramOfTheReferenceApp(t *testing.T) {
	for name, asm := range map[string]*testkit.Assembly{"4.x": reference(t), "3.2": reference32(t)} {
		templates := map[string]map[string]any{}
		for _, s := range asm.Stacks {
			templates[s.ID] = s.Template
		}
		dot, err := diagram.DOT(templates)
		require.NoError(t, err)
		for _, want := range []string{
			`label="Public tier"`, `label="Application tier"`, `label="Management tier"`, `label="Data tier"`,
			"us-west-1b", "us-west-1c", "alb [", "db [", "zone [", "TrafficManagersTm1 [", "TrafficManagersTm2 [",
			"TrafficManagersUpdater [", "Bastion [", "Updater [", "Gateway [", "NAT gateway",
			"TrafficManagersUpdater -> zone", "internet -> alb",
		} {
			assert.Contains(t, dot, want, name)
		}
		if name == "4.x" {
			assert.Contains(t, dot, "ControlPlane [")
		} else {
			assert.Contains(t, dot, "Publisher [")
			assert.Contains(t, dot, "KeyManager [")
		}
		if dotBin, err := exec.LookPath("dot"); err == nil {
			cmd := exec.Command(dotBin, "-Tsvg")
			cmd.Stdin = strings.NewReader(dot)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "graphviz refused the drawing: %s", out)
			assert.Contains(t, string(out), "<svg")
		} else {
			t.Log("graphviz is not installed; the DOT text was checked, not rendered")
		}
	}
}
