package handler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
)

// world is a small model of the AWS state the handler touches: instances, groups, pending
// lifecycle actions and the zone's records. It implements DNS, Groups and Instances.
type world struct {
	ip        map[string]string // instance -> private IP ("" = none yet)
	state     map[string]string // instance -> EC2 state
	group     map[string]string // instance -> group
	lifecycle map[string]string // instance -> Auto Scaling lifecycle state
	pending   map[string]bool   // instance -> this updater's hook still pending
	records   map[string]string // name -> IP
	throttle  map[string][]string
	failures  map[string]error
	changes   int
	completes []string
	ttl       int64 // of every record
}

func newWorld() *world {
	return &world{
		ip: map[string]string{}, state: map[string]string{}, group: map[string]string{}, lifecycle: map[string]string{},
		pending: map[string]bool{}, records: map[string]string{}, throttle: map[string][]string{}, failures: map[string]error{},
		ttl: 30,
	}
}

// launch adds an instance that waits on the hook.
func (w *world) launch(group, id, ip string) {
	w.ip[id], w.state[id], w.group[id], w.lifecycle[id], w.pending[id] = ip, "pending", group, "Pending:Wait", true
}

func (w *world) terminate(id string) {
	w.state[id], w.lifecycle[id], w.pending[id] = "terminated", "Terminated", false
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func (w *world) fail(op string) error {
	if q := w.throttle[op]; len(q) > 0 {
		w.throttle[op] = q[1:]
		return apiErr(q[0], "slow down")
	}
	return w.failures[op]
}

func (w *world) ChangeResourceRecordSets(_ context.Context, in *route53.ChangeResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error) {
	if err := w.fail("change"); err != nil {
		return nil, err
	}
	for _, c := range in.ChangeBatch.Changes {
		name := *c.ResourceRecordSet.Name
		switch c.Action {
		case r53types.ChangeActionUpsert:
			w.records[name] = *c.ResourceRecordSet.ResourceRecords[0].Value
		case r53types.ChangeActionDelete:
			// Route 53 deletes a record set only when given exactly as it is.
			if v, ok := w.records[name]; !ok || len(c.ResourceRecordSet.ResourceRecords) != 1 || *c.ResourceRecordSet.ResourceRecords[0].Value != v ||
				aws.ToInt64(c.ResourceRecordSet.TTL) != w.ttl {
				return nil, apiErr("InvalidChangeBatch", fmt.Sprintf("Tried to delete resource record set [name='%s', type='A'] but it was not found", name))
			}
			delete(w.records, name)
		default:
			return nil, fmt.Errorf("unexpected action %s", c.Action)
		}
	}
	w.changes++
	return &route53.ChangeResourceRecordSetsOutput{}, nil
}

// ListResourceRecordSets answers like Route 53: records in name order from StartRecordName.
func (w *world) ListResourceRecordSets(_ context.Context, in *route53.ListResourceRecordSetsInput, _ ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error) {
	if err := w.fail("list"); err != nil {
		return nil, err
	}
	var names []string
	for n := range w.records {
		if n >= *in.StartRecordName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &route53.ListResourceRecordSetsOutput{}
	for _, n := range names[:min(len(names), int(*in.MaxItems))] {
		out.ResourceRecordSets = append(out.ResourceRecordSets, r53types.ResourceRecordSet{
			Name: aws.String(n), Type: r53types.RRTypeA, TTL: aws.Int64(w.ttl), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(w.records[n])}},
		})
	}
	return out, nil
}

func (w *world) CompleteLifecycleAction(_ context.Context, in *autoscaling.CompleteLifecycleActionInput, _ ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error) {
	if err := w.fail("complete"); err != nil {
		return nil, err
	}
	id := *in.InstanceId
	if !w.pending[id] {
		return nil, apiErr("ValidationError", "No active Lifecycle Action found with instance ID "+id)
	}
	w.pending[id] = false
	w.completes = append(w.completes, id+" "+*in.LifecycleActionResult)
	if *in.LifecycleActionResult == "CONTINUE" {
		w.lifecycle[id], w.state[id] = "InService", "running"
	} else {
		w.terminate(id)
	}
	return &autoscaling.CompleteLifecycleActionOutput{}, nil
}

func (w *world) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	if err := w.fail("groups"); err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	for _, name := range in.AutoScalingGroupNames {
		g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name)}
		for id, grp := range w.group {
			if grp == name && w.lifecycle[id] != "Terminated" {
				g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id), LifecycleState: astypes.LifecycleState(w.lifecycle[id])})
			}
		}
		out.AutoScalingGroups = append(out.AutoScalingGroups, g)
	}
	return out, nil
}

func (w *world) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := w.fail("instances"); err != nil {
		return nil, err
	}
	id := in.InstanceIds[0]
	st, ok := w.state[id]
	if !ok {
		return &ec2.DescribeInstancesOutput{}, nil
	}
	inst := ec2types.Instance{InstanceId: aws.String(id), State: &ec2types.InstanceState{Name: ec2types.InstanceStateName(st)}}
	if w.ip[id] != "" {
		inst.PrivateIpAddress = aws.String(w.ip[id])
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{inst}}}}, nil
}

const (
	hook   = "apimkit-tm-dns"
	tm1    = "tm1.apim.internal."
	tm2    = "tm2.apim.internal."
	group1 = "apim-app-Tm1-ASG"
	group2 = "apim-app-Tm2-ASG"
)

type sleeps []time.Duration

func newHandler(w *world, slept *sleeps) *Handler {
	return &Handler{
		DNS: w, Groups: w, Instances: w,
		Config: Config{ZoneID: "Z123", TTL: 30, Hook: hook, Nodes: []Node{{tm1, group1}, {tm2, group2}}},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep:  func(d time.Duration) { *slept = append(*slept, d) },
	}
}
