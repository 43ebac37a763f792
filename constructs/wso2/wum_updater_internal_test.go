package wso2

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
)

// resolvableUpdaterProps are props resolveWumUpdater accepts: it only asks whether the network,
// bucket and secret are there, so none of them is built.
func resolvableUpdaterProps() *WumUpdaterProps {
	return &WumUpdaterProps{
		Network: &ApimNetwork{}, PackBucket: struct{ awss3.IBucket }{}, CredentialsSecret: struct{ awssecretsmanager.ISecret }{},
	}
}

// The updater's defaults: Sundays at 03:00 UTC, the default release's one pack under packs/, read
// where nodes run it and staged under staging/, on an x86 instance.
func TestResolveWumUpdaterDefaults(t *testing.T) {
	c := resolveWumUpdater(resolvableUpdaterProps())
	assert.Equal(t, "cron(0 3 ? * SUN *)", c.schedule)
	assert.Equal(t, DefaultApimVersion, c.release.String())
	assert.Equal(t, "packs", c.prefix)
	assert.Equal(t, []string{"wso2am-4.3.0"}, c.homes)
	assert.Equal(t, []string{"packs/wso2am-4.3.0.zip"}, c.packs)
	assert.Equal(t, []string{"staging/packs/wso2am-4.3.0.zip"}, c.staged)
	assert.Equal(t, "c7i.large", *c.instanceType.ToString())
}

// From 4.5 every component is a pack of its own, each updated and staged once, in the layout's
// order; the release may still come by its deprecated name.
func TestResolveWumUpdaterSplitDistributions(t *testing.T) {
	p := resolvableUpdaterProps()
	p.Version, p.PackPrefix, p.Schedule = jsii.String("4.5.0"), jsii.String("mirror"), jsii.String("rate(1 day)")
	c := resolveWumUpdater(p)
	assert.Equal(t, "4.5.0", c.release.String())
	assert.Equal(t, "rate(1 day)", c.schedule)
	assert.Equal(t, []string{"wso2am-acp-4.5.0", "wso2am-universal-gw-4.5.0", "wso2am-tm-4.5.0"}, c.homes)
	assert.Equal(t, []string{"mirror/wso2am-acp-4.5.0.zip", "mirror/wso2am-universal-gw-4.5.0.zip", "mirror/wso2am-tm-4.5.0.zip"}, c.packs)
	assert.Equal(t, []string{"staging/mirror/wso2am-acp-4.5.0.zip", "staging/mirror/wso2am-universal-gw-4.5.0.zip",
		"staging/mirror/wso2am-tm-4.5.0.zip"}, c.staged)
}

func TestResolveWumUpdaterRefusesBadProps(t *testing.T) {
	cases := []struct {
		name string
		tune func(p *WumUpdaterProps) *WumUpdaterProps
		want string
	}{
		{"no props", func(*WumUpdaterProps) *WumUpdaterProps { return nil }, "WumUpdater: Network is required"},
		{"no network", func(p *WumUpdaterProps) *WumUpdaterProps { p.Network = nil; return p }, "WumUpdater: Network is required"},
		{"no bucket", func(p *WumUpdaterProps) *WumUpdaterProps { p.PackBucket = nil; return p },
			"WumUpdater: PackBucket and CredentialsSecret are required: the updater reads the WSO2 subscription from the secret and writes packs to the bucket"},
		{"a schedule EventBridge refuses", func(p *WumUpdaterProps) *WumUpdaterProps { p.Schedule = jsii.String("rate(1 week)"); return p },
			`WumUpdater: Schedule "rate(1 week)" is not an EventBridge expression: use rate(7 days) or cron(0 3 ? * SUN *)`},
		{"an unsupported release", func(p *WumUpdaterProps) *WumUpdaterProps { p.Release = jsii.String("2.6.0"); return p },
			"WumUpdater: Release: version 2.6.0 is not supported: use 3.2.x or 4.x"},
		{"two releases", func(p *WumUpdaterProps) *WumUpdaterProps {
			p.Release, p.Version = jsii.String("4.5.0"), jsii.String("4.3.0")
			return p
		}, "WumUpdater: Release is 4.5.0 and Version, its deprecated name, is 4.3.0: set Release only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.tune(resolvableUpdaterProps())
			assert.PanicsWithError(t, tc.want, func() { resolveWumUpdater(p) })
		})
	}
}
