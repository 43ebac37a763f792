package packupdate

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const credArn = "arn:aws:secretsmanager:us-west-1:111111111111:secret:wso2-subscription"

// Stubs: aws serves the pack and the credentials from folders and records uploads and events
// (and refuses any Auto Scaling call); uname reports FAKE_ARCH; the update tool itself is a stub inside the pack.
var stubs = map[string]string{
	"aws": `echo "aws $*" >> "$CALLS"
case "$1 $2" in
"s3 cp")
  src="$FAKE_S3/${3#s3://}"; [ "$3" = --only-show-errors ] && src="$FAKE_S3/${4#s3://}" && dst="$5"
  [ -f "$src" ] || { echo "fatal error: (404) Key does not exist" >&2; exit 1; }
  cp "$src" "$dst" ;;
"s3api put-object")
  [ -n "$FAIL_UPLOAD" ] && { echo "An error occurred (AccessDenied) when calling the PutObject operation" >&2; exit 1; }
  while [ $# -gt 0 ]; do case "$1" in --bucket) b=$2; shift;; --key) k=$2; shift;; --body) f=$2; shift;; esac; shift; done
  mkdir -p "$(dirname "$FAKE_S3/$b/$k")"; cp "$f" "$FAKE_S3/$b/$k"; printf '%s\n' "${FAKE_VERSION:-v2}" ;;
"secretsmanager get-secret-value")
  [ -f "$FAKE_SECRET" ] || { echo "ResourceNotFoundException" >&2; exit 254; }
  cat "$FAKE_SECRET" ;;
"autoscaling "*)
  echo "the updater calls no Auto Scaling API" >&2; exit 99 ;;
"events put-events")
  if [ -n "$REFUSE_EVENT" ]; then echo 1; else echo 0; fi ;;
esac`,
	"uname": `echo "${FAKE_ARCH:-x86_64}"`,
}

// The fake update tool changes a file when UPDATE_AVAILABLE is set and exits with UPDATE_RC; with
// SELF_UPDATE it first rewrites itself and its metadata and asks to be run again (exit 2).
// Like WSO2's tool, it takes its credentials from --username and --password, else from
// UPDATE_TOOL_USERNAME and UPDATE_TOOL_PASSWORD, else prompts; it records them and where its input
// comes from in $CALLS.credentials.
const fakeUpdateTool = `#!/usr/bin/env bash
echo "tool: $(basename "$0") $*" >> "$CALLS"
[ -n "$HOME" ] || { echo "the tool needs HOME" >&2; exit 3; }
user=$UPDATE_TOOL_USERNAME pass=$UPDATE_TOOL_PASSWORD
while [ $# -gt 0 ]; do case "$1" in --username) user=$2; shift ;; --password) pass=$2; shift ;; esac; shift; done
[ -n "$user" ] && [ -n "$pass" ] || { echo "Username:" >&2; exit 1; }
printf '%s\0%s\0%s\0' "$user" "$pass" "$(readlink /proc/$$/fd/0)" > "$CALLS.credentials"
if [ -n "$SELF_UPDATE" ] && ! grep -q "SELF""UPDATED" "$0"; then
  echo "# SELF""UPDATED" >> "$0"; mkdir -p ../updates; date +%s%N > ../updates/product.txt; exit 2
fi
[ -n "$UPDATE_AVAILABLE" ] && echo "patched" > ../repository/components/patch.txt
exit "${UPDATE_RC:-0}"
`

type sandbox struct{ dir, calls, s3 string }

func newSandbox(t *testing.T, tool string, withSecret bool) *sandbox {
	return newSandboxWithPack(t, tool, withSecret, standardPack())
}

func standardPack() map[string]string {
	return map[string]string{
		"wso2am-4.3.0/bin/wso2update_linux":                 fakeUpdateTool,
		"wso2am-4.3.0/bin/wso2update_linux_arm64":           fakeUpdateTool,
		"wso2am-4.3.0/repository/components/lib/README.txt": "jars",
		"wso2am-4.3.0/repository/logs/wso2carbon.log":       "noise",
	}
}

func newSandboxWithPack(t *testing.T, tool string, withSecret bool, pack map[string]string) *sandbox {
	dir := t.TempDir()
	s := &sandbox{dir: dir, calls: filepath.Join(dir, "calls"), s3: filepath.Join(dir, "s3")}
	bin := filepath.Join(dir, "bin")
	etc := filepath.Join(dir, "etc")
	for _, d := range []string{bin, etc, filepath.Join(s.s3, "packs", "wso2")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	for name, body := range stubs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755))
	}
	homes := []string{"wso2am-4.3.0"}
	env, err := Config{
		Region: "us-west-1", PackBucket: "packs", PackPrefix: "wso2", ProductHomes: homes,
		CredentialsSecretArn: credArn, Tool: tool, StagingPrefix: "staging/",
		RunReportID: "apim-updater",
	}.Env()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(etc, "updater.env"), []byte(env), 0o644))
	f, err := os.Create(filepath.Join(s.s3, "packs", "wso2", "wso2am-4.3.0.zip"))
	require.NoError(t, err)
	w := zip.NewWriter(f)
	for name, body := range pack {
		e, _ := w.Create(name)
		e.Write([]byte(body))
	}
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	if withSecret {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.json"), []byte(`{"username":"ops@example.com","password":"subscr1ption"}`), 0o600))
	}
	return s
}

func (s *sandbox) run(t *testing.T, env ...string) (string, error) {
	script := filepath.Join(s.dir, "update.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o755))
	cmd := exec.Command("bash", script)
	cmd.Env = append([]string{
		"PATH=" + filepath.Join(s.dir, "bin") + ":" + os.Getenv("PATH"), "HOME=" + s.dir, "TMPDIR=" + s.dir,
		"APIMKIT_ETC=" + filepath.Join(s.dir, "etc"), "CALLS=" + s.calls, "FAKE_S3=" + s.s3,
		"FAKE_SECRET=" + filepath.Join(s.dir, "secret.json"),
	}, env...)
	cmd.Dir = s.dir
	cmd.Stdin = strings.NewReader("") // a pipe, as a runner might give, not the /dev/null Go defaults to
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *sandbox) log() string { b, _ := os.ReadFile(s.calls); return string(b) }

func (s *sandbox) packHasPatch(t *testing.T) bool {
	staged := filepath.Join(s.s3, "packs", "staging", "wso2", "wso2am-4.3.0.zip")
	if _, err := os.Stat(staged); os.IsNotExist(err) {
		return false // nothing staged
	}
	z, err := zip.OpenReader(staged)
	require.NoError(t, err)
	defer z.Close()
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "components/patch.txt") {
			return true
		}
	}
	return false
}

func TestUpdateToolUploadsOneNewPackAndAnnouncesIt(t *testing.T) {
	s := newSandbox(t, UpdateTool, true)
	out, err := s.run(t, "UPDATE_AVAILABLE=1")
	require.NoError(t, err, out)
	calls := s.log()
	assert.Equal(t, 1, strings.Count(calls, "aws s3api put-object"), "exactly one new object")
	assert.Contains(t, calls, "aws s3 cp --only-show-errors s3://packs/wso2/wso2am-4.3.0.zip", "the pack nodes run is the base")
	assert.Contains(t, calls, "--bucket packs --key staging/wso2/wso2am-4.3.0.zip", "the update is staged")
	assert.NotContains(t, calls, "--key wso2/", "the pack nodes run is never written")
	assert.True(t, s.packHasPatch(t), "the uploaded pack is the updated one")
	assert.Contains(t, out, "a deploy that names it promotes it")
	assert.Equal(t, 1, strings.Count(calls, "aws events put-events"))
	assert.Contains(t, calls, `"DetailType": "WSO2 pack updated"`)
	assert.Contains(t, calls, `\"versionId\":\"v2\"`)
	assert.NotContains(t, calls, "autoscaling", "no instance refresh: only a deploy rolls nodes")
	assert.Less(t, strings.Index(calls, "put-object"), strings.Index(calls, "put-events"), "announced only after the upload")
	assert.Contains(t, calls, "aws cloudwatch put-metric-data --namespace "+RunMetricNamespace+" --metric-name "+RunMetricName+
		" --dimensions "+RunMetricDimension+"=apim-updater --value 0", "the run reports its success")
	assert.NotContains(t, out, "subscr1ption", "the password is not logged")
}

// Nothing to update writes nothing, also when the tool only updated itself (its own files and
// metadata are not the pack's content).
func TestNoUpdateWritesNothing(t *testing.T) {
	for name, env := range map[string][]string{"up to date": nil, "the tool updated itself": {"SELF_UPDATE=1"}} {
		s := newSandbox(t, UpdateTool, true)
		out, err := s.run(t, env...)
		require.NoError(t, err, "%s: %s", name, out)
		assert.Contains(t, out, "no update available", name)
		assert.NotContains(t, s.log(), "put-object", name)
		assert.NotContains(t, s.log(), "put-events", name)
		assert.NotContains(t, s.log(), "autoscaling", name)
		assert.NotContains(t, out, "failed", name)
		if env != nil {
			assert.Equal(t, 2, strings.Count(s.log(), "tool: wso2update_linux "), "%s: run again after updating itself", name)
		}
	}
}

// A 4.6+ pack carries bin/update_tool_setup.sh instead of the tool: it is run to fetch the tool,
// which is then run; the fetched tool alone is no update.
func TestToolFetchedBySetupScript(t *testing.T) {
	setup := "#!/bin/sh\necho \"update_tool_setup.sh $*\" >> \"$CALLS\"\ncp \"$FAKE_TOOL\" ./wso2update_linux\n"
	for name, env := range map[string][]string{"update": {"UPDATE_AVAILABLE=1"}, "no update": nil} {
		s := newSandboxWithPack(t, UpdateTool, true, map[string]string{
			"wso2am-4.3.0/bin/update_tool_setup.sh":             setup,
			"wso2am-4.3.0/repository/components/lib/README.txt": "jars",
		})
		tool := filepath.Join(s.dir, "faketool")
		require.NoError(t, os.WriteFile(tool, []byte(fakeUpdateTool), 0o755))
		out, err := s.run(t, append(env, "FAKE_TOOL="+tool)...)
		require.NoError(t, err, "%s: %s", name, out)
		calls := s.log()
		assert.Less(t, strings.Index(calls, "update_tool_setup.sh"), strings.Index(calls, "tool: wso2update_linux "), name)
		assert.Equal(t, env != nil, strings.Contains(calls, "put-object"), "%s: uploaded only when the product changed", name)
	}
}

// On Graviton the pack's arm64 build of the tool runs; Run Command gives no HOME, which the tool
// needs, so the script sets one.
func TestToolOfTheMachinesArchitectureWithoutHome(t *testing.T) {
	s := newSandbox(t, UpdateTool, true)
	out, err := s.run(t, "FAKE_ARCH=aarch64", "UPDATE_AVAILABLE=1", "HOME=")
	require.NoError(t, err, out)
	assert.Contains(t, s.log(), "tool: wso2update_linux_arm64 ")
	assert.NotContains(t, s.log(), "tool: wso2update_linux ")
	assert.True(t, s.packHasPatch(t))
}

func TestToolSelfUpdateRunsAgain(t *testing.T) {
	s := newSandbox(t, UpdateTool, true)
	out, err := s.run(t, "UPDATE_RC=2")
	require.Error(t, err, "the second run also exits 2 here, which is a failure")
	assert.Equal(t, 2, strings.Count(s.log(), "tool: wso2update_linux "), out)
}

// Failures say what failed and leave the bucket and the fleet as they were.
func TestFailuresWriteNothing(t *testing.T) {
	cases := []struct {
		name   string
		secret bool
		env    []string
		want   string
	}{
		{"update tool fails", true, []string{"UPDATE_AVAILABLE=1", "UPDATE_RC=1"}, "the WSO2 update tool failed for wso2am-4.3.0 (exit 1); it is given the credentials in UPDATE_TOOL_USERNAME and UPDATE_TOOL_PASSWORD"},
		{"upload fails", true, []string{"UPDATE_AVAILABLE=1", "FAIL_UPLOAD=1"}, "uploading s3://packs/staging/wso2/wso2am-4.3.0.zip failed; nothing was staged"},
		{"credentials missing", false, nil, "cannot read the WSO2 credentials"},
		{"announcement refused", true, []string{"UPDATE_AVAILABLE=1", "REFUSE_EVENT=1"}, "EventBridge refused the announcement of staging/wso2/wso2am-4.3.0.zip (the pack is staged)"},
		{"pack without the update tool", true, []string{"UPDATE_AVAILABLE=1"}, "has neither bin/wso2update_linux nor bin/update_tool_setup.sh: start from a pack WSO2 has updated for WSO2 Updates 2.0"},
		{"pack that is not a zip", true, []string{"UPDATE_AVAILABLE=1"}, "cannot unpack s3://packs/wso2/wso2am-4.3.0.zip"},
		{"no update tool for the machine", true, []string{"UPDATE_AVAILABLE=1", "FAKE_ARCH=riscv64"}, "no WSO2 update tool for riscv64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, UpdateTool, tc.secret)
			switch tc.name {
			case "pack without the update tool":
				s = newSandboxWithPack(t, UpdateTool, true, map[string]string{"wso2am-4.3.0/repository/components/lib/README.txt": "jars"})
			case "pack that is not a zip":
				require.NoError(t, os.WriteFile(filepath.Join(s.s3, "packs", "wso2", "wso2am-4.3.0.zip"), []byte("not a zip"), 0o644))
			}
			out, err := s.run(t, tc.env...)
			require.Error(t, err)
			assert.Contains(t, out, tc.want)
			assert.NotContains(t, out, "no update available", "a failure is not reported as nothing to do")
			assert.Contains(t, s.log(), "put-metric-data --namespace apimkit/Updates --metric-name RunFailed --dimensions Updater=apim-updater --value 1",
				"the run reports its failure, which the operations alarm watches")
			if tc.name != "announcement refused" {
				if tc.name != "pack that is not a zip" {
					assert.False(t, s.packHasPatch(t), "the bucket still holds the previous pack")
				}
				assert.NotContains(t, s.log(), "put-events")
			}
			assert.NotContains(t, s.log(), "autoscaling")
		})
	}
}

func TestScriptIsShellcheckClean(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed (make test installs it)")
	}
	out, err := exec.Command(sc, "-s", "bash", "update.sh").CombinedOutput()
	assert.NoError(t, err, "%s", out)
}

func TestEnvRefusesWhatAShellWouldInterpret(t *testing.T) {
	c := Config{Region: "us-west-1", PackBucket: "b", PackPrefix: "p", ProductHomes: []string{"wso2am-4.3.0"},
		CredentialsSecretArn: "arn", Tool: UpdateTool, EventBus: "default", StagingPrefix: "staging/"}
	_, err := c.Env()
	require.NoError(t, err)
	c.PackPrefix = "p; rm -rf /"
	_, err = c.Env()
	assert.ErrorContains(t, err, "PACK_PREFIX")
	c.PackPrefix = "p"
	for _, home := range []string{"../..", "wso2am-4.3.0/../../etc", "."} {
		c.ProductHomes = []string{"wso2am-4.3.0", home}
		_, err = c.Env()
		assert.ErrorContains(t, err, "PRODUCT_HOMES entry "+strconv.Quote(home)+" must be one folder's name", "it becomes a path update.sh removes")
	}
	c.ProductHomes = []string{"wso2am-4.3.0"}
	c.Tool = "yum"
	_, err = c.Env()
	assert.ErrorContains(t, err, `Tool must be update-tool (WUM was shut down in March 2023), not "yum"`)
}

// The subscription credentials reach the update tool in its environment, exactly as the secret
// holds them, and never on a command line (which any user can read in /proc) or in the log;
// nothing in them runs.
func TestToolGetsTheCredentialsOffItsCommandLine(t *testing.T) {
	s := newSandbox(t, UpdateTool, true)
	marker := filepath.Join(s.dir, "pwned")
	user := "ops+$(touch " + marker + ")@example.com"
	pass := "p'a\"s`touch " + marker + "`\\ $HOME\nsecond line"
	body, err := json.Marshal(map[string]string{"username": user, "password": pass})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "secret.json"), body, 0o600))
	out, err := s.run(t, "UPDATE_AVAILABLE=1")
	require.NoError(t, err, out)
	got, err := os.ReadFile(s.calls + ".credentials")
	require.NoError(t, err)
	assert.Equal(t, user+"\x00"+pass+"\x00/dev/null\x00", string(got), "the tool's username, password and input")
	calls := s.log()
	assert.Contains(t, calls, "tool: wso2update_linux \n", "no arguments")
	for _, secret := range []string{"ops+", "p'a", "second line"} {
		assert.NotContains(t, calls+out, secret)
	}
	_, err = os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "a credential ran as a command")
}

// The version id S3 answers for the new pack is data in the announcement: one that looks like
// JSON does not add or change fields of the event's detail. The same run unpacks a pack with an
// entry whose name climbs out of its folder to the sandbox's marker: it stays inside (Python's
// zipfile drops ".." from names; this guards the choice of unpacker).
func TestAnnouncementCarriesTheVersionIdAsData(t *testing.T) {
	pack := standardPack()
	pack["wso2am-4.3.0/../../../pwned"] = "climbed out"
	s := newSandboxWithPack(t, UpdateTool, true, pack)
	version := `v2","product":"wso2am-9.9.9","x":"$(id)`
	out, err := s.run(t, "UPDATE_AVAILABLE=1", "FAKE_VERSION="+version)
	require.NoError(t, err, out)
	var entries string
	for _, line := range strings.Split(s.log(), "\n") {
		if rest, ok := strings.CutPrefix(line, "aws events put-events --entries "); ok {
			entries = strings.TrimSuffix(rest, " --query FailedEntryCount --output text")
		}
	}
	var events []struct{ Detail string }
	require.NoError(t, json.Unmarshal([]byte(entries), &events), entries)
	require.Len(t, events, 1)
	var detail map[string]string
	require.NoError(t, json.Unmarshal([]byte(events[0].Detail), &detail), events[0].Detail)
	assert.Equal(t, map[string]string{"bucket": "packs", "key": "staging/wso2/wso2am-4.3.0.zip", "versionId": version, "product": "wso2am-4.3.0"}, detail)
	assert.Contains(t, out, `version v2\"\,\"product\"`, "quoted in the log")
	_, err = os.Stat(filepath.Join(s.dir, "pwned"))
	assert.True(t, os.IsNotExist(err), "a pack entry climbed out of its folder")
}
