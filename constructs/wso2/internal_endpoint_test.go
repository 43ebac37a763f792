package wso2_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

// endpointEnv is a control plane and gateways, and the private zone the endpoint publishes in.
type endpointEnv struct {
	nodeEnv
	controlPlane, gateway *wso2.ProfileAsg
	zone                  awsroute53.IPrivateHostedZone
}

func newEndpointEnv(app awscdk.App) endpointEnv {
	e := endpointEnv{nodeEnv: newNodeEnv(app)}
	e.controlPlane = wso2.NewProfileAsg(e.stack, "ControlPlane", e.props(profiles.ControlPlane))
	e.gateway = wso2.NewProfileAsg(e.stack, "Gateway", e.props(profiles.Gateway))
	e.zone = awsroute53.NewPrivateHostedZone(e.stack, jsii.String("Zone"), &awsroute53.PrivateHostedZoneProps{
		ZoneName: jsii.String("apim.internal"), Vpc: e.network.Vpc(),
	})
	return e
}

var endpointHost string

func endpointTemplate(t *testing.T) map[string]any {
	return testkit.Fixture(t, "endpoint", func() awscdk.App {
		app := testkit.NewApp(partialDeployment)
		e := newEndpointEnv(app)
		ep := wso2.NewApimInternalEndpoint(e.stack, "HubEndpoint", &wso2.ApimInternalEndpointProps{
			Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"),
		})
		ep.AllowFrom(e.gateway)
		endpointHost = ep.Hostname()
		return app
	}).Stack(t, "Test").Template
}

func TestInternalEndpoint(t *testing.T) {
	tmpl := endpointTemplate(t)
	assert.Equal(t, "cp.apim.internal", endpointHost)

	_, nlb := one(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	p := testkit.Props(nlb)
	assert.Equal(t, "network", p["Type"])
	assert.Equal(t, "internal", p["Scheme"])
	assert.Contains(t, fmt.Sprint(p["Subnets"]), "NetworkApplicationSubnet")
	assert.NotContains(t, fmt.Sprint(p["Subnets"]), "NetworkPublicSubnet")
	attrs := fmt.Sprint(p["LoadBalancerAttributes"])
	assert.Contains(t, attrs, "Key:deletion_protection.enabled Value:true")
	assert.Contains(t, attrs, "Key:load_balancing.cross_zone.enabled Value:true")
	assert.NotContains(t, attrs, "access_logs.s3.enabled", "no bucket given: no access logs")
	assert.Contains(t, fmt.Sprint(nlb["Metadata"]), "AwsSolutions-ELB2", "the missing logs carry a reason")

	listeners := map[float64]string{}
	for _, l := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
		listeners[testkit.Props(l)["Port"].(float64)] = fmt.Sprint(testkit.Props(l)["Protocol"])
	}
	assert.Equal(t, map[float64]string{9443: "TCP", 8672: "TCP"}, listeners, "TCP pass-through on the hub's ports (the broker's TLS one); TLS ends on the nodes")

	groups := map[float64]map[string]any{}
	for _, g := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::TargetGroup") {
		groups[testkit.Props(g)["Port"].(float64)] = testkit.Props(g)
	}
	require.Len(t, groups, 2)
	assert.Equal(t, "HTTPS", groups[9443]["HealthCheckProtocol"])
	assert.Equal(t, "/services/Version", groups[9443]["HealthCheckPath"])
	assert.Equal(t, "TCP", groups[8672]["HealthCheckProtocol"])
	for port, g := range groups {
		assert.Equal(t, "TCP", g["Protocol"], port)
		assert.Equal(t, "instance", g["TargetType"], port)
	}

	asg := resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "ControlPlane")
	assert.Len(t, testkit.Props(asg)["TargetGroupARNs"], 2, "the control plane is registered with both target groups")
	assert.Equal(t, "ELB", testkit.Props(asg)["HealthCheckType"], "nodes the endpoint finds unhealthy are replaced")
	gw := resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", "Gateway")
	assert.Nil(t, testkit.Props(gw)["TargetGroupARNs"])

	_, record := one(t, tmpl, "AWS::Route53::RecordSet")
	rp := testkit.Props(record)
	assert.Equal(t, "cp.apim.internal.", rp["Name"])
	assert.Equal(t, "A", rp["Type"])
	assert.Contains(t, fmt.Sprint(rp["AliasTarget"]), "HubEndpoint")

	// The endpoint's group admits the granted gateways on the two ports and reaches only the
	// control plane on them.
	sgID, sg := resourceWithPrefixID(t, tmpl, "AWS::EC2::SecurityGroup", "HubEndpointSecurityGroup")
	assert.Nil(t, testkit.Props(sg)["SecurityGroupIngress"])
	assert.Nil(t, testkit.Props(sg)["SecurityGroupEgress"], "no inline egress: no all-outbound rule, only the grants below")
	var in, out []string
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupIngress") {
		rp := testkit.Props(r)
		if strings.Contains(fmt.Sprint(rp["GroupId"]), sgID) {
			in = append(in, fmt.Sprintf("%v<%v", rp["FromPort"], rp["SourceSecurityGroupId"]))
		}
	}
	for _, r := range testkit.Resources(tmpl, "AWS::EC2::SecurityGroupEgress") {
		rp := testkit.Props(r)
		if strings.Contains(fmt.Sprint(rp["GroupId"]), sgID) {
			out = append(out, fmt.Sprintf("%v>%v", rp["FromPort"], rp["DestinationSecurityGroupId"]))
		}
	}
	assert.Len(t, in, 2)
	for _, r := range in {
		assert.Contains(t, r, "GatewaySecurityGroup")
	}
	assert.Len(t, out, 2)
	for _, r := range out {
		assert.Contains(t, r, "ControlPlaneSecurityGroup")
	}
}

func TestInternalEndpointRefusesBadProps(t *testing.T) {
	cases := []struct {
		name  string
		props func(e endpointEnv) *wso2.ApimInternalEndpointProps
		want  string
	}{
		{"no network", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp")}
		}, "ApimInternalEndpoint: Network is required"},
		{"no target", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Zone: e.zone, RecordName: jsii.String("cp")}
		}, "ApimInternalEndpoint: Target is required"},
		{"a traffic manager", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			p := e.props(profiles.TrafficManager)
			p.Wiring.Hostname = jsii.String("tm1.apim.internal")
			p.Wiring.Self = &profiles.Node{Host: "tm1.apim.internal", Offset: 1}
			tm := wso2.NewProfileAsg(e.stack, "Tm", p)
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: tm, Zone: e.zone, RecordName: jsii.String("tm")}
		}, "traffic managers are never behind a load balancer"},
		{"no zone", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, RecordName: jsii.String("cp")}
		}, "ApimInternalEndpoint: Zone is required"},
		{"a record name that is not one label", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp.apim")}
		}, `RecordName must be one DNS label (lower-case letters, digits and hyphens, such as "cp"), got "cp.apim"`},
		{"a port the profile does not listen on", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"), Ports: []int{8243}}
		}, "Ports: control-plane nodes do not listen on 8243"},
		{"a port twice", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"), Ports: []int{9443, 9443}}
		}, "Ports lists 9443 twice"},
		{"zonal names for some zones", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"), ZonalRecordNames: []string{"cp1"}}
		}, "ZonalRecordNames gives 1 labels for the network's 2 zones"},
		{"a zonal name repeating the group's", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"), ZonalRecordNames: []string{"cp1", "cp"}}
		}, `ZonalRecordNames[1] "cp" repeats a name`},
		{"a zonal name that is not a label", func(e endpointEnv) *wso2.ApimInternalEndpointProps {
			return &wso2.ApimInternalEndpointProps{Network: e.network, Target: e.controlPlane, Zone: e.zone, RecordName: jsii.String("cp"), ZonalRecordNames: []string{"cp1", "Cp_2"}}
		}, `ZonalRecordNames[1] "Cp_2" is not one DNS label`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEndpointEnv(testkit.NewApp(nil))
			props := tc.props(env)
			msg := panicMessage(func() { wso2.NewApimInternalEndpoint(env.stack, "Endpoint", props) })
			assert.Contains(t, msg, tc.want)
			assert.Nil(t, env.stack.Node().TryFindChild(jsii.String("Endpoint")), "nothing added before validation")
		})
	}
}

// The default ports follow the target: a 3.2 key manager has no JMS broker, so its endpoint
// forwards 9443 alone, where the 4.3 control plane gets its broker's TLS port, 8672, too.
func TestInternalEndpointDefaultPortsFollowTheTarget(t *testing.T) {
	env := newEndpointEnv(testkit.NewApp(nil))
	props := env.props(profiles.KeyManager)
	props.Release = jsii.String("3.2.0")
	props.Wiring.Hostname = jsii.String("km.apim.internal") // the key manager is called by this name
	km := wso2.NewProfileAsg(env.stack, "KeyManager", props)
	require.NotContains(t, km.Profile().Ports, profiles.PortJMS)

	kmEndpoint := wso2.NewApimInternalEndpoint(env.stack, "KmEndpoint", &wso2.ApimInternalEndpointProps{
		Network: env.network, Target: km, Zone: env.zone, RecordName: jsii.String("km"),
	})
	assert.Equal(t, []int{9443}, kmEndpoint.Ports())
	cpEndpoint := wso2.NewApimInternalEndpoint(env.stack, "CpEndpoint", &wso2.ApimInternalEndpointProps{
		Network: env.network, Target: env.controlPlane, Zone: env.zone, RecordName: jsii.String("cp"),
	})
	assert.Equal(t, []int{9443, 8672}, cpEndpoint.Ports())
}

// Zonal names: one CNAME per zone to the load balancer's node in that zone, cross-zone load
// balancing off, and ZonalNodes naming them with the target's offset.
func TestInternalEndpointZonalNames(t *testing.T) {
	app := testkit.NewApp(partialDeployment)
	env := newEndpointEnv(app)
	ep := wso2.NewApimInternalEndpoint(env.stack, "HubEndpoint", &wso2.ApimInternalEndpointProps{
		Network: env.network, Target: env.controlPlane, Zone: env.zone, RecordName: jsii.String("cp"),
		ZonalRecordNames: []string{"cp1", "cp2"},
	})
	assert.Equal(t, []profiles.Node{{Host: "cp1.apim.internal"}, {Host: "cp2.apim.internal"}}, ep.ZonalNodes())
	asm, err := testkit.Synth(app)
	require.NoError(t, err)
	tmpl := asm.Stack(t, "Test").Template
	_, nlb := one(t, tmpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Contains(t, fmt.Sprint(testkit.Props(nlb)["LoadBalancerAttributes"]), "Key:load_balancing.cross_zone.enabled Value:false")
	zones := env.network.AvailabilityZones()
	records := map[string]string{}
	for _, r := range testkit.Resources(tmpl, "AWS::Route53::RecordSet") {
		if testkit.Props(r)["Type"] == "CNAME" {
			records[fmt.Sprint(testkit.Props(r)["Name"])] = fmt.Sprint(testkit.Props(r)["ResourceRecords"])
		}
	}
	require.Len(t, records, 2)
	for i, name := range []string{"cp1.apim.internal.", "cp2.apim.internal."} {
		assert.Contains(t, records[name], zones[i]+" ", "%s names the load balancer's node in %s", name, zones[i])
		assert.Contains(t, records[name], "HubEndpoint")
	}
}
