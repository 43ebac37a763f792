package testkit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// ListenerAnswer says what an HTTPS listener of a template does with a request for host and
// path, as the load balancer decides it: the first rule (by priority) whose host and path
// conditions match, then the listener's default action. It is "forward <target group id>",
// "fixed <status>", "redirect" or "" when the template has no listener on port. Rules with
// header or query conditions never match (the request carries none).
func ListenerAnswer(tmpl map[string]any, port float64, host, path string) string {
	listener := ""
	var deflt []any
	for id, l := range Resources(tmpl, "AWS::ElasticLoadBalancingV2::Listener") {
		if Props(l)["Port"] == port {
			listener, deflt = id, Props(l)["DefaultActions"].([]any)
		}
	}
	if listener == "" {
		return ""
	}
	type rule struct {
		priority float64
		p        map[string]any
	}
	var rules []rule
	for _, r := range Resources(tmpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		p := Props(r)
		if fmt.Sprint(p["ListenerArn"]) == fmt.Sprint(map[string]any{"Ref": listener}) {
			rules = append(rules, rule{p["Priority"].(float64), p})
		}
	}
	slices.SortFunc(rules, func(a, b rule) int { return cmp.Compare(a.priority, b.priority) })
	for _, r := range rules {
		if ruleMatches(r.p["Conditions"].([]any), host, path) {
			return answer(r.p["Actions"].([]any))
		}
	}
	return answer(deflt)
}

func ruleMatches(conditions []any, host, path string) bool {
	for _, raw := range conditions {
		c := raw.(map[string]any)
		values := func(key string) []string {
			var out []string
			if cfg, ok := c[key].(map[string]any); ok {
				for _, v := range cfg["Values"].([]any) {
					out = append(out, v.(string))
				}
			}
			for _, v := range asSlice(c["Values"]) {
				out = append(out, v.(string))
			}
			return out
		}
		switch c["Field"] {
		case "host-header":
			if !slices.ContainsFunc(values("HostHeaderConfig"), func(p string) bool {
				return profiles.PathPatternMatches(strings.ToLower(p), strings.ToLower(host))
			}) {
				return false
			}
		case "path-pattern":
			if !slices.ContainsFunc(values("PathPatternConfig"), func(p string) bool { return profiles.PathPatternMatches(p, path) }) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func answer(actions []any) string {
	a := actions[len(actions)-1].(map[string]any)
	switch a["Type"] {
	case "forward":
		tg := a["TargetGroupArn"]
		if ref, ok := tg.(map[string]any)["Ref"]; ok {
			return fmt.Sprint("forward ", ref)
		}
		return fmt.Sprint("forward ", tg)
	case "fixed-response":
		return fmt.Sprint("fixed ", a["FixedResponseConfig"].(map[string]any)["StatusCode"])
	}
	return fmt.Sprint(a["Type"])
}
