package wso2

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The asset hash of a Go Lambda changes with what its build reads (sources, embedded files,
// go.mod, go.sum) and with nothing else (tests and their data).
func TestSourceHashCoversWhatTheBuildReads(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                        "module example.com/m\n",
		"go.sum":                        "",
		"lambda/fn/main.go":             "package main\n",
		"lambda/fn/roots/roots.go":      "package roots\n",
		"lambda/fn/roots/bundle.pem":    "-----BEGIN CERTIFICATE-----\n",
		"lambda/fn/main_test.go":        "package main\n",
		"lambda/fn/testdata/event.json": "{}",
		"lambda/fn/.main.go.swp":        "swap",
		"lambda/fn/_old/notes.go":       "package old\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	src := filepath.Join(root, "lambda", "fn")
	base, err := sourceHash(root, src)
	require.NoError(t, err)
	for name, body := range files {
		p := filepath.Join(root, name)
		require.NoError(t, os.WriteFile(p, []byte(body+"// changed\n"), 0o644))
		h, err := sourceHash(root, src)
		require.NoError(t, err)
		if name == "lambda/fn/main_test.go" || name == "lambda/fn/testdata/event.json" ||
			name == "lambda/fn/.main.go.swp" || name == "lambda/fn/_old/notes.go" {
			assert.Equal(t, base, h, "%s is not part of the build", name)
		} else {
			assert.NotEqual(t, base, h, "%s is part of the build", name)
		}
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

// Each Lambda imports, from this module, only packages under its own directory: sourceHash walks
// that directory alone.
func TestLambdasImportOnlyTheirOwnPackages(t *testing.T) {
	root, err := moduleRoot()
	require.NoError(t, err)
	entries, err := os.ReadDir(filepath.Join(root, "lambda"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	require.Contains(t, names, "dbinit")
	for _, name := range names {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./lambda/"+name)
		cmd.Dir = root
		out, err := cmd.Output()
		require.NoError(t, err, name)
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, modulePath+"/") {
				assert.True(t, strings.HasPrefix(pkg, modulePath+"/lambda/"+name), "%s imports %s, outside lambda/%s", name, pkg, name)
			}
		}
	}
}
