package wso2

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/internal/lambdabuild"
	"github.com/apimkit/apimkit/internal/lambdazip"
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

// Building from source (APIMKIT_LAMBDA_FROM_SOURCE) uses the shipped zips' flags: with the Go
// release go.mod pins, the same bytes, so the same asset hash; and the asset is that zip.
func TestFromSourceBuildsTheShippedBytes(t *testing.T) {
	root, err := moduleRoot()
	require.NoError(t, err)
	pin, err := lambdabuild.Toolchain(root)
	require.NoError(t, err)
	if runtime.Version() != pin {
		t.Skipf("the local Go release is %s, the pin %s: a source build makes other bytes", runtime.Version(), pin)
	}
	// No zip cached, so the build really runs; the Go build cache stays where it is (it lives
	// under XDG_CACHE_HOME unless GOCACHE says otherwise), or this would compile everything.
	goCache, err := exec.Command("go", "env", "GOCACHE").Output()
	require.NoError(t, err)
	t.Setenv("GOCACHE", strings.TrimSpace(string(goCache)))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	built, err := sourceZip("keystore")
	require.NoError(t, err)
	shipped, err := lambdazip.Zip("keystore")
	require.NoError(t, err)
	assert.Equal(t, lambdabuild.Sum(shipped), lambdabuild.Sum(built))
	again, err := sourceZip("keystore") // from the cache this time
	require.NoError(t, err)
	assert.Equal(t, built, again)
}

// The asset is written once under its hash and found there again; a damaged copy is replaced.
func TestStageZipIsContentAddressed(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	zip := []byte("zip bytes")
	hash := lambdabuild.Sum(zip)
	path, err := stageZip(hash, zip)
	require.NoError(t, err)
	assert.Equal(t, hash+".zip", filepath.Base(path))
	require.NoError(t, os.WriteFile(path, []byte("damaged"), 0o644))
	again, err := stageZip(hash, zip)
	require.NoError(t, err)
	b, err := os.ReadFile(again)
	require.NoError(t, err)
	assert.Equal(t, zip, b)
}
