package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// An operator watches load-balancer 5xx and latency, unhealthy targets per profile, each traffic
// manager's in-service count, the database, the DNS updater and the update runs; every alarm goes
// to the topic they subscribe to.
func TestOperationsDashboardAndAlarms(t *testing.T) {
	for name, asm := range layouts(t) {
		tmpl := all(asm)
		dashboards := testkit.Resources(tmpl, "AWS::CloudWatch::Dashboard")
		require.Len(t, dashboards, 1, name)
		var body string
		for _, d := range dashboards {
			body = fmt.Sprint(props(d)["DashboardBody"])
		}
		for _, want := range []string{"Load balancer 5xx", "Response time", "Unhealthy targets per profile",
			"Traffic managers in service", "DNS updater errors", "Database CPU", "Update runs"} {
			assert.Contains(t, body, want, name)
		}
		metrics := map[string]int{}
		for id, a := range testkit.Resources(tmpl, "AWS::CloudWatch::Alarm") {
			p := props(a)
			if strings.Contains(id, "RecoverAlarm") {
				continue // the bastion's recovery, an EC2 action
			}
			assert.Contains(t, fmt.Sprint(p["AlarmActions"]), "Alarms", "%s %s notifies the alarm topic", name, id)
			if name, ok := p["MetricName"].(string); ok {
				metrics[name]++
			}
			// An alarm on a labelled metric is written as a metric query.
			for _, q := range asSlice(p["Metrics"]) {
				if stat, ok := q.(map[string]any)["MetricStat"].(map[string]any); ok {
					metric := fmt.Sprint(stat["Metric"].(map[string]any)["MetricName"])
					metrics[metric]++
					if metric == "GroupInServiceInstances" {
						// Only a period with no node in service all through it breaches, so a
						// traffic manager's routine replacement does not page.
						assert.Equal(t, "Maximum", stat["Stat"], "%s %s", name, id)
						assert.EqualValues(t, 3, p["EvaluationPeriods"], "%s %s", name, id)
					}
				}
			}
		}
		for _, m := range []string{"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "UnHealthyHostCount",
			"GroupInServiceInstances", "CPUUtilization", "DatabaseConnections", "FreeStorageSpace", "Errors",
			"ApproximateNumberOfMessagesVisible", "FailedInvocations", "RunFailed"} {
			assert.Greater(t, metrics[m], 0, "%s: an alarm on %s", name, m)
		}
		assert.Equal(t, 2, metrics["GroupInServiceInstances"], "%s: one per traffic manager", name)
		// A route whose paths take several rules forwards to one target group: count the groups.
		forwarding := map[string]bool{}
		for _, r := range testkit.Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
			if actions := fmt.Sprint(props(r)["Actions"]); strings.Contains(actions, "forward") {
				forwarding[actions] = true
			}
		}
		assert.Equal(t, len(forwarding), metrics["UnHealthyHostCount"],
			"%s: an unhealthy-targets alarm per forwarding load-balancer route, the 3.2 portals' shared host included", name)
	}
}

// An update run that starts and then fails reports it on the metric the alarm watches, under the
// name the alarm gives: the update instance's user data and the alarm agree, and its role may put
// that namespace's metrics only.
func TestFailedUpdateRunsAlarm(t *testing.T) {
	tmpl := all(reference(t))
	var dimension string
	for _, a := range testkit.Resources(tmpl, "AWS::CloudWatch::Alarm") {
		// A labelled metric is written as a metric query.
		for _, q := range asSlice(props(a)["Metrics"]) {
			stat, _ := q.(map[string]any)["MetricStat"].(map[string]any)
			if m, _ := stat["Metric"].(map[string]any); m["MetricName"] == "RunFailed" {
				assert.Equal(t, "apimkit/Updates", m["Namespace"])
				assert.Equal(t, "Maximum", stat["Stat"])
				dimension = fmt.Sprint(asSlice(m["Dimensions"])[0].(map[string]any)["Value"])
			}
		}
	}
	require.NotEmpty(t, dimension, "an alarm on failed update runs")
	var userData, policy string
	for id, r := range testkit.Resources(tmpl, "AWS::EC2::Instance") {
		if strings.HasPrefix(id, "Updater") {
			userData = fmt.Sprint(props(r)["UserData"])
		}
	}
	for id, r := range testkit.Resources(tmpl, "AWS::IAM::Policy") {
		if strings.HasPrefix(id, "UpdaterRole") {
			policy = fmt.Sprint(props(r)["PolicyDocument"])
		}
	}
	assert.Contains(t, userData, `RUN_REPORT_ID="`+dimension+`"`, "the script reports under the alarm's dimension")
	assert.Contains(t, policy, "cloudwatch:PutMetricData")
	assert.Contains(t, policy, "cloudwatch:namespace:apimkit/Updates")
}

func asSlice(v any) []any { l, _ := v.([]any); return l }

// The alarm topic's policy lets this account's CloudWatch alarms publish: a topic policy replaces
// SNS's default one, so without this statement no alarm would ever be delivered. Everything
// else is refused unless over TLS.
func TestAlarmsMayPublishToTheirTopic(t *testing.T) {
	tmpl := all(reference(t))
	policies := testkit.Resources(tmpl, "AWS::SNS::TopicPolicy")
	require.Len(t, policies, 1)
	for _, p := range policies {
		var allow, deny map[string]any
		for _, s := range asSlice(props(p)["PolicyDocument"].(map[string]any)["Statement"]) {
			st := s.(map[string]any)
			switch st["Effect"] {
			case "Allow":
				allow = st
			case "Deny":
				deny = st
			}
		}
		require.NotNil(t, allow, "an allow for the alarms")
		assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, allow["Principal"])
		assert.Equal(t, "sns:Publish", allow["Action"])
		cond := fmt.Sprint(allow["Condition"])
		assert.Contains(t, cond, "aws:SourceAccount")
		assert.Contains(t, cond, ":alarm:*", "only alarms, of this account")
		require.NotNil(t, deny)
		assert.Contains(t, fmt.Sprint(deny["Condition"]), "aws:SecureTransport:false")
	}
}
