package wso2

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newKey creates the customer-managed KMS key the library's constructs use for state at rest:
// rotated yearly, retained when the stack is deleted (data it encrypted stays readable), and
// allowing grants only to AWS services acting for a resource (AWS Control Tower CT.KMS.PR.3).
func newKey(scope constructs.Construct, id, description string) awskms.Key {
	key := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyGrantsExceptForAwsServices"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"BoolIfExists": map[string]any{
				"kms:GrantIsForAWSResource": "false",
				"aws:PrincipalIsAWSService": "false",
			},
		},
	}), nil)
	return key
}

// allowLogsToUseKey lets CloudWatch Logs in the stack's region encrypt log groups of this account
// with key. A key the construct cannot modify (imported) is left as it is.
func allowLogsToUseKey(key awskms.IKey, stack awscdk.Stack) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", *stack.Region())), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("logs"), Resource: jsii.String("log-group"),
					ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
				}),
			},
		},
	}), jsii.Bool(true))
}

// grantSecretRead lets grantee read secret and decrypt it with key through Secrets Manager only
// (a nil key: the secret uses Secrets Manager's own key, which needs no grant).
// The grant goes on the grantee's policy alone (the key's policy already defers to IAM in the
// account), so a grantee in another stack does not make the secret's stack depend on it.
func grantSecretRead(grantee awsiam.IGrantable, secret awssecretsmanager.ISecret, key awskms.IKey) awsiam.Grant {
	grant := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		ResourceArns: &[]*string{secretReadArn(secret)},
	})
	if key == nil {
		return grant // Secrets Manager's own key: reading the secret is enough
	}
	stack := awscdk.Stack_Of(secret)
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: jsii.Strings(*key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("secretsmanager.%s.amazonaws.com", *stack.Region())},
		},
	}))
	return grant
}

// grantObjectRead lets grantee read the given objects of bucket (and decrypt them through S3), on
// the grantee's policy alone, so a bucket in another stack does not come to depend on it.
func grantObjectRead(grantee awsiam.IGrantable, bucket awss3.IBucket, keys ...string) {
	arns := make([]*string, 0, len(keys))
	for _, k := range keys {
		arns = append(arns, bucket.ArnForObjects(jsii.String(k)))
	}
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &arns,
	}))
	if key := bucket.EncryptionKey(); key != nil {
		grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: jsii.Strings(*key.KeyArn()),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"kms:ViaService": fmt.Sprintf("s3.%s.amazonaws.com", *awscdk.Stack_Of(bucket).Region())},
			},
		}))
	}
}

// secretReadArn is the ARN a grant on secret names: its full ARN, or, for a secret known by name
// or partial ARN, that ARN with the six characters Secrets Manager appends matched.
func secretReadArn(secret awssecretsmanager.ISecret) *string {
	if arn := secret.SecretFullArn(); arn != nil {
		return arn
	}
	return jsii.String(*secret.SecretArn() + "-??????")
}

// grantPutMetricData lets grantee put CloudWatch metrics in namespace alone: PutMetricData takes
// no resource, only the namespace as a condition.
func grantPutMetricData(grantee awsiam.IGrantable, sid, namespace string) {
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": namespace}},
	}))
}
