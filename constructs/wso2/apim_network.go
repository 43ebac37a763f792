package wso2

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/netplan"
)

// Tier names a subnet tier of the network; see the constants below.
type Tier = netplan.Tier

// The subnet tiers of an ApimNetwork.
const (
	// TierPublic holds the internet-facing load balancers, the NAT gateways and the bastion.
	TierPublic = netplan.TierPublic
	// TierApplication holds every WSO2 node and the update instance.
	TierApplication = netplan.TierApplication
	// TierManagement holds CI/CD tooling such as a Puppet master.
	TierManagement = netplan.TierManagement
	// TierData holds the database and has no route out of the VPC.
	TierData = netplan.TierData
)

// TierCidr places one tier inside the VPC block.
type TierCidr struct {
	// Block is the tier's whole range. The tier's subnets are cut from it in availability-zone
	// order, and the network ACLs name the tier by this one block.
	// Default: the default plan's block for the tier (see netplan.DefaultTiers).
	Block *string
	// SubnetMask is the prefix length of each zone's subnet.
	// Default: the default plan's mask when Block is not given, otherwise Block's length plus 2
	// (room for four zones).
	SubnetMask *float64
}

// CidrPlan places the four tiers inside the VPC block. Each field left nil takes the default plan's
// block for that tier.
type CidrPlan struct {
	Public      *TierCidr
	Application *TierCidr
	Management  *TierCidr
	Data        *TierCidr
}

// ExistingTierSubnets maps the subnets of a VPC the caller already has onto the tiers.
type ExistingTierSubnets struct {
	// Public selects the subnets for load balancers and the bastion. Required.
	Public *awsec2.SubnetSelection
	// Application selects the private subnets for the WSO2 nodes. Required.
	Application *awsec2.SubnetSelection
	// Management selects the subnets of CI/CD tooling. Default: the network has no management tier.
	Management *awsec2.SubnetSelection
	// Data selects the isolated subnets for the database. Required.
	Data *awsec2.SubnetSelection
}

// ApimNetworkProps configures an ApimNetwork. Every field is optional: the zero value builds the
// reference network across the stack's first two availability zones.
type ApimNetworkProps struct {
	// AvailabilityZones names the zones to span, for example the article's us-west-1b and
	// us-west-1c. At least two.
	// Default: the first AzCount zones of the stack's region.
	AvailabilityZones *[]*string
	// AzCount is how many zones to span when AvailabilityZones is not given. At least two; an
	// environment-agnostic stack knows only two zones, so more needs a stack env or named zones.
	// Default: 2.
	AzCount *float64
	// Cidr is the VPC's IPv4 block, /16 to /28.
	// Default: 10.0.0.0/16.
	Cidr *string
	// CidrPlan places each tier inside Cidr.
	// Default: public, management and data tiers in the first three sixteenths of the block with
	// one /24 per zone, the application tier in the upper half with one /20 per zone (for a /16).
	CidrPlan *CidrPlan
	// SingleNatGateway puts one NAT gateway in the first zone for the whole VPC, a cost option
	// that gives up egress when that zone fails.
	// Default: false, one NAT gateway per zone.
	SingleNatGateway *bool
	// AdminSSHCidrs lists the ranges allowed to reach the bastion's SSH port through the public
	// tier's network ACL (at most 16). 0.0.0.0/0 is refused unless AllowSSHFromAnywhere is set.
	// Default: none; the public tier admits no SSH (Session Manager needs none).
	AdminSSHCidrs *[]*string
	// AllowSSHFromAnywhere lets AdminSSHCidrs contain 0.0.0.0/0.
	// Default: false.
	AllowSSHFromAnywhere *bool
	// AdminSshCidrs is AdminSSHCidrs.
	//
	// Deprecated: use AdminSSHCidrs.
	AdminSshCidrs *[]*string
	// AllowSshFromAnywhere is AllowSSHFromAnywhere.
	//
	// Deprecated: use AllowSSHFromAnywhere.
	AllowSshFromAnywhere *bool
	// DatabasePort is the port the data tier admits from the application and management tiers.
	// Default: 3306 (MySQL).
	DatabasePort *float64
	// FlowLogRetention bounds how long VPC flow logs are kept.
	// Default: one year.
	FlowLogRetention awslogs.RetentionDays
	// EncryptionKey encrypts the flow-log group. A key passed here must allow the CloudWatch Logs
	// service principal to use it; the construct adds that grant to a key it can modify.
	// Default: a new customer-managed key with yearly rotation, retained on stack deletion.
	EncryptionKey awskms.IKey
	// InterfaceEndpoints lists AWS services to reach through interface endpoints in the
	// application subnets, so private nodes call them without the NAT gateway.
	// RecommendedInterfaceEndpoints gives the set WSO2 nodes and Session Manager use.
	// Default: none (an S3 gateway endpoint is always created).
	InterfaceEndpoints *[]awsec2.InterfaceVpcEndpointAwsService
	// ExistingVpc uses a VPC the caller already has instead of creating one. The construct then
	// creates nothing and only maps ExistingSubnets onto the tiers; the VPC's owner keeps its
	// ACLs, flow logs and endpoints. Cannot be combined with the props that shape a new VPC.
	// Default: a new VPC.
	ExistingVpc awsec2.IVpc
	// ExistingSubnets maps ExistingVpc's subnets onto the tiers. Required with ExistingVpc.
	ExistingSubnets *ExistingTierSubnets
}

// RecommendedInterfaceEndpoints returns the interface endpoints a private WSO2 node uses: Session
// Manager (ssm, ssmmessages, ec2messages), Secrets Manager for database credentials, CloudWatch
// Logs and CloudWatch metrics for the agent.
func RecommendedInterfaceEndpoints() *[]awsec2.InterfaceVpcEndpointAwsService {
	return &[]awsec2.InterfaceVpcEndpointAwsService{
		awsec2.InterfaceVpcEndpointAwsService_SSM(),
		awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES(),
		awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES(),
		awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
		awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(),
		awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_MONITORING(),
	}
}

// ApimNetwork is the network of the reference architecture: a VPC across two or more availability
// zones with four subnet tiers (public, application, management, data), NAT egress per zone, a
// network ACL per tier, encrypted flow logs and VPC endpoints. It can also wrap a VPC the caller
// already has.
type ApimNetwork struct {
	constructs.Construct
	vpc      awsec2.IVpc
	azs      []string
	subnets  map[Tier][]awsec2.ISubnet
	plan     *netplan.Plan
	flowLogs awslogs.ILogGroup
	dbPort   int
}

const networkName = "ApimNetwork"

// Default values of ApimNetworkProps.
const (
	DefaultAzCount      = 2
	DefaultDatabasePort = 3306
)

// NewApimNetwork builds the network. It panics, before adding anything to the tree, when a prop is
// invalid.
func NewApimNetwork(scope constructs.Construct, id string, props *ApimNetworkProps) *ApimNetwork {
	if props == nil {
		props = &ApimNetworkProps{}
	}
	props = currentNetworkProps(props)
	if props.ExistingVpc != nil || props.ExistingSubnets != nil {
		return importNetwork(scope, id, props)
	}
	cfg := resolveNetwork(scope, props)

	n := &ApimNetwork{plan: &cfg.plan, azs: cfg.azs, dbPort: cfg.acl.DatabasePort}
	constructs.NewConstruct_Override(n, scope, &id)
	pinFlags(n)

	subnetConfig := func(t Tier, kind awsec2.SubnetType) *awsec2.SubnetConfiguration {
		c := &awsec2.SubnetConfiguration{
			Name:       jsii.String(string(t)),
			SubnetType: kind,
			CidrMask:   jsii.Number(cfg.plan.Tiers[t].SubnetPrefix),
		}
		if kind == awsec2.SubnetType_PUBLIC {
			// Nothing in the public tier needs an address it did not ask for: load balancers
			// and NAT gateways bring their own, a bastion in SSH mode gets an Elastic IP.
			c.MapPublicIpOnLaunch = jsii.Bool(false)
		}
		return c
	}
	natGateways := len(cfg.azs)
	if cfg.singleNat {
		natGateways = 1
	}
	vpc := awsec2.NewVpc(n, jsii.String("Resource"), &awsec2.VpcProps{
		IpAddresses:       &planAddresses{plan: cfg.plan},
		AvailabilityZones: jsii.Strings(cfg.azs...),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			subnetConfig(TierPublic, awsec2.SubnetType_PUBLIC),
			subnetConfig(TierApplication, awsec2.SubnetType_PRIVATE_WITH_EGRESS),
			subnetConfig(TierManagement, awsec2.SubnetType_PRIVATE_WITH_EGRESS),
			subnetConfig(TierData, awsec2.SubnetType_PRIVATE_ISOLATED),
		},
		NatGateways:                  jsii.Number(natGateways),
		NatGatewaySubnets:            &awsec2.SubnetSelection{SubnetGroupName: jsii.String(string(TierPublic))},
		EnableDnsHostnames:           jsii.Bool(true),
		EnableDnsSupport:             jsii.Bool(true),
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	n.vpc = vpc
	suppressRestrictDefaultSGProvider(vpc)
	n.subnets = map[Tier][]awsec2.ISubnet{}
	for _, t := range netplan.Tiers() {
		n.subnets[t] = *vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(string(t))}).Subnets
	}

	n.addAcls(cfg)
	n.addFlowLogs(props)
	n.addEndpoints(props)
	weakenReferences(n)
	return n
}

// Vpc returns the network's VPC.
func (n *ApimNetwork) Vpc() awsec2.IVpc { return n.vpc }

// AvailabilityZones returns the zones the network spans, in subnet order.
func (n *ApimNetwork) AvailabilityZones() []string { return slices.Clone(n.azs) }

// DatabasePort returns the port the data tier admits (3306 for an imported VPC).
func (n *ApimNetwork) DatabasePort() int { return n.dbPort }

// FlowLogGroup returns the log group that receives the VPC flow logs, or nil for an imported VPC.
func (n *ApimNetwork) FlowLogGroup() awslogs.ILogGroup { return n.flowLogs }

// HasTier reports whether the network has subnets for the tier (an imported VPC may lack a
// management tier).
func (n *ApimNetwork) HasTier(t Tier) bool { return len(n.subnets[t]) > 0 }

// Subnets selects every subnet of a tier. It panics if the network has no such tier.
func (n *ApimNetwork) Subnets(t Tier) *awsec2.SubnetSelection {
	return &awsec2.SubnetSelection{Subnets: n.tierSubnets(t)}
}

// SubnetsInAz selects a tier's subnet in one availability zone, to pin a node (a traffic manager)
// to that zone. It panics if the network does not span az.
func (n *ApimNetwork) SubnetsInAz(t Tier, az string) *awsec2.SubnetSelection {
	var picked []awsec2.ISubnet
	for _, s := range *n.tierSubnets(t) {
		if *s.AvailabilityZone() == az {
			picked = append(picked, s)
		}
	}
	if len(picked) == 0 {
		propsError(networkName, "the %s tier has no subnet in %q; the network spans %s", t, az, strings.Join(n.azs, ", "))
	}
	return &awsec2.SubnetSelection{Subnets: &picked}
}

// TierBlock returns the aggregate CIDR block of a tier, or "" for an imported VPC, whose tiers
// need not be contiguous.
func (n *ApimNetwork) TierBlock(t Tier) string {
	if n.plan == nil {
		return ""
	}
	return n.plan.Block(t).String()
}

func (n *ApimNetwork) tierSubnets(t Tier) *[]awsec2.ISubnet {
	s, ok := n.subnets[t]
	if !ok || len(s) == 0 {
		propsError(networkName, "the network has no %s tier: pass ExistingSubnets.%s with ExistingVpc", t, t)
	}
	return &s
}

// networkConfig is ApimNetworkProps after defaults and validation.
type networkConfig struct {
	azs       []string
	plan      netplan.Plan
	singleNat bool
	acl       netplan.AclOptions
}

func resolveNetwork(scope constructs.Construct, props *ApimNetworkProps) networkConfig {
	cfg := networkConfig{azs: resolveAzs(scope, props)}
	cfg.plan = resolvePlan(props, len(cfg.azs))
	cfg.singleNat = props.SingleNatGateway != nil && *props.SingleNatGateway
	cfg.acl.DatabasePort = DefaultDatabasePort
	if props.DatabasePort != nil {
		p := *props.DatabasePort
		if p != float64(int(p)) || p < 1 || p > 65535 {
			propsError(networkName, "DatabasePort %v is not a TCP port: use a whole number from 1 to 65535 (MySQL listens on 3306)", p)
		}
		cfg.acl.DatabasePort = int(p)
	}
	cfg.acl.AdminSSH = resolveAdminSSH(props)
	cfg.acl.InterfaceEndpoints = props.InterfaceEndpoints != nil && len(*props.InterfaceEndpoints) > 0
	return cfg
}

var azSuffix = regexp.MustCompile(`^[a-z]$`)

func resolveAzs(scope constructs.Construct, props *ApimNetworkProps) []string {
	stack := awscdk.Stack_Of(scope)
	region := ""
	if !unresolved(stack.Region()) {
		region = *stack.Region()
	}
	known := knownAzs(scope, stack)

	if props.AvailabilityZones != nil {
		names := make([]string, 0, len(*props.AvailabilityZones))
		for _, az := range *props.AvailabilityZones {
			names = append(names, *az)
		}
		if props.AzCount != nil && int(*props.AzCount) != len(names) {
			propsError(networkName, "AzCount is %v but AvailabilityZones names %d zones: give only one of them", *props.AzCount, len(names))
		}
		if len(names) < 2 {
			propsError(networkName, "AvailabilityZones names %d zone(s) %v; the architecture needs at least 2 so every profile survives the loss of one: add a second zone", len(names), names)
		}
		for i, az := range names {
			if slices.Contains(names[:i], az) {
				propsError(networkName, "AvailabilityZones lists %q twice: each zone once", az)
			}
			if region != "" && (!strings.HasPrefix(az, region) || !azSuffix.MatchString(strings.TrimPrefix(az, region))) {
				propsError(networkName, "AvailabilityZones: %q is not a zone of the stack's region %s: use names such as %sa", az, region, region)
			}
			if known != nil && !slices.Contains(known, az) {
				propsError(networkName, "AvailabilityZones: %q is not offered to this account in %s, which has %s: pick from those", az, region, strings.Join(known, ", "))
			}
		}
		return names
	}

	count := DefaultAzCount
	if props.AzCount != nil {
		count = int(*props.AzCount)
		if float64(count) != *props.AzCount || count < 2 {
			propsError(networkName, "AzCount is %v; the architecture needs at least 2 zones so every profile survives the loss of one: set AzCount to 2 or more", *props.AzCount)
		}
	}
	if known != nil && count > len(known) {
		propsError(networkName, "AzCount is %d but region %s offers this account only %d zones (%s): lower AzCount", count, region, len(known), strings.Join(known, ", "))
	}
	envAgnostic := unresolved(stack.Account()) || region == ""
	if envAgnostic && count > 2 {
		propsError(networkName, "AzCount is %d, but an environment-agnostic stack knows only 2 zones: set the stack's env (account and region) or name the zones in AvailabilityZones", count)
	}
	all := *stack.AvailabilityZones()
	azs := make([]string, 0, count)
	for _, az := range all[:min(count, len(all))] {
		azs = append(azs, *az)
	}
	return azs
}

// knownAzs returns the zones the CDK context records for the stack's account and region (from a
// lookup cached in cdk.context.json, or set by the app), or nil when they are not known. It never
// triggers a lookup itself.
func knownAzs(scope constructs.Construct, stack awscdk.Stack) []string {
	if unresolved(stack.Account()) || unresolved(stack.Region()) {
		return nil
	}
	key := fmt.Sprintf("availability-zones:account=%s:region=%s", *stack.Account(), *stack.Region())
	raw, ok := scope.Node().TryGetContext(jsii.String(key)).([]any)
	if !ok {
		return nil
	}
	var azs []string
	for _, v := range raw {
		if s, ok := v.(string); ok {
			azs = append(azs, s)
		}
	}
	return azs
}

// privateBlocks are the ranges a VPC block may come from: RFC 1918's and the shared address
// space (RFC 6598), which AWS also allows.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
}

func resolvePlan(props *ApimNetworkProps, azCount int) netplan.Plan {
	cidr := netplan.DefaultVpcCidr
	if props.Cidr != nil {
		cidr = *props.Cidr
	}
	vpc, err := netplan.ParseCidr("Cidr", cidr)
	if err != nil {
		propsError(networkName, "%v", err)
	}
	if !slices.ContainsFunc(privateBlocks, func(p netip.Prefix) bool { return p.Bits() <= vpc.Bits() && p.Contains(vpc.Addr()) }) {
		propsError(networkName, "Cidr %s is not a private range: addresses in it belong to others on the internet, whom the VPC "+
			"could no longer reach; use a block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (or 100.64.0.0/10)", vpc)
	}
	plan := netplan.Plan{Vpc: vpc, Tiers: map[Tier]netplan.TierBlock{}}
	var given CidrPlan
	if props.CidrPlan != nil {
		given = *props.CidrPlan
	}
	overrides := map[Tier]*TierCidr{
		TierPublic: given.Public, TierApplication: given.Application,
		TierManagement: given.Management, TierData: given.Data,
	}
	var defaults map[Tier]netplan.TierBlock
	for _, t := range netplan.Tiers() {
		o := overrides[t]
		if o != nil && o.Block != nil {
			block, err := netplan.ParseCidr(fmt.Sprintf("CidrPlan.%s.Block", t), *o.Block)
			if err != nil {
				propsError(networkName, "%v", err)
			}
			tb := netplan.TierBlock{Block: block, SubnetPrefix: block.Bits() + 2}
			if o.SubnetMask != nil {
				tb.SubnetPrefix = int(*o.SubnetMask)
			}
			plan.Tiers[t] = tb
			continue
		}
		if defaults == nil {
			if defaults, err = netplan.DefaultTiers(vpc); err != nil {
				propsError(networkName, "%v", err)
			}
		}
		tb := defaults[t]
		if o != nil && o.SubnetMask != nil {
			tb.SubnetPrefix = int(*o.SubnetMask)
		}
		plan.Tiers[t] = tb
	}
	if err := plan.Validate(azCount); err != nil {
		propsError(networkName, "%v", err)
	}
	return plan
}

func resolveAdminSSH(props *ApimNetworkProps) []netip.Prefix {
	if props.AdminSSHCidrs == nil {
		return nil
	}
	if len(*props.AdminSSHCidrs) > netplan.MaxAdminRanges {
		propsError(networkName, "AdminSSHCidrs lists %d ranges; the public network ACL has room for %d: summarise them into fewer blocks", len(*props.AdminSSHCidrs), netplan.MaxAdminRanges)
	}
	anywhereOK := props.AllowSSHFromAnywhere != nil && *props.AllowSSHFromAnywhere
	var out []netip.Prefix
	for i, s := range *props.AdminSSHCidrs {
		p, err := netplan.ParseCidr(fmt.Sprintf("AdminSSHCidrs[%d]", i), *s)
		if err != nil {
			propsError(networkName, "%v", err)
		}
		if p.Bits() == 0 && !anywhereOK {
			propsError(networkName, "AdminSSHCidrs[%d] is %s, which opens SSH to the whole internet: list your admin ranges instead, or set AllowSSHFromAnywhere to true to accept the risk", i, p)
		}
		out = append(out, p)
	}
	return out
}

// planAddresses hands the VPC the CIDRs of the plan, so that each tier's subnets are carved from
// the tier's block in zone order (the VPC's own allocator packs groups one after another).
type planAddresses struct{ plan netplan.Plan }

func (a *planAddresses) AllocateVpcCidr() *awsec2.VpcIpamOptions {
	return &awsec2.VpcIpamOptions{CidrBlock: jsii.String(a.plan.Vpc.String())}
}

func (a *planAddresses) AllocateSubnetsCidr(input *awsec2.AllocateCidrRequest) *awsec2.SubnetIpamOptions {
	seen := map[Tier]int{}
	out := make([]*awsec2.AllocatedSubnet, 0, len(*input.RequestedSubnets))
	for _, req := range *input.RequestedSubnets {
		t := Tier(*req.Configuration.Name)
		out = append(out, &awsec2.AllocatedSubnet{Cidr: jsii.String(a.plan.Subnet(t, seen[t]).String())})
		seen[t]++
	}
	return &awsec2.SubnetIpamOptions{AllocatedSubnets: &out}
}

// addAcls gives every tier its network ACL from the tables in netplan.Acls.
func (n *ApimNetwork) addAcls(cfg networkConfig) {
	tables := netplan.Acls(cfg.plan, cfg.acl)
	for _, t := range netplan.Tiers() {
		acl := awsec2.NewNetworkAcl(n, jsii.String(string(t)+"Acl"), &awsec2.NetworkAclProps{
			Vpc:             n.vpc,
			SubnetSelection: n.Subnets(t),
		})
		for _, r := range tables[t] {
			dir, id := awsec2.TrafficDirection_INGRESS, "Ingress"
			if r.Egress {
				dir, id = awsec2.TrafficDirection_EGRESS, "Egress"
			}
			acl.AddEntry(jsii.String(fmt.Sprintf("%s%d", id, r.Number)), &awsec2.CommonNetworkAclEntryOptions{
				RuleNumber: jsii.Number(r.Number),
				Cidr:       awsec2.AclCidr_Ipv4(jsii.String(r.Peer.String())),
				Traffic:    awsec2.AclTraffic_TcpPortRange(jsii.Number(r.FromPort), jsii.Number(r.ToPort)),
				Direction:  dir,
				RuleAction: awsec2.Action_ALLOW,
			})
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(n, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-VPC3"),
		Reason: jsii.String("The reference architecture asks for a network ACL per subnet tier as a coarse " +
			"boundary under the per-flow security groups; the rule tables are in constructs/netplan/acl.go."),
	}}, jsii.Bool(true))
}

// addFlowLogs sends every flow of the VPC to an encrypted log group with bounded retention.
func (n *ApimNetwork) addFlowLogs(props *ApimNetworkProps) {
	stack := awscdk.Stack_Of(n)
	key := props.EncryptionKey
	if key == nil {
		key = newKey(n, "FlowLogKey", fmt.Sprintf("Encrypts the VPC flow logs of %s", *n.Node().Path()))
	}
	allowLogsToUseKey(key, stack)
	retention := props.FlowLogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}
	group := awslogs.NewLogGroup(n, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		EncryptionKey: key,
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	flowLog := n.vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(group, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	// The role aws-cdk-lib made may be assumed by the flow-log service for this account's flow
	// logs only (AWS's confused-deputy advice), updated in place rather than replaced.
	if role, ok := flowLog.Node().TryFindChild(jsii.String("IAMRole")).(awsiam.Role); ok {
		role.Node().DefaultChild().(awsiam.CfnRole).AddPropertyOverride(jsii.String("AssumeRolePolicyDocument.Statement.0.Condition"), map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ec2"), Resource: jsii.String("vpc-flow-log"), ResourceName: jsii.String("*"),
			})},
		})
	}
	n.flowLogs = group
}

// addEndpoints adds the S3 gateway endpoint for the private tiers and the requested interface
// endpoints, the latter reachable on 443 from the tiers that run instances.
func (n *ApimNetwork) addEndpoints(props *ApimNetworkProps) {
	n.vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{n.Subnets(TierApplication), n.Subnets(TierManagement)},
	})
	if props.InterfaceEndpoints == nil || len(*props.InterfaceEndpoints) == 0 {
		return
	}
	sg := awsec2.NewSecurityGroup(n, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              n.vpc,
		Description:      jsii.String("Interface endpoints: HTTPS from the public, application and management tiers"),
		AllowAllOutbound: jsii.Bool(false),
	})
	for _, t := range []Tier{TierPublic, TierApplication, TierManagement} {
		sg.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(n.TierBlock(t))), awsec2.Port_Tcp(jsii.Number(443)),
			jsii.String(fmt.Sprintf("HTTPS to AWS APIs from the %s tier", strings.ToLower(string(t)))), jsii.Bool(false))
	}
	seen := map[string]bool{}
	for _, svc := range *props.InterfaceEndpoints {
		name := *svc.ShortName()
		if seen[name] {
			propsError(networkName, "InterfaceEndpoints lists %q twice: each service once", name)
		}
		seen[name] = true
		n.vpc.AddInterfaceEndpoint(jsii.String(endpointID(name)), &awsec2.InterfaceVpcEndpointOptions{
			Service:           svc,
			Subnets:           n.Subnets(TierApplication),
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			Open:              jsii.Bool(false),
			PrivateDnsEnabled: jsii.Bool(true),
		})
	}
}

// endpointID turns a service short name such as "ssm-messages" or "secretsmanager" into a
// construct id such as "SsmMessagesEndpoint".
func endpointID(short string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(short, func(r rune) bool { return r == '-' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Endpoint"
}

// importNetwork wraps a VPC the caller already has.
func importNetwork(scope constructs.Construct, id string, props *ApimNetworkProps) *ApimNetwork {
	if props.ExistingVpc == nil {
		propsError(networkName, "ExistingSubnets was given without ExistingVpc: pass the VPC the subnets belong to, or drop ExistingSubnets to create a new network")
	}
	conflicts := []struct {
		name string
		set  bool
	}{
		{"AvailabilityZones", props.AvailabilityZones != nil},
		{"AzCount", props.AzCount != nil},
		{"Cidr", props.Cidr != nil},
		{"CidrPlan", props.CidrPlan != nil},
		{"SingleNatGateway", props.SingleNatGateway != nil},
		{"AdminSSHCidrs", props.AdminSSHCidrs != nil},
		{"AllowSSHFromAnywhere", props.AllowSSHFromAnywhere != nil},
		{"DatabasePort", props.DatabasePort != nil},
		{"FlowLogRetention", props.FlowLogRetention != ""},
		{"EncryptionKey", props.EncryptionKey != nil},
		{"InterfaceEndpoints", props.InterfaceEndpoints != nil},
	}
	for _, c := range conflicts {
		if c.set {
			propsError(networkName, "ExistingVpc and %s were both given: %s shapes a new VPC, and an existing VPC keeps its own; drop one of them", c.name, c.name)
		}
	}
	sel := props.ExistingSubnets
	if sel == nil {
		propsError(networkName, "ExistingVpc needs ExistingSubnets: map at least the Public, Application and Data tiers onto the VPC's subnets")
	}
	given := map[Tier]*awsec2.SubnetSelection{
		TierPublic: sel.Public, TierApplication: sel.Application, TierManagement: sel.Management, TierData: sel.Data,
	}
	for _, t := range []Tier{TierPublic, TierApplication, TierData} {
		if given[t] == nil {
			propsError(networkName, "ExistingSubnets.%s is required with ExistingVpc: select the subnets of the %s tier", t, strings.ToLower(string(t)))
		}
	}

	n := &ApimNetwork{vpc: props.ExistingVpc, subnets: map[Tier][]awsec2.ISubnet{}, dbPort: DefaultDatabasePort}
	for _, t := range netplan.Tiers() {
		if given[t] == nil {
			continue
		}
		subnets := *props.ExistingVpc.SelectSubnets(given[t]).Subnets
		if len(subnets) == 0 {
			propsError(networkName, "ExistingSubnets.%s selects no subnet of ExistingVpc: check the selection", t)
		}
		n.subnets[t] = subnets
	}
	public := map[string]bool{}
	for _, s := range *props.ExistingVpc.PublicSubnets() {
		public[*s.SubnetId()] = true
	}
	for _, t := range []Tier{TierApplication, TierManagement, TierData} {
		for _, s := range n.subnets[t] {
			if public[*s.SubnetId()] {
				propsError(networkName, "ExistingSubnets.%s selects %s, a public subnet of ExistingVpc (it routes to the internet "+
					"gateway): the %s tier must be private; select the VPC's private or isolated subnets", t, *s.SubnetId(), strings.ToLower(string(t)))
			}
		}
	}
	for _, s := range n.subnets[TierApplication] {
		if az := *s.AvailabilityZone(); !slices.Contains(n.azs, az) {
			n.azs = append(n.azs, az)
		}
	}
	if len(n.azs) < 2 {
		propsError(networkName, "ExistingSubnets.Application spans %d zone(s) %v; the architecture needs at least 2: select subnets in a second zone", len(n.azs), n.azs)
	}
	constructs.NewConstruct_Override(n, scope, &id)
	return n
}

// restrictDefaultSGRole is the path, under its stack, of the role of aws-cdk-lib's provider that
// removes the rules of a VPC's default security group (RestrictDefaultSecurityGroup): one per
// stack, shared by every VPC in it.
const restrictDefaultSGRole = "/Custom::VpcRestrictDefaultSGCustomResourceProvider/Role"

// suppressRestrictDefaultSGProvider records, in the provider role's template metadata, why its
// AWS-managed policy is accepted. The provider is aws-cdk-lib's, made with the VPC at stack level
// outside the construct; cdk-nag's aspect over the app does not report it, but a check of the
// template does (TestNagSynthesizedTemplates), so the reason is written where both read it.
func suppressRestrictDefaultSGProvider(vpc awsec2.Vpc) {
	stack := awscdk.Stack_Of(vpc)
	cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String(*stack.Node().Path()+restrictDefaultSGRole),
		&[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM4"),
			Reason: jsii.String("aws-cdk-lib's provider that strips the rules of the VPC's default security group runs " +
				"with AWSLambdaBasicExecutionRole, the AWS-managed policy that lets it write its own logs; it is not ours to " +
				"change, and leaving the default group open is worse."),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
		}}, jsii.Bool(false))
}
