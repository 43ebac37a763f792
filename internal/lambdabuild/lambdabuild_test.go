package lambdabuild_test

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/internal/lambdabuild"
	"github.com/apimkit/apimkit/internal/lambdazip"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// The zips the module ships are what its sources build to, byte for byte, with the pinned
// toolchain and flags; there is one per function under lambda/ and none for a function that is
// gone. A change to a function, its embedded files, go.mod or go.sum that was not followed by
// `make lambdas` fails here.
func TestShippedLambdasMatchTheirSources(t *testing.T) {
	root := repoRoot()
	names, err := lambdabuild.Names(root)
	require.NoError(t, err)
	require.Subset(t, names, []string{"dbinit", "keystore", "tmdns"})
	assert.ElementsMatch(t, names, lambdazip.Names(), "one shipped zip per lambda/<name>/: run `make lambdas`")
	built, err := lambdabuild.Build(root, names, true)
	require.NoError(t, err)
	for _, n := range names {
		shipped, err := lambdazip.Zip(n)
		if !assert.NoError(t, err) {
			continue
		}
		assert.True(t, bytes.Equal(built[n], shipped),
			"internal/lambdazip/%s.zip (sha256 %s) is not what lambda/%s builds to (sha256 %s): run `make lambdas` and commit the zip",
			n, lambdabuild.Sum(shipped), n, lambdabuild.Sum(built[n]))
		assertBootstrap(t, n, shipped)
	}
}

// assertBootstrap checks what Lambda reads from a zip: one executable entry named bootstrap, an
// arm64 Linux ELF binary.
func assertBootstrap(t *testing.T, name string, b []byte) {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err, name)
	require.Len(t, r.File, 1, name)
	f := r.File[0]
	assert.Equal(t, "bootstrap", f.Name, name)
	assert.Equal(t, "-rwxr-xr-x", f.Mode().String(), name)
	rc, err := f.Open()
	require.NoError(t, err, name)
	bin, err := io.ReadAll(rc)
	require.NoError(t, err, name)
	e, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err, name)
	assert.Equal(t, elf.EM_AARCH64, e.Machine, name)
	assert.Equal(t, elf.ELFOSABI_NONE, e.OSABI, name)
}

// The zip of a binary is the same bytes every time, whatever the clock says: no entry time or
// mode comes from the machine.
func TestZipIsDeterministic(t *testing.T) {
	a, err := lambdabuild.Zip([]byte("binary"))
	require.NoError(t, err)
	b, err := lambdabuild.Zip([]byte("binary"))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := lambdabuild.Zip([]byte("binarY"))
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
	r, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	assert.Equal(t, 1980, r.File[0].Modified.Year())
}
