package wso2

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// ApimInternalEndpointProps configures an ApimInternalEndpoint.
type ApimInternalEndpointProps struct {
	// Network places the endpoint in its application subnets. Required.
	Network *ApimNetwork
	// Target is the group the name leads to: the 4.x control plane or the 3.2 key manager.
	// Traffic managers are refused: gateways reach each of them by its own name (T1). Required.
	Target *ProfileAsg
	// Zone is the private hosted zone the name is published in, usually the traffic-manager
	// pair's. Required.
	Zone awsroute53.IPrivateHostedZone
	// RecordName is the label published in Zone, such as "cp" for cp.<zone>. Required.
	RecordName *string
	// Ports are the target profile's base ports to forward (the target's port offset is applied).
	// Default: those of 9443 (key validation, admin services) and the event hub's broker
	// (8672, its TLS port, from 4.3; 5672 in 3.2) the target listens on: both for the 4.x
	// control plane, 9443 alone for the 3.2 key manager, whose events travel through the
	// traffic managers.
	Ports []int
	// ZonalRecordNames publishes one more label per zone of the network, in the network's zone
	// order, each leading only to the target's nodes in that zone: the record names the load
	// balancer's node in the zone. Peers that must name each node, such as the event hubs of a
	// 4.x control plane of one node per zone, use these.
	// Cross-zone load balancing is then off.
	// Give as many labels as the network has zones, or none.
	// Default: none, and cross-zone load balancing on.
	ZonalRecordNames []string
	// AccessLogBucket receives the load balancer's access logs (SSE-S3, as load balancers
	// require), such as ApimLoadBalancer.AccessLogBucket(). Network Load Balancers only log TLS
	// listeners, so with these TCP listeners the logs stay empty; the network's flow logs record
	// the connections. Default: access logs off.
	AccessLogBucket awss3.IBucket
}

// ApimInternalEndpoint publishes one stable private name for a scalable WSO2 group that other
// nodes call, such as the control plane's key manager and event hub: an internal Network Load
// Balancer in the application subnets, TCP pass-through on the given ports (TLS ends on the
// nodes), and an alias record in a private hosted zone. The load balancer has its own security
// group, so callers are granted by intent with AllowFrom.
type ApimInternalEndpoint struct {
	constructs.Construct
	nlb      awselasticloadbalancingv2.NetworkLoadBalancer
	ports    []int
	hostname string
	zonal    []profiles.Node
	target   *ProfileAsg
}

const internalEndpointName = "ApimInternalEndpoint"

// NewApimInternalEndpoint builds the endpoint. It panics, before adding anything to the tree,
// when a prop is invalid.
func NewApimInternalEndpoint(scope constructs.Construct, id string, props *ApimInternalEndpointProps) *ApimInternalEndpoint {
	if props == nil || props.Network == nil {
		propsError(internalEndpointName, "Network is required: the endpoint lives in its application subnets")
	}
	if props.Target == nil {
		propsError(internalEndpointName, "Target is required: name the group the endpoint leads to")
	}
	profile := props.Target.Profile()
	if profile.Name == profiles.TrafficManager {
		propsError(internalEndpointName, "Target: traffic managers are never behind a load balancer; gateways reach each by its own name (TrafficManagerPair)")
	}
	if props.Zone == nil {
		propsError(internalEndpointName, "Zone is required: the private hosted zone the name is published in (TrafficManagerPair.Zone())")
	}
	if props.RecordName == nil || !dnsLabel.MatchString(*props.RecordName) {
		propsError(internalEndpointName, "RecordName must be one DNS label (lower-case letters, digits and hyphens, such as \"cp\"), got %s", given(props.RecordName))
	}
	ports := props.Ports
	if len(ports) == 0 {
		for _, p := range []int{profiles.PortServletHTTPS, props.Target.version.JMSPort()} {
			if slices.Contains(profile.Ports, p) {
				ports = append(ports, p)
			}
		}
	}
	for _, p := range ports {
		if !slices.Contains(profile.Ports, p) {
			propsError(internalEndpointName, "Ports: %s nodes do not listen on %d (they use %v)", profile.Name, p, profile.Ports)
		}
	}
	for i, p := range ports {
		if slices.Contains(ports[:i], p) {
			propsError(internalEndpointName, "Ports lists %d twice", p)
		}
	}
	zones := props.Network.AvailabilityZones()
	if n := len(props.ZonalRecordNames); n > 0 && n != len(zones) {
		propsError(internalEndpointName, "ZonalRecordNames gives %d labels for the network's %d zones: give one per zone, in the network's order", n, len(zones))
	}
	for i, label := range props.ZonalRecordNames {
		if !dnsLabel.MatchString(label) {
			propsError(internalEndpointName, "ZonalRecordNames[%d] %q is not one DNS label (lower-case letters, digits and hyphens)", i, label)
		}
		if label == *props.RecordName || slices.Contains(props.ZonalRecordNames[:i], label) {
			propsError(internalEndpointName, "ZonalRecordNames[%d] %q repeats a name: each zone needs its own, apart from RecordName", i, label)
		}
	}

	e := &ApimInternalEndpoint{target: props.Target}
	constructs.NewConstruct_Override(e, scope, &id)
	pinFlags(e)
	network := props.Network

	sg := awsec2.NewSecurityGroup(e, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String(fmt.Sprintf("WSO2 %s internal endpoint: only the callers granted, only to the %s nodes", profile.Name, profile.Name)),
		AllowAllOutbound: jsii.Bool(false),
	})
	e.nlb = awselasticloadbalancingv2.NewNetworkLoadBalancer(e, jsii.String("Resource"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc:            network.Vpc(),
		VpcSubnets:     network.Subnets(TierApplication),
		InternetFacing: jsii.Bool(false),
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		// With per-zone names each zone's load-balancer node must lead to that zone's nodes
		// only. The group's one name still fails over: DNS stops naming a zone without healthy
		// targets.
		CrossZoneEnabled:   jsii.Bool(len(props.ZonalRecordNames) == 0),
		DeletionProtection: jsii.Bool(true),
	})
	if props.AccessLogBucket != nil {
		e.nlb.LogAccessLogs(props.AccessLogBucket, jsii.String("nlb-"+*props.RecordName))
	} else {
		cdknag.NagSuppressions_AddResourceSuppressions(e.nlb, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-ELB2"),
			Reason: jsii.String("No AccessLogBucket was given. Network Load Balancer access logs only record TLS listeners; these " +
				"pass TCP through (TLS ends on the WSO2 nodes), so they would stay empty. The VPC flow logs record every connection."),
		}}, jsii.Bool(false))
	}

	health := profile.Health
	for _, base := range ports {
		port := props.Target.Port(base)
		e.ports = append(e.ports, port)
		check := &awselasticloadbalancingv2.HealthCheck{
			Protocol:                awselasticloadbalancingv2.Protocol_TCP,
			Interval:                awscdk.Duration_Seconds(jsii.Number(30)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		}
		if base == health.Port && health.Protocol == "HTTPS" {
			check.Protocol = awselasticloadbalancingv2.Protocol_HTTPS
			check.Path = jsii.String(health.Path)
		}
		tg := awselasticloadbalancingv2.NewNetworkTargetGroup(e, jsii.String(fmt.Sprintf("Port%d", base)), &awselasticloadbalancingv2.NetworkTargetGroupProps{
			Vpc:                 network.Vpc(),
			Port:                jsii.Number(float64(port)),
			Protocol:            awselasticloadbalancingv2.Protocol_TCP,
			TargetType:          awselasticloadbalancingv2.TargetType_INSTANCE,
			DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(60)),
			HealthCheck:         check,
		})
		props.Target.Group().AttachToNetworkTargetGroup(tg)
		props.Target.useLoadBalancerHealthChecks()
		e.nlb.AddListener(jsii.String(fmt.Sprintf("Listener%d", base)), &awselasticloadbalancingv2.BaseNetworkListenerProps{
			Port:                jsii.Number(float64(port)),
			Protocol:            awselasticloadbalancingv2.Protocol_TCP,
			DefaultTargetGroups: &[]awselasticloadbalancingv2.INetworkTargetGroup{tg},
		})
		props.Target.Connections().AllowFrom(sg, awsec2.Port_Tcp(jsii.Number(float64(port))),
			jsii.String(fmt.Sprintf("internal endpoint %s to %s %d", *props.RecordName, profile.Name, base)))
	}

	awsroute53.NewARecord(e, jsii.String("Record"), &awsroute53.ARecordProps{
		Zone:       props.Zone,
		RecordName: props.RecordName,
		Target:     awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(e.nlb, nil)),
		Comment:    jsii.String(fmt.Sprintf("WSO2 %s internal endpoint", profile.Name)),
	})
	zoneName := strings.TrimSuffix(*props.Zone.ZoneName(), ".")
	e.hostname = *props.RecordName + "." + zoneName
	for i, label := range props.ZonalRecordNames {
		// A Network Load Balancer answers <zone>.<its DNS name> with its node in that zone only.
		awsroute53.NewCnameRecord(e, jsii.String(fmt.Sprintf("ZonalRecord%d", i+1)), &awsroute53.CnameRecordProps{
			Zone:       props.Zone,
			RecordName: jsii.String(label),
			DomainName: awscdk.Fn_Join(jsii.String("."), &[]*string{jsii.String(zones[i]), e.nlb.LoadBalancerDnsName()}),
			Ttl:        awscdk.Duration_Minutes(jsii.Number(1)),
			Comment:    jsii.String(fmt.Sprintf("WSO2 %s nodes in the network's zone %d", profile.Name, i+1)),
		})
		e.zonal = append(e.zonal, profiles.Node{Host: label + "." + zoneName, Offset: props.Target.offset})
	}
	wiring := wiringOf(e)
	wiring.addZone(network, zoneName)
	wiring.endpoints[nameKey{network, strings.ToLower(e.hostname)}] = e
	for _, n := range e.zonal {
		wiring.endpoints[nameKey{network, strings.ToLower(n.Host)}] = e
	}
	weakenReferences(e)
	return e
}

// ZonalNodes are the per-zone names (ZonalRecordNames in the zone), in the network's zone order,
// with the target's port offset: the list peers name a control plane's nodes by.
func (e *ApimInternalEndpoint) ZonalNodes() []profiles.Node { return slices.Clone(e.zonal) }

// AllowFrom grants peers every forwarded port of the endpoint.
func (e *ApimInternalEndpoint) AllowFrom(peers ...awsec2.IConnectable) {
	for _, peer := range peers {
		for _, port := range e.ports {
			e.nlb.Connections().AllowFrom(peer, awsec2.Port_Tcp(jsii.Number(float64(port))),
				jsii.String(fmt.Sprintf("to the %s internal endpoint %d", e.hostname, port)))
		}
	}
}

// Connections is the load balancer's security group, for grants AllowFrom does not cover.
func (e *ApimInternalEndpoint) Connections() awsec2.Connections { return e.nlb.Connections() }

// Hostname is the published name, such as cp.apim.internal.
func (e *ApimInternalEndpoint) Hostname() string { return e.hostname }

// Ports are the ports the endpoint listens on (the target's, offset applied).
func (e *ApimInternalEndpoint) Ports() []int { return slices.Clone(e.ports) }

// LoadBalancer is the internal Network Load Balancer.
func (e *ApimInternalEndpoint) LoadBalancer() awselasticloadbalancingv2.NetworkLoadBalancer {
	return e.nlb
}
