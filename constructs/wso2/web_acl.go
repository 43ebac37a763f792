package wso2

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ApimWebAclProps configures the web ACL an ApimLoadBalancer creates (ApimLoadBalancerProps.WebAcl):
// a regional AWS WAF web ACL that blocks addresses on Amazon's IP reputation list, clients over
// RateLimit, and what AWS's known-bad-inputs and common rule sets block, in that order, in front
// of both host names. The common rule set's request-body size rule only counts: the publisher
// uploads API definitions and APIs take bodies well over its 8 KB.
type ApimWebAclProps struct {
	// RateLimit blocks a client address that sends more requests than this in any 5 minutes,
	// 100 to 2,000,000,000. Size it for your busiest API client behind one address.
	// Default: 10,000 (about 33 requests a second).
	RateLimit *float64
	// LogRetention keeps the log of blocked requests (only those: allowed requests are not
	// logged, which keeps logging cheap), encrypted, in a CloudWatch log group named
	// aws-waf-logs-<stack>-<id>.
	// Default: one year.
	LogRetention awslogs.RetentionDays
	// DisableLogging logs nothing. Default: false.
	DisableLogging *bool
}

// webAclRuleGroups are the AWS managed rule groups of the web ACL, in evaluation order after the
// IP reputation list and the rate limit.
var webAclRuleGroups = []string{"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"}

func (p *ApimWebAclProps) validate() {
	if p == nil || p.RateLimit == nil {
		return
	}
	if r := *p.RateLimit; r < 100 || r > 2e9 || r != float64(int64(r)) {
		propsError(loadBalancerName, "WebAcl.RateLimit %v must be a whole number of requests from 100 to 2,000,000,000", r)
	}
}

// newManagedWebAcl builds the web ACL and, unless disabled, its log of blocked requests.
func newManagedWebAcl(scope constructs.Construct, props *ApimWebAclProps) awswafv2.CfnWebACL {
	stack := awscdk.Stack_Of(scope)
	metric := func(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true), MetricName: jsii.String(name), SampledRequestsEnabled: jsii.Bool(true),
		}
	}
	managed := func(priority int, name string, overrides ...string) *awswafv2.CfnWebACL_RuleProperty {
		group := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(name)}
		var counted []any
		for _, rule := range overrides {
			counted = append(counted, &awswafv2.CfnWebACL_RuleActionOverrideProperty{
				Name: jsii.String(rule), ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}},
			})
		}
		if counted != nil {
			group.RuleActionOverrides = counted
		}
		return &awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String(name), Priority: jsii.Number(float64(priority)),
			OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
			Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: group},
			VisibilityConfig: metric(name),
		}
	}
	limit := 10000.0
	if props.RateLimit != nil {
		limit = *props.RateLimit
	}
	rules := []any{
		managed(0, "AWSManagedRulesAmazonIpReputationList"),
		&awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String("RateLimitPerAddress"), Priority: jsii.Number(1),
			Action: &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}},
			Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				Limit: jsii.Number(limit), AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(300),
			}},
			VisibilityConfig: metric("RateLimitPerAddress"),
		},
		managed(2, webAclRuleGroups[0]),
		managed(3, webAclRuleGroups[1], "SizeRestrictions_BODY"),
	}
	acl := awswafv2.NewCfnWebACL(scope, jsii.String("ManagedWebAcl"), &awswafv2.CfnWebACLProps{
		Scope:            jsii.String("REGIONAL"),
		Description:      jsii.String("apimkit: AWS managed rules and a rate limit in front of the WSO2 portals and APIs"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: metric("apimkit-" + strings.ReplaceAll(*awscdk.Names_UniqueId(scope), "-", "")),
		Rules:            rules,
	})
	if props.DisableLogging != nil && *props.DisableLogging {
		return acl
	}
	key := newKey(scope, "WebAclLogKey", "Encrypts the web ACL's log of blocked requests")
	allowLogsToUseKey(key, stack)
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}
	// WAF writes only to groups whose names start with aws-waf-logs-.
	name := fmt.Sprintf("aws-waf-logs-%s-%s", *stack.StackName(), strings.ToLower(*scope.Node().Id()))
	logs := awslogs.NewLogGroup(scope, jsii.String("WebAclLogs"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String(name), Retention: retention, EncryptionKey: key,
		// Kept when the stack is deleted; removed when the stack's first create fails, or its
		// fixed name would block the next try.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	})
	logging := awswafv2.NewCfnLoggingConfiguration(scope, jsii.String("WebAclLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn: acl.AttrArn(),
		// The group's ARN without the ":*" of its Arn attribute, as WAF takes it.
		LogDestinationConfigs: &[]any{stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String(name),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
		LoggingFilter: map[string]any{
			"DefaultBehavior": "DROP",
			"Filters": []any{map[string]any{
				"Behavior": "KEEP", "Requirement": "MEETS_ANY",
				"Conditions": []any{map[string]any{"ActionCondition": map[string]any{"Action": "BLOCK"}}},
			}},
		},
	})
	logging.Node().AddDependency(logs)
	return acl
}
