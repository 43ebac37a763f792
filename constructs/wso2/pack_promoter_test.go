package wso2_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

// promoterTemplate: a promoter beside the pack bucket, a pack promoted without a version named
// and a driver with one, and a group booting both.
func promoterTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "promoter", func() awscdk.App {
		app := testkit.NewApp(nil)
		env := newNodeEnv(app)
		promoter := wso2.NewPackPromoter(env.stack, "Promoter", &wso2.PackPromoterProps{Network: env.network, Bucket: env.packs})
		props := env.props(profiles.Gateway)
		props.Pack = promoter.Promote(env.stack, "PackPin", "packs/wso2am-4.3.0.zip", nil)
		props.JdbcDriver = promoter.Promote(env.stack, "DriverPin", wso2.DefaultJdbcDriverKey, jsii.String("3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"))
		wso2.NewProfileAsg(env.stack, "Gateway", props)
		return app
	}).Stack(t, "Test").Template
}

// pinnedValue is what the launch template's user data sets name to: the Fn::GetAtt it refers to,
// as "<logical id>.<attribute>", or the literal text.
func pinnedValue(t *testing.T, lt map[string]any, name string) string {
	t.Helper()
	parts := lt["UserData"].(map[string]any)["Fn::Base64"].(map[string]any)["Fn::Join"].([]any)[1].([]any)
	for i, p := range parts {
		s, ok := p.(string)
		if !ok {
			continue
		}
		at := strings.LastIndex(s, "\n"+name+"=")
		if at < 0 {
			continue
		}
		rest := s[at+len(name)+2:]
		if rest != "" {
			return strings.SplitN(rest, "\n", 2)[0]
		}
		if att, ok := parts[i+1].(map[string]any)["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("%s.%s", att[0], att[1])
		}
	}
	t.Fatalf("the user data sets no %s", name)
	return ""
}

// What a node boots is the deployment's: the launch template carries each object's promoted
// version and digest, as the promotions answer them.
func TestLaunchTemplatePinsThePromotedVersions(t *testing.T) {
	tmpl := promoterTemplate(t)
	packID, pack := resourceWithPrefixID(t, tmpl, "Custom::Wso2PackPromotion", "PackPin")
	driverID, driver := resourceWithPrefixID(t, tmpl, "Custom::Wso2PackPromotion", "DriverPin")
	assert.Equal(t, "staging/packs/wso2am-4.3.0.zip", testkit.Props(pack)["StagedKey"])
	assert.Equal(t, "packs/wso2am-4.3.0.zip", testkit.Props(pack)["PromotedKey"])
	assert.NotContains(t, testkit.Props(pack), "StagedVersionId", "no version named: the newest at creation, kept after")
	assert.Equal(t, "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", testkit.Props(driver)["StagedVersionId"])
	assert.Equal(t, "staging/drivers/mysql-connector-j.jar", testkit.Props(driver)["StagedKey"])

	lt := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::EC2::LaunchTemplate", "GatewayLaunchTemplate"))["LaunchTemplateData"].(map[string]any)
	assert.Equal(t, packID+".VersionId", pinnedValue(t, lt, "PACK_VERSION"))
	assert.Equal(t, packID+".Sha256", pinnedValue(t, lt, "PACK_SHA256"))
	assert.Equal(t, driverID+".VersionId", pinnedValue(t, lt, "JDBC_DRIVER_VERSION"))
	assert.Equal(t, driverID+".Sha256", pinnedValue(t, lt, "JDBC_DRIVER_SHA256"))
	assert.Equal(t, "packs/wso2am-4.3.0.zip", pinnedValue(t, lt, "PACK_KEY"))
}

// Whoever may upload packs cannot write what nodes install: the bucket denies writing or
// deleting anything outside staging/ to every principal but the promoter's role.
func TestBucketPolicyLetsOnlyThePromoterWritePromotedObjects(t *testing.T) {
	tmpl := promoterTemplate(t)
	roleID, _ := resourceWithPrefixID(t, tmpl, "AWS::IAM::Role", "PromoterFunctionServiceRole")
	policy := testkit.Props(resourceWithPrefix(t, tmpl, "AWS::S3::BucketPolicy", "PacksPolicy"))
	var deny map[string]any
	for _, s := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		if st := s.(map[string]any); st["Sid"] == "OnlyThePromoterWritesPromotedObjects" {
			deny = st
		}
	}
	require.NotNil(t, deny)
	assert.Equal(t, "Deny", deny["Effect"])
	assert.Equal(t, map[string]any{"AWS": "*"}, deny["Principal"])
	for _, a := range []string{"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} {
		assert.Contains(t, deny["Action"], a)
	}
	notResource, _ := json.Marshal(deny["NotResource"])
	assert.Contains(t, string(notResource), `/staging/*`)
	cond, _ := json.Marshal(deny["Condition"])
	assert.Equal(t, `{"ArnNotEquals":{"aws:PrincipalArn":{"Fn::GetAtt":["`+roleID+`","Arn"]}}}`, string(cond))
}

// The promoter itself writes the promoted keys only, and reads their staged versions.
func TestPromoterWritesOnlyThePromotedKeys(t *testing.T) {
	tmpl := promoterTemplate(t)
	var writes []string
	for id, pol := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		if !strings.HasPrefix(id, "PromoterFunctionServiceRole") {
			continue
		}
		for _, s := range testkit.Props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if fmt.Sprint(st["Action"]) == "s3:PutObject" {
				b, _ := json.Marshal(st["Resource"])
				writes = append(writes, string(b))
			}
		}
	}
	joined := strings.Join(writes, " ")
	assert.Contains(t, joined, `/packs/wso2am-4.3.0.zip"`)
	assert.Contains(t, joined, `/drivers/mysql-connector-j.jar"`)
	assert.NotContains(t, joined, `/*"`)
	assert.NotContains(t, joined, "staging/")
}

func TestPinsAreRequiredAndChecked(t *testing.T) {
	good := func() *wso2.PinnedObject {
		return &wso2.PinnedObject{Key: jsii.String("packs/wso2am-4.3.0.zip"), VersionId: jsii.String("v1"), Sha256: jsii.String(strings.Repeat("0f", 32))}
	}
	for name, tc := range map[string]struct {
		tune func(p *wso2.ProfileAsgProps)
		want string
	}{
		"no pack": {func(p *wso2.ProfileAsgProps) { p.Pack = nil }, "ProfileAsg: Pack is required, with Key, VersionId and Sha256"},
		"no driver digest": {func(p *wso2.ProfileAsgProps) {
			p.JdbcDriver = &wso2.PinnedObject{Key: jsii.String("d.jar"), VersionId: jsii.String("v")}
		}, "JdbcDriver is required"},
		"digest not one":      {func(p *wso2.ProfileAsgProps) { p.Pack = good(); p.Pack.Sha256 = jsii.String("ABC") }, `Pack.Sha256 "ABC" must be 64 lower-case hex digits`},
		"staged key":          {func(p *wso2.ProfileAsgProps) { p.Pack = good(); p.Pack.Key = jsii.String("staging/packs/a.zip") }, `Pack.Key "staging/packs/a.zip" must be an object key outside staging/`},
		"version with spaces": {func(p *wso2.ProfileAsgProps) { p.Pack = good(); p.Pack.VersionId = jsii.String("a b") }, `Pack.VersionId "a b" is not an S3 version id`},
	} {
		env := newNodeEnv(testkit.NewApp(nil))
		p := env.props(profiles.Gateway)
		tc.tune(p)
		assert.Contains(t, panicMessage(func() { wso2.NewProfileAsg(env.stack, "Gateway", p) }), tc.want, name)
	}
	env := newNodeEnv(testkit.NewApp(nil))
	promoter := wso2.NewPackPromoter(env.stack, "Promoter", &wso2.PackPromoterProps{Network: env.network, Bucket: env.packs})
	assert.Contains(t, panicMessage(func() { promoter.Promote(env.stack, "Bad", "staging/packs/a.zip", nil) }),
		`PackPromoter: Promote(Bad): key "staging/packs/a.zip" must be an object key outside staging/`)
}
