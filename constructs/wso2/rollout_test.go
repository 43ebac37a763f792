package wso2_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// rollout is a group's rolling-update policy, creation signal and properties.
type rollout struct {
	update, signal, props map[string]any
}

func rolloutOf(t *testing.T, tmpl map[string]any, prefix string) rollout {
	t.Helper()
	g := resourceWithPrefix(t, tmpl, "AWS::AutoScaling::AutoScalingGroup", prefix)
	up, _ := g["UpdatePolicy"].(map[string]any)["AutoScalingRollingUpdate"].(map[string]any)
	cp, _ := g["CreationPolicy"].(map[string]any)
	require.NotNil(t, up, "%s has a rolling update policy", prefix)
	require.NotNil(t, cp, "%s has a creation policy", prefix)
	return rollout{update: up, signal: cp["ResourceSignal"].(map[string]any), props: testkit.Props(g)}
}

// Every group rolls one node at a time, each proven by the node's own signal (sent once WSO2
// answers; a failure or a silent node fails the update, which CloudFormation rolls back), and
// waits for its first nodes' signals when it is created. The desired capacity is left to Auto
// Scaling, so a deploy never resets it. The nodes may signal their own stack only.
func TestRolloutsWaitOnTheNodesSignals(t *testing.T) {
	for name, tmpl := range map[string]map[string]any{"nodes": nodesTemplate(t), "pair": pairTemplate(t)} {
		groups := testkit.Resources(tmpl, "AWS::AutoScaling::AutoScalingGroup")
		require.NotEmpty(t, groups)
		for id := range groups {
			r := rolloutOf(t, tmpl, id)
			assert.Equal(t, true, r.update["WaitOnResourceSignals"], "%s %s", name, id)
			assert.EqualValues(t, 100, r.update["MinSuccessfulInstancesPercent"], "%s %s: one failed node fails the update", name, id)
			assert.EqualValues(t, 1, r.update["MaxBatchSize"], "%s %s", name, id)
			assert.Equal(t, "PT20M", r.update["PauseTime"], "%s %s: as long as the launch hook waits", name, id)
			assert.Equal(t, "PT20M", r.signal["Timeout"], "%s %s", name, id)
			assert.Equal(t, r.props["MinSize"], itoa(r.signal["Count"]), "%s %s: created once its first nodes signal", name, id)
			assert.NotContains(t, r.props, "DesiredCapacity", "%s %s", name, id)
		}
	}
	assert.Contains(t, policyDocuments(nodesTemplate(t), "GatewayRole"),
		`{"Action":"cloudformation:SignalResource","Effect":"Allow","Resource":{"Ref":"AWS::StackId"}}`)
}

// New nodes start before old ones stop: a scalable group keeps its minimum in service; a group
// of one (each traffic manager) gets one node of headroom, used only by an update, so its
// replacement is in service before the node it replaces stops. A control plane named per zone is
// replaced one node at a time, stopped then started, its other zone serving: a replacement
// started first could land in the other zone.
func TestRolloutsLaunchFirstWhereTheArchitectureAllows(t *testing.T) {
	gw := rolloutOf(t, nodesTemplate(t), "GatewayASG")
	assert.EqualValues(t, 2, gw.update["MinInstancesInService"])
	assert.Equal(t, "4", gw.props["MaxSize"])
	for _, tm := range []string{"TmsTm1ASG", "TmsTm2ASG"} {
		r := rolloutOf(t, pairTemplate(t), tm)
		assert.EqualValues(t, 1, r.update["MinInstancesInService"], tm)
		assert.Equal(t, "1", r.props["MinSize"], tm)
		assert.Equal(t, "2", r.props["MaxSize"], tm+": room for the replacement beside the node")
	}
	d := deployment45Template(t)
	cp := rolloutOf(t, d, "ApimControlPlaneASG")
	assert.Equal(t, "2", cp.props["MinSize"])
	assert.Equal(t, "2", cp.props["MaxSize"], "one node per zone, never more")
	assert.EqualValues(t, 1, cp.update["MinInstancesInService"])
	assert.EqualValues(t, 3, rolloutOf(t, d, "ApimGatewayASG").update["MinInstancesInService"])
	assert.Equal(t, "2", rolloutOf(t, d, "ApimTrafficManagersTm1ASG").props["MaxSize"])
}

func itoa(v any) string { return fmt.Sprint(v) }
