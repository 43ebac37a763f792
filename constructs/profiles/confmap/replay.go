package confmap

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Env lists the environment variables and system properties a node has when the mapper runs.
type Env struct {
	// Vars are the environment variables $env{} may name. Nil: any name resolves.
	Vars []string
	// Props are the system properties $sys{} may name (set with -D on the start command).
	Props []string
}

// bootEnvLine finds the variables boot.sh gives the WSO2 service: its secrets file's
// env_assignment lines and its unit's Environment= lines.
var bootEnvLine = regexp.MustCompile(`(?m)(?:env_assignment |^Environment=)(WSO2_[A-Z_]+)[= ]`)

// BootEnv is the environment a node's boot script gives WSO2, read from the script's text.
func BootEnv(script string) Env {
	var env Env
	for _, m := range bootEnvLine.FindAllStringSubmatch(script, -1) {
		env.Vars = append(env.Vars, m[1])
	}
	return env
}

// Replay runs the mapper's steps of release f over a deployment.toml and returns every problem
// the server would meet or silently swallow, sorted: a key nothing reads, a table where a
// template loops over an array, a $ref{} that names nothing or is left as text, an $env{} or
// $sys{} the node does not have. None means the file maps cleanly.
func Replay(doc []byte, f *Facts, env Env) []string {
	var raw map[string]any
	if err := toml.Unmarshal(doc, &raw); err != nil {
		return []string{"not TOML: " + err.Error()}
	}
	r := &replay{f: f, env: env}
	r.shapes("", raw)
	ctx := map[string]any{}
	flatten("", raw, ctx)
	ctx = r.mapKeys(ctx)
	r.unread(ctx)
	ctx = r.infer(ctx)
	for k, v := range f.Defaults {
		if _, ok := ctx[k]; !ok {
			ctx[k] = v
		}
	}
	r.resolve(ctx)
	r.units(ctx)
	sort.Strings(r.problems)
	return slices.Compact(r.problems)
}

type replay struct {
	f        *Facts
	env      Env
	problems []string
	refs     map[string]bool // keys a $ref{} of default.json or infer.json names
}

func (r *replay) addf(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// join appends a key segment as the mapper writes it: a segment holding a dot is quoted.
func join(prefix, seg string) string {
	if strings.Contains(seg, ".") {
		seg = "'" + seg + "'"
	}
	if prefix == "" {
		return seg
	}
	return prefix + "." + seg
}

// shapes reports a table where a template loops over an array: [x] where WSO2 reads [[x]].
// Jinja would loop over the table's key names and render nothing useful.
func (r *replay) shapes(path string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if path != "" && slices.Contains(r.f.Loops, path) {
			r.addf("%s is a table, but the templates loop over it as an array: write [[%s]]", path, strings.ReplaceAll(path, "[]", ""))
		}
		for k, e := range v {
			r.shapes(join(path, k), e)
		}
	case []any:
		for _, e := range v {
			r.shapes(path+"[]", e)
		}
	}
}

// flatten is the mapper's TOML step: nested tables become dotted keys; an array stays one value,
// and each table in it is flattened the same way within itself.
func flatten(prefix string, m map[string]any, into map[string]any) {
	for k, v := range m {
		key := join(prefix, k)
		switch v := v.(type) {
		case map[string]any:
			flatten(key, v, into)
		case []any:
			into[key] = flatList(v)
		default:
			into[key] = v
		}
	}
}

func flatList(l []any) []any {
	out := make([]any, len(l))
	for i, e := range l {
		switch e := e.(type) {
		case map[string]any:
			m := map[string]any{}
			flatten("", e, m)
			out[i] = m
		case []any:
			out[i] = flatList(e)
		default:
			out[i] = e
		}
	}
	return out
}

// mapKeys applies key-mappings.json: an old key moves to its new name (or names); "a:b" renames
// key b inside each table of array a.
func (r *replay) mapKeys(ctx map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range ctx {
		switch to := r.f.KeyMappings[k].(type) {
		case string:
			out[to] = v
		case []any:
			for _, t := range to {
				out[fmt.Sprint(t)] = v
			}
		default:
			out[k] = v
		}
	}
	for from, to := range r.f.KeyMappings {
		arr, inner, ok := strings.Cut(from, ":")
		if !ok {
			continue
		}
		l, _ := out[arr].([]any)
		for _, e := range l {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if v, ok := m[inner]; ok {
				delete(m, inner)
				targets, _ := to.([]any)
				if s, ok := to.(string); ok {
					targets = []any{s}
				}
				for _, t := range targets {
					if _, name, ok := strings.Cut(fmt.Sprint(t), ":"); ok {
						m[name] = v
					}
				}
			}
		}
	}
	return out
}

// read reports whether a template, infer.json or a $ref{} of default.json reads key.
func (r *replay) read(key string) bool {
	if _, ok := r.f.Reads[key]; ok {
		return true
	}
	for _, o := range r.f.Open {
		if strings.HasPrefix(key, o+".") {
			return true
		}
	}
	if r.inferKey(key) != "" {
		return true
	}
	if r.refs == nil {
		r.refs = r.referencedByDefaults()
	}
	return r.refs[key]
}

func (r *replay) referencedByDefaults() map[string]bool {
	refs := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			for _, m := range refPattern.FindAllStringSubmatch(v, -1) {
				refs[m[1]] = true
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(r.f.Defaults)
	walk(r.f.Infer)
	return refs
}

// unread reports the keys of the file that nothing reads: the mapper drops them silently.
func (r *replay) unread(ctx map[string]any) {
	for k, v := range ctx {
		l, isList := v.([]any)
		tables := isList && len(l) > 0 && func() bool { _, ok := l[0].(map[string]any); return ok }()
		if !tables {
			if !r.read(k) {
				r.addf("%s is read by no template, infer.json or default.json of %s", k, r.f.Release)
			}
			continue
		}
		if !slices.Contains(r.f.Loops, k) && !r.read(k) {
			r.addf("%s is read by no template, infer.json or default.json of %s", k, r.f.Release)
			continue
		}
		for _, e := range l {
			m, _ := e.(map[string]any)
			for ik := range m {
				if key := k + "[]." + ik; !r.read(key) {
					r.addf("%s is read by no template, infer.json or default.json of %s", key, r.f.Release)
				}
			}
		}
	}
}

// inferKey returns the infer.json entry that key matches: itself, or a pattern whose $1, $2, ...
// stand for one word each.
func (r *replay) inferKey(key string) string {
	if _, ok := r.f.Infer[key]; ok {
		return key
	}
	for p, re := range r.f.inferPatterns() {
		if re.MatchString(key) {
			return p
		}
	}
	return ""
}

// inferPatterns compiles the infer.json keys holding $1, $2, ...
func (f *Facts) inferPatterns() map[string]*regexp.Regexp {
	if f.patterns == nil {
		f.patterns = map[string]*regexp.Regexp{}
		for p := range f.Infer {
			if strings.Contains(p, "$") {
				f.patterns[p] = regexp.MustCompile("^" + dollarN.ReplaceAllString(regexp.QuoteMeta(p), `\w+`) + "$")
			}
		}
	}
	return f.patterns
}

var dollarN = regexp.MustCompile(`\\\$[0-9]+`)

// infer is infer.json: a key set to a listed value brings the values listed under it (and what
// those bring in turn); what the file sets itself wins.
func (r *replay) infer(ctx map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range ctx {
		p := r.inferKey(k)
		if p == "" {
			continue
		}
		byValue, _ := r.f.Infer[p].(map[string]any)
		vals, ok := byValue[fmt.Sprint(v)].(map[string]any)
		if !ok {
			continue
		}
		// $1... in the pattern stand for the key's own words, in the inferred keys and values.
		words := strings.Split(k, ".")
		subst := func(s string) string {
			for i, w := range strings.Split(p, ".") {
				if strings.HasPrefix(w, "$") && i < len(words) {
					s = strings.ReplaceAll(s, w, words[i])
				}
			}
			return s
		}
		for ik, iv := range vals {
			if s, ok := iv.(string); ok {
				iv = subst(s)
			}
			out[subst(ik)] = iv
			r.inferMore(out, subst(ik), iv, 0)
		}
	}
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

func (r *replay) inferMore(out map[string]any, k string, v any, depth int) {
	p := r.inferKey(k)
	if p == "" || depth > 8 {
		return
	}
	byValue, _ := r.f.Infer[p].(map[string]any)
	vals, ok := byValue[fmt.Sprint(v)].(map[string]any)
	if !ok {
		return
	}
	for ik, iv := range vals {
		out[ik] = iv
		r.inferMore(out, ik, iv, depth+1)
	}
}

var (
	refPattern = regexp.MustCompile(`\$ref\{([^}]*)\}`)
	envPattern = regexp.MustCompile(`\$env\{([^}]*)\}`)
	sysPattern = regexp.MustCompile(`\$sys\{([^}]*)\}`)
)

// resolve is the mapper's reference step, in its order: $sys{}, $env{}, then $ref{}. $env{} and
// $sys{} are resolved in strings and arrays of strings (and, from 1.0.5, inside the tables of an
// array); $ref{} only in strings and arrays of strings: inside the tables of an array it reaches
// the XML as text. A $ref{} whose key does not exist stops the server.
func (r *replay) resolve(ctx map[string]any) {
	r.dynamic(ctx, "", false)
	refs := map[string][]string{} // key -> the keys its value names
	for k, v := range ctx {
		for _, s := range strs(v) {
			for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
				refs[k] = append(refs[k], m[1])
			}
		}
	}
	for k, names := range refs {
		for _, n := range names {
			if _, ok := ctx[n]; !ok {
				r.addf("$ref{%s} in %s names nothing: the mapper stops with \"Configuration with key %s doesn't exist\" and the server does not start", n, k, n)
			} else if _, cyc := refs[n]; cyc && reaches(refs, n, k, map[string]bool{}) {
				r.addf("$ref{%s} in %s is circular: the mapper stops with \"References can't be resolved\"", n, k)
			}
		}
	}
	// Substitute, a key once every key it names holds no reference any more: a string is
	// written into the text; an array or a boolean replaces the whole value.
	for progress := true; progress && len(refs) > 0; {
		progress = false
		for k, names := range refs {
			ready := true
			for _, n := range names {
				_, pending := refs[n]
				_, exists := ctx[n]
				ready = ready && exists && !pending
			}
			if !ready {
				continue
			}
			for _, n := range names {
				ctx[k] = substitute(ctx[k], n, ctx[n])
			}
			delete(refs, k)
			progress = true
		}
	}
}

func substitute(v any, name string, by any) any {
	switch by.(type) {
	case []any, bool:
		return by
	}
	with := fmt.Sprint(by)
	if f, ok := by.(float64); ok { // a number from a JSON file, written as Java would
		with = strconv.FormatFloat(f, 'f', -1, 64)
	}
	ref := "$ref{" + name + "}"
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, ref, with)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			if s, ok := e.(string); ok {
				out[i] = strings.ReplaceAll(s, ref, with)
			} else {
				out[i] = e
			}
		}
		return out
	}
	return v
}

func reaches(refs map[string][]string, from, to string, seen map[string]bool) bool {
	if from == to {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, n := range refs[from] {
		if reaches(refs, n, to, seen) {
			return true
		}
	}
	return false
}

// dynamic checks $env{} and $sys{} in ctx; inArray says ctx is a table inside an array, where
// $ref{} is never resolved.
func (r *replay) dynamic(ctx map[string]any, array string, inArray bool) {
	for k, v := range ctx {
		where := k
		if inArray {
			where = array + "[]." + k
		}
		for _, s := range strs(v) {
			for _, m := range envPattern.FindAllStringSubmatch(s, -1) {
				switch {
				case inArray && !r.f.resolvesInsideArrays():
					r.addf("$env{%s} in %s is not resolved inside an array of tables by config-mapper %s: it reaches the XML as text", m[1], where, r.f.Mapper)
				case r.env.Vars != nil && !slices.Contains(r.env.Vars, m[1]):
					r.addf("$env{%s} in %s: the node has no such variable, the mapper stops with \"Environment variable %s not defined in system\"", m[1], where, m[1])
				}
			}
			for _, m := range sysPattern.FindAllStringSubmatch(s, -1) {
				switch {
				case inArray && !r.f.resolvesInsideArrays():
					r.addf("$sys{%s} in %s is not resolved inside an array of tables by config-mapper %s: it reaches the XML as text", m[1], where, r.f.Mapper)
				case !slices.Contains(r.env.Props, m[1]):
					r.addf("$sys{%s} in %s: no such system property when the mapper runs, it stops with \"Error while retrieving %s system property\"", m[1], where, m[1])
				}
			}
			if inArray {
				for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
					r.addf("$ref{%s} in %s is inside an array of tables, where the mapper resolves no $ref{}: it reaches the XML as text", m[1], where)
				}
			}
		}
		if l, ok := v.([]any); ok {
			for _, e := range l {
				if m, ok := e.(map[string]any); ok {
					r.dynamic(m, where, true)
				}
			}
		}
	}
}

// timeValue is how the mapper reads a duration: a number, then an optional unit.
var timeValue = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*(\w*)`)

// inMillis is each unit the mapper knows, in milliseconds.
var inMillis = map[string]float64{"d": 86400000, "h": 3600000, "m": 60000, "s": 1000, "ms": 1}

// units is unit-resolve.json: a duration key takes a number (already in its unit) or a string
// such as "30s", converted to the key's unit; an unknown unit, a value that is not a duration, or
// one that converts to 0 stops the mapper.
func (r *replay) units(ctx map[string]any) {
	for k, unit := range r.f.TimeUnits {
		v, ok := ctx[k]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case int64, float64, int:
		case string:
			if strings.Contains(v, "${") || strings.Contains(v, "$env{") || strings.Contains(v, "$sys{") {
				continue // known only at start
			}
			m := timeValue.FindStringSubmatch(v)
			switch {
			case m == nil:
				r.addf("%s = %q is not a duration: the mapper stops with \"Invalid configuration value\"", k, v)
			case m[2] == "":
			case inMillis[m[2]] == 0:
				r.addf("%s = %q: the mapper knows the units d, h, m, s and ms only, and stops with \"Invalid unit : %s\"", k, v, m[2])
			default:
				var n float64
				fmt.Sscan(m[1], &n)
				whole := float64(int64(n)) // the mapper drops the fraction first
				if whole != 0 && int64(whole*inMillis[m[2]]/inMillis[unit]) == 0 {
					r.addf("%s = %q is 0 in %s, its unit: the mapper stops", k, v, unit)
				}
			}
		default:
			r.addf("%s is a %T, not a duration: the mapper stops with \"Invalid value for configuration key %s\"", k, v, k)
		}
	}
}

// strs returns the strings of a value: itself, or the strings of an array.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
