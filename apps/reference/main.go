// Command reference is the CDK app of the reference WSO2 API Manager deployment. cdk.json runs it;
// see docs/deploying.md for the context values it reads.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/apps/reference/refarch"
)

func main() {
	app := awscdk.NewApp(nil)
	cfg, err := refarch.ConfigFromContext(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, "reference app:", err)
		jsii.Close() // os.Exit skips deferred calls; this removes the runtime jsii unpacked
		os.Exit(2)
	}
	defer jsii.Close()
	refarch.New(app, cfg)
	app.Synth(nil)
}
