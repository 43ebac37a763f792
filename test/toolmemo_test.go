package test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// memoEnv turns the memo off: APIMKIT_TOOL_MEMO=off runs every external checker every time.
const memoEnv = "APIMKIT_TOOL_MEMO"

// memoDir holds the remembered outputs, in the checkout's build directory: a fresh clone (CI)
// starts without any, so there every checker runs.
var memoDir = func() string { return filepath.Join(testkit.RepoRoot(), ".build", "tool-memo") }

// toolRun is what one run of an external checker left: its standard output, with the data files'
// paths replaced by placeholders, and its exit code.
type toolRun struct {
	Output string `json:"output"`
	Exit   int    `json:"exit"`
}

// runChecker runs a deterministic external checker (cfn-guard, cfn-lint) over files and returns
// its standard output and exit code. Its answer depends only on what it reads, so it is
// remembered under the SHA-256 of all of it: tool, which identifies the checker's build (its
// binary's or its version's hash) and rule set, the arguments, and each file's name and content
// in order (a JSON file's content as its canonical encoding). A run whose inputs are byte-identical to an earlier one's returns that run's output, with
// the paths of the files of this run; a changed template, rule, argument or checker runs it
// again. A run that could not start is never remembered.
func runChecker(t *testing.T, tool string, bin string, args []string, fileFlag string, files []string) ([]byte, int) {
	t.Helper()
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%q\x00%s\x00", tool, bin, args, fileFlag)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		// A JSON document by its content, not the order of its keys (a checker reports each
		// resource by its logical id, and the tests sort what it reports).
		var doc any
		if strings.HasSuffix(f, ".json") && json.Unmarshal(b, &doc) == nil {
			b, err = json.Marshal(doc)
			require.NoError(t, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(b))
		h.Write(b)
	}
	key := hex.EncodeToString(h.Sum(nil))
	memo := filepath.Join(memoDir(), key+".json")
	useMemo := os.Getenv(memoEnv) != "off"
	placeholder := func(i int) string { return fmt.Sprintf("@@DATA-FILE-%d@@", i) }
	restore := func(s string) string {
		for i, f := range files {
			s = strings.ReplaceAll(s, placeholder(i), f)
		}
		return s
	}
	if useMemo {
		if raw, err := os.ReadFile(memo); err == nil {
			var r toolRun
			if json.Unmarshal(raw, &r) == nil {
				return []byte(restore(r.Output)), r.Exit
			}
		}
	}
	cmdArgs := append([]string{}, args...)
	for _, f := range files {
		if fileFlag != "" {
			cmdArgs = append(cmdArgs, fileFlag)
		}
		cmdArgs = append(cmdArgs, f)
	}
	out, err := exec.Command(bin, cmdArgs...).Output()
	exit := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		exit = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s did not run: %v\n%s", tool, err, out)
	}
	if useMemo {
		s := string(out)
		for i, f := range files {
			s = strings.ReplaceAll(s, f, placeholder(i))
		}
		if raw, err := json.Marshal(toolRun{Output: s, Exit: exit}); err == nil && os.MkdirAll(memoDir(), 0o755) == nil {
			// Best effort, written whole or not at all.
			tmp := memo + fmt.Sprintf(".%d.tmp", os.Getpid())
			if os.WriteFile(tmp, raw, 0o644) == nil {
				os.Rename(tmp, memo)
			}
		}
	}
	return out, exit
}

var (
	treeHashMu sync.Mutex
	treeHashes = map[string]string{}
)

// treeHash is the SHA-256 of every file under the given paths (names and bytes), once per test
// binary: what identifies a checker's binary and rules.
func treeHash(t *testing.T, paths ...string) string {
	t.Helper()
	key := strings.Join(paths, "\x00")
	treeHashMu.Lock()
	defer treeHashMu.Unlock()
	if h, ok := treeHashes[key]; ok {
		return h
	}
	h := sha256.New()
	for _, p := range paths {
		require.NoError(t, filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			rel, _ := filepath.Rel(p, path)
			fmt.Fprintf(h, "%s\x00", rel)
			_, err = io.Copy(h, f)
			return err
		}))
	}
	treeHashes[key] = hex.EncodeToString(h.Sum(nil))
	return treeHashes[key]
}

// The memo returns what the checker said for exactly these bytes and nothing else: a changed
// file, argument or tool identity runs the checker again, and the answer carries this run's
// paths.
func TestCheckerMemoKeysOnEveryInput(t *testing.T) {
	// The memo on, whatever the caller's environment says (make bench runs the suite with it
	// off), so the counts below test the memo itself.
	t.Setenv(memoEnv, "")
	dir := t.TempDir()
	script := filepath.Join(dir, "checker")
	runs := filepath.Join(dir, "runs")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho run >> "+runs+"\nfor f; do case \"$f\" in -*) continue ;; esac; printf '%s:' \"$f\"; cat \"$f\"; done\nexit 3\n"), 0o755))
	count := func() int { b, _ := os.ReadFile(runs); return strings.Count(string(b), "run") }
	tool := "memo-test"
	saved := memoDir
	memo := t.TempDir()
	memoDir = func() string { return memo }
	t.Cleanup(func() { memoDir = saved })
	a := filepath.Join(dir, "a.json")
	require.NoError(t, os.WriteFile(a, []byte("one"), 0o644))
	out, exit := runChecker(t, tool, script, []string{"-x"}, "", []string{a})
	assert.Equal(t, a+":one", string(out))
	assert.Equal(t, 3, exit)
	assert.Equal(t, 1, count())

	// The same bytes under another directory: remembered, with the new path.
	other := filepath.Join(t.TempDir(), "a.json")
	require.NoError(t, os.WriteFile(other, []byte("one"), 0o644))
	out, exit = runChecker(t, tool, script, []string{"-x"}, "", []string{other})
	assert.Equal(t, other+":one", string(out))
	assert.Equal(t, 3, exit)
	assert.Equal(t, 1, count(), "identical inputs: not run again")

	require.NoError(t, os.WriteFile(a, []byte("two"), 0o644))
	out, _ = runChecker(t, tool, script, []string{"-x"}, "", []string{a})
	assert.Equal(t, a+":two", string(out))
	assert.Equal(t, 2, count(), "a changed file runs it again")
	runChecker(t, tool, script, []string{"-y"}, "", []string{a})
	assert.Equal(t, 3, count(), "changed arguments run it again")
	runChecker(t, tool+"-v2", script, []string{"-y"}, "", []string{a})
	assert.Equal(t, 4, count(), "another checker build runs it again")
	t.Setenv(memoEnv, "off")
	runChecker(t, tool, script, []string{"-x"}, "", []string{a})
	assert.Equal(t, 5, count(), "with the memo off, every call runs")
}
