package wso2

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NewPackBucket creates the bucket WSO2 nodes install packs and the JDBC driver from: versioned,
// encrypted with a customer-managed key, TLS-only, public access blocked, retained when the stack
// is deleted, old versions expired after 90 days, object events sent to EventBridge, and its
// access logged to a companion bucket.
func NewPackBucket(scope constructs.Construct, id string) awss3.Bucket {
	c := constructs.NewConstruct(scope, jsii.String(id))
	pinFlags(c)
	logs := awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// S3 delivers the access logs through the bucket policy (pinFlags), so no ACL is needed.
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:       jsii.Bool(true),
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This bucket is itself the access-log destination of the pack bucket."),
	}}, jsii.Bool(true))
	enableEventBridge(logs)
	packs := awss3.NewBucket(c, jsii.String("Resource"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          newKey(c, "Key", "Encrypts the WSO2 pack bucket"),
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("packs/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(90)),
		}},
	})
	// A new pack version is an event CI/CD in the management tier can act on.
	enableEventBridge(packs)
	weakenReferences(c)
	return packs
}

// enableEventBridge sends the bucket's object events to EventBridge, natively (no custom
// resource).
func enableEventBridge(b awss3.Bucket) {
	cfn := b.Node().DefaultChild().(awss3.CfnBucket)
	cfn.AddPropertyOverride(jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
}
