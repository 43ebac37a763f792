// Package handler keeps each traffic-manager node's DNS name pointing at the one live instance of
// its Auto Scaling group. A launch lifecycle action is completed only after the node's record names
// the new instance; a termination never touches a record; a periodic reconcile repairs whatever
// events were missed, delayed, repeated or overtaken.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
)

// DNS is the part of Route 53 the handler calls.
type DNS interface {
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
}

// Groups is the part of Auto Scaling the handler calls.
type Groups interface {
	CompleteLifecycleAction(ctx context.Context, in *autoscaling.CompleteLifecycleActionInput, opts ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error)
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// Instances is the part of EC2 the handler calls.
type Instances interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// Node is one traffic manager: its DNS name and its Auto Scaling group.
type Node struct {
	Name  string // fully qualified, such as tm1.apim.internal.
	Group string
}

// Config says which zone, hook and nodes the handler serves.
type Config struct {
	ZoneID string
	TTL    int64
	Hook   string
	Nodes  []Node
}

// ParseNodes reads "tm1.apim.internal=group-a,tm2.apim.internal=group-b".
func ParseNodes(s string) ([]Node, error) {
	var out []Node
	for _, part := range strings.Split(s, ",") {
		name, group, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || group == "" {
			return nil, fmt.Errorf("node %q is not name=group", part)
		}
		out = append(out, Node{Name: strings.TrimSuffix(name, ".") + ".", Group: group})
	}
	return out, nil
}

// ConfigFromEnv reads TMDNS_ZONE_ID, TMDNS_TTL, TMDNS_HOOK and TMDNS_NODES.
func ConfigFromEnv(get func(string) string) (Config, error) {
	c := Config{ZoneID: get("TMDNS_ZONE_ID"), Hook: get("TMDNS_HOOK")}
	ttl, err := strconv.ParseInt(get("TMDNS_TTL"), 10, 64)
	if err != nil || ttl < 1 {
		return c, fmt.Errorf("TMDNS_TTL %q is not a positive number of seconds", get("TMDNS_TTL"))
	}
	c.TTL = ttl
	if c.ZoneID == "" || c.Hook == "" {
		return c, errors.New("TMDNS_ZONE_ID and TMDNS_HOOK are required")
	}
	if c.Nodes, err = ParseNodes(get("TMDNS_NODES")); err != nil {
		return c, fmt.Errorf("TMDNS_NODES: %w", err)
	}
	return c, nil
}

// Handler serves launch events, scheduled reconciles and the deploy-time reconcile.
type Handler struct {
	DNS       DNS
	Groups    Groups
	Instances Instances
	Config    Config
	Log       *slog.Logger
	// Sleep waits between retries. Default: time.Sleep.
	Sleep func(time.Duration)
	// Attempts bounds each call's tries against throttling. Default: 6.
	Attempts int
}

// Event is the part of an EventBridge event the handler reads.
type Event struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
	// Action "reconcile" comes from the schedule.
	Action string `json:"action"`
}

// LifecycleDetail is the detail of an Auto Scaling lifecycle-action event.
type LifecycleDetail struct {
	LifecycleActionToken string `json:"LifecycleActionToken"`
	AutoScalingGroupName string `json:"AutoScalingGroupName"`
	LifecycleHookName    string `json:"LifecycleHookName"`
	EC2InstanceId        string `json:"EC2InstanceId"`
	LifecycleTransition  string `json:"LifecycleTransition"`
}

const (
	launchEvent    = "EC2 Instance-launch Lifecycle Action"
	terminateEvent = "EC2 Instance Terminate Successful"
)

// Handle routes one EventBridge or scheduled event.
func (h *Handler) Handle(ctx context.Context, ev Event) (string, error) {
	switch {
	case ev.Action == "reconcile" || ev.DetailType == "Scheduled Event":
		return h.Reconcile(ctx)
	case ev.DetailType == launchEvent:
		var d LifecycleDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return "", fmt.Errorf("tmdns: launch event detail: %w", err)
		}
		return h.Launch(ctx, d)
	case ev.DetailType == terminateEvent:
		// A terminated instance's record is left alone: it either already names the
		// replacement, or is repaired when the replacement launches or by the reconcile.
		h.log().Info("termination: records untouched", "detail", string(ev.Detail))
		return "termination ignored", nil
	}
	return "", fmt.Errorf("tmdns: unknown event (detail-type %q, source %q, action %q)", ev.DetailType, ev.Source, ev.Action)
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) node(group string) (Node, bool) {
	for _, n := range h.Config.Nodes {
		if n.Group == group {
			return n, true
		}
	}
	return Node{}, false
}

// Launch points the node's record at the launching instance, then completes the hook: CONTINUE
// once the record is changed, ABANDON if the instance cannot be named (not running, no address:
// the group then replaces it). When AWS fails instead (throttling that outlasts the retries, an
// instance not yet visible, a denied call, Route 53 impaired), the launch is left waiting: the
// event is delivered again, the reconcile completes it, and at the hook's timeout its default
// result (CONTINUE, set by TrafficManagerPair) lets the node into service with its record
// unchanged, for the reconcile to repair.
func (h *Handler) Launch(ctx context.Context, d LifecycleDetail) (string, error) {
	for field, v := range map[string]string{
		"EC2InstanceId": d.EC2InstanceId, "AutoScalingGroupName": d.AutoScalingGroupName,
		"LifecycleHookName": d.LifecycleHookName,
	} {
		if v == "" {
			return "", fmt.Errorf("tmdns: launch event: detail.%s is missing", field)
		}
	}
	if d.LifecycleHookName != h.Config.Hook {
		return "", fmt.Errorf("tmdns: launch event for hook %q, not this updater's %q", d.LifecycleHookName, h.Config.Hook)
	}
	node, ok := h.node(d.AutoScalingGroupName)
	if !ok {
		return "", fmt.Errorf("tmdns: launch event for group %q, which is not a traffic-manager node here", d.AutoScalingGroupName)
	}
	ip, err := h.instanceIP(ctx, d.EC2InstanceId)
	if err == nil {
		err = h.upsert(ctx, node, d.EC2InstanceId, ip)
	}
	if err != nil && !errors.As(err, new(instanceProblem)) {
		h.log().Error("launch: record not changed; left waiting", "node", node.Name, "instance", d.EC2InstanceId, "error", err)
		return "", fmt.Errorf("tmdns: %s: %w (launch left waiting for a retry or the reconcile)", node.Name, err)
	}
	if err != nil {
		h.log().Error("launch: record not changed; abandoning", "node", node.Name, "instance", d.EC2InstanceId, "error", err)
		if cerr := h.complete(ctx, node, d, "ABANDON"); cerr != nil {
			return "", fmt.Errorf("tmdns: %s: %w; abandoning also failed: %v", node.Name, err, cerr)
		}
		return "", fmt.Errorf("tmdns: %s: %w (launch abandoned)", node.Name, err)
	}
	if err := h.complete(ctx, node, d, "CONTINUE"); err != nil {
		return "", fmt.Errorf("tmdns: %s: record set to %s but completing the launch failed: %w", node.Name, ip, err)
	}
	return fmt.Sprintf("%s -> %s (%s)", node.Name, ip, d.EC2InstanceId), nil
}

func (h *Handler) complete(ctx context.Context, node Node, d LifecycleDetail, result string) error {
	in := &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName:  aws.String(node.Group),
		LifecycleHookName:     aws.String(h.Config.Hook),
		LifecycleActionResult: aws.String(result),
		InstanceId:            aws.String(d.EC2InstanceId),
	}
	if d.LifecycleActionToken != "" {
		in.LifecycleActionToken = aws.String(d.LifecycleActionToken)
	}
	err := h.retry(ctx, func() error {
		_, err := h.Groups.CompleteLifecycleAction(ctx, in)
		return err
	})
	if err != nil && alreadyCompleted(err) {
		h.log().Info("lifecycle action already completed", "node", node.Name, "instance", d.EC2InstanceId, "result", result)
		return nil
	}
	if err == nil {
		h.log().Info("lifecycle action completed", "node", node.Name, "instance", d.EC2InstanceId, "result", result)
	}
	return err
}

// alreadyCompleted recognises the answer to completing an action that is no longer pending (the
// same event twice, or the reconcile got there first).
func alreadyCompleted(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "No active Lifecycle Action")
}

func (h *Handler) instanceIP(ctx context.Context, id string) (netip.Addr, error) {
	var out *ec2.DescribeInstancesOutput
	err := h.retry(ctx, func() error {
		var err error
		out, err = h.Instances.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		return err
	})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("describing %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			state := ""
			if i.State != nil {
				state = string(i.State.Name)
			}
			if state != "pending" && state != "running" {
				return netip.Addr{}, instanceProblem{fmt.Errorf("instance %s is %s, not pending or running", id, state)}
			}
			if i.PrivateIpAddress == nil {
				return netip.Addr{}, instanceProblem{fmt.Errorf("instance %s has no private IP address", id)}
			}
			return netip.ParseAddr(*i.PrivateIpAddress)
		}
	}
	return netip.Addr{}, fmt.Errorf("instance %s not found", id)
}

// instanceProblem is an instance that cannot be named: it is not running, or has no address.
type instanceProblem struct{ error }

func (p instanceProblem) Unwrap() error { return p.error }

// current returns the address the node's A record holds, if any.
func (h *Handler) current(ctx context.Context, node Node) (string, error) {
	rr, err := h.record(ctx, node)
	if err != nil || rr == nil || len(rr.ResourceRecords) == 0 {
		return "", err
	}
	return aws.ToString(rr.ResourceRecords[0].Value), nil
}

// record returns the node's A record set, or nil when the zone has none.
func (h *Handler) record(ctx context.Context, node Node) (*r53types.ResourceRecordSet, error) {
	var out *route53.ListResourceRecordSetsOutput
	err := h.retry(ctx, func() error {
		var err error
		out, err = h.DNS.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
			HostedZoneId: aws.String(h.Config.ZoneID), StartRecordName: aws.String(node.Name),
			StartRecordType: r53types.RRTypeA, MaxItems: aws.Int32(1),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", node.Name, err)
	}
	for _, rr := range out.ResourceRecordSets {
		if strings.EqualFold(aws.ToString(rr.Name), node.Name) && rr.Type == r53types.RRTypeA {
			return &rr, nil
		}
	}
	return nil, nil
}

// RemoveRecords deletes the nodes' A records, which CloudFormation does not know of, so that
// the zone can be deleted with the stack. A record already gone is no error.
func (h *Handler) RemoveRecords(ctx context.Context) (string, error) {
	var removed []string
	for _, node := range h.Config.Nodes {
		rr, err := h.record(ctx, node)
		if err != nil {
			return "", err
		}
		if rr == nil {
			continue
		}
		err = h.change(ctx, "tmdns: the traffic managers are deleted", r53types.ChangeActionDelete, rr)
		if err != nil && !notFound(err) {
			return "", fmt.Errorf("deleting %s: %w", node.Name, err)
		}
		removed = append(removed, node.Name)
		h.log().Info("record deleted", "node", node.Name)
	}
	return "removed: " + strings.Join(removed, ", "), nil
}

// change applies one action to one record set of the zone, retried while AWS is throttling or
// busy with an earlier change.
func (h *Handler) change(ctx context.Context, comment string, action r53types.ChangeAction, rr *r53types.ResourceRecordSet) error {
	return h.retry(ctx, func() error {
		_, err := h.DNS.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(h.Config.ZoneID),
			ChangeBatch: &r53types.ChangeBatch{
				Comment: aws.String(comment),
				Changes: []r53types.Change{{Action: action, ResourceRecordSet: rr}},
			},
		})
		return err
	})
}

// notFound recognises the answer to deleting a record that no longer exists.
func notFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidChangeBatch" && strings.Contains(ae.ErrorMessage(), "not found")
}

func (h *Handler) upsert(ctx context.Context, node Node, instance string, ip netip.Addr) error {
	old, err := h.current(ctx, node)
	if err != nil {
		return err
	}
	if old == ip.String() {
		h.log().Info("record already right", "node", node.Name, "instance", instance, "ip", old)
		return nil
	}
	err = h.change(ctx, "tmdns: "+instance, r53types.ChangeActionUpsert, &r53types.ResourceRecordSet{
		Name: aws.String(node.Name), Type: r53types.RRTypeA, TTL: aws.Int64(h.Config.TTL),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(ip.String())}},
	})
	if err != nil {
		return fmt.Errorf("setting %s to %s: %w", node.Name, ip, err)
	}
	h.log().Info("record changed", "node", node.Name, "instance", instance, "oldIp", old, "newIp", ip.String())
	return nil
}

// Reconcile makes every node's record name its group's live instance: the one in service, or
// else the one waiting on this updater's hook (whose hook it then completes). A group with no live
// instance keeps its record.
func (h *Handler) Reconcile(ctx context.Context) (string, error) {
	var errs []error
	var done []string
	for _, node := range h.Config.Nodes {
		msg, err := h.reconcileNode(ctx, node)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", node.Name, err))
			continue
		}
		done = append(done, msg)
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("tmdns: reconcile: %w", errors.Join(errs...))
	}
	return strings.Join(done, "; "), nil
}

func (h *Handler) reconcileNode(ctx context.Context, node Node) (string, error) {
	var out *autoscaling.DescribeAutoScalingGroupsOutput
	err := h.retry(ctx, func() error {
		var err error
		out, err = h.Groups.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{node.Group}})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("describing group %s: %w", node.Group, err)
	}
	var inService, waiting []string
	for _, g := range out.AutoScalingGroups {
		for _, i := range g.Instances {
			switch i.LifecycleState {
			case astypes.LifecycleStateInService:
				inService = append(inService, aws.ToString(i.InstanceId))
			case astypes.LifecycleStatePendingWait:
				waiting = append(waiting, aws.ToString(i.InstanceId))
			}
		}
	}
	// A node's group holds one instance, and two while a deploy replaces it launch-first: the
	// replacement's launch already named it, so a record that names either live instance is
	// kept (the one being replaced stops once the new one is in service, and the record then
	// names the one left). Otherwise the one in service wins. Sorting only makes the rare tie
	// deterministic.
	sort.Strings(inService)
	sort.Strings(waiting)
	var live string
	switch {
	case len(inService) > 0:
		live = inService[len(inService)-1]
	case len(waiting) > 0:
		live = waiting[len(waiting)-1]
	default:
		h.log().Info("reconcile: no live instance; record kept", "node", node.Name)
		return node.Name + ": no live instance", nil
	}
	if len(inService)+len(waiting) > 1 {
		current, err := h.current(ctx, node)
		if err != nil {
			return "", err
		}
		for _, id := range append(slices.Clone(inService), waiting...) {
			ip, err := h.instanceIP(ctx, id)
			if err != nil {
				continue // not nameable: not the one to keep
			}
			if ip.String() == current {
				h.log().Info("reconcile: the record names a live instance of the group; kept", "node", node.Name, "instance", id, "ip", current)
				return fmt.Sprintf("%s -> %s (%s)", node.Name, current, id), nil
			}
		}
	}
	ip, err := h.instanceIP(ctx, live)
	if err != nil {
		return "", err
	}
	if err := h.upsert(ctx, node, live, ip); err != nil {
		return "", err
	}
	if len(inService) == 0 {
		if err := h.complete(ctx, node, LifecycleDetail{EC2InstanceId: live}, "CONTINUE"); err != nil {
			return "", fmt.Errorf("completing the launch of %s: %w", live, err)
		}
	}
	return fmt.Sprintf("%s -> %s (%s)", node.Name, ip, live), nil
}

// retry repeats f while AWS answers that it is throttled or that an earlier change to the zone is
// still being applied, with exponential backoff.
func (h *Handler) retry(ctx context.Context, f func() error) error {
	attempts := h.Attempts
	if attempts == 0 {
		attempts = 6
	}
	sleep := h.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	wait := 200 * time.Millisecond
	var err error
	for i := 0; i < attempts; i++ {
		if err = f(); err == nil || !retryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		sleep(wait)
		wait *= 2
	}
	return fmt.Errorf("still failing after %d attempts: %w", attempts, err)
}

func retryable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded", "TooManyRequestsException",
		// EC2 is eventually consistent: a just-launched instance may not be described yet.
		"InvalidInstanceID.NotFound":
		return true
	}
	return false
}

// Invoke is the Lambda entry point: a CloudFormation custom-resource request is answered to
// CloudFormation, anything else goes to Handle. Create and update reconcile; delete (the stack
// is deleted, or the pair removed from it: the physical id never changes, so an update never
// deletes) removes the records, so the zone can go too.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		RequestType string `json:"RequestType"`
		ResponseURL string `json:"ResponseURL"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("tmdns: event is not a JSON object: %w", err)
	}
	if probe.RequestType != "" && probe.ResponseURL != "" {
		var ev cfn.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("tmdns: custom resource event: %w", err)
		}
		reason, err := cfn.LambdaWrap(func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
			if ev.RequestType == cfn.RequestDelete {
				msg, err := h.RemoveRecords(ctx)
				return ev.PhysicalResourceID, map[string]any{"Result": msg}, err
			}
			msg, err := h.Reconcile(ctx)
			return "tmdns-reconcile", map[string]any{"Result": msg}, err
		})(ctx, ev)
		return reason, err
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("tmdns: event: %w", err)
	}
	return h.Handle(ctx, ev)
}
