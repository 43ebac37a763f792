package wso2

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NewAdminSecret creates the WSO2 super admin's credentials (username admin, a generated password
// without characters TOML, XML or a shell would interpret), encrypted with key and retained on
// deletion: the user store in the database keeps the password the first node set.
func NewAdminSecret(scope constructs.Construct, id string, key awskms.IKey) awssecretsmanager.Secret {
	s := awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
		Description:   jsii.String("WSO2 API Manager super admin"),
		EncryptionKey: key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"admin"}`),
			GenerateStringKey:    jsii.String("password"),
			ExcludePunctuation:   jsii.Bool(true),
			PasswordLength:       jsii.Number(32),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("WSO2 stores the super admin's password in its user store at first start; rotating the " +
			"secret alone would not change it. Change it in WSO2, then update the secret."),
	}}, jsii.Bool(true))
	weakenReferences(s)
	return s
}

// NewUpdateCredentials creates the secret the WumUpdater signs in to WSO2 with. It is created with
// a placeholder username and a random password: put your WSO2 subscription's in it
// (aws secretsmanager put-secret-value) before the first scheduled run. Retained on deletion.
func NewUpdateCredentials(scope constructs.Construct, id string, key awskms.IKey) awssecretsmanager.Secret {
	s := awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
		Description:   jsii.String("WSO2 subscription credentials for pack updates (replace the placeholder)"),
		EncryptionKey: key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"replace-with-your-wso2-subscription@example.com"}`),
			GenerateStringKey:    jsii.String("password"),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The secret holds an external WSO2 subscription password, which only WSO2 can change."),
	}}, jsii.Bool(true))
	weakenReferences(s)
	return s
}
