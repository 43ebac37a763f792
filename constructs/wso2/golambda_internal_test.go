package wso2

import (
	"os"
	"path/filepath"
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
		if name == "lambda/fn/main_test.go" || name == "lambda/fn/testdata/event.json" {
			assert.Equal(t, base, h, "%s is not part of the build", name)
		} else {
			assert.NotEqual(t, base, h, "%s is part of the build", name)
		}
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}
