package wso2

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/lambda/keystore/handler"
)

// ApimKeystoreProps configures an ApimKeystore. Network and HostNames are required.
type ApimKeystoreProps struct {
	// Network places the keystore function in its application subnets, behind a security group
	// that allows HTTPS out only (to Secrets Manager and CloudFormation, through the NAT gateway
	// or endpoints). Required.
	Network *ApimNetwork
	// HostNames are the names the certificate is issued to: the names the nodes call each other
	// by (a wildcard of the internal zone, such as *.apim.internal) and the public host names.
	// The first is the certificate's common name; localhost and 127.0.0.1 are always added.
	// Literal lower-case DNS names; a wildcard only as the first label. Required.
	HostNames []string
	// EncryptionKey encrypts the secret and the function's logs. The nodes decrypt the secret
	// with it through Secrets Manager only.
	// Default: a new customer-managed key with yearly rotation, retained on deletion.
	EncryptionKey awskms.IKey
	// Revision is any text. The keystore is made once, when the construct is first deployed, and
	// kept across deploys; deploying with a new Revision makes a new key pair and certificate (a
	// new version of the secret), which nodes install when they are next replaced. A revision
	// used before (a rolled-back update, a value set back) gets its own keystore back. WSO2 encrypts
	// some data it keeps (secrets in the registry, for one) with the key, so a new key leaves that
	// data unreadable: change it only on purpose.
	// Default: none, the first keystore is kept for good.
	Revision *string
}

// ApimKeystore is the deployment's own keystore (issue 14): at deploy time a custom resource
// makes an RSA 3072 key pair and a self-signed certificate naming HostNames, and writes them as a
// PKCS#12 keystore whose key entry is wso2carbon, with a random password, to a secret encrypted
// under the deployment's KMS key. Every node shares it (ProfileAsgProps.KeystoreSecret) to sign
// tokens and serve TLS, and trusts its certificate. The keystore is stable across deploys and
// replaced only on request (Revision); the secret is retained when the stack is deleted.
type ApimKeystore struct {
	constructs.Construct
	secret   awssecretsmanager.Secret
	key      awskms.IKey
	function awslambda.Function
	resource awscdk.CustomResource
	written  awssecretsmanager.ISecret
	revision *string
}

const keystoreName = "ApimKeystore"

// keystoreKeyBits is the RSA key size: 128-bit security, as NIST advises for keys used beyond 2030.
const keystoreKeyBits = 3072

// NewApimKeystore builds the keystore. It panics, before adding anything to the tree, when a prop
// is invalid.
func NewApimKeystore(scope constructs.Construct, id string, props *ApimKeystoreProps) *ApimKeystore {
	if props == nil || props.Network == nil {
		propsError(keystoreName, "Network is required: the keystore function runs in its application subnets")
	}
	for i, h := range props.HostNames {
		if unresolved(jsii.String(h)) {
			propsError(keystoreName, "HostNames[%d] is known only at deploy time; the certificate's names must be literal", i)
		}
	}
	if err := handler.CheckHostNames(props.HostNames); err != nil {
		propsError(keystoreName, "%v", err)
	}
	if props.Revision != nil && unresolved(props.Revision) {
		propsError(keystoreName, "Revision is known only at deploy time: give literal text, changed only to replace the keystore")
	}

	k := &ApimKeystore{}
	constructs.NewConstruct_Override(k, scope, &id)
	pinFlags(k)
	stack := awscdk.Stack_Of(k)
	network := props.Network
	k.key = props.EncryptionKey
	if k.key == nil {
		k.key = newKey(k, "Key", fmt.Sprintf("Encrypts the WSO2 deployment's keystore secret and its function's logs (%s)", *k.Node().Path()))
	}
	allowLogsToUseKey(k.key, stack)

	k.secret = awssecretsmanager.NewSecret(k, jsii.String("Resource"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("WSO2 API Manager keystore shared by every node: keystore (base64 PKCS#12, key entry wso2carbon) and password"),
		EncryptionKey: k.key,
		// The key signs the tokens the deployment has issued and the data WSO2 encrypted with it.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// Created empty: aws-cdk-lib would have CloudFormation generate a password into it, which
	// the nodes cannot use; the custom resource writes its first version, the keystore.
	k.secret.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("GenerateSecretString"))

	sg := awsec2.NewSecurityGroup(k, jsii.String("FunctionSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("WSO2 keystore function: HTTPS to Secrets Manager and CloudFormation only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to Secrets Manager and CloudFormation (NAT gateway or endpoints)"), jsii.Bool(false))
	k.function = awslambda.NewFunction(k, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("Makes the WSO2 deployment's key pair and certificate; writes them to the keystore secret on create and on a new revision only"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         goLambdaCode("keystore"),
		MemorySize:   jsii.Number(512), // RSA 3072 key generation is CPU-bound; memory buys CPU
		Timeout:      awscdk.Duration_Minutes(jsii.Number(2)),
		// In the VPC like the other functions (AWS Control Tower CT.LAMBDA.PR.3): its only
		// egress, HTTPS, is the security group's, and the key it makes leaves it only for
		// Secrets Manager.
		Vpc:            network.Vpc(),
		VpcSubnets:     network.Subnets(TierApplication),
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		LogGroup: awslogs.NewLogGroup(k, jsii.String("FunctionLogs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_ONE_YEAR, EncryptionKey: k.key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		}),
		ReservedConcurrentExecutions: jsii.Number(1),
	})
	// Write this secret and nothing else: no read, no other secret. The function lists the
	// secret's versions and moves its AWSCURRENT label back to a revision's keystore when that
	// revision is asked for again (a rollback). Secrets Manager encrypts a new version under the
	// key for the caller, with GenerateDataKey and Decrypt (as its documentation asks for a
	// customer-managed key), through Secrets Manager and for this secret only; without
	// GetSecretValue, Decrypt lets the function read nothing.
	k.function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteTheKeystoreSecret"),
		Actions:   jsii.Strings("secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"),
		Resources: jsii.Strings(*k.secret.SecretArn()),
	}))
	k.function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptThroughSecretsManager"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: jsii.Strings(*k.key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"kms:ViaService":                  fmt.Sprintf("secretsmanager.%s.amazonaws.com", *stack.Region()),
				"kms:EncryptionContext:SecretARN": k.secret.SecretArn(),
			},
		},
	}))

	properties := map[string]any{
		"SecretArn": k.secret.SecretArn(),
		"HostNames": props.HostNames,
		"KeyBits":   strconv.Itoa(keystoreKeyBits),
	}
	if props.Revision != nil {
		// A new value is what makes the function write a new keystore.
		properties["Revision"] = *props.Revision
	}
	k.revision = props.Revision
	k.resource = awscdk.NewCustomResource(k, jsii.String("KeyPair"), &awscdk.CustomResourceProps{
		ServiceToken: k.function.FunctionArn(),
		ResourceType: jsii.String("Custom::Wso2Keystore"),
		Properties:   &properties,
	})
	// The secret as the nodes know it: its ARN comes from the custom resource, so whatever names
	// it (a launch template, a policy) is created once the keystore is in it.
	k.written = awssecretsmanager.Secret_FromSecretAttributes(k, jsii.String("Written"), &awssecretsmanager.SecretAttributes{
		SecretCompleteArn: k.resource.GetAttString(jsii.String("SecretArn")),
		EncryptionKey:     k.key,
	})

	cdknag.NagSuppressions_AddResourceSuppressions(k.function, &[]*cdknag.NagPackSuppression{
		vpcFunctionPolicies(),
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(k.secret, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The keystore is replaced on request, with a new Revision: a rotation on a schedule would " +
			"change the key WSO2 signed its tokens and encrypted its data with, under nodes still using the old one."),
	}}, jsii.Bool(true))
	weakenReferences(k)
	return k
}

// Secret returns the keystore secret for ProfileAsgProps.KeystoreSecret and
// TrafficManagerPairProps.KeystoreSecret, with its key. Its ARN is the custom resource's answer,
// so resources that name it are created after the keystore was written.
func (k *ApimKeystore) Secret() awssecretsmanager.ISecret { return k.written }

// Revision returns the keystore's Revision (nil when none was given), for
// ProfileAsgProps.KeystoreRevision: a new one rolls the nodes onto the new keystore.
func (k *ApimKeystore) Revision() *string { return k.revision }

// EncryptionKey returns the key the secret is encrypted with.
func (k *ApimKeystore) EncryptionKey() awskms.IKey { return k.key }

// Function returns the function that writes the keystore.
func (k *ApimKeystore) Function() awslambda.IFunction { return k.function }
