package test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/internal/lambdabuild"
	"github.com/apimkit/apimkit/internal/lambdazip"
	"github.com/apimkit/apimkit/test/testkit"
)

// consumerMain is a platform team's CDK app in its own module, with no cdk.json and so none of
// the feature flags this repository's cdk.json sets: a WSO2 API Manager 4.5 deployment across
// three zones of the team's own VPC, and the article's 3.2 layout on a network of its own in
// network, data and application stacks, each one ApimDeployment call, under cdk-nag's
// AwsSolutions checks.
const consumerMain = `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/wso2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	stack := func(id, region string) awscdk.Stack {
		return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String(region)},
		})
	}
	certificate := func(s awscdk.Stack, region string) awscertificatemanager.ICertificate {
		return awscertificatemanager.Certificate_FromCertificateArn(s, jsii.String("Certificate"),
			jsii.String("arn:aws:acm:"+region+":111111111111:certificate/11111111-2222-3333-4444-555555555555"))
	}

	team := stack("Team45", "us-east-1")
	vpc := awsec2.Vpc_FromVpcAttributes(team, jsii.String("TeamVpc"), &awsec2.VpcAttributes{
		VpcId:                       jsii.String("vpc-0aaaaaaaaaaaaaaa1"),
		AvailabilityZones:           jsii.Strings("us-east-1a", "us-east-1b", "us-east-1c"),
		PublicSubnetIds:             jsii.Strings("subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02", "subnet-0aaaaaaaaaaaaaa03"),
		PublicSubnetRouteTableIds:   jsii.Strings("rtb-0aaaaaaaaaaaaaa01", "rtb-0aaaaaaaaaaaaaa01", "rtb-0aaaaaaaaaaaaaa01"),
		PrivateSubnetIds:            jsii.Strings("subnet-0aaaaaaaaaaaaaa11", "subnet-0aaaaaaaaaaaaaa12", "subnet-0aaaaaaaaaaaaaa13"),
		PrivateSubnetRouteTableIds:  jsii.Strings("rtb-0aaaaaaaaaaaaaa11", "rtb-0aaaaaaaaaaaaaa12", "rtb-0aaaaaaaaaaaaaa13"),
		IsolatedSubnetIds:           jsii.Strings("subnet-0aaaaaaaaaaaaaa21", "subnet-0aaaaaaaaaaaaaa22", "subnet-0aaaaaaaaaaaaaa23"),
		IsolatedSubnetRouteTableIds: jsii.Strings("rtb-0aaaaaaaaaaaaaa21", "rtb-0aaaaaaaaaaaaaa21", "rtb-0aaaaaaaaaaaaaa21"),
	})
	network := wso2.NewApimNetwork(team, "Network", &wso2.ApimNetworkProps{
		ExistingVpc: vpc,
		ExistingSubnets: &wso2.ExistingTierSubnets{
			Public:      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
			Application: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			Management:  &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			Data:        &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		},
	})
	wso2.NewApimDeployment(team, "Apim", &wso2.ApimDeploymentProps{
		Release: jsii.String("4.5.0"), ExistingNetwork: network,
		PortalHostname: jsii.String("portal.team.example"), GatewayHostname: jsii.String("api.team.example"),
		Certificate: certificate(team, "us-east-1"),
	})

	// The article's layout in three stacks, as the reference app places it: what the nodes take
	// from the network and the data tier crosses stacks.
	article := stack("Article32", "us-west-1")
	wso2.NewApimDeployment(article, "Apim", &wso2.ApimDeploymentProps{
		Release:        jsii.String("3.2.0"),
		PortalHostname: jsii.String("portal.team.example"), GatewayHostname: jsii.String("api.team.example"),
		Certificate:  certificate(article, "us-west-1"),
		NetworkScope: stack("Article32Network", "us-west-1"), DataScope: stack("Article32Data", "us-west-1"),
	})
	app.Synth(nil)
}
`

// The library works when another module imports it: a consumer module requires it through a
// read-only copy (as the module cache holds it), builds with -trimpath from its own directory, and
// synthesizes a deployment with every construct. The synth compiles nothing: the go command on
// its PATH is a stub that records any call and fails, and the four functions' assets are the
// zips the module ships. Nothing depends on the current directory being this repository.
func TestImportedByAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	root := testkit.RepoRoot()
	work := t.TempDir()
	lib := filepath.Join(work, "apimkit")
	for _, p := range []string{"go.mod", "go.sum", "constructs", "internal", "lambda"} {
		copyTree(t, filepath.Join(root, p), filepath.Join(lib, p))
	}
	makeReadOnly(t, lib)

	app := filepath.Join(work, "consumer")
	require.NoError(t, os.MkdirAll(app, 0o755))
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	consumerMod := strings.Replace(string(goMod), "module github.com/apimkit/apimkit", "module example.com/consumer", 1) +
		"\nrequire github.com/apimkit/apimkit v0.0.0\n\nreplace github.com/apimkit/apimkit => " + lib + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(app, "go.mod"), []byte(consumerMod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "main.go"), []byte(consumerMain), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(app, "go.sum"), sum, 0o644))

	build := exec.Command("go", "build", "-trimpath", "-mod=mod", "-o", filepath.Join(work, "app"), ".")
	build.Dir = app
	build.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	msg, err := build.CombinedOutput()
	require.NoError(t, err, "building the consumer's app:\n%s", msg)

	// The synth, as `cdk synth` runs the app, with a go command that only records its calls and
	// a cache directory of its own, so nothing this repository's tests left there is reused.
	stub := filepath.Join(work, "stub-bin")
	calls := filepath.Join(work, "go-calls")
	require.NoError(t, os.MkdirAll(stub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stub, "go"),
		[]byte("#!/bin/sh\necho \"go $*\" >> "+calls+"\nexit 1\n"), 0o755))
	out := filepath.Join(work, "cdk.out")
	cmd := exec.Command(filepath.Join(work, "app"))
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "PATH="+stub+string(os.PathListSeparator)+os.Getenv("PATH"),
		"XDG_CACHE_HOME="+filepath.Join(work, "cache"), "HOME="+filepath.Join(work, "home"))
	msg, err = cmd.CombinedOutput()
	require.NoError(t, err, "the consumer's synth failed:\n%s", msg)
	_, err = os.Stat(calls)
	assert.True(t, os.IsNotExist(err), "the synth ran the go command:\n%s", readFile(calls))

	templates := map[string]map[string]any{}
	var files []string
	stackFiles := map[string]string{}
	for _, id := range []string{"Team45", "Article32Network", "Article32Data", "Article32"} {
		file := filepath.Join(out, id+".template.json")
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var tmpl map[string]any
		require.NoError(t, json.Unmarshal(raw, &tmpl))
		templates[id], files, stackFiles[id] = tmpl, append(files, file), file
	}
	// Each deployment's resources, over the stacks it spans.
	deployments := map[string][]string{"Team45": {"Team45"}, "Article32": {"Article32Network", "Article32Data", "Article32"}}
	resources := func(name, typ string) map[string]map[string]any {
		all := map[string]map[string]any{}
		for _, id := range deployments[name] {
			for k, v := range testkit.Resources(templates[id], typ) {
				all[k] = v
			}
		}
		return all
	}
	groups := map[string]int{"Team45": 4, "Article32": 6} // the release's profiles and tm1, tm2
	for name := range deployments {
		assert.Len(t, resources(name, "AWS::AutoScaling::AutoScalingGroup"), groups[name], name)
		for _, typ := range []string{"AWS::RDS::DBInstance", "Custom::Wso2Schema", "AWS::Route53::HostedZone", "AWS::EC2::Instance",
			"Custom::TmDnsReconcile", "AWS::CloudWatch::Dashboard"} {
			assert.NotEmpty(t, resources(name, typ), "%s %s", name, typ)
		}
	}
	// Without the app's flags, what the flags would decide is still the secure choice: the stacks
	// refer to each other without exports (which would block later updates of the network and the
	// data tier), and the pack bucket's log bucket takes its logs through its policy, not an ACL.
	for id, tmpl := range templates {
		raw, _ := json.Marshal(tmpl)
		assert.NotContains(t, string(raw), `"Export"`, "%s: a cross-stack reference became an export", id)
		assert.NotContains(t, string(raw), `"Fn::ImportValue"`, id)
		for logical, b := range testkit.Resources(tmpl, "AWS::S3::Bucket") {
			assert.NotContains(t, testkit.Props(b), "AccessControl", "%s %s", id, logical)
			assert.Contains(t, fmt.Sprint(testkit.Props(b)["OwnershipControls"]), "BucketOwnerEnforced", "%s %s", id, logical)
		}
	}
	assert.Contains(t, fmt.Sprint(templates["Article32"]), "Fn::GetStackOutput", "the application stack reads the others' outputs")
	assert.Empty(t, testkit.Resources(templates["Team45"], "AWS::EC2::VPC"), "the team's own VPC is used as it is")
	zones := map[string]bool{}
	for _, g := range testkit.Resources(templates["Team45"], "AWS::AutoScaling::AutoScalingGroup") {
		for _, z := range testkit.Props(g)["AvailabilityZones"].([]any) {
			zones[fmt.Sprint(z)] = true
		}
	}
	assert.Len(t, zones, 3, "the 4.5 deployment spans the team's three zones")
	var names []string
	for _, r := range testkit.Resources(templates["Team45"], "AWS::Route53::RecordSet") {
		names = append(names, fmt.Sprint(testkit.Props(r)["Name"]))
	}
	assert.Subset(t, names, []string{"cp.apim.internal.", "cp1.apim.internal.", "cp2.apim.internal.", "cp3.apim.internal."},
		"the hub's name and one per zone")

	// The gates the reference app passes, over the consumer's templates: cdk-nag (its findings are
	// annotations in the manifest), cfn-guard with the Control Tower rules, cfn-lint.
	assert.Empty(t, manifestNagFindings(t, out), "unsuppressed cdk-nag findings in the consumer's app")
	assert.Empty(t, templateNagFindings(t, stackFiles), "unsuppressed cdk-nag findings in the consumer's templates")
	for _, f := range runGuard(t, files) {
		assert.True(t, excusedAnywhere(f), "cfn-guard: %s", f)
	}
	lintClean(t, "consumer", files)
	zips, err := filepath.Glob(filepath.Join(out, "asset.*.zip"))
	require.NoError(t, err)
	require.Len(t, zips, 4, "the schema function, the DNS updater, the keystore function and the pack promoter")
	shipped := map[string]bool{}
	for _, n := range lambdazip.Names() {
		b, err := lambdazip.Zip(n)
		require.NoError(t, err)
		shipped[lambdabuild.Sum(b)] = true
	}
	for _, z := range zips {
		b, err := os.ReadFile(z)
		require.NoError(t, err)
		assert.True(t, shipped[lambdabuild.Sum(b)], "%s is one of the zips the module ships", filepath.Base(z))
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// manifestNagFindings reads the cdk-nag errors and warnings a synthesized app recorded in its
// manifest.
func manifestNagFindings(t *testing.T, dir string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	var manifest struct {
		Artifacts map[string]struct {
			Metadata map[string][]struct {
				Type string `json:"type"`
				Data any    `json:"data"`
			} `json:"metadata"`
		} `json:"artifacts"`
	}
	require.NoError(t, json.Unmarshal(raw, &manifest))
	var out []string
	for _, a := range manifest.Artifacts {
		for path, entries := range a.Metadata {
			for _, e := range entries {
				text := fmt.Sprint(e.Data)
				if (e.Type == "aws:cdk:error" || e.Type == "aws:cdk:warning") && strings.Contains(text, "AwsSolutions-") {
					out = append(out, path+": "+text)
				}
			}
		}
	}
	return out
}

// excusedAnywhere reports whether a guard finding is one of the reference app's exceptions, for a
// resource whose logical id carries another prefix (the consumer's deployment is "Apim").
func excusedAnywhere(f guardFinding) bool {
	hash := regexp.MustCompile(`[0-9A-F]{8}$`)
	for _, e := range guardExceptions {
		if f.control == e.control && strings.Contains(f.resource, hash.ReplaceAllString(e.resource, "")) {
			return true
		}
	}
	return false
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}))
}

// makeReadOnly strips the write bits, as the module cache does (root, as in CI, writes anyway, so
// there the copy only proves the layout); t.TempDir's cleanup needs the bits back at the end.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	chmod := func(mode func(fs.FileMode) fs.FileMode) {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				if info, err := d.Info(); err == nil {
					os.Chmod(p, mode(info.Mode()))
				}
			}
			return nil
		})
	}
	chmod(func(m fs.FileMode) fs.FileMode { return m &^ 0o222 })
	t.Cleanup(func() { chmod(func(m fs.FileMode) fs.FileMode { return m | 0o200 }) })
}
