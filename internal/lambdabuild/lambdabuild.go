// Package lambdabuild builds the module's Go Lambda functions (one per lambda/<name>/ holding a
// main.go) into the zips the constructs deploy, byte for byte the same on every machine: the Go
// release go.mod's toolchain line names, no cgo, arm64 Linux, paths trimmed, no VCS stamp, no
// build id, and a zip whose single entry has a fixed time and mode. `make lambdas` writes them
// into internal/lambdazip, where the library embeds them, so a consumer's synth compiles nothing.
package lambdabuild

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Flags are the go build flags of every function; the Makefile and the docs name the same.
var Flags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}

// Env is the target every function is built for (provided.al2023 on Graviton).
var Env = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off"}

// zipTime is the modification time of the bootstrap entry: the zip format's epoch, the same for
// every build.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Names lists the functions under root/lambda: each directory that holds a main.go.
func Names(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "lambda"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "lambda", e.Name(), "main.go")); err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Toolchain returns the Go release go.mod's toolchain line pins (go1.26.8, say).
func Toolchain(root string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "toolchain" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s/go.mod has no toolchain line: the shipped Lambdas are built with the release it names", root)
}

// Build compiles the named functions of the module at root and returns each one's zip. With
// pinned set, the go command runs the toolchain go.mod names (GOTOOLCHAIN, fetched like a
// module when it is not the local one), which reproducing the shipped bytes needs; without it,
// the go command on PATH as the environment configures it.
func Build(root string, names []string, pinned bool) (map[string][]byte, error) {
	if len(names) == 0 {
		return map[string][]byte{}, nil
	}
	out, err := os.MkdirTemp("", "apimkit-lambdas-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	env := append(os.Environ(), Env...)
	if pinned {
		tc, err := Toolchain(root)
		if err != nil {
			return nil, err
		}
		env = append(env, "GOTOOLCHAIN="+tc)
	}
	// One go command for all of them: it links the binaries in parallel, each named after its
	// directory.
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", out+string(filepath.Separator))
	for _, n := range names {
		args = append(args, "./lambda/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the Lambdas %v in %s: %v\n%s", names, root, err, msg)
	}
	zips := map[string][]byte{}
	for _, n := range names {
		bin, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			return nil, err
		}
		if zips[n], err = Zip(bin); err != nil {
			return nil, err
		}
	}
	return zips, nil
}

// Zip returns a zip holding binary as an executable named bootstrap, the same bytes for the
// same binary.
func Zip(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	h.Modified = zipTime
	f, err := w.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(binary); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Sum is the hex SHA-256 of b, the asset hash of a zip.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
