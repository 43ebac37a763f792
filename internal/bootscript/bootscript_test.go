package bootscript

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	dbArn    = "arn:aws:secretsmanager:us-west-1:111111111111:secret:db"
	adminArn = "arn:aws:secretsmanager:us-west-1:111111111111:secret:admin"
	toml     = "[server]\nhostname = 'api.example.com'\n[database.shared_db]\nurl = 'jdbc:mysql://@@APIMKIT_DB_HOST@@:3306/shared_db'\n"
	rendered = "[server]\nhostname = 'api.example.com'\n[database.shared_db]\nurl = 'jdbc:mysql://db.abc.us-west-1.rds.amazonaws.com:3306/shared_db'\n"
)

func exampleConfig() Config {
	return Config{
		Region: "us-west-1", PackBucket: "packs", PackKey: "wso2/wso2am-4.3.0.zip", PackHome: "wso2am-4.3.0",
		PackVersion: packVersion, PackSha256: placeholderSha256,
		JdbcDriverKey: "drivers/mysql-connector-j.jar", JdbcDriverVersion: driverVersion, JdbcDriverSha256: placeholderSha256,
		DbSecretArn: dbArn, AdminSecretArn: adminArn,
		StartCommand: []string{"bin/api-manager.sh", "--optimize", "-Dprofile=gateway-worker", "--skipConfigOptimization"},
		JavaPackage:  "java-21-amazon-corretto-headless", HealthProtocol: "HTTPS", HealthPort: 9443, HealthPath: "/services/Version",
		LifecycleHook: "wso2-started", DeploymentToml: []byte(toml),
		SignalStack: "apim-app", SignalResource: "GatewayASG1234ABCD",
		CloudWatchAgentConfig: []byte(`{"logs":{}}`),
	}
}

// The versions the example pins; a sandbox pins the digests of the files its test put in the fake
// bucket (sandbox.autoPin) unless the test pins others.
const (
	packVersion       = "pv-3.fXq_1"
	driverVersion     = "dv-7.Zk_2"
	placeholderSha256 = "0000000000000000000000000000000000000000000000000000000000000000"
)

// stubs are the commands boot.sh calls that would touch the machine or AWS. Each records its
// arguments; aws serves S3 objects and secrets from folders, curl answers IMDS and the health
// check (healthy after HEALTHY_AFTER calls).
var stubs = map[string]string{
	"aws": `echo "aws $*" >> "$CALLS"
case "$1 $2" in
"s3api get-object")
  # A version of s3://B/K is the file $FAKE_S3/B/K@VERSION.
  shift 2
  while [ $# -gt 0 ]; do case "$1" in --bucket) b=$2; shift ;; --key) k=$2; shift ;; --version-id) v=$2; shift ;; *) dst=$1 ;; esac; shift; done
  src="$FAKE_S3/$b/$k@$v"
  [ -f "$src" ] || { echo "An error occurred (NoSuchVersion) when calling the GetObject operation: The specified version does not exist." >&2; exit 254; }
  cp "$src" "$dst"; echo '{"VersionId": "'"$v"'"}' ;;
"autoscaling describe-auto-scaling-instances")
  n=$(( $(cat "$DESCRIBE_COUNT" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$DESCRIBE_COUNT"
  [ "$n" -gt "${DENY_DESCRIBE:-0}" ] || { echo "AccessDenied" >&2; exit 254; }
  [ "$n" -gt "${UNLISTED_DESCRIBE:-0}" ] || { echo None; exit 0; }
  echo apim-gateway ;;
"cloudformation signal-resource")
  [ -z "${REFUSE_SIGNAL:-}" ] || { echo "An error occurred (ValidationError) when calling the SignalResource operation: Stack apim-app is in UPDATE_COMPLETE state and cannot be signaled" >&2; exit 254; } ;;
"autoscaling complete-lifecycle-action")
  case "$*" in *CONTINUE*)
    n=$(( $(cat "$COMPLETE_COUNT" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$COMPLETE_COUNT"
    [ "$n" -gt "${DENY_COMPLETE:-0}" ] || { echo "AccessDenied" >&2; exit 254; } ;;
  esac ;;
"secretsmanager get-secret-value")
  f="$FAKE_SECRETS/$(printf %s "$4" | tr ':/' '__')"
  [ -f "$f" ] || { echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret." >&2; exit 254; }
  cat "$f" ;;
esac`,
	"curl": `echo "curl $*" >> "$CALLS"
case "$*" in
*api/token*) echo token-123 ;;
*meta-data/instance-id*) echo "${FAKE_INSTANCE_ID:-i-0123456789abcdef0}" ;;
*meta-data/local-ipv4*) echo 10.0.1.23 ;;
*meta-data/placement/availability-zone*) echo "${FAKE_AZ:-us-west-1a}" ;;
*) n=$(( $(cat "$HEALTH_COUNT" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$HEALTH_COUNT"
   [ "$n" -ge "$HEALTHY_AFTER" ] || exit 7 ;;
esac`,
	"dnf":                         `echo "dnf $*" >> "$CALLS"`,
	"systemctl":                   `echo "systemctl $*" >> "$CALLS"`,
	"useradd":                     `echo "useradd $*" >> "$CALLS"`,
	"chown":                       `echo "chown $*" >> "$CALLS"`,
	"id":                          `echo "id $*" >> "$CALLS"; exit 1`,
	"amazon-cloudwatch-agent-ctl": `echo "amazon-cloudwatch-agent-ctl $*" >> "$CALLS"`,
	"java":                        `echo "java $*" >> "$CALLS"`,
	// keytool adds one entry per call to the store named after -keystore.
	"keytool": `echo "keytool $*" >> "$CALLS"
while [ $# -gt 0 ]; do case "$1" in -keystore) store=$2 ;; -alias) alias=$2 ;; esac; shift; done
echo "$alias" >> "$store"`,
}

type sandbox struct {
	dir, root, etc, calls string
	env                   []string
	cfg                   Config
	// autoPin makes run pin, as the deployment would, the pack and driver the test left at their
	// plain paths in the fake bucket: it stores them as the configured versions and writes their
	// digests into node.env.
	autoPin bool
}

func newSandbox(t *testing.T, cfg Config, pack map[string]string) *sandbox {
	t.Helper()
	dir := t.TempDir()
	s := &sandbox{dir: dir, root: filepath.Join(dir, "root"), calls: filepath.Join(dir, "calls"), cfg: cfg, autoPin: true}
	s.etc = filepath.Join(s.root, "etc", "apimkit")
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{bin, s.etc, filepath.Join(dir, "s3", "packs", "wso2"), filepath.Join(dir, "s3", "packs", "drivers"), filepath.Join(dir, "secrets")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	for name, body := range stubs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755))
	}
	// As on Amazon Linux, java on PATH is a link to the runtime's own bin/java.
	jdk := filepath.Join(dir, "jdk")
	require.NoError(t, os.MkdirAll(filepath.Join(jdk, "bin"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(bin, "java"), filepath.Join(jdk, "bin", "java")))
	require.NoError(t, os.Symlink(filepath.Join(jdk, "bin", "java"), filepath.Join(bin, "java")))
	env, err := cfg.Env()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.etc, "node.env"), []byte(env), 0o644))
	if len(cfg.DeploymentToml) > 0 {
		require.NoError(t, os.WriteFile(filepath.Join(s.etc, "deployment.toml"), cfg.DeploymentToml, 0o644))
	}
	for i, z := range cfg.ZoneConfigs {
		require.NoError(t, os.WriteFile(filepath.Join(s.etc, fmt.Sprintf("deployment-%d.toml", i)), z.DeploymentToml, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(s.etc, "cloudwatch-agent.json"), cfg.CloudWatchAgentConfig, 0o644))
	if len(cfg.DatabaseRoots) > 0 {
		require.NoError(t, os.WriteFile(filepath.Join(s.etc, "database-ca.pem"), cfg.DatabaseRoots, 0o644))
	}
	if pack != nil {
		writeZip(t, filepath.Join(dir, "s3", "packs", "wso2", "wso2am-4.3.0.zip"), pack)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s3", "packs", "drivers", "mysql-connector-j.jar"), []byte("jar"), 0o644))
	for arn, secret := range map[string]string{dbArn: `{"username":"wso2apim","password":"db-pass-1","host":"db.abc.us-west-1.rds.amazonaws.com","port":3306}`, adminArn: `{"username":"admin","password":"admin-pass-2"}`} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "secrets", strings.NewReplacer(":", "_", "/", "_").Replace(arn)), []byte(secret), 0o644))
	}
	s.env = []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"),
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"APIMKIT_ROOT=" + s.root,
		"CALLS=" + s.calls,
		"FAKE_S3=" + filepath.Join(dir, "s3"),
		"FAKE_SECRETS=" + filepath.Join(dir, "secrets"),
		"HEALTH_COUNT=" + filepath.Join(dir, "health-count"),
		"HEALTHY_AFTER=3",
		"HEALTH_INTERVAL=0",
		"RETRY_PAUSE=0",
		"DESCRIBE_COUNT=" + filepath.Join(dir, "describe-count"),
		"COMPLETE_COUNT=" + filepath.Join(dir, "complete-count"),
	}
	return s
}

func standardPack() map[string]string {
	return map[string]string{
		"wso2am-4.3.0/bin/api-manager.sh":                   "#!/bin/sh\n",
		"wso2am-4.3.0/repository/conf/deployment.toml":      "# the pack's default\n",
		"wso2am-4.3.0/repository/components/lib/README.txt": "drivers go here\n",
		"wso2am-4.3.0/dbscripts/mysql.sql":                  "-- schema\n",
	}
}

func writeZip(t *testing.T, path string, files map[string]string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	w := zip.NewWriter(f)
	for name, body := range files {
		e, err := w.Create(name)
		require.NoError(t, err)
		e.Write([]byte(body))
	}
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
}

func (s *sandbox) run(t *testing.T, extraEnv ...string) (string, error) {
	t.Helper()
	if s.autoPin {
		s.pin(t)
	}
	script := filepath.Join(s.dir, "boot.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o755))
	cmd := exec.Command("bash", script)
	cmd.Dir = s.dir // a command a hostile value managed to run works in the sandbox
	cmd.Env = append(s.env, extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pin stores the pack and driver at their plain paths as the pinned versions, with their digests
// in node.env (a file the test removed stays missing).
func (s *sandbox) pin(t *testing.T) {
	t.Helper()
	for _, o := range []struct {
		key, version string
		sum          *string
	}{{s.cfg.PackKey, s.cfg.PackVersion, &s.cfg.PackSha256}, {s.cfg.JdbcDriverKey, s.cfg.JdbcDriverVersion, &s.cfg.JdbcDriverSha256}} {
		plain := filepath.Join(s.dir, "s3", s.cfg.PackBucket, o.key)
		body, err := os.ReadFile(plain)
		if err != nil {
			continue
		}
		require.NoError(t, os.WriteFile(plain+"@"+o.version, body, 0o644))
		*o.sum = digestOf(body)
	}
	env, err := s.cfg.Env()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.etc, "node.env"), []byte(env), 0o644))
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// putSecret replaces the secret arn holds with fields, as JSON.
func (s *sandbox) putSecret(t *testing.T, arn string, fields map[string]string) {
	t.Helper()
	body, err := json.Marshal(fields)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "secrets", strings.NewReplacer(":", "_", "/", "_").Replace(arn)), body, 0o600))
}

// marker is a file that hostile values try to create; it exists only if one of them ran.
func (s *sandbox) marker() string { return filepath.Join(s.dir, "pwned") }

func (s *sandbox) markerExists() bool {
	_, err := os.Stat(s.marker())
	return err == nil
}

func (s *sandbox) callLog(t *testing.T) string {
	b, _ := os.ReadFile(s.calls)
	return string(b)
}

func (s *sandbox) file(t *testing.T, rel string) string {
	b, err := os.ReadFile(filepath.Join(s.root, rel))
	require.NoError(t, err, rel)
	return string(b)
}

func TestBootInstallsConfiguresStartsAndCompletes(t *testing.T) {
	s := newSandbox(t, exampleConfig(), standardPack())
	out, err := s.run(t)
	require.NoError(t, err, out)
	home := "opt/wso2/wso2am-4.3.0"

	assert.Equal(t, rendered, s.file(t, home+"/repository/conf/deployment.toml"), "the rendered file replaces the pack's, with the database host from the secret")
	assert.Equal(t, "jar", s.file(t, home+"/repository/components/lib/mysql-connector-j.jar"))

	secrets := s.file(t, "etc/apimkit/secrets.env")
	assert.Contains(t, secrets, `WSO2_DB_PASSWORD="db-pass-1"`)
	assert.Contains(t, secrets, `WSO2_ADMIN_PASSWORD="admin-pass-2"`)
	info, err := os.Stat(filepath.Join(s.etc, "secrets.env"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "secrets readable by their owner only")
	assert.Contains(t, s.file(t, "etc/apimkit/java.security"), "networkaddress.cache.ttl=30")

	unit := s.file(t, "etc/systemd/system/wso2am.service")
	assert.Contains(t, unit, "ExecStart="+filepath.Join(s.root, home)+"/bin/api-manager.sh --optimize -Dprofile=gateway-worker --skipConfigOptimization")
	assert.Contains(t, unit, "User=wso2")
	assert.Contains(t, unit, "EnvironmentFile="+s.etc+"/secrets.env")
	assert.Contains(t, unit, "-Djava.security.properties="+s.etc+"/java.security")
	// WSO2's start scripts refuse to run without JAVA_HOME, and default to a 1 GiB heap.
	assert.Contains(t, unit, "Environment=JAVA_HOME="+filepath.Join(s.dir, "jdk")+"\n", "the runtime's home, where the java on PATH leads")
	assert.Contains(t, unit, "Environment=WSO2_NODE_IP=10.0.1.23\n", "3.2's [server] node_ip reads it")
	assert.Contains(t, unit, `Environment="JVM_MEM_OPTS=-XX:InitialRAMPercentage=60 -XX:MaxRAMPercentage=60"`)
	leftovers, _ := filepath.Glob(filepath.Join(s.dir, "apimkit-boot.*", "pack.zip"))
	assert.Empty(t, leftovers, "the pack's archive is removed once unpacked")

	calls := s.callLog(t)
	for _, want := range []string{
		"dnf install -y -q java-21-amazon-corretto-headless python3 amazon-cloudwatch-agent",
		"useradd --system",
		"aws s3api get-object --bucket packs --key wso2/wso2am-4.3.0.zip --version-id " + packVersion + " ",
		"aws s3api get-object --bucket packs --key drivers/mysql-connector-j.jar --version-id " + driverVersion + " ",
		"aws secretsmanager get-secret-value --secret-id " + dbArn,
		"amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:" + s.etc + "/cloudwatch-agent.json",
		"systemctl enable --now wso2am.service",
		"curl -ksf -o /dev/null --max-time 5 https://127.0.0.1:9443/services/Version",
		"aws autoscaling describe-auto-scaling-instances --instance-ids i-0123456789abcdef0",
		"aws autoscaling complete-lifecycle-action --lifecycle-hook-name wso2-started --auto-scaling-group-name apim-gateway --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE",
	} {
		assert.Contains(t, calls, want)
	}
	assert.Less(t, strings.Index(calls, "systemctl enable"), strings.Index(calls, "CONTINUE"), "in service only after start")
	assert.NotContains(t, calls, "ABANDON")
	assert.NotContains(t, calls, "apimkit-health", "no health reporter unless asked")
	assert.NoFileExists(t, filepath.Join(s.root, "etc/systemd/system/apimkit-health.timer"))
	assert.NotContains(t, calls+out, "db-pass-1", "no secret in a command line or the log")
	assert.NotContains(t, calls+out, "admin-pass-2")
}

// A new instance's permissions take a moment: looking up its group and completing its launch are
// retried, and the launch still completes.
func TestBootRetriesWhileItsPermissionsArrive(t *testing.T) {
	s := newSandbox(t, exampleConfig(), standardPack())
	out, err := s.run(t, "DENY_DESCRIBE=3", "DENY_COMPLETE=2")
	require.NoError(t, err, out)
	calls := s.callLog(t)
	assert.Equal(t, 4, strings.Count(calls, "aws autoscaling describe-auto-scaling-instances"))
	assert.Equal(t, 3, strings.Count(calls, "--lifecycle-action-result CONTINUE"))
	assert.NotContains(t, calls, "ABANDON")

	// Auto Scaling may not list a new instance yet: "None" is asked again, not taken for a name.
	s = newSandbox(t, exampleConfig(), standardPack())
	out, err = s.run(t, "UNLISTED_DESCRIBE=2")
	require.NoError(t, err, out)
	assert.Equal(t, 3, strings.Count(s.callLog(t), "aws autoscaling describe-auto-scaling-instances"))
	assert.Contains(t, s.callLog(t), "--auto-scaling-group-name apim-gateway --instance-id")

	s = newSandbox(t, exampleConfig(), standardPack())
	out, err = s.run(t, "DENY_COMPLETE=100")
	assert.Error(t, err, "a permission that never arrives still fails the boot")
	assert.Equal(t, 30, strings.Count(s.callLog(t), "--lifecycle-action-result CONTINUE"), out)
}

// zoneConfig names the control-plane node of each of two zones differently.
func zoneConfig() Config {
	cfg := exampleConfig()
	cfg.DeploymentToml = nil
	for _, z := range []string{"us-west-1a", "us-west-1c"} {
		cfg.ZoneConfigs = append(cfg.ZoneConfigs, ZoneConfig{Zone: z, DeploymentToml: []byte("# node of " + z + "\n" + toml)})
	}
	return cfg
}

// A group named one node per zone: each node installs its own zone's configuration, and a node
// in a zone without one is abandoned before WSO2 starts.
func TestBootPicksItsZonesConfiguration(t *testing.T) {
	for _, az := range []string{"us-west-1a", "us-west-1c"} {
		s := newSandbox(t, zoneConfig(), standardPack())
		out, err := s.run(t, "FAKE_AZ="+az)
		require.NoError(t, err, out)
		assert.Equal(t, "# node of "+az+"\n"+rendered, s.file(t, "opt/wso2/wso2am-4.3.0/repository/conf/deployment.toml"))
		assert.Contains(t, s.callLog(t), "curl -fsS --retry 5 --retry-connrefused -H X-aws-ec2-metadata-token: token-123 http://169.254.169.254/latest/meta-data/placement/availability-zone")
	}
	s := newSandbox(t, zoneConfig(), standardPack())
	out, err := s.run(t, "FAKE_AZ=us-west-1b")
	assert.Error(t, err)
	assert.Contains(t, out, "no configuration for zone us-west-1b: this group's nodes are named per zone (us-west-1a,us-west-1c)")
	assert.Contains(t, s.callLog(t), "--lifecycle-action-result ABANDON")
	assert.NotContains(t, s.callLog(t), "systemctl enable")
}

// Given the database's authorities, boot.sh puts each in the PKCS12 truststore the JDBC URLs
// name, before the service starts; without them it builds no store.
func TestBootTrustsTheDatabaseAuthorities(t *testing.T) {
	cfg := exampleConfig()
	cfg.DatabaseRoots = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" +
		"-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n")
	s := newSandbox(t, cfg, standardPack())
	out, err := s.run(t)
	require.NoError(t, err, out)
	store := filepath.Join(s.root, DatabaseTrustStore)
	calls := s.callLog(t)
	for _, alias := range []string{"database-ca-1", "database-ca-2"} {
		assert.Contains(t, calls, "keytool -importcert -noprompt -storetype PKCS12 -keystore "+store+" -storepass "+
			DatabaseTrustStorePassword+" -alias "+alias+" -file ")
	}
	assert.Equal(t, "database-ca-1\ndatabase-ca-2\n", s.file(t, DatabaseTrustStore[1:]))
	assert.Less(t, strings.Index(calls, "keytool"), strings.Index(calls, "systemctl enable"), "the store exists before WSO2 starts")
	assert.True(t, strings.HasPrefix(DatabaseTrustStore, "/etc/apimkit/"), "root's configuration folder, which WSO2 cannot write")
	info, err := os.Stat(store)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "readable by WSO2")

	// A java whose folder has no keytool: the one on PATH is used.
	elsewhere := newSandbox(t, cfg, standardPack())
	jre := filepath.Join(elsewhere.dir, "jre", "bin")
	require.NoError(t, os.MkdirAll(jre, 0o755))
	require.NoError(t, os.Rename(filepath.Join(elsewhere.dir, "bin", "java"), filepath.Join(jre, "java")))
	require.NoError(t, os.Symlink(filepath.Join(jre, "java"), filepath.Join(elsewhere.dir, "bin", "java")))
	out, err = elsewhere.run(t)
	require.NoError(t, err, out)
	assert.Contains(t, elsewhere.callLog(t), "keytool -importcert")
	assert.NotContains(t, elsewhere.callLog(t), "ABANDON")

	plain := newSandbox(t, exampleConfig(), standardPack())
	out, err = plain.run(t)
	require.NoError(t, err, out)
	assert.NotContains(t, plain.callLog(t), "keytool")

	cfg.DatabaseRoots = []byte("not a certificate\n")
	broken := newSandbox(t, cfg, standardPack())
	out, err = broken.run(t)
	assert.Error(t, err)
	assert.Contains(t, out, "no certificate in")
	assert.Contains(t, broken.callLog(t), "--lifecycle-action-result ABANDON")
	assert.NotContains(t, broken.callLog(t), "systemctl enable")
}

// Each failure abandons the launch (the group replaces the instance), says what failed, and never
// starts the service.
func TestBootFailures(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(s *sandbox)
		pack    map[string]string
		env     []string
		want    string
		started bool
	}{
		{"pack missing", nil, nil, nil, "fetching s3://packs/wso2/wso2am-4.3.0.zip version " + packVersion + "\nAn error occurred (NoSuchVersion)", false},
		{"pack without its home folder", nil, map[string]string{"other/bin/x.sh": ""}, nil, "the pack has no wso2am-4.3.0/ folder", false},
		{"database secret missing", func(s *sandbox) {
			os.Remove(filepath.Join(s.dir, "secrets", strings.NewReplacer(":", "_", "/", "_").Replace(dbArn)))
		}, standardPack(), nil, "ResourceNotFoundException", false},
		{"driver missing", func(s *sandbox) {
			os.Remove(filepath.Join(s.dir, "s3", "packs", "drivers", "mysql-connector-j.jar"))
		}, standardPack(), nil, "fetching s3://packs/drivers/mysql-connector-j.jar version " + driverVersion + "\nAn error occurred (NoSuchVersion)", false},
		{"never healthy", nil, standardPack(), []string{"HEALTHY_AFTER=1000000", "HEALTH_TIMEOUT=1"}, "did not become healthy in 1s", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, exampleConfig(), tc.pack)
			if tc.setup != nil {
				tc.setup(s)
			}
			out, err := s.run(t, tc.env...)
			require.Error(t, err, "boot must fail")
			assert.Contains(t, out, tc.want)
			assert.Contains(t, out, "abandoning the launch")
			calls := s.callLog(t)
			assert.Contains(t, calls, "--lifecycle-action-result ABANDON")
			assert.NotContains(t, calls, "CONTINUE")
			assert.Contains(t, calls, failureSignal, "the deploy waiting on the group is told")
			assert.NotContains(t, calls, "--status SUCCESS")
			assert.Equal(t, tc.started, strings.Contains(calls, "systemctl enable --now"), "service started")
			if !tc.started {
				_, err := os.Stat(filepath.Join(s.etc, "secrets.env"))
				assert.True(t, os.IsNotExist(err), "no secrets file written")
			}
		})
	}
}

func TestBootTcpHealthCheck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cfg := exampleConfig()
	cfg.HealthProtocol, cfg.HealthPort, cfg.HealthPath = "TCP", l.Addr().(*net.TCPAddr).Port, ""
	s := newSandbox(t, cfg, standardPack())
	out, err := s.run(t)
	require.NoError(t, err, out)
	assert.Contains(t, s.callLog(t), "CONTINUE")
}

func TestScriptIsShellcheckClean(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed (make test installs it)")
	}
	out, err := exec.Command(sc, "-s", "bash", "boot.sh").CombinedOutput()
	assert.NoError(t, err, "%s", out)
}

// The user data writes each file exactly (decoded back here) and is valid bash.
func TestUserData(t *testing.T) {
	cfg := exampleConfig()
	ud, err := cfg.UserData()
	require.NoError(t, err)
	out, err := exec.Command("bash", "-n", "-c", ud).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for path, want := range map[string]string{
		"/etc/apimkit/deployment.toml":       toml,
		"/usr/local/sbin/apimkit-boot":       Script,
		"/etc/apimkit/cloudwatch-agent.json": `{"logs":{}}`,
	} {
		got, err := File(ud, path)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), path)
	}
	_, err = File(ud, "/etc/passwd")
	assert.EqualError(t, err, "bootscript: the user data writes no /etc/passwd")
	assert.Contains(t, ud, "START_COMMAND=\"bin/api-manager.sh --optimize -Dprofile=gateway-worker --skipConfigOptimization\"\n")
	assert.True(t, strings.HasSuffix(ud, "exec /usr/local/sbin/apimkit-boot\n"))
	assert.Less(t, len(ud), 16*1024, "EC2 user data is limited to 16 KiB")
}

// The files decode to what was given when bash runs the user data's own commands.
func TestUserDataWritesTheFilesWhenRun(t *testing.T) {
	ud, err := exampleConfig().UserData()
	require.NoError(t, err)
	dir := t.TempDir()
	// Run only the file-writing part, with the paths moved under dir.
	body := ud[strings.Index(ud, "base64 -d"):strings.LastIndex(ud, "exec ")]
	body = strings.NewReplacer("/etc/apimkit/", dir+"/", "/usr/local/sbin/", dir+"/").Replace(body)
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", body).CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := os.ReadFile(filepath.Join(dir, "deployment.toml"))
	require.NoError(t, err)
	assert.Equal(t, toml, string(got))
	info, err := os.Stat(filepath.Join(dir, "apimkit-boot"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode().Perm())
}

// Zone configurations travel as one file per zone, with the zones (deploy-time tokens allowed)
// in node.env; a node gets either one configuration or per-zone ones.
func TestUserDataZoneConfigs(t *testing.T) {
	cfg := zoneConfig()
	cfg.ZoneConfigs[1].Zone = "${Token[TOKEN.9]}"
	ud, err := cfg.UserData()
	require.NoError(t, err)
	assert.Contains(t, ud, "CONFIG_ZONES=us-west-1a,${Token[TOKEN.9]}\n")
	for i, z := range cfg.ZoneConfigs {
		got, err := File(ud, fmt.Sprintf("/etc/apimkit/deployment-%d.toml", i))
		require.NoError(t, err)
		assert.Equal(t, string(z.DeploymentToml), string(got))
	}
	_, err = File(ud, "/etc/apimkit/deployment.toml")
	assert.Error(t, err, "no shared configuration beside the zones' own")

	// The zones travel as one stream (what they share is compressed once); the user data's own
	// commands split it into one file per zone, byte for byte.
	dir := t.TempDir()
	start := strings.Index(ud, "base64 -d <<'APIMKIT_B64' | gunzip | awk")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(ud[start:], "chmod 0644 /etc/apimkit/deployment-*.toml\n")
	body := strings.ReplaceAll(ud[start:start+end]+"chmod 0644 /etc/apimkit/deployment-*.toml\n", "/etc/apimkit/", dir+"/")
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", body).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for i, z := range cfg.ZoneConfigs {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("deployment-%d.toml", i)))
		require.NoError(t, err)
		assert.Equal(t, string(z.DeploymentToml), string(got), "zone %d", i)
	}

	both := zoneConfig()
	both.DeploymentToml = []byte(toml)
	_, err = both.UserData()
	assert.EqualError(t, err, "bootscript: give either DeploymentToml or ZoneConfigs")
	comma := zoneConfig()
	comma.ZoneConfigs[0].Zone = "a,b"
	_, err = comma.UserData()
	assert.ErrorContains(t, err, "ZoneConfigs needs a zone name without commas")
}

// User data that would not fit once CloudFormation fills in its values is refused, and so is a
// token inside a compressed file.
func TestUserDataLimits(t *testing.T) {
	cfg := exampleConfig()
	noise := make([]byte, 16*1024) // random bytes do not compress
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	cfg.CloudWatchAgentConfig = []byte(base64.StdEncoding.EncodeToString(noise))
	_, err := cfg.UserData()
	assert.ErrorContains(t, err, "over EC2's limit of 16384")

	cfg = exampleConfig()
	cfg.DeploymentToml = []byte("[server]\nhostname = '${Token[TOKEN.42]}'\n")
	_, err = cfg.UserData()
	assert.ErrorContains(t, err, "/etc/apimkit/deployment.toml holds a deploy-time token")

	assert.Equal(t, len("a=")+tokenAllowance, EstimatedSize("a=${Token[TOKEN.7]}"))
}

func TestEnvRefusesWhatAShellWouldInterpret(t *testing.T) {
	for field, mutate := range map[string]func(*Config){
		"PACK_KEY":       func(c *Config) { c.PackKey = "wso2am 4.3.0.zip" },
		"PACK_BUCKET":    func(c *Config) { c.PackBucket = "$(reboot)" },
		"START_COMMAND":  func(c *Config) { c.StartCommand = []string{"bin/x.sh;", "rm"} },
		"LIFECYCLE_HOOK": func(c *Config) { c.LifecycleHook = "" },
		"PACK_HOME":      func(c *Config) { c.PackHome = "../../usr" },
	} {
		c := exampleConfig()
		mutate(&c)
		_, err := c.Env()
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), field)
		}
	}
	c := exampleConfig()
	c.DbSecretArn = "${Token[TOKEN.123]}"
	_, err := c.Env()
	assert.NoError(t, err, "deploy-time tokens pass through")
}

const keystoreArn = "arn:aws:secretsmanager:us-west-1:123456789012:secret:apim-keystore-AbCdEf"

// keystoreSandbox is a node given the deployment's keystore secret, holding password.
func keystoreSandbox(t *testing.T, password string, withKeystore bool) *sandbox {
	cfg := exampleConfig()
	cfg.KeystoreSecretArn = keystoreArn
	pack := standardPack()
	pack["wso2am-4.3.0/repository/resources/security/client-truststore.jks"] = "trust"
	s := newSandbox(t, cfg, pack)
	secret := map[string]string{"password": password}
	if withKeystore {
		secret["keystore"] = base64.StdEncoding.EncodeToString([]byte("p12-bytes"))
	}
	body, err := json.Marshal(secret)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "secrets", strings.NewReplacer(":", "_", "/", "_").Replace(keystoreArn)), body, 0o600))
	return s
}

// Given the deployment's keystore, boot.sh installs it, trusts its certificate under the pack
// certificate's alias, and hands WSO2 its password; the truststore keeps the pack's password,
// and no password reaches a command line or the log.
func TestBootInstallsTheDeploymentKeystore(t *testing.T) {
	s := keystoreSandbox(t, "ks-Pass.1", true)
	out, err := s.run(t)
	require.NoError(t, err, out)
	security := "opt/wso2/wso2am-4.3.0/repository/resources/security/"
	assert.True(t, strings.HasPrefix(s.file(t, security+KeystoreFile), "p12-bytes"), "the keystore decoded from the secret")
	info, err := os.Stat(filepath.Join(s.root, security+KeystoreFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the private key readable by its owner only, from the start")
	calls := s.callLog(t)
	assert.Contains(t, calls, "keytool -exportcert -rfc -alias wso2carbon -storetype PKCS12 -keystore "+filepath.Join(s.root, security+KeystoreFile)+" -storepass:env KEYSTORE_PASSWORD")
	assert.Contains(t, calls, "keytool -delete -alias wso2carbon -keystore "+filepath.Join(s.root, security+"client-truststore.jks")+" -storepass:env TRUSTSTORE_PASSWORD")
	assert.Contains(t, calls, "keytool -importcert -noprompt -alias wso2carbon -file ")
	assert.Contains(t, calls, "keytool -importcert -noprompt -alias gateway_certificate_alias -file ", "API keys are checked against this alias")
	assert.Less(t, strings.Index(calls, "-delete"), strings.Index(calls, "-importcert"), "the pack's certificate is replaced")
	assert.Less(t, strings.Index(calls, "-importcert"), strings.Index(calls, "systemctl enable"), "before WSO2 starts")
	secrets := s.file(t, "etc/apimkit/secrets.env")
	assert.Contains(t, secrets, `WSO2_KEYSTORE_PASSWORD="ks-Pass.1"`)
	assert.Contains(t, secrets, `WSO2_TRUSTSTORE_PASSWORD="wso2carbon"`)
	assert.NotContains(t, calls+out, "ks-Pass.1", "the password stays off command lines and the log")

	plain := newSandbox(t, exampleConfig(), standardPack())
	out, err = plain.run(t)
	require.NoError(t, err, out)
	assert.Contains(t, plain.file(t, "etc/apimkit/secrets.env"), `WSO2_KEYSTORE_PASSWORD="wso2carbon"`, "without one, the pack's keystore")
	assert.NotContains(t, plain.callLog(t), "keytool")

	for name, s := range map[string]*sandbox{
		"a password a shell or systemd would read otherwise": keystoreSandbox(t, `pa"ss$word`, true),
		"no keystore in the secret":                          keystoreSandbox(t, "ks-Pass.1", false),
	} {
		out, err := s.run(t)
		assert.Error(t, err, name)
		assert.Equal(t, 1, strings.Count(s.callLog(t), "--lifecycle-action-result ABANDON"), "%s: abandoned once, also from a subshell", name)
		assert.NotContains(t, s.callLog(t), "systemctl enable", name)
		_ = out
	}
}

// The database host comes from a secret that people and rotation functions write: it is checked
// to be a host name or an IPv4 address before it goes into deployment.toml, and never becomes
// part of a sed expression or any other code. A value that is not a host refuses the boot.
func TestBootRefusesADatabaseHostThatIsNotOne(t *testing.T) {
	for name, host := range map[string]func(marker string) string{
		// GNU sed's e flag runs the pattern space as a command, as root.
		"a sed expression":    func(m string) string { return "x/;s/.*/touch " + strings.ReplaceAll(m, "/", `\/`) + "/e;#" },
		"shell substitutions": func(m string) string { return "$(touch " + m + ")`touch " + m + "`" },
		"a TOML string's end": func(string) string { return "db.example.com'\n[server]\nhostname = 'evil.example.com" },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t, exampleConfig(), standardPack())
			value := host(s.marker())
			s.putSecret(t, dbArn, map[string]string{"username": "wso2apim", "password": "db-pass-1", "host": value})
			out, err := s.run(t)
			assert.False(t, s.markerExists(), "the host ran as a command")
			require.Error(t, err, out)
			assert.Contains(t, out, "the host in "+dbArn+" is not a host name or an IPv4 address: ")
			assert.Equal(t, 1, strings.Count(s.callLog(t), "--lifecycle-action-result ABANDON"))
			assert.NotContains(t, s.callLog(t), "systemctl enable")
			assert.NotContains(t, s.file(t, "opt/wso2/wso2am-4.3.0/repository/conf/deployment.toml"), value)
		})
	}
}

// systemdEnv reads an EnvironmentFile of double-quoted assignments as systemd.exec(5) describes
// them: a backslash before \ " ` or $ stands for that character, before a line break it joins the
// lines, and before anything else it is kept with what follows. Nothing may follow a closing quote
// on its line.
func systemdEnv(t *testing.T, file string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for rest := file; rest != ""; {
		eq := strings.IndexByte(rest, '=')
		require.Greater(t, eq, 0, "an assignment at %q", rest)
		key := rest[:eq]
		require.Regexp(t, `^[A-Za-z_][A-Za-z0-9_]*$`, key)
		rest = rest[eq+1:]
		require.True(t, strings.HasPrefix(rest, `"`), "%s is double-quoted: %q", key, rest)
		var v strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case '\\', '"', '`', '$':
					v.WriteByte(rest[i])
				case '\n':
				default:
					v.WriteByte('\\')
					v.WriteByte(rest[i])
				}
				continue
			}
			v.WriteByte(rest[i])
		}
		require.Less(t, i+1, len(rest), "%s's value is closed and its line ended", key)
		require.Equal(t, byte('\n'), rest[i+1], "%s: nothing after the closing quote: %q", key, rest[i:])
		vars[key] = v.String()
		rest = rest[i+2:]
	}
	return vars
}

// Passwords are free-form: whatever they hold, secrets.env gives WSO2 exactly that text, and no
// part of it runs, for systemd or for a shell that sources the file.
//
// The same run unpacks a pack (an S3 object) with an entry whose name climbs out of its folder to
// the sandbox's marker: it stays inside (Python's zipfile drops ".." from names; this guards the
// choice of unpacker).
func TestBootWritesPasswordsAsData(t *testing.T) {
	pack := standardPack()
	pack["wso2am-4.3.0/../../../../pwned"] = "climbed out"
	s := newSandbox(t, exampleConfig(), pack)
	m := s.marker()
	admin := `a"b$(touch ` + m + ")`touch " + m + "`" + `\c$HOME 'd' #e ;f`
	db := ` \$\\" ${PATH} `
	s.putSecret(t, adminArn, map[string]string{"username": "admin", "password": admin})
	s.putSecret(t, dbArn, map[string]string{"username": "wso2apim", "password": db, "host": "db.abc.us-west-1.rds.amazonaws.com"})
	out, err := s.run(t)
	require.NoError(t, err, out)
	file := s.file(t, "etc/apimkit/secrets.env")
	vars := systemdEnv(t, file)
	assert.Equal(t, admin, vars["WSO2_ADMIN_PASSWORD"])
	assert.Equal(t, db, vars["WSO2_DB_PASSWORD"])
	assert.Equal(t, "wso2carbon", vars["WSO2_KEYSTORE_PASSWORD"])
	assert.Len(t, vars, 4)

	sh := exec.Command("bash", "-c", `set -a; . "$1"; printf '%s\n' "$WSO2_ADMIN_PASSWORD" "$WSO2_DB_PASSWORD"`, "-", filepath.Join(s.etc, "secrets.env"))
	sh.Dir, sh.Env = s.dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir}
	got, err := sh.CombinedOutput()
	require.NoError(t, err, "%s", got)
	assert.Equal(t, admin+"\n"+db+"\n", string(got), "a shell reads the same values")
	assert.False(t, s.markerExists(), "a password ran as a command, or a pack entry climbed out")
	assert.NotContains(t, s.callLog(t)+out, "touch", "no password on a command line or in the log")
}

// A line break (or any control character) in a password would end its value in secrets.env and
// start an assignment of the secret writer's choosing (JAVA_TOOL_OPTIONS runs code in the JVM):
// such a password refuses the boot, naming the secret, never the value.
func TestBootRefusesAPasswordWithAControlCharacter(t *testing.T) {
	for name, tc := range map[string]struct{ arn, password string }{
		"a line break":               {dbArn, "db-pass-1\nJAVA_TOOL_OPTIONS=-javaagent:/tmp/evil.jar"},
		"a trailing carriage return": {adminArn, "admin-pass-2\r"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t, exampleConfig(), standardPack())
			fields := map[string]string{"username": "someone", "password": tc.password}
			if tc.arn == dbArn {
				fields["host"] = "db.abc.us-west-1.rds.amazonaws.com"
			}
			s.putSecret(t, tc.arn, fields)
			out, err := s.run(t)
			require.Error(t, err, out)
			assert.Contains(t, out, "the password in "+tc.arn+" holds a control character (a line break, say), which WSO2 cannot be given; change the secret")
			assert.NotContains(t, out, tc.password[:8], "the password is not logged")
			_, statErr := os.Stat(filepath.Join(s.etc, "secrets.env"))
			assert.True(t, os.IsNotExist(statErr), "no secrets.env written")
			assert.Equal(t, 1, strings.Count(s.callLog(t), "--lifecycle-action-result ABANDON"))
			assert.NotContains(t, s.callLog(t), "systemctl enable")
		})
	}
}

// The instance id and zone from the instance metadata go into AWS calls, comparisons and the log:
// a value without their shape (a compromised or impersonated metadata service) refuses the boot,
// quoted in the log so it cannot forge lines there, and never runs.
func TestBootRefusesMetadataWithoutItsShape(t *testing.T) {
	s := newSandbox(t, exampleConfig(), standardPack())
	out, err := s.run(t, "FAKE_INSTANCE_ID=i-0123$(touch "+s.marker()+")")
	assert.False(t, s.markerExists(), "the instance id ran as a command")
	require.Error(t, err, out)
	assert.Contains(t, out, "the instance metadata gave an instance id that is not one: i-0123\\$\\(touch\\ ")
	assert.NotContains(t, s.callLog(t), "aws autoscaling", "no AWS call names it")
	assert.NotContains(t, s.callLog(t), "dnf install", "refused before anything is installed")

	for name, tc := range map[string]struct{ zone, logged string }{
		"a forged log line": {"us-west-1a\n2026-01-01T00:00:00Z apimkit-boot: healthy; completing the launch",
			"$'us-west-1a\\n2026-01-01T00:00:00Z apimkit-boot: healthy; completing the launch'\n"},
		"shell substitutions": {"us-west-1a$(touch pwned)`touch pwned`", "us-west-1a\\$\\(touch\\ pwned\\)\\`touch\\ pwned\\`\n"},
	} {
		z := newSandbox(t, zoneConfig(), standardPack())
		out, err := z.run(t, "FAKE_AZ="+tc.zone)
		assert.False(t, z.markerExists(), "%s: the zone ran as a command", name)
		require.Error(t, err, "%s: %s", name, out)
		assert.Contains(t, out, "the instance metadata gave an availability zone that is not one: "+tc.logged, name)
		assert.NotContains(t, out, "\n2026-01-01T00:00:00Z apimkit-boot: healthy", "%s: no forged line", name)
		assert.Equal(t, 1, strings.Count(z.callLog(t), "--lifecycle-action-result ABANDON"), name)
		assert.NotContains(t, z.callLog(t), "systemctl enable", name)
	}
}

// reportHealth runs one check of the health reporter, as apimkit-health.service does, with WSO2
// answering its check or not.
func (s *sandbox) reportHealth(t *testing.T, healthy bool) string {
	t.Helper()
	after := "HEALTHY_AFTER=1000000"
	if healthy {
		after = "HEALTHY_AFTER=0"
	}
	if s.autoPin {
		s.pin(t)
	}
	script := filepath.Join(s.dir, "boot.sh")
	require.NoError(t, os.WriteFile(script, []byte(Script), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(s.root, "run"), 0o755)) // a tmpfs on the node
	cmd := exec.Command("bash", script, "report-health")
	cmd.Dir = s.dir
	cmd.Env = append(s.env, "INSTANCE_ID=i-0123456789abcdef0", "ASG_NAME=apim-tm1", after)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// A node no load balancer checks reports WSO2's health to its group: it stays quiet while WSO2
// answers, publishes each failure in a row, and reports the instance unhealthy at the
// HealthFailures-th failure in a row (again at each later one, in case Auto Scaling ignored the
// report in its grace period), never before; a passing check starts the count again.
func TestHealthReporterMarksTheInstanceUnhealthyAfterFailuresInARow(t *testing.T) {
	cfg := exampleConfig()
	cfg.ReportHealth = "1"
	s := newSandbox(t, cfg, nil)
	unhealthy := "aws autoscaling set-instance-health --instance-id i-0123456789abcdef0 --health-status Unhealthy --should-respect-grace-period"
	published := func(n int) string {
		return fmt.Sprintf("aws cloudwatch put-metric-data --namespace %s --metric-name %s --dimensions AutoScalingGroupName=apim-tm1 --value %d",
			HealthMetricNamespace, HealthMetricName, n)
	}

	for range 2 {
		assert.Empty(t, s.reportHealth(t, true), "nothing logged while healthy")
	}
	assert.NotContains(t, s.callLog(t), "aws ", "no AWS call while healthy")
	assert.Equal(t, 2, strings.Count(s.callLog(t), "curl -ksf -o /dev/null --max-time 5 https://127.0.0.1:9443/services/Version"), "the boot's own check")

	for i := 1; i < HealthFailures; i++ {
		out := s.reportHealth(t, false)
		assert.Contains(t, out, fmt.Sprintf("health check failed, %d in a row", i))
		assert.Contains(t, s.callLog(t), published(i))
	}
	s.reportHealth(t, true)
	for i := 1; i < HealthFailures; i++ {
		s.reportHealth(t, false)
	}
	assert.NotContains(t, s.callLog(t), "set-instance-health", "a passing check started the count again")
	assert.NotContains(t, s.callLog(t), published(HealthFailures))

	out := s.reportHealth(t, false)
	assert.Contains(t, s.callLog(t), published(HealthFailures))
	assert.Equal(t, 1, strings.Count(s.callLog(t), unhealthy))
	assert.Contains(t, out, "reporting i-0123456789abcdef0 unhealthy")
	s.reportHealth(t, false)
	assert.Equal(t, 2, strings.Count(s.callLog(t), unhealthy), "reported again while it keeps failing")
}

// The reporter is installed, and started, only on a node told to report, before the node goes
// into service; the unit runs this script's report-health for this instance and group.
func TestBootInstallsTheHealthReporterOnlyWhenAsked(t *testing.T) {
	cfg := exampleConfig()
	cfg.ReportHealth = "1"
	s := newSandbox(t, cfg, standardPack())
	out, err := s.run(t)
	require.NoError(t, err, out)
	unit := s.file(t, "etc/systemd/system/apimkit-health.service")
	assert.Contains(t, unit, "ExecStart="+filepath.Join(s.dir, "boot.sh")+" report-health\n")
	assert.Contains(t, unit, "Environment=INSTANCE_ID=i-0123456789abcdef0 ASG_NAME=apim-gateway\n")
	assert.Contains(t, unit, "Type=oneshot\n")
	timer := s.file(t, "etc/systemd/system/apimkit-health.timer")
	assert.Contains(t, timer, "OnActiveSec=900\n", "the first check once the start-up grace has passed (HEALTH_TIMEOUT), after a reboot too")
	assert.Contains(t, timer, fmt.Sprintf("OnUnitInactiveSec=%d\n", HealthCheckSeconds))
	calls := s.callLog(t)
	assert.Less(t, strings.Index(calls, "systemctl enable --now apimkit-health.timer"), strings.Index(calls, "CONTINUE"))
	assert.NotContains(t, calls, "set-instance-health", "nothing reported at boot")

	// Without ReportHealth, TestBootInstallsConfiguresStartsAndCompletes checks the same.
	cfg.ReportHealth = "0"
	s = newSandbox(t, cfg, standardPack())
	out, err = s.run(t)
	require.NoError(t, err, out)
	assert.NotContains(t, s.callLog(t), "apimkit-health")
	assert.NoFileExists(t, filepath.Join(s.root, "etc/systemd/system/apimkit-health.service"))
	cfg.ReportHealth = "yes"
	_, err = cfg.Env()
	assert.ErrorContains(t, err, `REPORT_HEALTH "yes" must be 1 or 0`)
	cfg.ReportHealth = "${Token[TOKEN.5]}"
	env, err := cfg.Env()
	require.NoError(t, err)
	assert.Contains(t, env, "REPORT_HEALTH=${Token[TOKEN.5]}\n", "decided at synth")
}

// A node installs the version the deployment pinned, never the newest upload: the plain key holds
// a later upload, which the node does not read.
func TestBootDownloadsThePinnedVersion(t *testing.T) {
	s := newSandbox(t, exampleConfig(), standardPack())
	s.pin(t)
	s.autoPin = false
	later := standardPack()
	later["wso2am-4.3.0/bin/api-manager.sh"] = "#!/bin/sh\n# a later upload no deploy named\n"
	writeZip(t, filepath.Join(s.dir, "s3", "packs", "wso2", "wso2am-4.3.0.zip"), later)
	out, err := s.run(t)
	require.NoError(t, err, out)
	assert.Equal(t, "#!/bin/sh\n", s.file(t, "opt/wso2/wso2am-4.3.0/bin/api-manager.sh"))
	assert.Contains(t, s.callLog(t), "--key wso2/wso2am-4.3.0.zip --version-id "+packVersion+" ")
	assert.Contains(t, out, "fetching s3://packs/wso2/wso2am-4.3.0.zip version "+packVersion)
}

// A pack or driver whose digest is not the pinned one is refused before anything is unpacked or
// installed: the boot log names both digests, and the launch is abandoned.
func TestBootRefusesAnObjectWhoseDigestDiffers(t *testing.T) {
	for _, tc := range []struct{ name, key, version string }{
		{"pack", "wso2/wso2am-4.3.0.zip", packVersion},
		{"driver", "drivers/mysql-connector-j.jar", driverVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, exampleConfig(), standardPack())
			s.pin(t)
			s.autoPin = false
			// Someone replaced what the pinned version holds (in the fake; S3 keeps versions
			// immutable, but the digest is checked whatever the bucket answers).
			pinned := filepath.Join(s.dir, "s3", "packs", tc.key+"@"+tc.version)
			want := digestOf(mustRead(t, pinned))
			tampered := []byte("not what was promoted")
			require.NoError(t, os.WriteFile(pinned, tampered, 0o644))
			out, err := s.run(t)
			require.Error(t, err)
			assert.Contains(t, out, fmt.Sprintf("refusing s3://packs/%s version %s: its SHA-256 is %s, the deployment pinned %s",
				tc.key, tc.version, digestOf(tampered), want))
			assert.Contains(t, out, "abandoning the launch")
			calls := s.callLog(t)
			assert.Contains(t, calls, "--lifecycle-action-result ABANDON")
			assert.NotContains(t, calls, "CONTINUE")
			assert.NotContains(t, calls, "systemctl enable")
			assert.Contains(t, calls, failureSignal, "the deploy rolling this node out is told, and rolls back")
			_, err = os.Stat(filepath.Join(s.root, "opt", "wso2", "wso2am-4.3.0"))
			assert.True(t, os.IsNotExist(err), "nothing unpacked")
			left, _ := filepath.Glob(filepath.Join(s.dir, "apimkit-boot.*", "*"))
			for _, f := range left {
				assert.NotEqual(t, tampered, mustRead(t, f), "the refused object is not left behind")
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

const (
	successSignal = "aws cloudformation signal-resource --stack-name apim-app --logical-resource-id GatewayASG1234ABCD --unique-id i-0123456789abcdef0 --status SUCCESS"
	failureSignal = "aws cloudformation signal-resource --stack-name apim-app --logical-resource-id GatewayASG1234ABCD --unique-id i-0123456789abcdef0 --status FAILURE"
)

// A node tells CloudFormation it is ready only once WSO2 has answered its health check and the
// node is in service: a rolling update goes on to the next node only then. Outside an update
// CloudFormation refuses the signal, which does not fail the boot.
func TestBootSignalsOnlyAfterHealth(t *testing.T) {
	s := newSandbox(t, exampleConfig(), standardPack())
	out, err := s.run(t, "HEALTHY_AFTER=4")
	require.NoError(t, err, out)
	calls := s.callLog(t)
	signal := strings.Index(calls, successSignal)
	require.GreaterOrEqual(t, signal, 0, calls)
	assert.Equal(t, 1, strings.Count(calls, "--status"), "one signal")
	lastHealth := strings.LastIndex(calls, "curl -ksf -o /dev/null --max-time 5 https://127.0.0.1:9443/services/Version")
	assert.Greater(t, signal, lastHealth, "after the health check that passed")
	assert.Greater(t, signal, strings.Index(calls, "--lifecycle-action-result CONTINUE"), "after the node is in service")
	assert.Contains(t, out, "signalled SUCCESS to apim-app/GatewayASG1234ABCD")

	quiet := newSandbox(t, exampleConfig(), standardPack())
	out, err = quiet.run(t, "REFUSE_SIGNAL=1")
	require.NoError(t, err, out)
	assert.Contains(t, out, "CloudFormation took no SUCCESS signal")
	assert.Contains(t, quiet.callLog(t), "--lifecycle-action-result CONTINUE")

	cfg := exampleConfig()
	cfg.SignalResource = ""
	_, err = cfg.Env()
	assert.ErrorContains(t, err, "give both SignalStack and SignalResource, or neither")
	cfg = exampleConfig()
	cfg.PackSha256 = "ABCDEF"
	_, err = cfg.Env()
	assert.ErrorContains(t, err, `PACK_SHA256 "ABCDEF" must be a SHA-256 in lower-case hex`)
}
