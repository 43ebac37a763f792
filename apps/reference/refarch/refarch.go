// Package refarch composes the library's constructs into the reference deployment of WSO2 API
// Manager on AWS. The runnable app in apps/reference calls it; the tests in test/ call it too, so
// what they check is exactly what an operator deploys.
package refarch

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/appcontext"
	"github.com/apimkit/apimkit/constructs/wso2"
)

// Config is what the reference deployment can be told from the CDK context (cdk.json, or
// -c key=value on the command line; docs/deploying.md lists them). The zero value of a field means its
// default.
type Config struct {
	Account              string   `ctx:"account"`                           // Default: the deploying credentials'.
	Region               string   `ctx:"region" default:"us-west-1"`        // The article's region.
	Azs                  []string `ctx:"azs"`                               // Default: the region's zones b and c.
	VpcCidr              string   `ctx:"vpcCidr"`                           // Default: 10.0.0.0/16.
	AdminSSH             []string `ctx:"adminSshCidrs"`                     // SSH ranges of a bastion. Default: Session Manager.
	SingleNat            bool     `ctx:"singleNatGateway"`                  // One NAT gateway instead of one per zone.
	InterfaceEndpoints   bool     `ctx:"interfaceEndpoints" default:"true"` // The recommended interface endpoints.
	StackPrefix          string   `ctx:"stackPrefix" default:"apim"`        // Starts every stack name.
	PackBucket           string   `ctx:"packBucket"`                        // An existing bucket. Default: the app's own.
	PackBucketKeyArn     string   `ctx:"packBucketKeyArn"`                  // Its KMS key. Default: none (SSE-S3).
	PackKey              string   `ctx:"packKey"`                           // The pack that loads the schema. Default: none yet.
	PackVersions         []string `ctx:"packVersions"`                      // home=<staged version id>, one per pack to promote. Default: kept.
	JdbcDriverVersion    string   `ctx:"jdbcDriverVersion"`                 // Staged driver version to promote. Default: kept.
	CertificateArn       string   `ctx:"certificateArn"`                    // Default: PlaceholderCertificateArn.
	PortalHostname       string   `ctx:"portalHostname" default:"portal.apim.example.com"`
	GatewayHostname      string   `ctx:"gatewayHostname" default:"api.apim.example.com"`
	Version              string   `ctx:"apimVersion"`                          // Default: 4.3.0 (3.2.0 with Layout32).
	Zone                 string   `ctx:"internalZone" default:"apim.internal"` // Private zone of the internal names.
	Layout               string   `ctx:"layout" default:"4.x"`                 // Layout4x or Layout32.
	MysqlVersion         string   `ctx:"mysqlVersion"`                         // 8.0.x or 8.4.x. Default: the library's.
	MysqlExtendedSupport *bool    `ctx:"mysqlExtendedSupport"`                 // ApimDatabaseProps.ExtendedSupport.
	KeystoreSecretArn    string   `ctx:"keystoreSecretArn"`                    // Complete ARN. Default: the deployment's own keystore.
	KeystoreRevision     string   `ctx:"keystoreRevision"`                     // Changed: a new keystore, every node rolled onto it.
	AppPasswordRevision  string   `ctx:"appPasswordRevision"`                  // Changed: apply the WSO2 user's new password.
	ReadReplicas         string   `ctx:"readReplicas"`                         // 0 to 5 read replicas of the database. Default: none.
	WebAcl               bool     `ctx:"webAcl" default:"true"`                // A web ACL of AWS managed rules in front of the load balancer.
	MachineImageId       string   `ctx:"machineImageId"`                       // The nodes' AMI. Default: looked up once (with an account).
}

var (
	secretArn    = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	mysqlVersion = regexp.MustCompile(`^8\.(0|4)\.\d+$`)
	kmsKeyArn    = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$`)
	s3Version    = regexp.MustCompile(`^[A-Za-z0-9._+=-]+$`)
	readReplicas = regexp.MustCompile(fmt.Sprintf(`^[0-%d]$`, wso2.MaxReadReplicas))
	amiID        = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// The layouts the reference app can deploy, and the certificate that lets it synthesize without
// one, in the app's region (a deploy needs a real one: -c certificateArn=...).
const (
	Layout4x, Layout32        = "4.x", "3.2"
	PlaceholderCertificateArn = "arn:aws:acm:us-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
)

// ConfigFromContext reads the Config from the app's context, applying defaults.
func ConfigFromContext(node constructs.Node) (c Config, err error) {
	if err := appcontext.Decode(node, &c); err != nil {
		return c, err
	}
	switch {
	case c.KeystoreSecretArn != "" && !secretArn.MatchString(c.KeystoreSecretArn):
		return c, fmt.Errorf("context \"keystoreSecretArn\" is %q: give the secret's complete ARN, ending in its six-character suffix", c.KeystoreSecretArn)
	case c.KeystoreSecretArn != "" && strings.Split(c.KeystoreSecretArn, ":")[3] != c.Region:
		return c, fmt.Errorf("context \"keystoreSecretArn\" names a secret in %s: the nodes read it in their own region, %s",
			strings.Split(c.KeystoreSecretArn, ":")[3], c.Region)
	case c.MysqlVersion != "" && !mysqlVersion.MatchString(c.MysqlVersion):
		return c, fmt.Errorf("context \"mysqlVersion\" is %q: give a MySQL 8.0 or 8.4 release, such as 8.4.7", c.MysqlVersion)
	case c.PackBucketKeyArn != "" && c.PackBucket == "":
		return c, fmt.Errorf("context \"packBucketKeyArn\" needs \"packBucket\": it is the key of an existing bucket (the app's own bucket brings its key)")
	case c.PackBucketKeyArn != "" && !kmsKeyArn.MatchString(c.PackBucketKeyArn):
		return c, fmt.Errorf("context \"packBucketKeyArn\" is %q: give the key's ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias", c.PackBucketKeyArn)
	case c.ReadReplicas != "" && !readReplicas.MatchString(c.ReadReplicas):
		return c, fmt.Errorf("context \"readReplicas\" is %q: give a number of read replicas from 0 to %d", c.ReadReplicas, wso2.MaxReadReplicas)
	case c.MachineImageId != "" && !amiID.MatchString(c.MachineImageId):
		return c, fmt.Errorf("context \"machineImageId\" is %q: give an AMI id (ami- and 8 or 17 hexadecimal digits) of Amazon Linux 2023 in %s", c.MachineImageId, c.Region)
	case c.JdbcDriverVersion != "" && !s3Version.MatchString(c.JdbcDriverVersion):
		return c, fmt.Errorf("context \"jdbcDriverVersion\" is %q: give the S3 version id of staging/%s", c.JdbcDriverVersion, wso2.DefaultJdbcDriverKey)
	case c.Layout != Layout4x && c.Layout != Layout32:
		return c, fmt.Errorf("context \"layout\" is %q: use %q or %q", c.Layout, Layout4x, Layout32)
	}
	for _, pv := range c.PackVersions {
		if home, version, ok := strings.Cut(pv, "="); !ok || home == "" || !s3Version.MatchString(version) {
			return c, fmt.Errorf("context \"packVersions\" holds %q: give <pack home>=<S3 version id of staging/packs/<pack home>.zip>, such as wso2am-4.3.0=3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", pv)
		}
	}
	if c.Version == "" {
		c.Version = map[string]string{Layout4x: wso2.DefaultApimVersion, Layout32: "3.2.0"}[c.Layout]
	}
	if c.CertificateArn == "" {
		c.CertificateArn = strings.Replace(PlaceholderCertificateArn, "us-west-1", c.Region, 1)
	}
	if len(c.Azs) == 0 {
		c.Azs = []string{c.Region + "b", c.Region + "c"}
	}
	return c, nil
}

// Deployment is the built reference deployment: its three stacks and the deployment in them.
type Deployment struct {
	NetworkStack, DataStack, AppStack awscdk.Stack
	*wso2.ApimDeployment
}

// New adds the reference deployment to app, with the cdk-nag AwsSolutions checks applied to it:
// the network, the state (termination-protected) and the nodes each in a stack of their own.
func New(app awscdk.App, c Config) *Deployment {
	env := &awscdk.Environment{Region: jsii.String(c.Region), Account: optional(c.Account)}
	stack := func(id, name, what string, protect bool) awscdk.Stack {
		return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
			Env: env, StackName: jsii.String(c.StackPrefix + "-" + name), TerminationProtection: jsii.Bool(protect),
			Description: jsii.String("WSO2 API Manager reference deployment: " + what),
		})
	}
	d := &Deployment{
		NetworkStack: stack("Network", "network", "VPC, subnet tiers, NAT, network ACLs, flow logs, endpoints", true),
		DataStack:    stack("Data", "data", "MySQL on RDS (Multi-AZ), its secrets and schema", true),
		AppStack:     stack("Application", "app", "control plane and gateway groups, public load balancer", false),
	}
	network := &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings(c.Azs...), SingleNatGateway: jsii.Bool(c.SingleNat),
		Cidr: optional(c.VpcCidr), AdminSSHCidrs: list(c.AdminSSH)}
	if c.InterfaceEndpoints {
		network.InterfaceEndpoints = wso2.RecommendedInterfaceEndpoints()
	}
	database := &wso2.ApimDatabaseProps{ExtendedSupport: c.MysqlExtendedSupport, AppPasswordRevision: optional(c.AppPasswordRevision)}
	if c.ReadReplicas != "" {
		n, _ := strconv.Atoi(c.ReadReplicas) // checked by ConfigFromContext
		database.ReadReplicas = jsii.Number(n)
	}
	if c.MysqlVersion != "" {
		database.EngineVersion = awsrds.MysqlEngineVersion_Of(jsii.String(c.MysqlVersion), jsii.String(c.MysqlVersion[:3]))
	}
	props := &wso2.ApimDeploymentProps{
		Release: jsii.String(c.Version), PortalHostname: jsii.String(c.PortalHostname), GatewayHostname: jsii.String(c.GatewayHostname),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(d.AppStack, jsii.String("Certificate"), jsii.String(c.CertificateArn)),
		ZoneName:    jsii.String(c.Zone), SchemaPackKey: optional(c.PackKey), MachineImageId: optional(c.MachineImageId),
		NetworkProps: network, DatabaseProps: database, NetworkScope: d.NetworkStack, DataScope: d.DataStack,
		OperationsProps: &wso2.ApimOperationsProps{DashboardName: jsii.String(c.StackPrefix + "-operations")},
		BastionProps:    &wso2.BastionProps{SSHFrom: list(c.AdminSSH)}, // SSH mode with admin ranges
	}
	if c.WebAcl {
		props.LoadBalancerProps = &wso2.ApimLoadBalancerProps{WebAcl: &wso2.ApimWebAclProps{}}
	}
	for _, pv := range c.PackVersions {
		home, version, _ := strings.Cut(pv, "=") // checked by ConfigFromContext
		if props.PackVersions == nil {
			props.PackVersions = map[string]*string{}
		}
		props.PackVersions[home] = jsii.String(version)
	}
	props.JdbcDriverVersion = optional(c.JdbcDriverVersion)
	if c.KeystoreSecretArn != "" {
		props.KeystoreSecret = awssecretsmanager.Secret_FromSecretCompleteArn(d.AppStack, jsii.String("Keystore"), jsii.String(c.KeystoreSecretArn))
		props.KeystoreRevision = optional(c.KeystoreRevision)
	} else if c.KeystoreRevision != "" {
		props.KeystoreProps = &wso2.ApimKeystoreProps{Revision: jsii.String(c.KeystoreRevision)}
	}
	if c.PackBucket != "" {
		attrs := &awss3.BucketAttributes{BucketName: jsii.String(c.PackBucket)}
		if c.PackBucketKeyArn != "" {
			attrs.EncryptionKey = awskms.Key_FromKeyArn(d.DataStack, jsii.String("PackBucketKey"), jsii.String(c.PackBucketKeyArn))
		}
		props.ExistingPackBucket = awss3.Bucket_FromBucketAttributes(d.DataStack, jsii.String("PackBucket"), attrs)
	}
	// Its id, Default, is left out of logical ids: they stay as the app named them before.
	d.ApimDeployment = wso2.NewApimDeployment(d.AppStack, "Default", props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return d
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}

func list(s []string) *[]*string {
	if len(s) == 0 {
		return nil
	}
	return jsii.Strings(s...)
}
