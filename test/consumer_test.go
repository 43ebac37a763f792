package test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// consumerMain is a platform team's CDK app in its own module, with every construct of the
// library: network, database, traffic-manager pair, control plane and gateways (with a keystore
// secret named), the hub's internal endpoint, load balancer (with a WebSocket route), bastion,
// updater and operations; both Lambdas are bundled from the library's sources.
const consumerMain = `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Consumer"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("eu-west-1")},
	})
	network := wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
	})
	db := wso2.NewApimDatabase(stack, "Database", &wso2.ApimDatabaseProps{Network: network})
	packs := wso2.NewPackBucket(stack, "Packs")
	admin := wso2.NewAdminSecret(stack, "Admin", db.EncryptionKey())
	cp := []profiles.Node{{Host: "cp.team.internal"}}
	tms := wso2.NewTrafficManagerPair(stack, "Tms", &wso2.TrafficManagerPairProps{
		Network: network, Database: db, AdminSecret: admin, PackBucket: packs, ControlPlane: cp,
		ZoneName: jsii.String("team.internal"),
	})
	gw := wso2.NewProfileAsg(stack, "Gateway", &wso2.ProfileAsgProps{
		Network: network, Profile: profiles.Gateway, Database: db, AdminSecret: admin, PackBucket: packs,
		KeystoreSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Keystore"), jsii.String("team-keystore")),
		Wiring: &wso2.NodeWiring{
			PortalHostname: jsii.String("portal.team.example"), GatewayHostname: jsii.String("api.team.example"),
			ControlPlane: cp, TrafficManagers: tms.Nodes(),
		},
	})
	controlPlane := wso2.NewProfileAsg(stack, "ControlPlane", &wso2.ProfileAsgProps{
		Network: network, Profile: profiles.ControlPlane, Database: db, AdminSecret: admin, PackBucket: packs,
		Wiring: &wso2.NodeWiring{
			PortalHostname: jsii.String("portal.team.example"), GatewayHostname: jsii.String("api.team.example"),
			ControlPlane: cp, TrafficManagers: tms.Nodes(),
		},
	})
	tms.GrantAccessFrom(gw, controlPlane)
	hub := wso2.NewApimInternalEndpoint(stack, "Hub", &wso2.ApimInternalEndpointProps{
		Network: network, Target: controlPlane, Zone: tms.Zone(), RecordName: jsii.String("cp"),
	})
	hub.AllowFrom(gw)
	lb := wso2.NewApimLoadBalancer(stack, "Lb", &wso2.ApimLoadBalancerProps{
		Network: network, CertificateArn: jsii.String("arn:aws:acm:eu-west-1:111111111111:certificate/abc-123"),
		Routes:      []wso2.LoadBalancedProfile{{Profile: gw, Hostname: jsii.String("api.team.example"), WebSocket: jsii.Bool(true)}},
		IdleTimeout: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	wso2.NewBastion(stack, "Bastion", &wso2.BastionProps{Network: network})
	updater := wso2.NewWumUpdater(stack, "Updater", &wso2.WumUpdaterProps{
		Network: network, PackBucket: packs, CredentialsSecret: wso2.NewUpdateCredentials(stack, "Creds", db.EncryptionKey()),
		RefreshTargets: []constructs.IConstruct{gw, controlPlane},
	})
	wso2.NewApimOperations(stack, "Operations", &wso2.ApimOperationsProps{
		AlarmTopic: wso2.NewAlarmTopic(stack, "Alarms", nil), LoadBalancer: lb,
		Groups: []*wso2.ProfileAsg{gw, controlPlane}, TrafficManagers: tms, Database: db, Updater: updater,
	})
	app.Synth(nil)
}
`

// The library works when another module imports it: a consumer module requires it through a
// read-only copy (as the module cache holds it), builds with -trimpath from its own directory, and
// synthesizes a deployment with every construct, both Lambdas compiled from the library's sources. Nothing depends on the current
// directory being this repository.
func TestImportedByAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	root := testkit.RepoRoot()
	work := t.TempDir()
	lib := filepath.Join(work, "apimkit")
	for _, p := range []string{"go.mod", "go.sum", "constructs", "lambda"} {
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

	out := filepath.Join(work, "cdk.out")
	cmd := exec.Command("go", "run", "-trimpath", "-mod=mod", ".")
	cmd.Dir = app
	// A cache directory of its own, so no Lambda binary cached by this repository's tests is
	// reused; the Go build cache stays shared (it is content-addressed), or moving the cache
	// directory would compile aws-cdk-go from scratch, a minute on two cores.
	goCache, err := exec.Command("go", "env", "GOCACHE").Output()
	require.NoError(t, err)
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "GOFLAGS=", "GOWORK=off",
		"XDG_CACHE_HOME="+filepath.Join(work, "cache"), "GOCACHE="+strings.TrimSpace(string(goCache)))
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "the consumer's synth failed:\n%s", msg)

	raw, err := os.ReadFile(filepath.Join(out, "Consumer.template.json"))
	require.NoError(t, err)
	var tmpl map[string]any
	require.NoError(t, json.Unmarshal(raw, &tmpl))
	for _, typ := range []string{"AWS::RDS::DBInstance", "Custom::Wso2Schema", "AWS::AutoScaling::AutoScalingGroup",
		"AWS::Route53::HostedZone", "AWS::EC2::Instance", "Custom::TmDnsReconcile", "AWS::CloudWatch::Dashboard"} {
		assert.NotEmpty(t, testkit.Resources(tmpl, typ), typ)
	}
	schemes := map[string]bool{}
	for _, lb := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer") {
		p := testkit.Props(lb)
		schemes[fmt.Sprint(p["Type"], " ", p["Scheme"])] = true
	}
	assert.Equal(t, map[string]bool{"application internet-facing": true, "network internal": true}, schemes,
		"the public load balancer and the hub's internal endpoint")
	var names []string
	for _, r := range testkit.Resources(tmpl, "AWS::Route53::RecordSet") {
		names = append(names, fmt.Sprint(testkit.Props(r)["Name"]))
	}
	assert.Contains(t, names, "cp.team.internal.", "the endpoint publishes the name the nodes are wired with")
	var rules []string
	for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		rules = append(rules, fmt.Sprint(testkit.Props(r)["Conditions"]))
	}
	assert.Contains(t, strings.Join(rules, "\n"), "HttpHeaderName:Upgrade", "the gateway route's WebSocket rule")
	var policies []string
	for _, p := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		policies = append(policies, fmt.Sprint(testkit.Props(p)["PolicyDocument"]))
	}
	assert.Contains(t, strings.Join(policies, "\n"), ":secret:team-keystore-??????", "the gateways read the keystore named")
	bins, err := filepath.Glob(filepath.Join(out, "asset.*", "bootstrap"))
	require.NoError(t, err)
	require.Len(t, bins, 2, "the schema function and the DNS updater were bundled")
	for _, b := range bins {
		f, err := elf.Open(b)
		require.NoError(t, err)
		assert.Equal(t, elf.EM_AARCH64, f.Machine)
		f.Close()
	}
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
