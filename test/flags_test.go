package test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// referenceWithoutFlags is the reference deployment in an app whose context holds none of
// cdk.json's feature flags, as an app started with an older CDK, or a hand-written cdk.json,
// gives it.
func referenceWithoutFlags(t *testing.T) *testkit.Assembly {
	return testkit.Fixture(t, "reference-no-flags", func() awscdk.App {
		return buildReference(testkit.NewAppWithoutFlags(nil))
	})
}

// flagDifference is a template entry allowed to differ between an app with cdk.json's feature
// flags and one without, and why the difference changes nothing that is deployed.
type flagDifference struct {
	stack, entry string // entry: "<section>/<logical id>"
	reason       string
}

var flagDifferences = []flagDifference{}

// equivalent rewrites what two spellings of the same deployment may write differently into one
// form, so the comparison sees only what is deployed:
//   - the partition as a literal ("arn:aws:...", aws-cdk-lib's @aws-cdk/core:enablePartitionLiterals,
//     read on the app's stack) or as {"Ref": "AWS::Partition"}: the fixtures' region is in the aws
//     partition, so both resolve to the same ARN;
//   - the order of the actions, resources and principals of a policy statement, and a principal
//     named twice, which IAM, KMS and S3 read as sets (aws-cdk-lib's
//     @aws-cdk/aws-iam:minimizePolicies, read on the stack when a key policy is written).
func equivalent(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = equivalent(e)
		}
		if parts, ok := joinParts(out); ok {
			if len(parts) == 1 {
				if s, ok := parts[0].(string); ok {
					return s
				}
			}
			out["Fn::Join"] = []any{"", parts}
		}
		if _, ok := out["Effect"]; ok {
			for _, k := range []string{"Action", "NotAction", "Resource", "NotResource"} {
				out[k] = asSet(out[k])
			}
			if p, ok := out["Principal"].(map[string]any); ok {
				for k, e := range p {
					p[k] = asSet(e)
				}
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = equivalent(e)
		}
		return out
	}
	return v
}

// asSet writes a list a policy reads as a set in one order, without repeats, and a list of one as
// its element.
func asSet(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	seen := map[string]bool{}
	var out []any
	for _, e := range l {
		if k, _ := json.Marshal(e); !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, e)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// joinParts returns the parts of an Fn::Join with the partition written as "aws" and adjacent
// strings merged.
func joinParts(m map[string]any) ([]any, bool) {
	j, ok := m["Fn::Join"].([]any)
	if !ok || len(j) != 2 || j[0] != "" {
		return nil, false
	}
	parts, _ := j[1].([]any)
	var out []any
	for _, p := range parts {
		if r, ok := p.(map[string]any); ok && len(r) == 1 && r["Ref"] == "AWS::Partition" {
			p = "aws"
		}
		if s, ok := p.(string); ok && len(out) > 0 {
			if prev, ok := out[len(out)-1].(string); ok {
				out[len(out)-1] = prev + s
				continue
			}
		}
		out = append(out, p)
	}
	return out, true
}

// templateDifferences lists the entries (Resources, Outputs, Conditions, Parameters, Mappings,
// by logical id) in which two templates differ, once both are written in one form (equivalent).
func templateDifferences(a, b map[string]any) []string {
	a, b = equivalent(a).(map[string]any), equivalent(b).(map[string]any)
	var out []string
	for _, section := range []string{"Resources", "Outputs", "Conditions", "Parameters", "Mappings"} {
		sa, _ := a[section].(map[string]any)
		sb, _ := b[section].(map[string]any)
		ids := map[string]bool{}
		for id := range sa {
			ids[id] = true
		}
		for id := range sb {
			ids[id] = true
		}
		for id := range ids {
			if !reflect.DeepEqual(sa[id], sb[id]) {
				out = append(out, section+"/"+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// A consumer whose app sets no feature flags gets the same deployment as this repository's app
// with cdk.json's flags: the constructs set what the flags would decide. The templates agree
// resource by resource, but for the listed differences, each with its reason.
func TestFlags_SameTemplatesWithoutFeatureFlags(t *testing.T) {
	with, without := reference(t), referenceWithoutFlags(t)
	require.Equal(t, len(with.Stacks), len(without.Stacks))
	used := map[int]bool{}
	for _, s := range with.Stacks {
		other := without.Stack(t, s.ID)
		for _, entry := range templateDifferences(s.Template, other.Template) {
			allowed := false
			for i, d := range flagDifferences {
				if d.stack == s.ID && d.entry == entry {
					allowed, used[i] = true, true
				}
			}
			if !allowed {
				section, id, _ := strings.Cut(entry, "/")
				ja, _ := json.Marshal(equivalent(lookup(s.Template, section, id)))
				jb, _ := json.Marshal(equivalent(lookup(other.Template, section, id)))
				t.Errorf("%s %s differs without feature flags:\nwith cdk.json's flags: %s\nwithout: %s", s.ID, entry, ja, jb)
			}
		}
	}
	for i, d := range flagDifferences {
		assert.True(t, used[i], "allowed difference %s %s no longer occurs: remove it", d.stack, d.entry)
	}
}

func lookup(tmpl map[string]any, section, id string) any {
	s, _ := tmpl[section].(map[string]any)
	if v, ok := s[id]; ok {
		return v
	}
	return fmt.Sprintf("(no %s)", id)
}
