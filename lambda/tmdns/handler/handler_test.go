package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func launchEventFor(group, id string) Event {
	detail, _ := json.Marshal(LifecycleDetail{
		LifecycleActionToken: "token-" + id, AutoScalingGroupName: group, LifecycleHookName: hook,
		EC2InstanceId: id, LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
	})
	return Event{DetailType: launchEvent, Source: "aws.autoscaling", Detail: detail}
}

func TestLaunchSetsTheRecordThenContinues(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	out, err := newHandler(w, slept).Handle(ctx, launchEventFor(group1, "i-1"))
	require.NoError(t, err)
	assert.Equal(t, "tm1.apim.internal. -> 10.0.128.10 (i-1)", out)
	assert.Equal(t, "10.0.128.10", w.records[tm1])
	assert.Equal(t, []string{"i-1 CONTINUE"}, w.completes)
	assert.Equal(t, "InService", w.lifecycle["i-1"])
}

func TestTheSameEventTwice(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	h := newHandler(w, slept)
	for range 2 {
		_, err := h.Handle(ctx, launchEventFor(group1, "i-1"))
		require.NoError(t, err, "a repeated event is not an error")
	}
	assert.Equal(t, 1, w.changes, "the record is changed once")
	assert.Equal(t, []string{"i-1 CONTINUE"}, w.completes)
}

func TestLateTerminationOfTheOldInstanceKeepsTheNewRecord(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	h := newHandler(w, slept)
	w.launch(group1, "i-old", "10.0.128.10")
	_, err := h.Handle(ctx, launchEventFor(group1, "i-old"))
	require.NoError(t, err)
	w.terminate("i-old")
	w.launch(group1, "i-new", "10.0.144.20")
	_, err = h.Handle(ctx, launchEventFor(group1, "i-new"))
	require.NoError(t, err)
	detail, _ := json.Marshal(map[string]string{"EC2InstanceId": "i-old", "AutoScalingGroupName": group1})
	_, err = h.Handle(ctx, Event{DetailType: terminateEvent, Source: "aws.autoscaling", Detail: detail})
	require.NoError(t, err)
	assert.Equal(t, "10.0.144.20", w.records[tm1], "the termination, processed last, leaves the new record")
	assert.Equal(t, 2, w.changes)
}

func TestInstanceThatCannotBeNamedIsAbandoned(t *testing.T) {
	for name, setup := range map[string]func(w *world){
		"no private IP": func(w *world) { w.launch(group1, "i-1", "") },
		"not running":   func(w *world) { w.launch(group1, "i-1", "10.0.128.10"); w.state["i-1"] = "shutting-down" },
	} {
		t.Run(name, func(t *testing.T) {
			w, slept := newWorld(), &sleeps{}
			setup(w)
			_, err := newHandler(w, slept).Handle(ctx, launchEventFor(group1, "i-1"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "launch abandoned")
			assert.Equal(t, []string{"i-1 ABANDON"}, w.completes, "the group replaces the instance")
			assert.Empty(t, w.records)
		})
	}
}

func TestThrottlingIsRetriedWithBackoff(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	w.throttle["change"] = []string{"Throttling", "PriorRequestNotComplete"}
	w.throttle["complete"] = []string{"ThrottlingException"}
	_, err := newHandler(w, slept).Handle(ctx, launchEventFor(group1, "i-1"))
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.10", w.records[tm1])
	assert.Equal(t, sleeps{200 * time.Millisecond, 400 * time.Millisecond, 200 * time.Millisecond}, *slept)
}

// When AWS, not the instance, is the problem, the launch is left waiting (never abandoned): the
// event's retry or the reconcile completes it once AWS answers again, and meanwhile the hook's
// default result (CONTINUE, TrafficManagerPair) lets the node into service at its timeout.
func TestAwsFailuresLeaveTheLaunchWaiting(t *testing.T) {
	for name, setup := range map[string]func(w *world){
		"throttling that outlasts the retries": func(w *world) {
			w.throttle["change"] = []string{"Throttling", "Throttling", "Throttling", "Throttling", "Throttling", "Throttling"}
		},
		"a denied record change": func(w *world) { w.failures["change"] = apiErr("AccessDenied", "not allowed") },
		"Route 53 impaired":      func(w *world) { w.failures["change"] = apiErr("ServiceUnavailable", "Route 53 is unavailable") },
		"an instance EC2 does not know yet": func(w *world) {
			w.throttle["instances"] = []string{"InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound",
				"InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			w, slept := newWorld(), &sleeps{}
			w.launch(group1, "i-1", "10.0.128.10")
			setup(w)
			h := newHandler(w, slept)
			_, err := h.Handle(ctx, launchEventFor(group1, "i-1"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "launch left waiting")
			assert.Empty(t, w.completes, "not abandoned")
			delete(w.failures, "change")
			_, err = h.Handle(ctx, Event{Action: "reconcile"})
			require.NoError(t, err)
			assert.Equal(t, []string{"i-1 CONTINUE"}, w.completes, "the reconcile completes it")
			assert.Equal(t, "10.0.128.10", w.records[tm1])
		})
	}
	// A just-launched instance EC2 does not describe yet is retried like throttling.
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	w.throttle["instances"] = []string{"InvalidInstanceID.NotFound"}
	_, err := newHandler(w, slept).Handle(ctx, launchEventFor(group1, "i-1"))
	require.NoError(t, err)
	assert.Equal(t, []string{"i-1 CONTINUE"}, w.completes)
}

func TestHookCompletionFails(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	w.failures["complete"] = apiErr("AccessDenied", "not allowed")
	_, err := newHandler(w, slept).Handle(ctx, launchEventFor(group1, "i-1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "record set to 10.0.128.10 but completing the launch failed")
	assert.Contains(t, err.Error(), "AccessDenied")
	assert.Equal(t, "10.0.128.10", w.records[tm1])
}

// Malformed or unknown events are errors that name the problem, and touch nothing.
func TestBadEvents(t *testing.T) {
	bad := func(mutate func(*LifecycleDetail)) Event {
		d := LifecycleDetail{AutoScalingGroupName: group1, LifecycleHookName: hook, EC2InstanceId: "i-1", LifecycleActionToken: "t"}
		mutate(&d)
		raw, _ := json.Marshal(d)
		return Event{DetailType: launchEvent, Detail: raw}
	}
	cases := map[string]struct {
		ev   Event
		want string
	}{
		"missing instance": {bad(func(d *LifecycleDetail) { d.EC2InstanceId = "" }), "detail.EC2InstanceId is missing"},
		"missing group":    {bad(func(d *LifecycleDetail) { d.AutoScalingGroupName = "" }), "detail.AutoScalingGroupName is missing"},
		"another hook":     {bad(func(d *LifecycleDetail) { d.LifecycleHookName = "apimkit-node-ready" }), `hook "apimkit-node-ready", not this updater's "apimkit-tm-dns"`},
		"unknown group":    {bad(func(d *LifecycleDetail) { d.AutoScalingGroupName = "gateways" }), `group "gateways", which is not a traffic-manager node here`},
		"detail not JSON":  {Event{DetailType: launchEvent, Detail: json.RawMessage(`"x"`)}, "launch event detail"},
		"unknown type":     {Event{DetailType: "EC2 Spot Instance Interruption Warning", Source: "aws.ec2"}, `unknown event (detail-type "EC2 Spot Instance Interruption Warning"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, slept := newWorld(), &sleeps{}
			w.launch(group1, "i-1", "10.0.128.10")
			_, err := newHandler(w, slept).Handle(ctx, tc.ev)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Zero(t, w.changes)
			assert.Empty(t, w.completes)
		})
	}
	w, slept := newWorld(), &sleeps{}
	_, err := newHandler(w, slept).Invoke(ctx, json.RawMessage(`[1,2]`))
	assert.ErrorContains(t, err, "tmdns: event is not a JSON object")
}

func TestReconcileRepairsAndLeavesAlone(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	w.lifecycle["i-1"], w.pending["i-1"] = "InService", false
	w.launch(group2, "i-2", "10.0.144.20")
	w.lifecycle["i-2"], w.pending["i-2"] = "InService", false
	w.records[tm1] = "10.0.128.99" // a manual edit
	w.records[tm2] = "10.0.144.20"
	out, err := newHandler(w, slept).Reconcile(ctx)
	require.NoError(t, err)
	assert.Contains(t, out, "tm1.apim.internal. -> 10.0.128.10 (i-1)")
	assert.Equal(t, "10.0.128.10", w.records[tm1], "the wrong record is fixed")
	assert.Equal(t, 1, w.changes, "the right one is left alone")
}

// The first deployment: the instance launched before the rule could deliver its event. The
// deploy-time reconcile names it and completes its launch.
func TestReconcileCompletesAWaitingLaunch(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	_, err := newHandler(w, slept).Handle(ctx, Event{Action: "reconcile"})
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.10", w.records[tm1])
	assert.Equal(t, []string{"i-1 CONTINUE"}, w.completes)
	_, hasTm2 := w.records[tm2]
	assert.False(t, hasTm2, "a group with no live instance keeps its record (here: none)")
}

// The deploy-time reconcile arrives as a custom resource; CloudFormation gets the answer.
func TestDeployTimeReconcileAnswersCloudFormation(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
	}))
	defer srv.Close()
	w, slept := newWorld(), &sleeps{}
	w.launch(group1, "i-1", "10.0.128.10")
	ev := fmt.Sprintf(`{"RequestType":"Create","ResponseURL":%q,"StackId":"s","RequestId":"r","LogicalResourceId":"Reconcile","ResourceType":"Custom::TmDnsReconcile","ResourceProperties":{}}`, srv.URL)
	_, err := newHandler(w, slept).Invoke(ctx, json.RawMessage(ev))
	require.NoError(t, err)
	assert.Equal(t, "SUCCESS", got["Status"])
	assert.Equal(t, "10.0.128.10", w.records[tm1])

	w.failures["groups"] = apiErr("AccessDenied", "no")
	_, _ = newHandler(w, slept).Invoke(ctx, json.RawMessage(ev))
	assert.Equal(t, "FAILED", got["Status"])
	assert.Contains(t, got["Reason"], "AccessDenied")

	// Deleting the stack removes the records CloudFormation does not know of, so the zone can be
	// deleted after them; a second delete finds nothing left to remove.
	delete(w.failures, "groups")
	w.records[tm2] = "10.0.144.20"
	del := strings.Replace(ev, `"Create"`, `"Delete"`, 1)
	for range 2 {
		_, err = newHandler(w, slept).Invoke(ctx, json.RawMessage(del))
		require.NoError(t, err)
		assert.Equal(t, "SUCCESS", got["Status"], got["Reason"])
		assert.Empty(t, w.records, "both nodes' records are gone")
	}
	w.records[tm1] = "10.0.128.10"
	w.failures["change"] = apiErr("AccessDenied", "no")
	_, _ = newHandler(w, slept).Invoke(ctx, json.RawMessage(del))
	assert.Equal(t, "FAILED", got["Status"], "a record that cannot be deleted fails the delete, which CloudFormation reports")
	assert.Contains(t, got["Reason"], "deleting tm1.apim.internal.")
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"TMDNS_ZONE_ID": "Z1", "TMDNS_TTL": "30", "TMDNS_HOOK": hook, "TMDNS_NODES": "tm1.apim.internal=g1, tm2.apim.internal.=g2"}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, []Node{{tm1, "g1"}, {tm2, "g2"}}, c.Nodes)
	env["TMDNS_TTL"] = "0"
	_, err = ConfigFromEnv(func(k string) string { return env[k] })
	assert.ErrorContains(t, err, `TMDNS_TTL "0"`)
	env["TMDNS_TTL"], env["TMDNS_NODES"] = "30", "tm1"
	_, err = ConfigFromEnv(func(k string) string { return env[k] })
	assert.ErrorContains(t, err, `node "tm1" is not name=group`)
}

// A group replaces tm1 hundreds of times while launch events are delivered on time, late, twice
// or not at all, and the schedule reconciles every few steps. After each reconcile the record must
// name the live instance. The test reports how long a gateway could have resolved a stale address.
func TestSimulatedReplacements(t *testing.T) {
	const (
		replacements   = 400
		reconcileEvery = 5 // steps; a step stands for one minute
	)
	rng := rand.New(rand.NewSource(42))
	w, slept := newWorld(), &sleeps{}
	h := newHandler(w, slept)
	type delivery struct {
		at int
		ev Event
	}
	var queue []delivery
	live := ""
	staleSteps, longest, current := 0, 0, 0
	fates := map[string]int{}
	for step := 0; step < replacements; step++ {
		// The live node dies and the group launches a replacement.
		if live != "" {
			w.terminate(live)
		}
		live = fmt.Sprintf("i-%04d", step)
		w.launch(group1, live, fmt.Sprintf("10.0.%d.%d", 128+step/250, 1+step%250))
		ev := launchEventFor(group1, live)
		switch r := rng.Intn(10); {
		case r < 5:
			fates["on time"]++
			queue = append(queue, delivery{step, ev})
		case r < 7:
			fates["late"]++
			queue = append(queue, delivery{step + 1 + rng.Intn(8), ev})
		case r < 9:
			fates["twice"]++
			queue = append(queue, delivery{step, ev}, delivery{step + rng.Intn(4), ev})
		default:
			fates["lost"]++
		}
		// Deliver what is due, in arrival order; late ones may belong to long-dead instances.
		var rest []delivery
		for _, d := range queue {
			if d.at <= step {
				h.Handle(ctx, d.ev) // errors (dead instances) are expected and abandoned
			} else {
				rest = append(rest, d)
			}
		}
		queue = rest
		if step%reconcileEvery == reconcileEvery-1 {
			_, err := h.Reconcile(ctx)
			require.NoError(t, err)
			require.Equal(t, w.ip[live], w.records[tm1], "after the reconcile at step %d the record names the live instance", step)
		}
		if w.records[tm1] != w.ip[live] {
			staleSteps++
			current++
			longest = max(longest, current)
		} else {
			current = 0
		}
	}
	t.Logf("%d replacements, events %v: a gateway could resolve a stale address in %d of %d minutes (%.1f%%), at most %d minutes in a row (reconcile every %d)",
		replacements, fates, staleSteps, replacements, 100*float64(staleSteps)/replacements, longest, reconcileEvery)
	assert.LessOrEqual(t, longest, reconcileEvery, "a stale record never outlives the next reconcile")
}

// BenchmarkLaunch times one launch event against the in-memory AWS model: describe, read the
// record, upsert it, complete the hook.
func BenchmarkLaunch(b *testing.B) {
	slept := &sleeps{}
	i := 0
	for b.Loop() {
		b.StopTimer()
		w := newWorld()
		id := fmt.Sprintf("i-%d", i)
		w.launch(group1, id, "10.0.128.10")
		h := newHandler(w, slept)
		ev := launchEventFor(group1, id)
		i++
		b.StartTimer()
		if _, err := h.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// A deploy replaces a traffic manager launch-first: the replacement's launch names it while the
// node it replaces is still in service. A reconcile in between keeps the record on the
// replacement, and after the old node stops the record is already right; a replacement that
// failed and is gone leaves the record to be repaired onto the node still in service.
func TestReconcileDuringALaunchFirstReplacement(t *testing.T) {
	w, slept := newWorld(), &sleeps{}
	h := newHandler(w, slept)
	w.launch(group1, "i-old", "10.0.128.10")
	_, err := h.Handle(ctx, launchEventFor(group1, "i-old"))
	require.NoError(t, err)
	w.lifecycle["i-old"], w.pending["i-old"] = "InService", false

	w.launch(group1, "i-new", "10.0.128.20")
	_, err = h.Handle(ctx, launchEventFor(group1, "i-new"))
	require.NoError(t, err)
	require.Equal(t, "10.0.128.20", w.records[tm1])
	w.lifecycle["i-new"] = "Pending:Wait" // its own boot hook still waits on WSO2
	_, err = h.Reconcile(ctx)
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.20", w.records[tm1], "the record stays on the replacement while the old node serves")

	w.lifecycle["i-new"] = "InService"
	_, err = h.Reconcile(ctx)
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.20", w.records[tm1], "both in service: the record is kept")
	w.terminate("i-old")
	_, err = h.Reconcile(ctx)
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.20", w.records[tm1])
	assert.Equal(t, 2, w.changes, "set at each launch, never flipped back")

	// A replacement that failed its boot: abandoned and gone, the record is repaired.
	w.launch(group1, "i-bad", "10.0.128.30")
	_, err = h.Handle(ctx, launchEventFor(group1, "i-bad"))
	require.NoError(t, err)
	w.terminate("i-bad")
	_, err = h.Reconcile(ctx)
	require.NoError(t, err)
	assert.Equal(t, "10.0.128.20", w.records[tm1], "back on the node in service")
}
