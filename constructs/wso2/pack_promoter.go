package wso2

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/lambda/packpin/handler"
)

// StagingPrefix is where operators and the updater upload packs and drivers (staging/<key>).
// Nodes never read it: a deploy promotes one version of a staged object to its key outside the
// prefix, which only the promoter may write.
const StagingPrefix = handler.StagingPrefix

// DefaultJdbcDriverKey is the key nodes install the MySQL Connector/J jar from (promoted from
// StagingPrefix + DefaultJdbcDriverKey).
const DefaultJdbcDriverKey = "drivers/mysql-connector-j.jar"

// PinnedObject is one version of an object in the pack bucket that nodes install, with its
// SHA-256: the nodes download exactly that version and refuse it if its digest differs.
// PackPromoter.Promote makes one; both values may be deploy-time tokens.
type PinnedObject struct {
	// Key is the object's key. Required.
	Key *string
	// VersionId is the S3 version the nodes download. Required.
	VersionId *string
	// Sha256 is the version's SHA-256 in lower-case hex. Required.
	Sha256 *string
}

var (
	pinnedKey     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./+=@-]*$`)
	pinnedVersion = regexp.MustCompile(`^[A-Za-z0-9._+=-]+$`)
	pinnedSha256  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkPinned refuses a pin that is missing, incomplete, under the staging prefix, or whose
// literal values have the wrong shape.
func checkPinned(construct, prop string, p *PinnedObject) {
	if p == nil || p.Key == nil || p.VersionId == nil || p.Sha256 == nil {
		propsError(construct, "%s is required, with Key, VersionId and Sha256: nodes install only a pinned version of it "+
			"(PackPromoter.Promote promotes a staged upload and pins it)", prop)
	}
	if !unresolved(p.Key) && (!pinnedKey.MatchString(*p.Key) || strings.Contains(*p.Key, "..") || strings.HasPrefix(*p.Key, StagingPrefix)) {
		propsError(construct, "%s.Key %q must be an object key outside %s, of letters, digits and _./+=@-", prop, *p.Key, StagingPrefix)
	}
	if !unresolved(p.VersionId) && !pinnedVersion.MatchString(*p.VersionId) {
		propsError(construct, "%s.VersionId %q is not an S3 version id", prop, *p.VersionId)
	}
	if !unresolved(p.Sha256) && !pinnedSha256.MatchString(*p.Sha256) {
		propsError(construct, "%s.Sha256 %q must be 64 lower-case hex digits", prop, *p.Sha256)
	}
}

// PackPromoterProps configures a PackPromoter.
type PackPromoterProps struct {
	// Network places the promoter function in its application subnets. Required.
	Network *ApimNetwork
	// Bucket is the pack bucket (versioned). Required. When it is this app's own bucket, its
	// policy lets the promoter alone write outside StagingPrefix; an imported bucket's policy is
	// its owner's to set (synth warns).
	Bucket awss3.IBucket
}

// PackPromoter promotes staged packs and drivers: a function, beside the pack bucket, that a
// custom resource per object (Promote) asks to copy one staged version to the key nodes install
// from, and that answers the copy's version id and SHA-256 for the nodes' launch templates. The
// bucket's policy denies writing or deleting anything outside StagingPrefix to every principal
// but the promoter's role, so whoever may upload packs (an operator, the updater) cannot change
// what nodes run: only a deploy does.
type PackPromoter struct {
	constructs.Construct
	bucket   awss3.IBucket
	function awslambda.Function
}

const promoterName = "PackPromoter"

// NewPackPromoter builds the promoter. Create it in the pack bucket's stack (the bucket policy
// names its role), and call Promote from the stack of the nodes.
func NewPackPromoter(scope constructs.Construct, id string, props *PackPromoterProps) *PackPromoter {
	if props == nil || props.Network == nil || props.Bucket == nil {
		propsError(promoterName, "Network and Bucket are required: the function runs in the network and copies within the bucket")
	}
	p := &PackPromoter{bucket: props.Bucket}
	constructs.NewConstruct_Override(p, scope, &id)
	pinFlags(p)
	stack := awscdk.Stack_Of(p)
	key := newKey(p, "Key", fmt.Sprintf("Encrypts the WSO2 pack promoter's logs (%s)", *p.Node().Path()))
	allowLogsToUseKey(key, stack)
	sg := awsec2.NewSecurityGroup(p, jsii.String("FunctionSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Network.Vpc(),
		Description:      jsii.String("WSO2 pack promoter: HTTPS to S3 and CloudFormation only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to S3 and CloudFormation (NAT gateway or endpoints)"), jsii.Bool(false))
	p.function = awslambda.NewFunction(p, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("Promotes one staged version of a WSO2 pack or JDBC driver to the key nodes install it from, and answers its version id and SHA-256"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         goLambdaCode("packpin"),
		// Hashing a pack of up to a few GiB is network- and CPU-bound; memory buys both.
		MemorySize:     jsii.Number(1024),
		Timeout:        awscdk.Duration_Minutes(jsii.Number(15)),
		Vpc:            props.Network.Vpc(),
		VpcSubnets:     props.Network.Subnets(TierApplication),
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		LogGroup: awslogs.NewLogGroup(p, jsii.String("FunctionLogs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_ONE_YEAR, EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		}),
	})
	// Everything outside the staging prefix is what nodes install: only the promoter writes it.
	// (S3 lifecycle expirations are not subject to bucket policies.)
	statement := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:          jsii.String("OnlyThePromoterWritesPromotedObjects"),
		Effect:       awsiam.Effect_DENY,
		Principals:   &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:      jsii.Strings("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging", "s3:RestoreObject"),
		NotResources: jsii.Strings(*props.Bucket.ArnForObjects(jsii.String(StagingPrefix + "*"))),
		Conditions: &map[string]any{
			"ArnNotEquals": map[string]any{"aws:PrincipalArn": p.function.Role().RoleArn()},
		},
	})
	if added := props.Bucket.AddToResourcePolicy(statement); added == nil || added.StatementAdded == nil || !*added.StatementAdded {
		awscdk.Annotations_Of(p).AddWarningV2(jsii.String("apimkit:packBucketPolicy"), jsii.String(
			"PackPromoter: the pack bucket is imported, so its policy cannot be set here. Add a statement that denies "+
				"s3:PutObject, s3:DeleteObject and s3:DeleteObjectVersion outside "+StagingPrefix+" to every principal but "+
				"the promoter's role (PackPromoter.Function().Role()), or whoever may upload packs decides what nodes run."), nil)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(p.function, &[]*cdknag.NagPackSuppression{
		vpcFunctionPolicies(),
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The KMS grants on the bucket's key come through S3 only (kms:ViaService); s3:ListBucketVersions is " +
				"limited by s3:prefix to the promoted keys."),
		},
	}, jsii.Bool(true))
	weakenReferences(p)
	return p
}

// Promote adds, in scope (the nodes' stack), a custom resource that promotes a version of
// StagingPrefix + key to key: version names it; nil takes the newest staged version when the
// resource is created and keeps it on later deploys until a version is named (an upload alone
// changes nothing). The pin's VersionId and Sha256 are the resource's answers.
func (p *PackPromoter) Promote(scope constructs.Construct, id string, key string, version *string) *PinnedObject {
	if !pinnedKey.MatchString(key) || strings.Contains(key, "..") || strings.HasPrefix(key, StagingPrefix) {
		propsError(promoterName, "Promote(%s): key %q must be an object key outside %s, of letters, digits and _./+=@-", id, key, StagingPrefix)
	}
	if version != nil && !unresolved(version) && !pinnedVersion.MatchString(*version) {
		propsError(promoterName, "Promote(%s): version %q is not an S3 version id", id, *version)
	}
	staged := StagingPrefix + key
	grantObjectRead(p.function, p.bucket, staged, key)
	grantObjectWrite(p.function, p.bucket, key)
	p.function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("s3:ListBucketVersions"),
		Resources:  jsii.Strings(*p.bucket.BucketArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"s3:prefix": key}},
	}))
	properties := map[string]any{"Bucket": p.bucket.BucketName(), "StagedKey": staged, "PromotedKey": key}
	if version != nil {
		properties["StagedVersionId"] = *version
	}
	r := awscdk.NewCustomResource(scope, jsii.String(id), &awscdk.CustomResourceProps{
		ServiceToken: p.function.FunctionArn(),
		ResourceType: jsii.String("Custom::Wso2PackPromotion"),
		Properties:   &properties,
	})
	return &PinnedObject{Key: jsii.String(key), VersionId: r.GetAttString(jsii.String("VersionId")), Sha256: r.GetAttString(jsii.String("Sha256"))}
}

// Function returns the promoter function; its role is the only principal the bucket policy lets
// write outside StagingPrefix.
func (p *PackPromoter) Function() awslambda.IFunction { return p.function }
