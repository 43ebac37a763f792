// Package testkit is the one way this repository's tests make and synthesize CDK apps: the
// feature flags come from cdk.json, templates are stable across machines (no bootstrap-version
// parameter, no analytics or path metadata, asset hashes replaced by a placeholder), and each
// fixture is synthesized once per test binary and shared.
package testkit

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	// Must come first: sets PATH before any jsii package starts node.
	_ "github.com/apimkit/apimkit/test/testkit/nodepath"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing with them")

// RepoRoot returns the repository root, found from this source file so tests do not depend on
// the directory they run in.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	ctxOnce sync.Once
	cdkCtx  map[string]any
	ctxErr  error
)

// CdkContext returns the "context" object of cdk.json: the feature flags every app runs with.
func CdkContext() (map[string]any, error) {
	ctxOnce.Do(func() {
		raw, err := os.ReadFile(filepath.Join(RepoRoot(), "cdk.json"))
		if err != nil {
			ctxErr = err
			return
		}
		var doc struct {
			Context map[string]any `json:"context"`
		}
		if ctxErr = json.Unmarshal(raw, &doc); ctxErr == nil {
			cdkCtx = doc.Context
		}
	})
	return cdkCtx, ctxErr
}

var (
	mu      sync.Mutex
	outDirs []string
)

// NewApp returns an app with cdk.json's context plus extra, writing to a fresh directory that
// Cleanup removes.
func NewApp(extra map[string]any) awscdk.App {
	base, err := CdkContext()
	if err != nil {
		panic(fmt.Errorf("testkit: reading cdk.json: %w", err))
	}
	return newApp(base, extra)
}

// NewAppWithoutFlags returns an app as an older CDK project or a hand-written cdk.json starts it:
// none of cdk.json's feature flags, only extra and what keeps templates stable across machines.
func NewAppWithoutFlags(extra map[string]any) awscdk.App {
	return newApp(nil, extra)
}

func newApp(base, extra map[string]any) awscdk.App {
	ctx := map[string]any{
		"aws:cdk:enable-path-metadata":  false,
		"aws:cdk:enable-asset-metadata": false,
	}
	for k, v := range base {
		ctx[k] = v
	}
	for k, v := range extra {
		ctx[k] = v
	}
	dir, err := os.MkdirTemp("", "apimkit-synth-")
	if err != nil {
		panic(err)
	}
	mu.Lock()
	outDirs = append(outDirs, dir)
	mu.Unlock()
	return awscdk.NewApp(&awscdk.AppProps{
		Context:            &ctx,
		Outdir:             jsii.String(dir),
		AnalyticsReporting: jsii.Bool(false),
	})
}

// Cleanup removes every directory NewApp created; call it from TestMain after m.Run.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	for _, d := range outDirs {
		os.RemoveAll(d)
	}
	outDirs = nil
}

// Stack is one synthesized stack.
type Stack struct {
	// ID is the stack's artifact id (its construct id at the top of the app).
	ID string
	// File is the path of the template as written, before normalization.
	File string
	// Template is the normalized template.
	Template map[string]any
	// Messages are the stack's annotations (cdk-nag findings among them).
	Messages []Message
}

// Message is one annotation on a construct of a synthesized stack.
type Message struct {
	Level string // "error", "warning", "info"
	Path  string // the construct path
	Text  string
}

// Assembly is a synthesized app.
type Assembly struct {
	Dir    string
	Stacks []*Stack
}

// Stack returns the stack with the given artifact id, or fails the test.
func (a *Assembly) Stack(t testing.TB, id string) *Stack {
	t.Helper()
	for _, s := range a.Stacks {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no stack %q in the assembly", id)
	return nil
}

// Synth synthesizes app and reads every stack's template and annotations. When synthesis fails
// validation (a cdk-nag error, for one), the error carries the validation report.
func Synth(app awscdk.App) (asm *Assembly, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth failed: %v", r)
			if report, rerr := os.ReadFile(filepath.Join(*app.Outdir(), "validation-report.json")); rerr == nil {
				err = fmt.Errorf("%w\n%s", err, report)
			}
		}
	}()
	cx := app.Synth(nil)
	asm = &Assembly{Dir: *cx.Directory()}
	for _, st := range *cx.Stacks() {
		s, err := readStack(st)
		if err != nil {
			return nil, err
		}
		asm.Stacks = append(asm.Stacks, s)
	}
	return asm, nil
}

func readStack(st cxapi.CloudFormationStackArtifact) (*Stack, error) {
	s := &Stack{ID: *st.Id(), File: *st.TemplateFullPath()}
	raw, err := os.ReadFile(s.File)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.Template); err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	Normalize(s.Template)
	for _, m := range *st.Messages() {
		s.Messages = append(s.Messages, Message{Level: strings.ToLower(string(m.Level)), Path: *m.Id, Text: fmt.Sprint(m.Entry.Data)})
	}
	return s, nil
}

type fixture struct {
	once sync.Once
	asm  *Assembly
	err  error
}

var (
	fixMu    sync.Mutex
	fixtures = map[string]*fixture{}
)

// Fixture synthesizes the app that build returns the first time name is asked for, and returns the
// same assembly to every later caller in the test binary. A build that panics (a props error)
// fails every test that asks for the fixture.
func Fixture(t testing.TB, name string, build func() awscdk.App) *Assembly {
	t.Helper()
	fixMu.Lock()
	f := fixtures[name]
	if f == nil {
		f = &fixture{}
		fixtures[name] = f
	}
	fixMu.Unlock()
	f.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				f.err = fmt.Errorf("building fixture %q panicked: %v", name, r)
			}
		}()
		f.asm, f.err = Synth(build())
	})
	require.NoError(t, f.err)
	return f.asm
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// Normalize removes from a template what differs between machines or CDK CLI set-ups but says
// nothing about the architecture: the bootstrap-version parameter and rule, and asset hashes.
func Normalize(t map[string]any) {
	if p, ok := t["Parameters"].(map[string]any); ok {
		delete(p, "BootstrapVersion")
		if len(p) == 0 {
			delete(t, "Parameters")
		}
	}
	if r, ok := t["Rules"].(map[string]any); ok {
		delete(r, "CheckBootstrapVersion")
		if len(r) == 0 {
			delete(t, "Rules")
		}
	}
	for k, v := range t {
		t[k] = replaceHashes(v)
	}
}

func replaceHashes(v any) any {
	switch x := v.(type) {
	case string:
		return assetHash.ReplaceAllString(x, "<asset-hash>")
	case map[string]any:
		for k, e := range x {
			x[k] = replaceHashes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = replaceHashes(e)
		}
	}
	return v
}

// Golden compares v, as indented JSON, with the golden file at path (relative to the test's
// package directory). With -update it rewrites the file instead.
func Golden(t testing.TB, path string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(v))
	got := buf.Bytes()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run `go test ./test/ -run %s -update` and review the new file", t.Name())
	if !bytes.Equal(want, got) {
		t.Fatalf("%s differs from what was synthesized:\n%s\nIf the change is intended, rerun with -update and read the whole diff: a changed logical id replaces a resource in every user's account.",
			path, firstDifference(string(want), string(got)))
	}
}

// firstDifference shows the golden and the new text around their first differing line.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	window := func(lines []string) string {
		lo, hi := max(0, i-4), min(len(lines), i+8)
		var b strings.Builder
		for n := lo; n < hi; n++ {
			mark := "  "
			if n == i {
				mark = "> "
			}
			fmt.Fprintf(&b, "%s%5d %s\n", mark, n+1, lines[n])
		}
		return b.String()
	}
	return fmt.Sprintf("golden (%d lines):\n%snew (%d lines):\n%s", len(w), window(w), len(g), window(g))
}

// Resources returns the resources of a template whose Type is typ, by logical id.
func Resources(tmpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tmpl["Resources"].(map[string]any)
	for id, raw := range res {
		r, _ := raw.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// UserData joins a launch template's data's Fn::Base64(Fn::Join) user data into the text an
// instance receives, each deploy-time value written as a CDK token (${Token[...]}), as the
// constructs wrote them at synth. It is "" when the template has no user data.
func UserData(launchTemplateData map[string]any) string {
	b64, _ := launchTemplateData["UserData"].(map[string]any)
	var join func(v any) string
	join = func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			if j, ok := x["Fn::Join"].([]any); ok {
				var parts []string
				for _, p := range j[1].([]any) {
					parts = append(parts, join(p))
				}
				return strings.Join(parts, j[0].(string))
			}
		}
		return "${Token[TOKEN.0]}"
	}
	if b64 == nil {
		return ""
	}
	return join(b64["Fn::Base64"])
}

// Props returns the Properties of a resource.
func Props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// Main runs a test binary's tests, then removes the synthesized output and stops the jsii
// runtime, which deletes the copy of itself it unpacked into the temporary directory; call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	jsii.Close()
	os.Exit(code)
}
