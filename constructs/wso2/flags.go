package wso2

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The library's resources must not depend on the feature flags of the app that uses it: an app
// started with an older CDK, or a hand-written cdk.json, sets none, and aws-cdk-lib then keeps
// its old defaults. aws-cdk-lib reads most flags with FeatureFlags.of(scope), which looks up the
// context from the construct that asks up to the app, so a construct can decide a flag for
// everything below it by setting it on its own node before it has children. Stack-level flags
// (the partition written as a literal, the reference strength a consuming stack asks for) are
// read on the stack, which is the app's: those the library handles otherwise (weakenReferences),
// or, where nothing deployed changes, leaves to the app.

// securityFlags are set on the library's constructs whatever the app says: their old default is
// less secure.
var securityFlags = map[string]any{
	// Server access logs delivered through a bucket policy to a bucket that refuses ACLs, rather
	// than through the LogDeliveryWrite ACL, which needs object-writer ownership.
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
}

// defaultFlags are set on the library's constructs only where the app leaves them unset: they
// change how a policy is written, not what it allows, so an app that chose otherwise keeps its
// choice.
var defaultFlags = map[string]any{
	// Statements merged and their actions sorted: the same permissions, written once.
	"@aws-cdk/aws-iam:minimizePolicies": true,
}

// crossStackReferencesFlag is aws-cdk-lib's context key for the strength of cross-stack
// references ("strong", "weak" or "both"), read on the consuming stack.
const crossStackReferencesFlag = "@aws-cdk/core:defaultCrossStackReferences"

// pinFlags sets the library's flags on c, which must not have children yet.
func pinFlags(c constructs.IConstruct) {
	for k, v := range securityFlags {
		c.Node().SetContext(jsii.String(k), v)
	}
	for k, v := range defaultFlags {
		if c.Node().TryGetContext(jsii.String(k)) == nil {
			c.Node().SetContext(jsii.String(k), v)
		}
	}
}

// weakenReferences makes every reference another stack takes to a resource under c weak
// (Fn::GetStackOutput, no export), unless the app names a strength itself. aws-cdk-lib's
// default, without the app's flag, is a strong reference, an export the producing stack cannot
// change or remove while another stack imports it: a later update of the network or the data
// tier that replaces a subnet, a security group or a key would be refused. The strength is read
// on the consuming stack, which the library does not own, so it is set on each producing
// resource instead, which aws-cdk-lib honours before the stack's context. Call it when c's
// resources are all created.
func weakenReferences(c constructs.IConstruct) {
	if c.Node().TryGetContext(jsii.String(crossStackReferencesFlag)) != nil {
		return
	}
	for _, n := range *c.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if *awscdk.CfnResource_IsCfnResource(n) {
			awscdk.CrossStackReferences_Of(n).Produce(awscdk.ReferenceStrength_WEAK)
		}
	}
}
