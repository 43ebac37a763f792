// Package refarch composes the library's constructs into the reference deployment of WSO2 API
// Manager on AWS. The runnable app in apps/reference calls it; the tests in test/ call it too, so
// what they check is exactly what an operator deploys.
package refarch

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/wso2"
)

// Context keys the app reads (cdk.json, or -c key=value on the command line).
const (
	CtxAccount     = "account"
	CtxRegion      = "region"
	CtxAzs         = "azs"
	CtxVpcCidr     = "vpcCidr"
	CtxAdminSSH    = "adminSshCidrs"
	CtxSingleNat   = "singleNatGateway"
	CtxEndpoints   = "interfaceEndpoints"
	CtxStackPrefix = "stackPrefix"
	CtxPackBucket  = "packBucket"
	CtxPackKey     = "packKey"
	DefaultRegion  = "us-west-1"
	DefaultPrefix  = "apim"
)

// Config is what the reference deployment can be told from the CDK context. The zero value of a
// field means its default.
type Config struct {
	// Account is the AWS account to deploy to. Default: environment-agnostic; the account of the
	// credentials `cdk deploy` runs with.
	Account string
	// Region to deploy to. Default: us-west-1, the article's region.
	Region string
	// Azs are the availability zones to span. Default: the article's us-west-1b and us-west-1c
	// (with another region, its zones b and c).
	Azs []string
	// VpcCidr is the VPC block. Default: 10.0.0.0/16.
	VpcCidr string
	// AdminSSH lists admin ranges allowed to reach a bastion over SSH. Default: none.
	AdminSSH []string
	// SingleNat uses one NAT gateway instead of one per zone. Default: false.
	SingleNat bool
	// InterfaceEndpoints adds the recommended interface endpoints. Default: true.
	InterfaceEndpoints bool
	// StackPrefix starts every stack name. Default: apim.
	StackPrefix string
	// PackBucket and PackKey locate the WSO2 product pack (a zip in an existing bucket) whose
	// schema scripts initialise the database. Default: none; the databases and user are created,
	// and the schema is loaded by a later deploy that names the pack.
	PackBucket, PackKey string
}

// ConfigFromContext reads the Config from the app's context, applying defaults.
func ConfigFromContext(node constructs.Node) (Config, error) {
	c := Config{
		Account:            str(node, CtxAccount),
		Region:             str(node, CtxRegion),
		VpcCidr:            str(node, CtxVpcCidr),
		StackPrefix:        str(node, CtxStackPrefix),
		PackBucket:         str(node, CtxPackBucket),
		PackKey:            str(node, CtxPackKey),
		InterfaceEndpoints: true,
	}
	if (c.PackBucket == "") != (c.PackKey == "") {
		return c, fmt.Errorf("context %q and %q go together: give both or neither", CtxPackBucket, CtxPackKey)
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.StackPrefix == "" {
		c.StackPrefix = DefaultPrefix
	}
	c.Azs = list(node, CtxAzs)
	if len(c.Azs) == 0 {
		c.Azs = []string{c.Region + "b", c.Region + "c"}
	}
	c.AdminSSH = list(node, CtxAdminSSH)
	var err error
	if c.SingleNat, err = boolean(node, CtxSingleNat, false); err != nil {
		return c, err
	}
	if c.InterfaceEndpoints, err = boolean(node, CtxEndpoints, true); err != nil {
		return c, err
	}
	return c, nil
}

// Deployment is the built reference deployment.
type Deployment struct {
	NetworkStack awscdk.Stack
	Network      *wso2.ApimNetwork
	// DataStack holds the state: it is termination-protected.
	DataStack awscdk.Stack
	Database  *wso2.ApimDatabase
	// AlarmTopic receives every alarm; subscribe to it.
	AlarmTopic awssns.ITopic
}

// Stacks returns every stack of the deployment.
func (d *Deployment) Stacks() []awscdk.Stack { return []awscdk.Stack{d.NetworkStack, d.DataStack} }

// New adds the reference deployment to app, with the cdk-nag AwsSolutions checks applied to it.
func New(app awscdk.App, c Config) *Deployment {
	env := &awscdk.Environment{Region: jsii.String(c.Region)}
	if c.Account != "" {
		env.Account = jsii.String(c.Account)
	}
	d := &Deployment{}
	d.NetworkStack = awscdk.NewStack(app, jsii.String("Network"), &awscdk.StackProps{
		Env:         env,
		StackName:   jsii.String(c.StackPrefix + "-network"),
		Description: jsii.String("WSO2 API Manager reference deployment: VPC, subnet tiers, NAT, network ACLs, flow logs, endpoints"),
	})
	props := &wso2.ApimNetworkProps{
		AvailabilityZones: jsii.Strings(c.Azs...),
		SingleNatGateway:  jsii.Bool(c.SingleNat),
	}
	if c.VpcCidr != "" {
		props.Cidr = jsii.String(c.VpcCidr)
	}
	if len(c.AdminSSH) > 0 {
		props.AdminSshCidrs = jsii.Strings(c.AdminSSH...)
	}
	if c.InterfaceEndpoints {
		props.InterfaceEndpoints = wso2.RecommendedInterfaceEndpoints()
	}
	d.Network = wso2.NewApimNetwork(d.NetworkStack, "Network", props)

	d.DataStack = awscdk.NewStack(app, jsii.String("Data"), &awscdk.StackProps{
		Env:                   env,
		StackName:             jsii.String(c.StackPrefix + "-data"),
		Description:           jsii.String("WSO2 API Manager reference deployment: MySQL on RDS (Multi-AZ), its secrets and schema"),
		TerminationProtection: jsii.Bool(true),
	})
	d.AlarmTopic = wso2.NewAlarmTopic(d.DataStack, "Alarms", nil)
	dbProps := &wso2.ApimDatabaseProps{Network: d.Network, AlarmTopic: d.AlarmTopic}
	if c.PackBucket != "" {
		dbProps.Pack = &wso2.SchemaPack{
			Bucket: awss3.Bucket_FromBucketName(d.DataStack, jsii.String("PackBucket"), jsii.String(c.PackBucket)),
			Key:    jsii.String(c.PackKey),
		}
	}
	d.Database = wso2.NewApimDatabase(d.DataStack, "Database", dbProps)

	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return d
}

func str(node constructs.Node, key string) string {
	if v, ok := node.TryGetContext(jsii.String(key)).(string); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

// list reads a context value given either as a JSON array (cdk.json) or as a comma-separated
// string (-c key=a,b on the command line).
func list(node constructs.Node, key string) []string {
	var raw []string
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case string:
		raw = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			raw = append(raw, fmt.Sprint(e))
		}
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func boolean(node constructs.Node, key string, def bool) (bool, error) {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("context %q must be true or false", key)
}
