package wso2

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// amiID is an EC2 image id.
var amiID = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)

// fixedImage is one AMI by id, in whatever region the stack deploys to.
type fixedImage struct{ id string }

// GetImage implements awsec2.IMachineImage.
func (f *fixedImage) GetImage(constructs.Construct) *awsec2.MachineImageConfig {
	return &awsec2.MachineImageConfig{
		ImageId: jsii.String(f.id), OsType: awsec2.OperatingSystemType_LINUX, UserData: awsec2.UserData_ForLinux(nil),
	}
}

// imageOr is image, or the latest Amazon Linux 2023 of the instance type's architecture.
func imageOr(image awsec2.IMachineImage, it awsec2.InstanceType) awsec2.IMachineImage {
	if image != nil {
		return image
	}
	return latestAmazonLinuxFor(it)
}

// deploymentImages resolves, once per deployment and architecture, the AMI its instances boot:
// the given id for the WSO2 nodes; else, in a stack of known account and region, Amazon Linux
// 2023 looked up at synth and kept in the app's context (cdk.context.json), so it changes only
// when that entry is reset; else (an environment-agnostic stack, where no lookup can run) the
// latest at each deploy, with a warning.
type deploymentImages struct {
	scope  constructs.Construct
	id     *string
	byArch map[awsec2.AmazonLinuxCpuType]awsec2.IMachineImage
	warned bool
}

func newDeploymentImages(scope constructs.Construct, id *string) *deploymentImages {
	if id != nil && !amiID.MatchString(*id) {
		propsError(deploymentName, "MachineImageId %q is not an AMI id (ami- and 8 or 17 hexadecimal digits)", *id)
	}
	return &deploymentImages{scope: scope, id: id, byArch: map[awsec2.AmazonLinuxCpuType]awsec2.IMachineImage{}}
}

// node is the image of WSO2 nodes of arch: MachineImageId when given.
func (d *deploymentImages) node(arch awsec2.AmazonLinuxCpuType) awsec2.IMachineImage {
	if arch == "" {
		arch = awsec2.AmazonLinuxCpuType_ARM_64
	}
	if d.id != nil {
		return &fixedImage{*d.id}
	}
	return d.of(arch)
}

// forInstanceType is the image of a single instance (bastion, update instance).
func (d *deploymentImages) forInstanceType(it awsec2.InstanceType) awsec2.IMachineImage {
	if it.Architecture() == awsec2.InstanceArchitecture_ARM_64 {
		return d.of(awsec2.AmazonLinuxCpuType_ARM_64)
	}
	return d.of(awsec2.AmazonLinuxCpuType_X86_64)
}

func (d *deploymentImages) of(arch awsec2.AmazonLinuxCpuType) awsec2.IMachineImage {
	if img, ok := d.byArch[arch]; ok {
		return img
	}
	stack := awscdk.Stack_Of(d.scope)
	concrete := !unresolved(stack.Account()) && !unresolved(stack.Region())
	if !concrete && !d.warned {
		d.warned = true
		awscdk.Annotations_Of(d.scope).AddWarningV2(jsii.String("apimkit:floatingMachineImage"), jsii.String(
			"The stack's account or region is not known at synth, so the Amazon Linux 2023 image cannot be looked up once and kept in cdk.context.json: "+
				"every deploy resolves the latest image, and a deploy after AWS publishes one replaces every node. Give the stack an env "+
				"(account and region), or MachineImageId, to pin it."), nil)
	}
	var img awsec2.IMachineImage = awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{CpuType: arch})
	if concrete {
		// The same parameter, read at synth through the SSM context provider (the CLI looks it up
		// and keeps it in cdk.context.json). Until it has, the placeholder is a well-formed id, so
		// the synth's template checks pass and the CLI gets to do the lookup; `--no-lookups`
		// refuses to synthesize without the value.
		v := awscdk.ContextProvider_GetValue(d.scope, &awscdk.GetContextValueOptions{
			Provider:   jsii.String("ssm"),
			Props:      &map[string]any{"parameterName": AmazonLinuxParameter(arch)},
			DummyValue: PlaceholderImageId,
		})
		img = &fixedImage{fmt.Sprint(v.Value)}
	}
	d.byArch[arch] = img
	return img
}

// PlaceholderImageId is the image id a deployment's templates hold until the CDK CLI has looked
// up the machine image (the first synth of a stack with an account and region, or a test).
const PlaceholderImageId = "ami-00000000000000000"

// AmazonLinuxParameter is the public SSM parameter of the latest Amazon Linux 2023 (kernel 6.1,
// what aws-cdk-lib's LatestAmazonLinux2023 reads) for arch: a deployment's context key for its
// image is "ssm:account=<account>:parameterName=<this>:region=<region>".
func AmazonLinuxParameter(arch awsec2.AmazonLinuxCpuType) string {
	name := "x86_64"
	if arch == awsec2.AmazonLinuxCpuType_ARM_64 {
		name = "arm64"
	}
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-" + name
}
