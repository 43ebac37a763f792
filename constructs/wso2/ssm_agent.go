package wso2

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// The Systems Manager agent's own calls, instead of AWS's AmazonSSMManagedInstanceCore, which
// also lets an instance read every SSM parameter and document of the account, take part in State
// Manager associations and inventory, and fetch any S3 object an association names. None of these
// actions takes a resource narrower than *.
var (
	// sessionChannel is what Session Manager needs on the instance: registering with Systems
	// Manager and the session channels.
	sessionChannel = []string{
		"ssm:UpdateInstanceInformation",
		"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
		"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	}
	// commandChannel is what Run Command needs besides: the agent takes commands over the
	// session channel's message gateway where it may (agent 3.3.40 and later), else over the
	// ec2messages service.
	commandChannel = []string{
		"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
		"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
	}
)

// grantAgentChannels lets an instance role's agent register and open the channels of actions.
func grantAgentChannels(role awsiam.IRole, sid string, actions ...[]string) {
	var all []string
	for _, a := range actions {
		all = append(all, a...)
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String(sid), Actions: jsii.Strings(all...), Resources: jsii.Strings("*"),
	}))
}
