// Package nodepath puts the repository's pinned Node.js (installed by `make deps`) first on PATH
// when a test binary starts, so a plain `go test` runs jsii on the same supported Node.js as make
// does. It imports nothing outside the standard library, so Go initializes it before any jsii
// package, some of which start the jsii kernel from their own init.
package nodepath

import (
	"os"
	"path/filepath"
	"runtime"
)

func init() {
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "..", "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "node")); err == nil {
		os.Setenv("PATH", filepath.Clean(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
}
