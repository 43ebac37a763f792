package wso2

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// LoadBalancedProfile routes one public host name to a profile.
type LoadBalancedProfile struct {
	// Profile is the group behind the route. Its profile must be exposed (not a traffic manager
	// or key manager).
	Profile *ProfileAsg
	// Hostname routes requests for this host to the profile.
	Hostname *string
	// PathPatterns are the only paths the route forwards (load balancer path patterns, * any
	// characters and ? one, case-sensitive). A host whose routes all have paths answers every
	// other path with the listener's 404. The patterns go three to a listener rule (what a rule's
	// five match evaluations leave beside the host), at consecutive priorities from the route's:
	// a route of 7 patterns holds Priority, Priority+1 and Priority+2, the first rule keeping the
	// route's id. Default: every path.
	PathPatterns *[]*string
	// Sticky keeps a browser on one node (portals). Default: false.
	Sticky *bool
	// RequestsPerTarget scales the group on requests per node per minute (gateways).
	// Default: no request-count scaling.
	RequestsPerTarget *float64
	// Priority is the listener rule's priority, 1 to 50000, lower first; a route with paths must
	// come before the catch-all route of its host. A route that names one also takes it into
	// its target group's and rule's ids, so it keeps them wherever it moves: give every route
	// one to be free to reorder or remove routes later (with the default, moving a route renames
	// its rule, and CloudFormation creates the new rule while the old still holds the priority).
	// Default: 10 times the route's place in Routes (10, 20, ...).
	Priority *float64
	// WebSocket also serves the host's secure WebSocket APIs (gateways only) on 443: a rule one
	// priority ahead of the route's sends WebSocket handshakes (Upgrade: websocket) to the
	// gateways' secure WebSocket transport (8099, over TLS), as the gateway environment
	// advertises them (wss://<host>). Plain ws:// is not served. Default: false.
	WebSocket *bool
}

// ApimLoadBalancerProps configures an ApimLoadBalancer.
type ApimLoadBalancerProps struct {
	// Network places the load balancer in its public subnets. Required.
	Network *ApimNetwork
	// Certificate is the ACM certificate of the public host names, in the load balancer's region:
	// one the stack creates (awscertificatemanager.NewCertificate) or one you have
	// (awscertificatemanager.Certificate_FromCertificateArn). Required (unless the deprecated
	// CertificateArn is given; not both).
	Certificate awscertificatemanager.ICertificate
	// CertificateArn is the ARN of the ACM certificate of the public host names. Not with
	// Certificate.
	//
	// Deprecated: use Certificate.
	CertificateArn *string
	// Routes lists the profiles the load balancer serves, by host name. Required.
	Routes []LoadBalancedProfile
	// WebAclArn associates an AWS WAF web ACL of your own. Not with WebAcl.
	// Default: none.
	WebAclArn *string
	// WebAcl creates a regional AWS WAF web ACL of AWS managed rules and associates it (see
	// ApimWebAclProps). Not with WebAclArn.
	// Default: none.
	WebAcl *ApimWebAclProps
	// AccessLogBucket receives the access logs (SSE-S3, as load balancers require).
	// Default: a new encrypted, TLS-only, retained bucket.
	AccessLogBucket awss3.IBucket
	// IdleTimeout closes connections silent for longer, WebSocket connections included: 1
	// second to 4000 seconds. Default: 60 seconds, the load balancer's own.
	IdleTimeout awscdk.Duration
	// BlockedPaths are answered 403 by the load balancer on every host it serves from the nodes'
	// servlet port (the portals), ahead of every route (priorities 1, 2, ... one per such host,
	// which routes must leave free): WSO2's management console and SOAP admin services, which
	// WSO2 advises keeping off the internet. The load balancer matches the path as sent, so a
	// path encoded or padded (//carbon, %63arbon) is not matched: put a WAF rule that decodes
	// paths in front for more (WebAcl). At most 3 patterns; an empty list blocks nothing.
	// Default: DefaultBlockedPaths().
	BlockedPaths *[]*string
}

// TraversalPaths are refused (400) on every host served from the nodes' servlet port, in the
// rule after the host's BlockedPaths rule: a dot-dot segment, raw or percent-encoded. The load
// balancer matches the path as sent, while Tomcat resolves "/devportal/../internal/data/v1" (and
// "/devportal/..;/") to a path the portal host refuses, so without this rule an allowed prefix
// would carry a request past the allowlist. No portal or OAuth path has one.
func TraversalPaths() []string { return []string{"*/..*", "*%2e*", "*%2E*"} }

// DefaultBlockedPaths are the paths ApimLoadBalancer refuses on the portal hosts by default: the
// management console (also a tenant's, /t/<domain>/carbon) and the SOAP admin services.
func DefaultBlockedPaths() []string { return []string{"/carbon*", "/services*", "/t/*/carbon*"} }

// ApimLoadBalancer is the internet-facing Application Load Balancer of property P5: in the public
// subnets, HTTPS with a TLS 1.2+ policy, HTTP redirected to HTTPS, access logs, optional WAF, and
// host-based routing to the exposed profiles with WSO2's health checks. Traffic managers are never
// attached.
type ApimLoadBalancer struct {
	constructs.Construct
	alb    awselasticloadbalancingv2.ApplicationLoadBalancer
	logs   awss3.IBucket
	groups map[string]awselasticloadbalancingv2.ApplicationTargetGroup
	routes []lbRoute // every route's target group, in route order
	webAcl awswafv2.CfnWebACL
}

// lbRoute is one route of the load balancer and its target group.
type lbRoute struct {
	host    string
	profile profiles.Name
	id      string // the target group's construct id, unique per route
	group   awselasticloadbalancingv2.ApplicationTargetGroup
}

const loadBalancerName = "ApimLoadBalancer"

var webAclArn = regexp.MustCompile(`^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[A-Za-z0-9_-]+/[a-f0-9-]+$`)

var certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$`)

// NewApimLoadBalancer builds the load balancer. It panics, before adding anything to the tree,
// when a prop is invalid.
func NewApimLoadBalancer(scope constructs.Construct, id string, props *ApimLoadBalancerProps) *ApimLoadBalancer {
	if props == nil || props.Network == nil {
		propsError(loadBalancerName, "Network is required: the load balancer lives in its public subnets")
	}
	c := resolveLoadBalancer(scope, props)

	lb := &ApimLoadBalancer{groups: map[string]awselasticloadbalancingv2.ApplicationTargetGroup{}}
	constructs.NewConstruct_Override(lb, scope, &id)
	pinFlags(lb)
	lb.addAccessLogs(props)
	sg, https := lb.addFrontEnd(props)
	lb.addRefusals(c, https)
	lb.addRoutes(props, https, sg)
	lb.addWebAcl(props)
	weakenReferences(lb)
	return lb
}

// addAccessLogs takes the given access-log bucket, or adds one: encrypted, TLS only, private,
// versioned, retained, its objects kept a year.
func (lb *ApimLoadBalancer) addAccessLogs(props *ApimLoadBalancerProps) {
	lb.logs = props.AccessLogBucket
	if lb.logs == nil {
		bucket := awss3.NewBucket(lb, jsii.String("AccessLogs"), &awss3.BucketProps{
			Encryption:        awss3.BucketEncryption_S3_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
			Versioned:         jsii.Bool(true),
			ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
			RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			LifecycleRules: &[]*awss3.LifecycleRule{{
				Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
				NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
			}},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-S1"),
			Reason: jsii.String("This bucket is itself the access-log destination; logging it into another bucket would only move the question."),
		}}, jsii.Bool(true))
		enableEventBridge(bucket)
		lb.logs = bucket
	}
}

// addFrontEnd adds the internet-facing load balancer in the public subnets, its security group
// (443, and 80 only to redirect), and its two listeners: HTTP redirecting to HTTPS, and HTTPS
// answering 404 to what no rule routes. It returns the security group and the HTTPS listener.
func (lb *ApimLoadBalancer) addFrontEnd(props *ApimLoadBalancerProps) (awsec2.SecurityGroup, awselasticloadbalancingv2.ApplicationListener) {
	network := props.Network
	sg := awsec2.NewSecurityGroup(lb, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("WSO2 public load balancer: HTTPS, and HTTP only to redirect it"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the internet"), jsii.Bool(false))
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from the internet, redirected to HTTPS"), jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(sg, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-EC23"),
		Reason: jsii.String("The internet-facing load balancer serves the public portals and APIs on 443 (80 only redirects)."),
	}}, jsii.Bool(false))

	lb.alb = awselasticloadbalancingv2.NewApplicationLoadBalancer(lb, jsii.String("Resource"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc:                     network.Vpc(),
		VpcSubnets:              network.Subnets(TierPublic),
		InternetFacing:          jsii.Bool(true),
		SecurityGroup:           sg,
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(true),
		IdleTimeout:             props.IdleTimeout,
	})
	lb.alb.LogAccessLogs(lb.logs, jsii.String("alb"))

	lb.alb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:          jsii.Number(80),
		Protocol:      awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Open:          jsii.Bool(false),
		DefaultAction: awselasticloadbalancingv2.ListenerAction_Redirect(&awselasticloadbalancingv2.RedirectOptions{Protocol: jsii.String("HTTPS"), Port: jsii.String("443"), Permanent: jsii.Bool(true)}),
	})
	https := lb.alb.AddListener(jsii.String("Https"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:         jsii.Number(443),
		Protocol:     awselasticloadbalancingv2.ApplicationProtocol_HTTPS,
		Open:         jsii.Bool(false),
		Certificates: &[]awselasticloadbalancingv2.IListenerCertificate{listenerCertificate(props)},
		SslPolicy:    awselasticloadbalancingv2.SslPolicy_RECOMMENDED_TLS,
		DefaultAction: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(404), &awselasticloadbalancingv2.FixedResponseOptions{
			ContentType: jsii.String("text/plain"), MessageBody: jsii.String("Not found"),
		}),
	})
	return sg, https
}

// addRefusals adds the rules ahead of every route: the blocked paths (403) on each host that has
// them, then dot-dot paths (400) on each portal host.
func (lb *ApimLoadBalancer) addRefusals(c loadBalancerConfig, https awselasticloadbalancingv2.ApplicationListener) {
	blocked, blockedHosts, portalHosts := c.blocked, c.blockedHosts, c.portalHosts
	for i, host := range blockedHosts {
		// Named by priority, so a renamed or added host updates a rule in place rather than
		// creating one at a priority the old rule still holds.
		awselasticloadbalancingv2.NewApplicationListenerRule(lb, jsii.String(fmt.Sprintf("Blocked%d", i+1)), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
			Listener: https,
			Priority: jsii.Number(float64(i + 1)),
			Conditions: &[]awselasticloadbalancingv2.ListenerCondition{
				awselasticloadbalancingv2.ListenerCondition_HostHeaders(jsii.Strings(host)),
				awselasticloadbalancingv2.ListenerCondition_PathPatterns(blocked),
			},
			Action: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(403), &awselasticloadbalancingv2.FixedResponseOptions{
				ContentType: jsii.String("text/plain"), MessageBody: jsii.String("Forbidden"),
			}),
		})
	}
	for i, host := range portalHosts {
		awselasticloadbalancingv2.NewApplicationListenerRule(lb, jsii.String(fmt.Sprintf("Traversal%d", i+1)), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
			Listener: https,
			Priority: jsii.Number(float64(len(blockedHosts) + i + 1)),
			Conditions: &[]awselasticloadbalancingv2.ListenerCondition{
				awselasticloadbalancingv2.ListenerCondition_HostHeaders(jsii.Strings(host)),
				awselasticloadbalancingv2.ListenerCondition_PathPatterns(jsii.Strings(TraversalPaths()...)),
			},
			Action: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(400), &awselasticloadbalancingv2.FixedResponseOptions{
				ContentType: jsii.String("text/plain"), MessageBody: jsii.String("Bad request"),
			}),
		})
	}
}

// addWebAcl associates the web ACL given by ARN, or the managed one it adds from WebAcl.
func (lb *ApimLoadBalancer) addWebAcl(props *ApimLoadBalancerProps) {
	if props.WebAclArn != nil {
		awswafv2.NewCfnWebACLAssociation(lb, jsii.String("WebAcl"), &awswafv2.CfnWebACLAssociationProps{
			ResourceArn: lb.alb.LoadBalancerArn(),
			WebAclArn:   props.WebAclArn,
		})
	}
	if props.WebAcl != nil {
		lb.webAcl = newManagedWebAcl(lb, props.WebAcl)
		awswafv2.NewCfnWebACLAssociation(lb, jsii.String("WebAcl"), &awswafv2.CfnWebACLAssociationProps{
			ResourceArn: lb.alb.LoadBalancerArn(),
			WebAclArn:   lb.webAcl.AttrArn(),
		})
	}
}

// nodeTargetGroup is an HTTPS target group of group's nodes on base (offset applied), checked on
// the profile's health endpoint, with group attached.
func nodeTargetGroup(scope constructs.Construct, id string, network *ApimNetwork, group *ProfileAsg, base int,
	sticky awscdk.Duration) awselasticloadbalancingv2.ApplicationTargetGroup {
	health := group.Profile().Health
	tg := awselasticloadbalancingv2.NewApplicationTargetGroup(scope, jsii.String(id), &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc:                 network.Vpc(),
		Port:                jsii.Number(group.Port(base)),
		Protocol:            awselasticloadbalancingv2.ApplicationProtocol_HTTPS,
		TargetType:          awselasticloadbalancingv2.TargetType_INSTANCE,
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(60)),
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Protocol:                awselasticloadbalancingv2.Protocol_HTTPS,
			Port:                    jsii.String(fmt.Sprint(group.Port(health.Port))),
			Path:                    jsii.String(health.Path),
			HealthyHttpCodes:        jsii.String("200"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(30)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		StickinessCookieDuration: sticky,
	})
	group.Group().AttachToApplicationTargetGroup(tg)
	return tg
}

// width orders a host's routes for TargetGroup: a catch-all first, then by its number of paths.
func width(r LoadBalancedProfile) int {
	if r.PathPatterns == nil {
		return math.MaxInt
	}
	return len(*r.PathPatterns)
}

// ruleCount is how many listener rules a route's paths take, three patterns to a rule.
func ruleCount(r LoadBalancedProfile) int {
	if r.PathPatterns == nil || len(*r.PathPatterns) == 0 {
		return 1
	}
	return (len(*r.PathPatterns) + 2) / 3
}

// chunk is the k-th rule's patterns of a route's: three at a time, in the given order.
func chunk(patterns []*string, k int) []string {
	var out []string
	for _, p := range patterns[3*k : min(3*k+3, len(patterns))] {
		out = append(out, *p)
	}
	return out
}

// routePriority is the listener rule priority of Routes[i] (of its first rule).
func routePriority(i int, r LoadBalancedProfile) float64 {
	if r.Priority != nil {
		return *r.Priority
	}
	return float64(10 * (i + 1))
}

func stickiness(sticky *bool) awscdk.Duration {
	if sticky != nil && *sticky {
		return awscdk.Duration_Hours(jsii.Number(1))
	}
	return nil
}

func targetGroupID(n profiles.Name) string {
	switch n {
	case profiles.ControlPlane:
		return "ControlPlane"
	case profiles.Gateway:
		return "Gateway"
	case profiles.Publisher:
		return "Publisher"
	case profiles.DevPortal:
		return "DevPortal"
	}
	return "Profile"
}

// LoadBalancer returns the Application Load Balancer.
func (lb *ApimLoadBalancer) LoadBalancer() awselasticloadbalancingv2.IApplicationLoadBalancer {
	return lb.alb
}

// DNSName is the load balancer's name; point the public host names at it (alias records).
func (lb *ApimLoadBalancer) DNSName() *string { return lb.alb.LoadBalancerDnsName() }

// WebAclArn returns the ARN of the web ACL the load balancer created (WebAcl), or nil.
func (lb *ApimLoadBalancer) WebAclArn() *string {
	if lb.webAcl == nil {
		return nil
	}
	return lb.webAcl.AttrArn()
}

// AccessLogBucket returns the bucket that receives the access logs.
func (lb *ApimLoadBalancer) AccessLogBucket() awss3.IBucket { return lb.logs }

// TargetGroup returns the target group that serves a host name (of several routes on one host,
// the catch-all route's, else that of the route with the most paths, the first of equals), or nil.
func (lb *ApimLoadBalancer) TargetGroup(hostname string) awselasticloadbalancingv2.ApplicationTargetGroup {
	return lb.groups[hostname]
}

// loadBalancerConfig is an ApimLoadBalancer's props resolved and checked, before anything is
// added to the tree.
type loadBalancerConfig struct {
	// blocked are the paths refused on the portal hosts.
	blocked *[]*string
	// portalHosts are the hosts served from the nodes' servlet port, sorted; blockedHosts are the
	// same when any path is blocked.
	portalHosts, blockedHosts []string
}

// resolveLoadBalancer checks props (certificate, web ACL, routes and their priorities) and fills
// their defaults; a bad prop panics with its name.
func resolveLoadBalancer(scope constructs.Construct, props *ApimLoadBalancerProps) loadBalancerConfig {
	checkCertificate(scope, props)
	if props.WebAclArn != nil && !unresolved(props.WebAclArn) && !webAclArn.MatchString(*props.WebAclArn) {
		propsError(loadBalancerName, "WebAclArn %q is not a regional AWS WAF web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)", *props.WebAclArn)
	}
	if len(props.Routes) == 0 {
		propsError(loadBalancerName, "Routes is empty: name at least one exposed profile and its host name")
	}
	for i, r := range props.Routes {
		checkHostname(loadBalancerName, fmt.Sprintf("Routes[%d].Hostname", i), r.Hostname)
	}
	if t := props.IdleTimeout; t != nil {
		if s := *t.ToSeconds(nil); s < 1 || s > 4000 {
			propsError(loadBalancerName, "IdleTimeout %s must be between 1 second and 4000 seconds", *t.ToHumanString())
		}
	}
	blocked := jsii.Strings(DefaultBlockedPaths()...)
	if props.BlockedPaths != nil {
		blocked = props.BlockedPaths
	}
	if len(*blocked) > 3 {
		propsError(loadBalancerName, "BlockedPaths has %d patterns: a load balancer path condition takes at most 3", len(*blocked))
	}
	if props.WebAcl != nil && props.WebAclArn != nil {
		propsError(loadBalancerName, "WebAcl and WebAclArn were both given: a load balancer takes one web ACL; drop one of them")
	}
	props.WebAcl.validate()
	// One blocking rule per portal host, in host order, at priorities 1, 2, ... (when there are
	// blocked paths), then one traversal rule per portal host after them.
	var portalHosts []string
	for _, r := range props.Routes {
		if r.Profile != nil && r.Hostname != nil && r.Profile.Profile().Exposure != nil &&
			r.Profile.Profile().Exposure.TargetPort == profiles.PortServletHTTPS && !slices.Contains(portalHosts, *r.Hostname) {
			portalHosts = append(portalHosts, *r.Hostname)
		}
	}
	slices.Sort(portalHosts)
	var blockedHosts []string
	if len(*blocked) > 0 {
		blockedHosts = portalHosts
	}
	reserved := len(blockedHosts) + len(portalHosts)
	seen := map[string]bool{}
	priorities := map[float64]int{}
	for i, r := range props.Routes {
		if r.Profile == nil || r.Hostname == nil || *r.Hostname == "" {
			propsError(loadBalancerName, "Routes[%d] needs a Profile and a Hostname", i)
		}
		if r.Profile.Profile().Exposure == nil {
			propsError(loadBalancerName, "Routes[%d]: %s nodes are never behind a load balancer (peers reach them directly)", i, r.Profile.Profile().Name)
		}
		key := *r.Hostname
		if r.PathPatterns != nil {
			key += fmt.Sprint(*r.PathPatterns)
		}
		if seen[key] {
			propsError(loadBalancerName, "Routes[%d] repeats host %s with the same paths", i, *r.Hostname)
		}
		seen[key] = true
		// An ALB condition compares at most 3 values, and a rule at most 5 (the host and, for
		// WebSocket, the Upgrade header are one each): more patterns take more rules.
		if r.PathPatterns != nil {
			if len(*r.PathPatterns) == 0 {
				propsError(loadBalancerName, "Routes[%d].PathPatterns is empty: leave it out to forward every path", i)
			}
			if r.WebSocket != nil && *r.WebSocket && len(*r.PathPatterns) > 3 {
				propsError(loadBalancerName, "Routes[%d] serves WebSocket with %d PathPatterns: its WebSocket rule takes at most 3", i, len(*r.PathPatterns))
			}
			for _, p := range *r.PathPatterns {
				if p == nil || *p == "" || len(*p) > 128 || !strings.HasPrefix(*p, "/") && !strings.HasPrefix(*p, "*") {
					propsError(loadBalancerName, "Routes[%d].PathPatterns: %s is not a load balancer path pattern (a path of at most 128 characters, such as /publisher*)", i, given(p))
				}
			}
		}
		first := routePriority(i, r)
		if first < 1 || first+float64(ruleCount(r))-1 > 50000 || first != float64(int(first)) {
			propsError(loadBalancerName, "Routes[%d].Priority %v must be a whole number from 1 to 50000 (the route's %d rules included)", i, first, ruleCount(r))
		}
		if first <= float64(reserved) {
			propsError(loadBalancerName, "Routes[%d].Priority %v: priorities 1 to %d are the BlockedPaths and traversal rules of the portal hosts", i, first, reserved)
		}
		for k := range ruleCount(r) {
			priority := first + float64(k)
			if j, taken := priorities[priority]; taken {
				propsError(loadBalancerName, "Routes[%d] and Routes[%d] both have priority %v (a route of more than 3 PathPatterns holds one priority per 3)", j, i, priority)
			}
			priorities[priority] = i
		}
	}
	for i, r := range props.Routes {
		if r.WebSocket == nil || !*r.WebSocket {
			continue
		}
		if r.Profile.Profile().Name != profiles.Gateway {
			propsError(loadBalancerName, "Routes[%d].WebSocket: only gateways serve WebSocket APIs, not %s nodes", i, r.Profile.Profile().Name)
		}
		ws := routePriority(i, r) - 1
		if ws < 1 {
			propsError(loadBalancerName, "Routes[%d].WebSocket needs priority %v for its WebSocket rule, one ahead of the route's: give the route a priority of 2 or more", i, ws)
		}
		if ws <= float64(reserved) {
			propsError(loadBalancerName, "Routes[%d].WebSocket needs priority %v for its WebSocket rule, which the BlockedPaths and traversal rules hold: give the route a priority of %d or more", i, ws, reserved+2)
		}
		if j, taken := priorities[ws]; taken {
			propsError(loadBalancerName, "Routes[%d].WebSocket needs priority %v free for its WebSocket rule, one ahead of the route's; Routes[%d] has it", i, ws, j)
		}
		priorities[ws] = i
	}
	// The rules are evaluated by priority: on one host, a route with paths must come before the
	// host's catch-all route, or the catch-all hides it.
	for i, r := range props.Routes {
		if r.PathPatterns != nil {
			continue
		}
		for j, o := range props.Routes {
			if last := routePriority(j, o) + float64(ruleCount(o)) - 1; o.PathPatterns != nil && *o.Hostname == *r.Hostname && last > routePriority(i, r) {
				propsError(loadBalancerName, "Routes[%d] (paths on %s) has priority %v, after the host's catch-all Routes[%d] (%v), which would hide it",
					j, *r.Hostname, last, i, routePriority(i, r))
			}
		}
	}
	return loadBalancerConfig{blocked: blocked, portalHosts: portalHosts, blockedHosts: blockedHosts}
}

// checkCertificate refuses a load balancer given no certificate, or both Certificate and the
// deprecated CertificateArn, and a certificate whose ARN, when known at synth, is not an ACM
// certificate ARN of the stack's region.
func checkCertificate(scope constructs.Construct, props *ApimLoadBalancerProps) {
	field, arn := "CertificateArn", props.CertificateArn
	switch {
	case props.Certificate != nil && props.CertificateArn != nil:
		propsError(loadBalancerName, "Certificate and CertificateArn were both given: a load balancer takes one certificate; "+
			"keep Certificate (CertificateArn is deprecated)")
	case props.Certificate == nil && props.CertificateArn == nil:
		propsError(loadBalancerName, "Certificate is required: the ACM certificate of the public host names, such as "+
			"awscertificatemanager.Certificate_FromCertificateArn(scope, id, arn)")
	case props.Certificate != nil:
		// A certificate the stack creates has its ARN only at deploy time: nothing to check.
		field, arn = "Certificate", props.Certificate.CertificateArn()
		if unresolved(arn) {
			return
		}
	}
	// The deprecated string keeps its checks as they were: a token is refused as not an ARN.
	if arn == nil || !certificateArn.MatchString(*arn) {
		propsError(loadBalancerName, "%s must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got %s", field, given(arn))
	}
	if region := awscdk.Stack_Of(scope).Region(); !unresolved(region) {
		if certRegion := strings.Split(*arn, ":")[3]; certRegion != *region {
			propsError(loadBalancerName, "%s names a certificate in %s, but the load balancer is in %s: a load balancer takes "+
				"certificates of its own region only; request or import the certificate in %s", field, certRegion, *region, *region)
		}
	}
}

// listenerCertificate is the HTTPS listener's certificate: Certificate, else the deprecated
// CertificateArn (the same template for the same ARN).
func listenerCertificate(props *ApimLoadBalancerProps) awselasticloadbalancingv2.IListenerCertificate {
	if props.Certificate != nil {
		return awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(props.Certificate)
	}
	return awselasticloadbalancingv2.ListenerCertificate_FromArn(props.CertificateArn)
}

// addRoutes adds each route's target group and listener rules (paths three to a rule, at
// consecutive priorities; a WebSocket rule ahead of a gateway route), and attaches the groups.
func (lb *ApimLoadBalancer) addRoutes(props *ApimLoadBalancerProps, https awselasticloadbalancingv2.ApplicationListener, sg awsec2.ISecurityGroup) {
	network := props.Network
	hostWidth := map[string]int{}
	for i, r := range props.Routes {
		p := r.Profile.Profile()
		// A route that names its priority is identified by it, so its target group and rule
		// keep their logical ids wherever it moves in Routes; the others by their place.
		name := fmt.Sprintf("%s%d", targetGroupID(p.Name), i)
		if r.Priority != nil {
			name = fmt.Sprintf("%sP%d", targetGroupID(p.Name), int(*r.Priority))
		}
		health := p.Health
		tg := nodeTargetGroup(lb, name, network, r.Profile, p.Exposure.TargetPort, stickiness(r.Sticky))
		// Health checks may use another port than traffic (gateways: 9443 against 8243).
		if health.Port != p.Exposure.TargetPort {
			r.Profile.Connections().AllowFrom(sg, awsec2.Port_Tcp(jsii.Number(r.Profile.Port(health.Port))), jsii.String("load balancer health checks"))
		}
		host := awselasticloadbalancingv2.ListenerCondition_HostHeaders(jsii.Strings(*r.Hostname))
		conditions := []awselasticloadbalancingv2.ListenerCondition{host}
		if r.PathPatterns != nil {
			conditions = append(conditions, awselasticloadbalancingv2.ListenerCondition_PathPatterns(jsii.Strings(chunk(*r.PathPatterns, 0)...)))
		}
		https.AddTargetGroups(jsii.String(name+"Route"), &awselasticloadbalancingv2.AddApplicationTargetGroupsProps{
			TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{tg},
			Conditions:   &conditions,
			Priority:     jsii.Number(routePriority(i, r)),
		})
		// The route's further patterns, three to a rule, at the next priorities.
		for k := 1; k < ruleCount(r); k++ {
			https.AddTargetGroups(jsii.String(fmt.Sprintf("%sRoute%d", name, k+1)), &awselasticloadbalancingv2.AddApplicationTargetGroupsProps{
				TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{tg},
				Conditions: &[]awselasticloadbalancingv2.ListenerCondition{host,
					awselasticloadbalancingv2.ListenerCondition_PathPatterns(jsii.Strings(chunk(*r.PathPatterns, k)...))},
				Priority: jsii.Number(routePriority(i, r) + float64(k)),
			})
		}
		if r.RequestsPerTarget != nil {
			// What ScaleOnRequestCount builds (same id), which refuses a group in several target
			// groups, as a gateway serving WebSocket APIs is: the route's requests per node.
			group := r.Profile.Group()
			policy := awsautoscaling.NewTargetTrackingScalingPolicy(group, jsii.String("ScalingPolicyRequests"), &awsautoscaling.TargetTrackingScalingPolicyProps{
				AutoScalingGroup: group,
				PredefinedMetric: awsautoscaling.PredefinedMetric_ALB_REQUEST_COUNT_PER_TARGET,
				ResourceLabel:    jsii.String(*tg.FirstLoadBalancerFullName() + "/" + *tg.TargetGroupFullName()),
				TargetValue:      r.RequestsPerTarget,
			})
			policy.Node().AddDependency(tg.LoadBalancerAttached())
		}
		// A host's group is its catch-all route's, else that of its route with the most paths
		// (the first of equals): the 3.2 developer portal's, which serves the host's sign-in.
		if width(r) > hostWidth[*r.Hostname] {
			lb.groups[*r.Hostname], hostWidth[*r.Hostname] = tg, width(r)
		}
		lb.routes = append(lb.routes, lbRoute{host: *r.Hostname, profile: p.Name, id: name, group: tg})
		if r.WebSocket != nil && *r.WebSocket {
			// The WebSocket transport answers upgrades only; the health check asks the servlet.
			ws := nodeTargetGroup(lb, name+"WebSocket", network, r.Profile, profiles.PortWebSocketSecure, nil)
			wsConditions := append([]awselasticloadbalancingv2.ListenerCondition{
				awselasticloadbalancingv2.ListenerCondition_HttpHeader(jsii.String("Upgrade"), jsii.Strings("websocket")),
			}, conditions...)
			https.AddTargetGroups(jsii.String(name+"WebSocketRoute"), &awselasticloadbalancingv2.AddApplicationTargetGroupsProps{
				TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{ws},
				Conditions:   &wsConditions,
				Priority:     jsii.Number(routePriority(i, r) - 1),
			})
			lb.routes = append(lb.routes, lbRoute{host: *r.Hostname, profile: p.Name, id: name + "WebSocket", group: ws})
		}
	}
}
