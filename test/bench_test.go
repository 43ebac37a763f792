package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/test/testkit"
)

// emptyApp is the jsii floor: an app with one stack holding one resource (CloudFormation refuses a
// template without resources), built and synthesized the same way as the reference app.
func emptyApp() awscdk.App {
	app := testkit.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Empty"), nil)
	awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Nothing"), nil)
	return app
}

func benchSynth(b *testing.B, build func() awscdk.App) {
	if _, err := testkit.Synth(build()); err != nil { // warm up: jsii started, modules loaded
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := testkit.Synth(build()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	testkit.Cleanup()
}

// BenchmarkSynthEmpty measures a warm synth of the smallest possible app.
func BenchmarkSynthEmpty(b *testing.B) { benchSynth(b, emptyApp) }

// BenchmarkSynthReference measures a warm synth of the reference deployment, cdk-nag included.
func BenchmarkSynthReference(b *testing.B) { benchSynth(b, referenceApp(nil)) }
