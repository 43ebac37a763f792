package bootscript

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// The tests below run WSO2's own start scripts instead of the stand-in, when APIMKIT_WSO2_PACKS
// names a folder of unpacked packs (see scripts/fetch-wso2-pack.sh): boot.sh installs the pack
// and its service as on a node, then the service's command runs as systemd would start it, with a
// stub java that records how it was called.

// wso2Packs returns $APIMKIT_WSO2_PACKS, or skips the test saying how to fill it.
func wso2Packs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("APIMKIT_WSO2_PACKS")
	if dir == "" {
		t.Skip("opt-in: set APIMKIT_WSO2_PACKS to a folder of unpacked WSO2 packs to run their start scripts " +
			"(scripts/fetch-wso2-pack.sh fills .wso2/, or unzip the packs downloaded from WSO2 into it)")
	}
	return dir
}

// packStarts lists, for each pack home in dir, the profiles profiles.PackOf starts from it.
func packStarts(t *testing.T, dir string) map[string][]profiles.Name {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err, "APIMKIT_WSO2_PACKS")
	out := map[string][]profiles.Name{}
	for _, e := range entries {
		i := strings.LastIndex(e.Name(), "-")
		if !e.IsDir() || i < 0 {
			continue
		}
		v, err := profiles.ParseVersion(e.Name()[i+1:])
		if err != nil || !v.Supported() {
			continue
		}
		layout, err := profiles.Layout(v)
		require.NoError(t, err)
		for _, p := range layout {
			pack, err := profiles.PackOf(v, p.Name)
			require.NoError(t, err)
			if pack.Home == e.Name() {
				out[pack.Home] = append(out[pack.Home], p.Name)
			}
		}
	}
	if len(out) == 0 {
		t.Skipf("APIMKIT_WSO2_PACKS=%s holds no pack home that profiles.PackOf names (such as wso2am-acp-4.5.0)", dir)
	}
	return out
}

// zipPack zips the pack's files (not its dbscripts) under its home, as WSO2 ships it, adding the
// configuration folders boot.sh writes into when the copy lacks them.
func zipPack(t *testing.T, dir, home string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	root := filepath.Join(dir, home)
	have := map[string]bool{}
	require.NoError(t, filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if e.IsDir() {
			if rel == "dbscripts" {
				return filepath.SkipDir
			}
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = home+"/"+filepath.ToSlash(rel), zip.Deflate
		f, err := w.CreateHeader(h)
		if err != nil {
			return err
		}
		have[filepath.ToSlash(rel)] = true
		_, err = f.Write(body)
		return err
	}))
	for _, rel := range []string{"repository/conf/deployment.toml", "repository/components/lib/README.txt"} {
		if !have[rel] {
			f, err := w.Create(home + "/" + rel)
			require.NoError(t, err)
			f.Write([]byte("# stand-in: the copy in APIMKIT_WSO2_PACKS has no " + rel + "\n"))
		}
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// recordingJava answers -version as a Java 21 runtime and records every other call's program,
// arguments and environment in a folder of its own under record.
func recordingJava(record string) string {
	return `#!/usr/bin/env bash
if [ "$1" = -version ]; then echo 'openjdk version "21.0.5" 2024-10-15 LTS' >&2; exit 0; fi
call=$(mktemp -d "` + record + `/call.XXXXXX")
printf '%s' "$0" > "$call/program"
printf '%s\0' "$@" > "$call/argv"
env -0 > "$call/env"
`
}

// javaCall is one recorded start of the stub java.
type javaCall struct {
	program string
	argv    []string
	env     map[string]string
}

func (c javaCall) mainClass() string {
	for _, a := range c.argv {
		if strings.HasPrefix(a, "org.wso2.") {
			return a
		}
	}
	return ""
}

func javaCalls(t *testing.T, record string) []javaCall {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(record, "call.*"))
	var out []javaCall
	for _, d := range dirs {
		program, _ := os.ReadFile(filepath.Join(d, "program"))
		argv, _ := os.ReadFile(filepath.Join(d, "argv"))
		env, _ := os.ReadFile(filepath.Join(d, "env"))
		c := javaCall{program: string(program), env: map[string]string{}}
		c.argv = strings.Split(strings.TrimSuffix(string(argv), "\x00"), "\x00")
		for _, kv := range strings.Split(string(env), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				c.env[k] = v
			}
		}
		out = append(out, c)
	}
	return out
}

// systemdWords splits an Environment= value into its assignments as systemd does for the forms
// boot.sh writes: words apart at spaces, a double-quoted word kept whole.
func systemdWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				out = append(out, cur.String())
			}
			cur.Reset()
			started = false
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}

// startService runs the unit boot.sh installed the way systemd would: its ExecStart, in its
// WorkingDirectory, with systemd's own PATH, the unit's Environment= lines and its
// EnvironmentFile, and nothing else of the test's environment. skipEnv drops unit variables.
func startService(t *testing.T, unitPath string, skipEnv ...string) (string, error) {
	t.Helper()
	unit, err := os.ReadFile(unitPath)
	require.NoError(t, err)
	env := map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
	var start []string
	var workDir string
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch key {
		case "Environment":
			for _, w := range systemdWords(value) {
				k, v, _ := strings.Cut(w, "=")
				env[k] = v
			}
		case "EnvironmentFile":
			body, err := os.ReadFile(value)
			require.NoError(t, err, "EnvironmentFile")
			for _, line := range strings.Split(string(body), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					env[k] = strings.Trim(v, `"`)
				}
			}
		case "ExecStart":
			start = strings.Fields(value)
		case "WorkingDirectory":
			workDir = value
		}
	}
	require.NotEmpty(t, start, "the unit has an ExecStart")
	for _, k := range skipEnv {
		delete(env, k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, start[0], start[1:]...)
	cmd.Dir = workDir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// bootWith runs the given boot script in the sandbox (boot.sh itself, or a variant of it).
func bootWith(t *testing.T, s *sandbox, script string) (string, error) {
	t.Helper()
	path := filepath.Join(s.dir, "boot.sh")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	cmd := exec.Command("bash", path)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startedNode is a node of profile p booted from the real pack by script, with its service then
// started; it reports the service's output and exit, and the stub java's calls.
type startedNode struct {
	s       *sandbox
	home    string
	start   []string
	out     string
	err     error
	calls   []javaCall
	bootOut string
}

func bootAndStart(t *testing.T, dir, home string, p profiles.Name, script string, skipEnv ...string) startedNode {
	t.Helper()
	i := strings.LastIndex(home, "-")
	v, err := profiles.ParseVersion(home[i+1:])
	require.NoError(t, err)
	pack, err := profiles.PackOf(v, p)
	require.NoError(t, err)
	cfg := exampleConfig()
	cfg.PackKey, cfg.PackHome, cfg.StartCommand = "wso2/"+home+".zip", home, pack.Start
	s := newSandbox(t, cfg, nil)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "s3", "packs", "wso2", home+".zip"), zipPack(t, dir, home), 0o644))
	record := filepath.Join(s.dir, "java-calls")
	require.NoError(t, os.MkdirAll(record, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "jdk", "bin", "java"), []byte(recordingJava(record)), 0o755))

	n := startedNode{s: s, home: home, start: pack.Start}
	n.bootOut, err = bootWith(t, s, script)
	require.NoError(t, err, "boot.sh installs the real pack: %s", n.bootOut)
	n.out, n.err = startService(t, filepath.Join(s.root, "etc", "systemd", "system", "wso2am.service"), skipEnv...)
	n.calls = javaCalls(t, record)
	return n
}

// server is the stub java's call that starts WSO2, if the start script got that far.
func (n startedNode) server() (javaCall, bool) {
	for _, c := range n.calls {
		if c.mainClass() == "org.wso2.carbon.bootstrap.Bootstrap" {
			return c, true
		}
	}
	return javaCall{}, false
}

// problems says how the start fell short of a server started with the node's Java, heap share,
// security properties and secrets; none when it started as boot.sh means it to.
func (n startedNode) problems() []string {
	c, ok := n.server()
	if n.err != nil || !ok {
		return []string{fmt.Sprintf("the start script did not reach java (exit: %v): %s", n.err, strings.TrimSpace(n.out))}
	}
	var out []string
	jdk := filepath.Join(n.s.dir, "jdk")
	home := filepath.Join(n.s.root, "opt", "wso2", n.home)
	if c.program != filepath.Join(jdk, "bin", "java") {
		out = append(out, "java ran from "+c.program+", not from JAVA_HOME "+jdk)
	}
	if c.env["JAVA_HOME"] != jdk {
		out = append(out, "JAVA_HOME is "+c.env["JAVA_HOME"])
	}
	for _, want := range []string{"-XX:InitialRAMPercentage=60", "-XX:MaxRAMPercentage=60",
		"-Djava.security.properties=" + n.s.etc + "/java.security", "-Dcarbon.home=" + home} {
		if !slices.Contains(c.argv, want) {
			out = append(out, "java has no "+want)
		}
	}
	for _, unwanted := range []string{"-Xmx1024m", "-Xms256m"} {
		if slices.Contains(c.argv, unwanted) {
			out = append(out, "java has the default heap "+unwanted)
		}
	}
	if got, want := c.argv[slices.Index(c.argv, c.mainClass())+1:], n.start[1:]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		out = append(out, fmt.Sprintf("the server's arguments are %q, want %q", got, want))
	}
	for k, v := range map[string]string{"WSO2_DB_PASSWORD": "db-pass-1", "WSO2_ADMIN_PASSWORD": "admin-pass-2", "WSO2_KEYSTORE_PASSWORD": "wso2carbon"} {
		if c.env[k] != v {
			out = append(out, k+" does not reach the server")
		}
	}
	return out
}

// Each start script boot.sh runs for a profile (profiles.PackOf) starts the server on the node's
// Java with the heap share and security properties boot.sh gives, and the secrets WSO2 resolves.
func TestWSO2StartScriptsReachJava(t *testing.T) {
	dir := wso2Packs(t)
	for home, names := range packStarts(t, dir) {
		for _, p := range names {
			t.Run(home+"/"+string(p), func(t *testing.T) {
				n := bootAndStart(t, dir, home, p, Script)
				assert.Empty(t, n.problems(), "service output:\n%s", n.out)
				for _, c := range n.calls {
					t.Logf("java %s: %s", c.mainClass(), strings.Join(c.argv, " "))
				}
				t.Logf("service output:\n%s", n.out)
				if strings.Contains(n.out, "diagnostics.sh: Permission denied") {
					// Not a failure of the start: WSO2's diagnostics tool runs beside the server.
					t.Log("noticed: the diagnostics tool did not start: boot.sh unpacks with python3's zipfile, " +
						"which drops file modes, and makes only bin/*.sh executable")
				}
			})
		}
	}
}

// Without JAVA_HOME the real start scripts refuse to run, and the check above says so: removed
// from the service by a boot.sh that did not set it (as before 26 November 2026), or from the
// unit's environment.
func TestWSO2StartScriptsRefuseWithoutJavaHome(t *testing.T) {
	dir := wso2Packs(t)
	withoutJavaHome := strings.Replace(Script, "Environment=JAVA_HOME=${JAVA_HOME}\n", "", 1)
	require.NotEqual(t, Script, withoutJavaHome, "boot.sh writes Environment=JAVA_HOME= into the unit")
	for home, names := range packStarts(t, dir) {
		t.Run(home, func(t *testing.T) {
			for _, n := range []startedNode{
				bootAndStart(t, dir, home, names[0], withoutJavaHome),
				bootAndStart(t, dir, home, names[0], Script, "JAVA_HOME"),
			} {
				assert.Error(t, n.err, "the start script refuses")
				assert.Contains(t, n.out, "JAVA_HOME")
				_, reached := n.server()
				assert.False(t, reached, "java is never started")
				problems := n.problems()
				if assert.NotEmpty(t, problems, "the start check fails") {
					assert.Contains(t, problems[0], "the start script did not reach java")
					t.Log(problems[0])
				}
			}
		})
	}
}
