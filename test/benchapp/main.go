// Command benchapp is the floor `make bench` measures the reference app against: a CDK app with
// one stack and one trivial resource, run the same way (compiled Go binary, cdk.json context,
// the pinned CLI and Node.js), so the difference is the cost of the constructs themselves.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Empty"), nil)
	awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Nothing"), nil)
	app.Synth(nil)
}
