package wso2

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlarmTopicProps configures NewAlarmTopic.
type AlarmTopicProps struct {
	// EncryptionKey encrypts the topic's messages.
	// Default: a new customer-managed key with rotation.
	EncryptionKey awskms.IKey
}

// NewAlarmTopic creates the SNS topic the library's alarms notify: encrypted with a customer-managed
// key that CloudWatch may use, and refusing any request that is not over TLS. Subscribe people or
// tools to it (email, chat, paging).
func NewAlarmTopic(scope constructs.Construct, id string, props *AlarmTopicProps) awssns.Topic {
	c := constructs.NewConstruct(scope, jsii.String(id))
	pinFlags(c)
	var key awskms.IKey
	if props != nil {
		key = props.EncryptionKey
	}
	if key == nil {
		key = newKey(c, "Key", "Encrypts the WSO2 API Manager alarm topic")
	}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(true))
	// Auto Scaling publishes group notifications through its service-linked role.
	key.AddToResourcePolicy(autoScalingStatement(awscdk.Stack_Of(c), "AllowAutoScalingNotifications",
		"kms:Decrypt", "kms:GenerateDataKey*"), jsii.Bool(true))
	topic := awssns.NewTopic(c, jsii.String("Resource"), &awssns.TopicProps{
		DisplayName: jsii.String("WSO2 API Manager alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// A topic policy replaces SNS's default one, which let the account's alarms publish; with
	// only the TLS deny above, CloudWatch could not deliver a single alarm. Allow this account's
	// alarms, and nothing else. (Auto Scaling publishes through its service-linked role.)
	stack := awscdk.Stack_Of(c)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowThisAccountsAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
				ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			})},
		},
	}))
	weakenReferences(c)
	return topic
}
