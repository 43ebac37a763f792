package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cloudformationinclude"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// compliantFixtures are the apps every gate runs over.
func compliantFixtures(t *testing.T) map[string]*testkit.Assembly {
	return map[string]*testkit.Assembly{
		"reference":           reference(t),
		"reference-admin-ssh": referenceWithAdminSSH(t),
		"reference-3.2":       reference32(t),
		"reference-3az":       reference3az(t),
		"reference-replica":   referenceWithReplica(t),
	}
}

// nagFindings returns the unsuppressed cdk-nag errors and warnings of an assembly.
func nagFindings(asm *testkit.Assembly) []string {
	var out []string
	for _, s := range asm.Stacks {
		for _, m := range s.Messages {
			if (m.Level == "error" || m.Level == "warning") && strings.Contains(m.Text, "AwsSolutions-") {
				out = append(out, fmt.Sprintf("%s %s: %s", m.Level, m.Path, m.Text))
			}
		}
	}
	return out
}

// cdk-nag's AwsSolutions pack over the whole reference app: no unsuppressed error or warning.
// Every suppression in the code carries its reason.
func TestNagAwsSolutions(t *testing.T) {
	for name, asm := range compliantFixtures(t) {
		assert.Empty(t, nagFindings(asm), "%s: unsuppressed cdk-nag findings", name)
	}
}

// The nag gate is not vacuous: an unsuppressed finding in an app that applies the pack the way
// the reference app does is reported. (A nag error fails the synth itself, with the findings in
// the fixture's error; a warning, such as a network ACL without a reason, only annotates.)
func TestNagGateReportsFindings(t *testing.T) {
	asm := testkit.Fixture(t, "nag-negative", func() awscdk.App {
		app := testkit.NewApp(nil)
		stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
		vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0)})
		vpc.AddFlowLog(jsii.String("FlowLog"), nil)
		awsec2.NewNetworkAcl(stack, jsii.String("Acl"), &awsec2.NetworkAclProps{Vpc: vpc})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		return app
	})
	findings := strings.Join(nagFindings(asm), "\n")
	assert.Contains(t, findings, "AwsSolutions-VPC3", "a network ACL without a suppression must be reported")
}

// guardException is a Control Tower rule that a resource is allowed to fail, and why. The table
// of docs/compliance.md lists the same exceptions.
type guardException struct {
	control  string // e.g. CT.LAMBDA.PR.3
	resource string // logical-id prefix
	reason   string
}

var guardExceptions = []guardException{
	{
		control:  "CT.LAMBDA.PR.3",
		resource: "CustomVpcRestrictDefaultSGCustomResourceProviderHandler",
		reason: "aws-cdk-lib's provider that strips the rules of the VPC's default security group calls only the " +
			"EC2 API at deploy time; it is not ours to place in the VPC, and leaving the default group open is worse.",
	},
	{
		control:  "CT.LAMBDA.PR.3",
		resource: "DatabaseSchemaFunctionDF4F1591",
		reason: "the schema function is in the VPC's application subnets, but they reach the data stack as " +
			"cross-stack references (Fn::GetStackOutput), which the rule does not resolve; the construct " +
			"tests assert the function's VpcConfig.",
	},
	{
		control:  "CT.LAMBDA.PR.3",
		resource: "KeystoreFunction",
		reason:   "as for the schema function: the keystore function is in the application subnets, which reach the data stack as cross-stack references.",
	},
	{
		control:  "CT.LAMBDA.PR.3",
		resource: "PackPromoterFunction",
		reason:   "as for the schema function: the pack promoter is in the application subnets, which reach the data stack as cross-stack references.",
	},
	{
		control:  "CT.RDS.PR.20",
		resource: "DatabaseF44359DD",
		reason: "MySQL keeps its standard port 3306, the one WSO2's JDBC URLs and the data tier's network ACL " +
			"name; a different port hides nothing from a client the security group already admits.",
	},
	{
		control:  "CT.S3.PR.10",
		resource: "LoadBalancerAccessLogs",
		reason:   "load balancers deliver access logs only to buckets encrypted with SSE-S3, not SSE-KMS.",
	},
	{
		control:  "CT.S3.PR.10",
		resource: "PacksAccessLogs",
		reason:   "S3 server access logs are delivered only to buckets encrypted with SSE-S3, not SSE-KMS.",
	},
	{
		control:  "CT.S3.PR.2",
		resource: "LoadBalancerAccessLogs",
		reason:   "the bucket is itself an access-log destination; logging it elsewhere only moves the question.",
	},
	{
		control:  "CT.S3.PR.2",
		resource: "PacksAccessLogs",
		reason:   "the bucket is itself the pack bucket's access-log destination.",
	},
	{
		control:  "CT.S3.PR.9",
		resource: "LoadBalancerAccessLogs",
		reason: "Object Lock default retention is not supported by log delivery to a bucket, and versioning with " +
			"retention on stack deletion already keeps the logs.",
	},
	{
		control:  "CT.S3.PR.9",
		resource: "PacksAccessLogs",
		reason:   "S3 server access logging refuses a target bucket with Object Lock default retention.",
	},
	{
		control:  "CT.S3.PR.9",
		resource: "Packs5BD08365",
		reason: "a pack that turns out bad must be removable; versioning keeps every earlier pack for 90 days " +
			"and the bucket is retained when the stack is deleted.",
	},
	{
		control:  "CT.AUTOSCALING.PR.1",
		resource: "TrafficManagersTm",
		reason: "each traffic manager is its own 1..1 group pinned to one zone (property T2 of the architecture); " +
			"the pair spans two zones.",
	},
	{
		control:  "CT.LAMBDA.PR.3",
		resource: "TrafficManagersUpdater",
		reason:   "as for the schema function: it is in the application subnets, which reach its stack as cross-stack references.",
	},
	{
		control:  "CT.SQS.PR.1",
		resource: "TrafficManagersDeadLetters",
		reason:   "the queue is itself the dead-letter destination of the DNS updater; a queue behind it would only move the question.",
	},
	{
		control:  "CT.ELASTICLOADBALANCING.PR.14",
		resource: "HubEndpoint",
		reason: "the 4.x control plane's internal endpoint names each zone's node (cp1, cp2) through the load " +
			"balancer's zonal DNS names, so the event hubs can duplicate events to each other; cross-zone load " +
			"balancing would send a zonal name to the other zone's node. The group's one name (cp) still fails " +
			"over, since DNS stops naming a zone without healthy targets.",
	},
	{
		control:  "CT.EC2.PR.5",
		resource: "NetworkPublicAclIngress120",
		reason: "the public tier's reply rule admits 1024-65535 from the internet because NAT gateways pick source " +
			"ports from that whole range, 3389 included; skipping 3389 would drop the replies of some connections " +
			"(the reachability test shows it). Nothing in the public tier listens on 3389.",
	},
	{
		control:  "CT.EC2.PR.5",
		resource: "NetworkApplicationAclIngress130",
		reason: "the application tier's reply rule admits 1024-65535 from the internet because its Lambda functions pick " +
			"source ports from that whole range, 3389 included (the reachability test shows the replies dropped " +
			"otherwise). The tier has no route from the internet, and no security group admits 3389.",
	},
}

// guardFinding is one resource that failed one Control Tower rule.
type guardFinding struct {
	control, rule, file, resource string
}

func (f guardFinding) String() string {
	return fmt.Sprintf("%s (%s) %s in %s", f.control, f.rule, f.resource, filepath.Base(f.file))
}

func guardBinary(t *testing.T) (bin, rules string) {
	t.Helper()
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	pkg := filepath.Join(testkit.RepoRoot(), "node_modules", "@cdklabs", "cdk-validator-cfnguard")
	bin = filepath.Join(pkg, "bin", "ubuntu", arch, "cfn-guard")
	if runtime.GOOS == "darwin" {
		bin = filepath.Join(pkg, "bin", "macos", arch, "cfn-guard")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("cfn-guard is not installed (%v): run `make deps` (npm ci) first", err)
	}
	return bin, filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
}

var (
	ctControl    = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.\d+)\]`)
	resourcePath = regexp.MustCompile(`"/Resources/([A-Za-z0-9]+)`)
)

// runGuard validates the files against every Control Tower rule and returns what failed.
func runGuard(t *testing.T, files []string) []guardFinding {
	t.Helper()
	bin, rules := guardBinary(t)
	args := []string{"validate", "--rules", rules, "--output-format", "json", "--show-summary", "none", "--structured"}
	// About a minute of CPU per app on two cores (its allocator maps and unmaps memory for each
	// rule file and template): remembered for byte-identical templates, rules and binary.
	out, exit := runChecker(t, "cfn-guard "+treeHash(t, bin, rules), bin, args, "--data", files)
	if exit != 0 && exit != 19 { // 19: some rule failed
		t.Fatalf("cfn-guard failed (exit %d):\n%s", exit, out)
	}
	var reports []struct {
		Name         string            `json:"name"`
		NotCompliant []json.RawMessage `json:"not_compliant"`
	}
	require.NoError(t, json.Unmarshal(out, &reports), "cfn-guard output")
	require.Len(t, reports, len(files), "one report per template")
	var findings []guardFinding
	for _, r := range reports {
		for _, raw := range r.NotCompliant {
			var nc struct {
				Rule struct {
					Name string `json:"name"`
				} `json:"Rule"`
			}
			require.NoError(t, json.Unmarshal(raw, &nc))
			control := "unknown control"
			if m := ctControl.FindSubmatch(raw); m != nil {
				control = string(m[1])
			}
			seen := map[string]bool{}
			for _, m := range resourcePath.FindAllSubmatch(raw, -1) {
				if id := string(m[1]); !seen[id] {
					seen[id] = true
					findings = append(findings, guardFinding{control, nc.Rule.Name, r.Name, id})
				}
			}
			if len(seen) == 0 {
				findings = append(findings, guardFinding{control, nc.Rule.Name, r.Name, "(template)"})
			}
		}
	}
	sort.Slice(findings, func(i, j int) bool { return findings[i].String() < findings[j].String() })
	return findings
}

func templateFiles(asm *testkit.Assembly) []string {
	var files []string
	for _, s := range asm.Stacks {
		files = append(files, s.File)
	}
	return files
}

// cfn-guard with the AWS Control Tower proactive-control rules over every synthesized template:
// nothing fails except the listed exceptions, and every exception is still needed.
func TestGuardControlTower(t *testing.T) {
	used := map[int]bool{}
	for name, asm := range compliantFixtures(t) {
		for _, f := range runGuard(t, templateFiles(asm)) {
			excused := false
			for i, e := range guardExceptions {
				if f.control == e.control && strings.HasPrefix(f.resource, e.resource) {
					excused, used[i] = true, true
				}
			}
			assert.True(t, excused, "%s: %s", name, f)
		}
	}
	for i, e := range guardExceptions {
		assert.True(t, used[i], "guard exception %s for %s no longer matches anything: remove it here and in docs/compliance.md", e.control, e.resource)
	}
}

// The guard gate is not vacuous: a network ACL that opens SSH to the internet fails CT.EC2.PR.5.
func TestGuardGateReportsFindings(t *testing.T) {
	bad := `{"Resources": {"OpenSsh": {"Type": "AWS::EC2::NetworkAclEntry", "Properties": {
		"NetworkAclId": "acl-1", "RuleNumber": 100, "Protocol": 6, "RuleAction": "allow", "Egress": false,
		"CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}}}}}`
	file := filepath.Join(t.TempDir(), "bad.template.json")
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o644))
	findings := runGuard(t, []string{file})
	require.NotEmpty(t, findings)
	assert.Equal(t, "CT.EC2.PR.5", findings[0].control)
	assert.Equal(t, "OpenSsh", findings[0].resource)
}

// cfn-lint over every synthesized template, when it is installed: no errors. Warnings are logged.
// Without cfn-lint the test is reported as skipped, not passed.
func TestCfnLint(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Skip("cfn-lint is not installed; it is optional (pip install cfn-lint)")
	}
	for name, asm := range compliantFixtures(t) {
		lintClean(t, name, templateFiles(asm))
	}
}

// lintClean runs cfn-lint over files, when it is installed, failing on its errors and logging its
// warnings. Without it, it logs so and returns: the callers that check more than cfn-lint go on.
func lintClean(t *testing.T, name string, files []string) {
	t.Helper()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Log("cfn-lint is not installed; it is optional (pip install cfn-lint)")
		return
	}
	out, _ := runChecker(t, "cfn-lint "+cfnLintVersion(t, lint), lint, []string{"--format", "json", "--"}, "", files)
	var matches []struct {
		Level    string `json:"Level"`
		Message  string `json:"Message"`
		Filename string `json:"Filename"`
		Rule     struct {
			ID string `json:"Id"`
		} `json:"Rule"`
	}
	require.NoError(t, json.Unmarshal(out, &matches), "cfn-lint output: %s", out)
	for _, m := range matches {
		line := fmt.Sprintf("%s %s %s: %s", name, m.Rule.ID, filepath.Base(m.Filename), m.Message)
		if m.Level == "Error" {
			t.Errorf("cfn-lint error: %s", line)
		} else {
			t.Logf("cfn-lint %s: %s", strings.ToLower(m.Level), line)
		}
	}
}

// templateNagFindings applies cdk-nag's AwsSolutions pack to the templates as they were
// written: each is read into a fresh app with cloudformation_include, one stack per template,
// and the unsuppressed errors and warnings are returned. The in-app gate sees the construct tree
// when its aspect runs; a resource aws-cdk-lib adds after that (the provider behind a VPC's
// restricted default security group is one) is only in the template. Suppressions are read
// where cdk-nag writes them, the resources' cdk_nag metadata, so one recorded there counts.
func templateNagFindings(t *testing.T, templates map[string]string) []string {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("cdk-nag over %d templates: %s", len(templates), time.Since(start).Round(time.Second)) }()
	app := testkit.NewAppWithoutFlags(nil)
	dir := t.TempDir()
	for id, file := range templates {
		stack := awscdk.NewStack(app, jsii.String(id), nil)
		cloudformationinclude.NewCfnInclude(stack, jsii.String("Template"), &cloudformationinclude.CfnIncludeProps{
			TemplateFile: jsii.String(includable(t, file, filepath.Join(dir, id+".template.json"))),
		})
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	return nagFindings(asm)
}

// cdk-nag over the synthesized templates themselves, so that nothing deployed escapes it: no
// unsuppressed error or warning.
func TestNagSynthesizedTemplates(t *testing.T) {
	templates := map[string]string{}
	for name, asm := range compliantFixtures(t) {
		for _, s := range asm.Stacks {
			templates[strings.ReplaceAll(name, ".", "")+"-"+s.ID] = s.File
		}
	}
	assert.Empty(t, templateNagFindings(t, templates), "unsuppressed cdk-nag findings in the synthesized templates")
}

// The template gate is not vacuous, and it honours suppressions recorded in the template: of two
// unencrypted queues without a dead-letter queue, the one whose metadata suppresses the findings
// passes, the other is reported.
func TestNagTemplateGateReportsFindings(t *testing.T) {
	queue := func(metadata string) string {
		return `{"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": false}` + metadata + `}`
	}
	suppressed := `, "Metadata": {"cdk_nag": {"rules_to_suppress": [
		{"id": "AwsSolutions-SQS2", "reason": "suppressed in the template"},
		{"id": "AwsSolutions-SQS3", "reason": "suppressed in the template"},
		{"id": "AwsSolutions-SQS4", "reason": "suppressed in the template"}]}}`
	tmpl := `{"Resources": {"Bare": ` + queue("") + `, "Excused": ` + queue(suppressed) + `}}`
	file := filepath.Join(t.TempDir(), "queues.template.json")
	require.NoError(t, os.WriteFile(file, []byte(tmpl), 0o644))
	findings := strings.Join(templateNagFindings(t, map[string]string{"Queues": file}), "\n")
	assert.Contains(t, findings, "/Queues/Template/Bare")
	assert.Contains(t, findings, "AwsSolutions-SQS3")
	assert.NotContains(t, findings, "/Queues/Template/Excused")
}

// includable writes to out the template in file with each weak cross-stack reference
// (Fn::GetStackOutput, which cloudformation_include does not read) replaced by a string naming
// the output (to cdk-nag's rules, a value from another stack is opaque either way), and without
// the bootstrap-version parameter and rule, which the including stack brings.
func includable(t *testing.T, file, out string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal(raw, &tmpl))
	testkit.Normalize(tmpl)
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["Fn::GetStackOutput"].(map[string]any); ok && len(x) == 1 {
				return fmt.Sprintf("output %v of %v", ref["OutputName"], ref["StackName"])
			}
			for k, e := range x {
				x[k] = rewrite(e)
			}
		case []any:
			for i, e := range x {
				x[i] = rewrite(e)
			}
		}
		return v
	}
	raw, err = json.Marshal(rewrite(tmpl))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, raw, 0o644))
	return out
}

var (
	lintVersionOnce sync.Once
	lintVersion     string
)

// cfnLintVersion identifies the installed cfn-lint (its version names its rules and schemas).
func cfnLintVersion(t *testing.T, lint string) string {
	t.Helper()
	lintVersionOnce.Do(func() {
		out, err := exec.Command(lint, "--version").Output()
		if err == nil {
			lintVersion = strings.TrimSpace(string(out))
		}
	})
	require.NotEmpty(t, lintVersion, "cfn-lint --version")
	return lintVersion
}
