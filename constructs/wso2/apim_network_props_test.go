package wso2_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"

	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

// Each bad input is refused at synth time with a message that names the prop and the fix.
func TestApimNetworkRefusesBadProps(t *testing.T) {
	knownUsWest1 := map[string]any{
		"availability-zones:account=" + testAccount + ":region=us-west-1": []any{"us-west-1b", "us-west-1c"},
	}
	existing := func(stack awscdk.Stack) awsec2.IVpc {
		return awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:                      jsii.String("vpc-1"),
			AvailabilityZones:          jsii.Strings("us-west-1b", "us-west-1c"),
			PublicSubnetIds:            jsii.Strings("subnet-p1", "subnet-p2"),
			PrivateSubnetIds:           jsii.Strings("subnet-a1", "subnet-a2"),
			PublicSubnetRouteTableIds:  jsii.Strings("rtb-p", "rtb-p"),
			PrivateSubnetRouteTableIds: jsii.Strings("rtb-a1", "rtb-a2"),
		})
	}
	cases := []struct {
		name    string
		region  string
		context map[string]any
		props   func(awscdk.Stack) *wso2.ApimNetworkProps
		want    []string
	}{
		{
			name: "one named zone",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b")}
			},
			want: []string{"AvailabilityZones", "at least 2", "add a second zone"},
		},
		{
			name:  "zone count below two",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps { return &wso2.ApimNetworkProps{AzCount: jsii.Number(1)} },
			want:  []string{"AzCount is 1", "at least 2", "set AzCount to 2 or more"},
		},
		{
			name: "same zone twice",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "us-west-1b")}
			},
			want: []string{"AvailabilityZones lists \"us-west-1b\" twice"},
		},
		{
			name:   "zone of another region",
			region: "us-west-1",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1b", "eu-west-1a")}
			},
			want: []string{`"eu-west-1a" is not a zone of the stack's region us-west-1`},
		},
		{
			name:    "more zones than the region offers",
			region:  "us-west-1",
			context: knownUsWest1,
			props:   func(awscdk.Stack) *wso2.ApimNetworkProps { return &wso2.ApimNetworkProps{AzCount: jsii.Number(3)} },
			want:    []string{"AzCount is 3", "offers this account only 2 zones (us-west-1b, us-west-1c)", "lower AzCount"},
		},
		{
			name:    "a zone the region does not offer",
			region:  "us-west-1",
			context: knownUsWest1,
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AvailabilityZones: jsii.Strings("us-west-1a", "us-west-1b")}
			},
			want: []string{`"us-west-1a" is not offered`, "pick from those"},
		},
		{
			name:  "three zones in an environment-agnostic stack",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps { return &wso2.ApimNetworkProps{AzCount: jsii.Number(3)} },
			want:  []string{"environment-agnostic stack knows only 2 zones", "set the stack's env"},
		},
		{
			name: "invalid CIDR",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{Cidr: jsii.String("10.0.0.0/33")}
			},
			want: []string{`Cidr "10.0.0.0/33" is not an IPv4 CIDR block`},
		},
		{
			name: "CIDR with host bits",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{Cidr: jsii.String("10.0.3.0/16")}
			},
			want: []string{`Cidr "10.0.3.0/16" has host bits set`, `did you mean "10.0.0.0/16"`},
		},
		{
			name: "VPC block larger than AWS allows",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{Cidr: jsii.String("10.0.0.0/8")}
			},
			want: []string{"Cidr 10.0.0.0/8", "between /16 and /28"},
		},
		{
			name: "VPC too small for the default plan",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{Cidr: jsii.String("10.0.0.0/22")}
			},
			want: []string{"default subnet plan needs a VPC of /19 or larger", "give every tier a Block in CidrPlan"},
		},
		{
			name: "overlapping tiers",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{CidrPlan: &wso2.CidrPlan{Data: &wso2.TierCidr{Block: jsii.String("10.0.0.0/22")}}}
			},
			want: []string{"CidrPlan.Public.Block 10.0.0.0/20 overlaps CidrPlan.Data.Block 10.0.0.0/22"},
		},
		{
			name: "tier outside the VPC",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{CidrPlan: &wso2.CidrPlan{Management: &wso2.TierCidr{Block: jsii.String("192.168.0.0/24")}}}
			},
			want: []string{"CidrPlan.Management.Block 192.168.0.0/24 lies outside the VPC block 10.0.0.0/16"},
		},
		{
			name: "tier too small for the zones",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{CidrPlan: &wso2.CidrPlan{Data: &wso2.TierCidr{Block: jsii.String("10.0.32.0/24"), SubnetMask: jsii.Number(24)}}}
			},
			want: []string{"CidrPlan.Data: block 10.0.32.0/24 holds 1 subnet(s) of /24", "spans 2 availability zones"},
		},
		{
			name: "public subnets too small for a load balancer",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{CidrPlan: &wso2.CidrPlan{Public: &wso2.TierCidr{SubnetMask: jsii.Number(28)}}}
			},
			want: []string{"CidrPlan.Public.SubnetMask /28 must be between the block's /20 and /27"},
		},
		{
			name: "SSH from the whole internet without opting in",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AdminSSHCidrs: jsii.Strings("198.51.100.0/24", "0.0.0.0/0")}
			},
			want: []string{"AdminSSHCidrs[1] is 0.0.0.0/0", "opens SSH to the whole internet", "AllowSSHFromAnywhere"},
		},
		{
			name: "admin range that is not a CIDR",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{AdminSSHCidrs: jsii.Strings("office")}
			},
			want: []string{`AdminSSHCidrs[0] "office" is not an IPv4 CIDR block`},
		},
		{
			name: "database port out of range",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{DatabasePort: jsii.Number(70000)}
			},
			want: []string{"DatabasePort 70000 is not a TCP port"},
		},
		{
			name: "existing VPC with a CIDR",
			props: func(s awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{ExistingVpc: existing(s), Cidr: jsii.String("10.1.0.0/16")}
			},
			want: []string{"ExistingVpc and Cidr were both given", "drop one of them"},
		},
		{
			name: "existing VPC without tier selections",
			props: func(s awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{ExistingVpc: existing(s), ExistingSubnets: &wso2.ExistingTierSubnets{
					Public: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
				}}
			},
			want: []string{"ExistingSubnets.Application is required with ExistingVpc"},
		},
		{
			name: "public address block",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{Cidr: jsii.String("8.8.0.0/16")}
			},
			want: []string{"Cidr 8.8.0.0/16 is not a private range", "use a block inside 10.0.0.0/8"},
		},
		{
			name: "existing public subnets as the data tier",
			props: func(s awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{ExistingVpc: existing(s), ExistingSubnets: &wso2.ExistingTierSubnets{
					Public:      &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
					Application: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
					Data:        &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
				}}
			},
			want: []string{"ExistingSubnets.Data selects subnet-p1, a public subnet of ExistingVpc", "the data tier must be private"},
		},
		{
			name: "existing subnets without a VPC",
			props: func(awscdk.Stack) *wso2.ApimNetworkProps {
				return &wso2.ApimNetworkProps{ExistingSubnets: &wso2.ExistingTierSubnets{}}
			},
			want: []string{"ExistingSubnets was given without ExistingVpc"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := testkit.NewApp(tc.context)
			stack := stackIn(app, tc.region)
			props := tc.props(stack)
			msg := panicMessage(func() { wso2.NewApimNetwork(stack, "Network", props) })
			if assert.NotEmpty(t, msg, "NewApimNetwork accepted the props") {
				assert.Contains(t, msg, "ApimNetwork: ")
				for _, w := range tc.want {
					assert.Contains(t, msg, w)
				}
			}
			assert.Nil(t, stack.Node().TryFindChild(jsii.String("Network")), "nothing is added to the tree before the props are validated")
		})
	}
}

func TestApimNetworkAcceptsSSHFromAnywhereWhenAskedByName(t *testing.T) {
	app := testkit.NewApp(nil)
	stack := stackIn(app, "")
	assert.NotPanics(t, func() {
		wso2.NewApimNetwork(stack, "Network", &wso2.ApimNetworkProps{
			AdminSSHCidrs:        jsii.Strings("0.0.0.0/0"),
			AllowSSHFromAnywhere: jsii.Bool(true),
		})
	})
}
