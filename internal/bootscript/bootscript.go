// Package bootscript renders the user data that turns an Amazon Linux 2023 instance into a WSO2
// node: an environment file of non-secret settings, the node's deployment.toml, and boot.sh, which
// installs the JDK and the pack, fetches secrets at boot, runs WSO2 under systemd and completes the
// Auto Scaling launch lifecycle action once the node answers its health check. It imports no CDK
// package; boot.sh is tested in a sandbox with stub commands.
package bootscript

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// DbHostPlaceholder stands for the database host in a rendered deployment.toml; boot.sh replaces
// it with the host recorded in the application secret.
const DbHostPlaceholder = "@@APIMKIT_DB_HOST@@"

// DatabaseTrustStore is where boot.sh builds the PKCS12 truststore of Config.DatabaseRoots, and
// DatabaseTrustStorePassword opens it. The store holds public certificates only, so its password
// protects nothing secret; Java needs one to check the file's integrity.
const (
	DatabaseTrustStore         = "/etc/apimkit/database-truststore.p12"
	DatabaseTrustStorePassword = "apimkit-public-roots"
)

// KeystoreFile is the deployment's keystore as boot.sh writes it into the pack's security folder
// (PKCS12), and KeystoreAlias the key entry it must hold: the alias of the pack's own
// certificate, under which the truststore then trusts the deployment's.
const (
	KeystoreFile  = "apimkit-keystore.p12"
	KeystoreAlias = "wso2carbon"
)

// A node that reports its own health (Config.ReportHealth) checks WSO2 every HealthCheckSeconds,
// from HealthTimeoutSeconds (the start-up grace) after it went into service or rebooted. Each failed check publishes the failures in a row as HealthMetricName in
// HealthMetricNamespace, with the dimension AutoScalingGroupName; from HealthFailures in a row on,
// each check also reports the instance unhealthy to its group, which replaces it.
const (
	HealthMetricNamespace = "APIMKit/Nodes"
	HealthMetricName      = "WSO2HealthCheckFailures"
	HealthFailures        = 3
	HealthCheckSeconds    = 60
)

// Script is boot.sh.
//
//go:embed boot.sh
var Script string

// Config is what a node needs to know at boot. None of it is secret.
type Config struct {
	Region     string
	PackBucket string
	PackKey    string
	PackHome   string
	// PackVersion and PackSha256 pin the pack: boot.sh downloads exactly that S3 version and
	// refuses it, before unpacking anything, unless its SHA-256 (lower-case hex) is PackSha256.
	// Either may be a deploy-time token.
	PackVersion   string
	PackSha256    string
	JdbcDriverKey string
	// JdbcDriverVersion and JdbcDriverSha256 pin the JDBC driver alike.
	JdbcDriverVersion string
	JdbcDriverSha256  string
	DbSecretArn       string
	AdminSecretArn    string
	// KeystoreSecretArn, when set, is a secret holding the deployment's keystore: "keystore", a
	// PKCS12 file in base64 whose key entry is KeystoreAlias, and "password", which opens it and
	// its key. boot.sh installs it as KeystoreFile and trusts its certificate.
	KeystoreSecretArn string
	// StartCommand runs the server in the foreground, relative to the pack's home.
	StartCommand   []string
	JavaPackage    string
	HealthProtocol string
	HealthPort     int
	HealthPath     string
	LifecycleHook  string
	// SignalStack and SignalResource name the CloudFormation stack and the group's logical id:
	// once the node is in service boot.sh signals SUCCESS to that resource, and FAILURE when its
	// boot fails, so a creation or rolling update waiting on signals (a CreationPolicy, an
	// UpdatePolicy with WaitOnResourceSignals) goes on only with healthy nodes and rolls back on
	// a failed one. Either may be a deploy-time token. Default: no signal.
	SignalStack, SignalResource string
	// AsgName is the group to complete the lifecycle action on. Default: asked of Auto Scaling
	// at boot (a launch template cannot name its own group).
	AsgName string
	// DeploymentToml is the node's rendered configuration. Leave it empty when ZoneConfigs
	// gives one per zone.
	DeploymentToml []byte
	// ZoneConfigs, for a group whose nodes are named one per zone, give each zone's node its
	// own deployment.toml; boot.sh picks the one of the zone it runs in and fails in any other.
	// Zone names may be deploy-time tokens.
	ZoneConfigs []ZoneConfig
	// CloudWatchAgentConfig, when set, is the agent's JSON configuration.
	CloudWatchAgentConfig []byte
	// DatabaseRoots, when set, are the PEM certificates of the authorities the database's
	// certificate chains to; boot.sh puts them in DatabaseTrustStore for the JDBC connections.
	DatabaseRoots []byte
	// BeforeSetup and AfterSetup are a team's own shell commands (bash, -euo pipefail), run as
	// root before anything else boot.sh does, and once WSO2 answers its health check before the
	// node is reported in service. A failing command abandons the launch.
	BeforeSetup, AfterSetup []string
	// ReportHealth "1" installs the health reporter (see HealthFailures) before the node goes
	// into service: for groups that no load balancer checks, where Auto Scaling otherwise sees
	// only EC2's status and a crashed or hung WSO2 is never replaced. It may be a deploy-time
	// token that resolves to "1" or "0". Default: no reporter.
	ReportHealth string
	// HealthTimeoutSeconds bounds the wait for the node to become healthy.
	HealthTimeoutSeconds int
	DNSTTLSeconds        int
}

// ZoneConfig is the deployment.toml of the node in one availability zone.
type ZoneConfig struct {
	Zone           string
	DeploymentToml []byte
}

var (
	safe = regexp.MustCompile(`^[A-Za-z0-9_./:@+=,-]*$`)
	// folder is one folder's name: boot.sh joins PackHome to the folder it unpacks into, and then
	// changes modes and writes files under the result.
	folder = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// sha256Hex is a pinned digest as boot.sh compares it with sha256sum's.
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Env renders node.env. Values are plain words (no quoting is needed or allowed); tokens that CDK
// resolves at deploy time (${Token[...]}) are passed through for the caller to substitute.
func (c Config) Env() (string, error) {
	vars := map[string]string{
		"AWS_REGION":          c.Region,
		"PACK_BUCKET":         c.PackBucket,
		"PACK_KEY":            c.PackKey,
		"PACK_HOME":           c.PackHome,
		"JDBC_DRIVER_KEY":     c.JdbcDriverKey,
		"PACK_VERSION":        c.PackVersion,
		"PACK_SHA256":         c.PackSha256,
		"JDBC_DRIVER_VERSION": c.JdbcDriverVersion,
		"JDBC_DRIVER_SHA256":  c.JdbcDriverSha256,
		"DB_SECRET_ARN":       c.DbSecretArn,
		"ADMIN_SECRET_ARN":    c.AdminSecretArn,
		"START_COMMAND":       strings.Join(c.StartCommand, " "),
		"JAVA_PACKAGE":        c.JavaPackage,
		"HEALTH_PROTOCOL":     c.HealthProtocol,
		"HEALTH_PORT":         fmt.Sprint(c.HealthPort),
		"HEALTH_PATH":         c.HealthPath,
		"LIFECYCLE_HOOK":      c.LifecycleHook,
	}
	if !folder.MatchString(c.PackHome) {
		return "", fmt.Errorf("bootscript: PACK_HOME %q must be one folder's name (letters, digits, ._-), not a path", c.PackHome)
	}
	for name, sum := range map[string]string{"PACK_SHA256": c.PackSha256, "JDBC_DRIVER_SHA256": c.JdbcDriverSha256} {
		if v := stripTokens(sum); v != "" && !sha256Hex.MatchString(v) {
			return "", fmt.Errorf("bootscript: %s %q must be a SHA-256 in lower-case hex (64 digits)", name, sum)
		}
	}
	if (c.SignalStack == "") != (c.SignalResource == "") {
		return "", fmt.Errorf("bootscript: give both SignalStack and SignalResource, or neither")
	}
	if c.SignalStack != "" {
		vars["SIGNAL_STACK"], vars["SIGNAL_RESOURCE"] = c.SignalStack, c.SignalResource
	}
	if c.AsgName != "" {
		vars["ASG_NAME"] = c.AsgName
	}
	if c.KeystoreSecretArn != "" {
		vars["KEYSTORE_SECRET_ARN"] = c.KeystoreSecretArn
		vars["KEYSTORE_FILE"] = KeystoreFile
		vars["KEYSTORE_ALIAS"] = KeystoreAlias
	}
	if c.ReportHealth != "" {
		if v := stripTokens(c.ReportHealth); v != "" && v != "0" && v != "1" {
			return "", fmt.Errorf("bootscript: REPORT_HEALTH %q must be 1 or 0", c.ReportHealth)
		}
		vars["REPORT_HEALTH"] = c.ReportHealth
	}
	if c.HealthTimeoutSeconds > 0 {
		vars["HEALTH_TIMEOUT"] = fmt.Sprint(c.HealthTimeoutSeconds)
	}
	if c.DNSTTLSeconds > 0 {
		vars["DNS_TTL"] = fmt.Sprint(c.DNSTTLSeconds)
	}
	if len(c.ZoneConfigs) > 0 {
		zones := make([]string, 0, len(c.ZoneConfigs))
		for _, z := range c.ZoneConfigs {
			if z.Zone == "" || strings.Contains(z.Zone, ",") {
				return "", fmt.Errorf("bootscript: ZoneConfigs needs a zone name without commas, got %q", z.Zone)
			}
			zones = append(zones, z.Zone)
		}
		vars["CONFIG_ZONES"] = strings.Join(zones, ",")
	}
	if len(c.DatabaseRoots) > 0 {
		vars["DB_TRUSTSTORE"] = DatabaseTrustStore
		vars["DB_TRUSTSTORE_PASSWORD"] = DatabaseTrustStorePassword
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := vars[k]
		if v == "" && k != "HEALTH_PATH" {
			return "", fmt.Errorf("bootscript: %s is empty", k)
		}
		check := v
		if k == "START_COMMAND" {
			check = strings.ReplaceAll(v, " ", "")
		}
		if !safe.MatchString(stripTokens(check)) {
			return "", fmt.Errorf("bootscript: %s %q holds characters a shell would interpret", k, v)
		}
		if k == "START_COMMAND" {
			v = `"` + v + `"`
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	return b.String(), nil
}

var token = regexp.MustCompile(`\$\{Token\[[A-Za-z0-9._-]+\]\}`)

func stripTokens(s string) string { return token.ReplaceAllString(s, "") }

// UserData renders the instance's user data: it writes node.env, then deployment.toml, the agent
// configuration, the database's authorities and boot.sh (gzipped, in base64), then runs boot.sh. It refuses user data that
// would exceed EC2's limit once its deploy-time values are filled in.
func (c Config) UserData() (string, error) {
	env, err := c.Env()
	if err != nil {
		return "", err
	}
	if (len(c.DeploymentToml) == 0) == (len(c.ZoneConfigs) == 0) {
		return "", fmt.Errorf("bootscript: give either DeploymentToml or ZoneConfigs")
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\nset -euo pipefail\ninstall -d -m 0755 /etc/apimkit\n")
	b.WriteString("cat > /etc/apimkit/node.env <<'APIMKIT_ENV'\n" + env + "APIMKIT_ENV\n")
	// The files travel gzipped: EC2 takes at most 16 KiB of user data, and a control plane's
	// deployment.toml and boot.sh in plain base64 come close to it. None may hold a deploy-time
	// token, which compression would hide from CloudFormation.
	type file struct {
		path string
		body []byte
		mode string
	}
	var files []file
	if len(c.DeploymentToml) > 0 {
		files = append(files, file{"/etc/apimkit/deployment.toml", c.DeploymentToml, "0644"})
	}
	// The zones' files differ in a few lines: they travel as one gzip stream, which compresses
	// what they share once, and awk splits it into deployment-<i>.toml.
	var zones bytes.Buffer
	for i, z := range c.ZoneConfigs {
		if len(z.DeploymentToml) == 0 {
			return "", fmt.Errorf("bootscript: ZoneConfigs[%d] (%s) has no DeploymentToml", i, z.Zone)
		}
		fmt.Fprintf(&zones, "%s%d\n", zoneMarker, i)
		zones.Write(z.DeploymentToml)
		if !bytes.HasSuffix(z.DeploymentToml, []byte("\n")) {
			zones.WriteString("\n")
		}
	}
	if zones.Len() > 0 {
		if token.Match(zones.Bytes()) {
			return "", fmt.Errorf("bootscript: the zones' deployment.toml hold a deploy-time token; pass such values through node.env")
		}
		fmt.Fprintf(&b, "base64 -d <<'APIMKIT_B64' | gunzip | %s\n%s\nAPIMKIT_B64\nchmod 0644 /etc/apimkit/deployment-*.toml\n",
			zoneSplit, Base64Lines(gzipped(zones.Bytes())))
	}
	if len(c.CloudWatchAgentConfig) > 0 {
		files = append(files, file{"/etc/apimkit/cloudwatch-agent.json", c.CloudWatchAgentConfig, "0644"})
	}
	if len(c.DatabaseRoots) > 0 {
		files = append(files, file{"/etc/apimkit/database-ca.pem", c.DatabaseRoots, "0644"})
	}
	for _, ext := range []struct {
		name string
		cmds []string
	}{{"before-setup", c.BeforeSetup}, {"after-setup", c.AfterSetup}} {
		if len(ext.cmds) > 0 {
			files = append(files, file{"/etc/apimkit/" + ext.name + ".sh", []byte(strings.Join(ext.cmds, "\n") + "\n"), "0700"})
		}
	}
	files = append(files, file{"/usr/local/sbin/apimkit-boot", []byte(Script), "0755"})
	for _, f := range files {
		if token.Match(f.body) {
			return "", fmt.Errorf("bootscript: %s holds a deploy-time token; pass such values through node.env", f.path)
		}
		fmt.Fprintf(&b, "base64 -d <<'APIMKIT_B64' | gunzip > %s\n%s\nAPIMKIT_B64\nchmod %s %s\n", f.path, Base64Lines(gzipped(f.body)), f.mode, f.path)
	}
	b.WriteString("exec /usr/local/sbin/apimkit-boot\n")
	ud := b.String()
	if n := EstimatedSize(ud); n > MaxUserData {
		return "", fmt.Errorf("bootscript: the user data would take about %d bytes once CloudFormation fills in its values, over EC2's limit of %d", n, MaxUserData)
	}
	return ud, nil
}

// zoneMarker starts each zone's file in the zones' stream, followed by the zone's index; zoneSplit
// is the awk program that writes each to /etc/apimkit/deployment-<index>.toml.
const (
	zoneMarker = "#@apimkit-zone "
	zoneSplit  = `awk '/^#@apimkit-zone [0-9]+$/ { f = "/etc/apimkit/deployment-" $2 ".toml"; next } { print > f }'`
)

func gzipped(body []byte) []byte {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // a valid level: no error
	w.Write(body)                                         // writes to memory do not fail
	w.Close()
	return z.Bytes()
}

// MaxUserData is EC2's limit on an instance's user data, before base64 encoding.
const MaxUserData = 16 * 1024

// tokenAllowance is what each deploy-time value is counted as: longer than the secret ARNs,
// bucket names and regions the user data carries.
const tokenAllowance = 128

// EstimatedSize is the size of userData once its deploy-time tokens are filled in, counting each
// as tokenAllowance bytes.
func EstimatedSize(userData string) int {
	tokens := token.FindAllString(userData, -1)
	n := len(userData)
	for _, t := range tokens {
		n += tokenAllowance - len(t)
	}
	return n
}

// File returns the content userData writes to path, for tests and tools that read back what a
// node receives.
func File(userData, path string) ([]byte, error) {
	if zone := regexp.MustCompile(`^/etc/apimkit/deployment-(\d+)\.toml$`).FindStringSubmatch(path); zone != nil {
		return zoneFile(userData, zone[1])
	}
	m := regexp.MustCompile(`(?s)base64 -d <<'APIMKIT_B64' \| gunzip > ` + regexp.QuoteMeta(path) + `\n(.*?)\nAPIMKIT_B64`).FindStringSubmatch(userData)
	if m == nil {
		return nil, fmt.Errorf("bootscript: the user data writes no %s", path)
	}
	return unpack(path, m[1])
}

// zoneFile reads one zone's deployment.toml back from the zones' stream, split as awk does.
func zoneFile(userData, index string) ([]byte, error) {
	m := regexp.MustCompile(`(?s)base64 -d <<'APIMKIT_B64' \| gunzip \| awk '[^\n]*'\n(.*?)\nAPIMKIT_B64`).FindStringSubmatch(userData)
	if m == nil {
		return nil, fmt.Errorf("bootscript: the user data writes no zone's deployment.toml")
	}
	all, err := unpack("the zones' deployment.toml", m[1])
	if err != nil {
		return nil, err
	}
	var out []byte
	in := false
	for _, line := range strings.SplitAfter(string(all), "\n") {
		if rest, ok := strings.CutPrefix(line, zoneMarker); ok {
			in = strings.TrimSuffix(rest, "\n") == index
			continue
		}
		if in {
			out = append(out, line...)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("bootscript: the user data writes no deployment-%s.toml", index)
	}
	return out, nil
}

func unpack(path, b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b64, "\n", ""))
	if err != nil {
		return nil, fmt.Errorf("bootscript: %s: %w", path, err)
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("bootscript: %s: %w", path, err)
	}
	return io.ReadAll(r)
}

// Base64Lines encodes body in base64 lines of 76 characters, for a heredoc.
func Base64Lines(body []byte) string {
	s := base64.StdEncoding.EncodeToString(body)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
