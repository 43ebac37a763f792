package wso2

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/apimkit/apimkit/internal/bootscript"
)

// ApimOperationsProps names what an operator watches. Every field but AlarmTopic is optional; a
// part left out is neither drawn nor alarmed.
type ApimOperationsProps struct {
	// AlarmTopic receives every alarm. Required.
	AlarmTopic   awssns.ITopic
	LoadBalancer *ApimLoadBalancer
	// Groups that report their own health (ProfileAsg.ReportsHealth, as it stands when the
	// operations are built: build them after any ApimInternalEndpoint) get an alarm when a node
	// reports itself unhealthy, as each traffic manager does.
	Groups          []*ProfileAsg
	TrafficManagers *TrafficManagerPair
	Database        *ApimDatabase
	Updater         *WumUpdater
	// DashboardName. Default: generated.
	DashboardName *string
}

// ApimOperations is the operator's view: a CloudWatch dashboard and alarms for load-balancer 5xx
// and latency, unhealthy targets per profile, each traffic manager's in-service count, the nodes
// that reported themselves unhealthy (each traffic manager, and the Groups that report their own
// health), database health, the DNS updater's errors and dead letters, and the update runs, all
// notifying one topic.
type ApimOperations struct {
	constructs.Construct
	dashboard awscloudwatch.Dashboard
	alarms    []awscloudwatch.Alarm
}

// NewApimOperations builds the dashboard and alarms.
func NewApimOperations(scope constructs.Construct, id string, props *ApimOperationsProps) *ApimOperations {
	if props == nil || props.AlarmTopic == nil {
		propsError("ApimOperations", "AlarmTopic is required: every alarm notifies it")
	}
	o := &ApimOperations{}
	constructs.NewConstruct_Override(o, scope, &id)
	pinFlags(o)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	action := awscloudwatchactions.NewSnsAction(props.AlarmTopic)
	alarm := func(id string, m awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, periods float64, desc string) {
		a := awscloudwatch.NewAlarm(o, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric: m, Threshold: jsii.Number(threshold), ComparisonOperator: op,
			EvaluationPeriods: jsii.Number(periods), DatapointsToAlarm: jsii.Number(periods),
			TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING, AlarmDescription: jsii.String(desc),
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		o.alarms = append(o.alarms, a)
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	o.dashboard = awscloudwatch.NewDashboard(o, jsii.String("Resource"), &awscloudwatch.DashboardProps{
		DashboardName:   props.DashboardName,
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8)})
	}
	var widgets []awscloudwatch.IWidget

	if lb := props.LoadBalancer; lb != nil {
		m := lb.alb.Metrics()
		elb5xx := m.HttpCodeElb(awselasticloadbalancingv2.HttpCodeElb_ELB_5XX_COUNT, &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
		target5xx := m.HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
		latency := m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p95")})
		alarm("LoadBalancer5xx", elb5xx, 10, gt, 2, "Load balancer answered 5xx more than 10 times in 5 minutes, twice")
		alarm("Targets5xx", target5xx, 25, gt, 2, "WSO2 nodes answered 5xx more than 25 times in 5 minutes, twice")
		alarm("Latency", latency, 2, gt, 3, "95th percentile response time above 2 seconds for 15 minutes")
		widgets = append(widgets, graph("Load balancer 5xx", elb5xx, target5xx), graph("Response time (p95, s)", latency))
		var unhealthy []awscloudwatch.IMetric
		// In host order, so the dashboard (and the template) is the same on every synth. A host
		// with several routes (the 3.2 portals) has one alarm per route; the one TargetGroup
		// returns keeps the host's name.
		for _, host := range slices.Sorted(maps.Keys(lb.groups)) {
			for _, r := range lb.routes {
				if r.host != host {
					continue
				}
				id, label := "Unhealthy"+dashboardID(host), host
				if r.group != lb.groups[host] {
					// The route's id tells apart several routes of one profile on one host.
					id, label = id+r.id, fmt.Sprintf("%s (%s, %s)", host, r.profile, r.id)
				}
				u := r.group.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum"), Label: jsii.String(label)})
				unhealthy = append(unhealthy, u)
				alarm(id, u, 0, gt, 3, fmt.Sprintf("Unhealthy targets behind %s for 15 minutes", label))
			}
		}
		widgets = append(widgets, graph("Unhealthy targets per profile", unhealthy...))
	}
	if tms := props.TrafficManagers; tms != nil {
		var inService []awscloudwatch.IMetric
		for i, g := range tms.groups {
			m := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String("AWS/AutoScaling"), MetricName: jsii.String("GroupInServiceInstances"),
				DimensionsMap: &map[string]*string{"AutoScalingGroupName": g.Group().AutoScalingGroupName()},
				// Maximum: a period breaches only when no node was in service all through it, so a
				// replacement (a pack refresh, about ten minutes) does not page.
				Statistic: jsii.String("Maximum"), Period: five, Label: jsii.String(fmt.Sprintf("tm%d", i+1)),
			})
			inService = append(inService, m)
			alarm(fmt.Sprintf("Tm%dInService", i+1), m, 1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 3,
				fmt.Sprintf("tm%d has had no node in service for 15 minutes", i+1))
		}
		widgets = append(widgets, graph("Traffic managers in service", inService...),
			graph("DNS updater errors and dead letters",
				tms.updater.MetricErrors(&awscloudwatch.MetricOptions{Period: five}),
				tms.dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five})))
	}
	// Nodes no load balancer checks report WSO2's health themselves: the alarm says a node was
	// reported unhealthy, and so is being replaced.
	type reporter struct {
		id, label string
		g         *ProfileAsg
	}
	var reporters []reporter
	if tms := props.TrafficManagers; tms != nil {
		for i, g := range tms.groups {
			reporters = append(reporters, reporter{fmt.Sprintf("Tm%dHealth", i+1), fmt.Sprintf("tm%d", i+1), g})
		}
	}
	for _, g := range props.Groups {
		if g.ReportsHealth() && !slices.ContainsFunc(reporters, func(r reporter) bool { return r.g == g }) {
			reporters = append(reporters, reporter{dashboardID(*g.Node().Id()) + "Health", *g.Node().Id(), g})
		}
	}
	var failures []awscloudwatch.IMetric
	for _, r := range reporters {
		m := r.g.MetricHealthCheckFailures(five).With(&awscloudwatch.MetricOptions{Label: jsii.String(r.label)})
		failures = append(failures, m)
		alarm(r.id, m, bootscript.HealthFailures, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1,
			fmt.Sprintf("%s: WSO2 failed %d health checks in a row; the node reported itself unhealthy and its group replaces it",
				r.label, bootscript.HealthFailures))
	}
	if len(failures) > 0 {
		widgets = append(widgets, graph("WSO2 health check failures in a row", failures...))
	}
	if db := props.Database; db != nil {
		widgets = append(widgets,
			graph("Database CPU (%)", db.instance.MetricCPUUtilization(&awscloudwatch.MetricOptions{Period: five})),
			graph("Database connections", db.instance.MetricDatabaseConnections(&awscloudwatch.MetricOptions{Period: five})),
			graph("Database free storage (bytes)", db.instance.MetricFreeStorageSpace(&awscloudwatch.MetricOptions{Period: five})))
	}
	if u := props.Updater; u != nil {
		dims := &map[string]*string{"RuleName": u.rule.RuleName()}
		runs := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("Invocations"),
			DimensionsMap: dims, Statistic: jsii.String("Sum"), Period: awscdk.Duration_Hours(jsii.Number(1)), Label: jsii.String("update runs")})
		failed := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("FailedInvocations"),
			DimensionsMap: dims, Statistic: jsii.String("Sum"), Period: awscdk.Duration_Hours(jsii.Number(1)), Label: jsii.String("failed to start")})
		alarm("UpdateRunFailed", failed, 0, gt, 1, "The scheduled WSO2 update could not be started on the update instance")
		// A run that started and then failed reports it itself.
		ended := u.RunFailedMetric(awscdk.Duration_Hours(jsii.Number(1)))
		alarm("UpdateRunEndedInFailure", ended, 0, gt, 1, "A WSO2 update run failed on the update instance (its Run Command output says why)")
		widgets = append(widgets, graph("Update runs", runs, failed, ended))
	}
	for i := 0; i < len(widgets); i += 3 {
		o.dashboard.AddWidgets(widgets[i:min(i+3, len(widgets))]...)
	}
	weakenReferences(o)
	return o
}

// Dashboard returns the CloudWatch dashboard.
func (o *ApimOperations) Dashboard() awscloudwatch.Dashboard { return o.dashboard }

// Alarms returns the alarms.
func (o *ApimOperations) Alarms() []awscloudwatch.Alarm { return o.alarms }

func dashboardID(host string) string {
	out := []rune{}
	upper := true
	for _, r := range host {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			if upper && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, r)
			upper = false
		} else {
			upper = true
		}
	}
	return string(out)
}
