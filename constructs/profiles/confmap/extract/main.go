// Command extract reads WSO2's config-mapper inputs of each release, as scripts/wso2conf.sh lays
// them out under .wso2conf/<release>/<layer>/, and writes the facts the replay keeps in
// constructs/profiles/confmap/testdata/<release>.json: which deployment.toml keys the Jinja
// templates read, which tables they read whole (a loop over .items()), which values they loop
// over as arrays, and default.json, infer.json and key-mappings.json as they are. No WSO2 file is
// kept, only these facts and where they came from. unit-resolve.json's time units are kept too.
//
//	go run ./constructs/profiles/confmap/extract .wso2conf constructs/profiles/confmap/testdata
package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/apimkit/apimkit/constructs/profiles/confmap"
)

// mapperOf is the config-mapper each release runs: the config.mapper.version of the carbon-kernel
// its product-apim tag names (parent/pom.xml; 4.6.0 for 3.2.0, 4.9.26 for 4.3.0) and the jar in
// the 4.5.0 pack's lib folder.
var mapperOf = map[string]string{"3.2.0": "1.0.2", "4.3.0": "1.0.23", "4.5.0": "1.0.23"}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: extract WSO2CONF_DIR OUT_DIR")
		os.Exit(2)
	}
	releases, err := os.ReadDir(os.Args[1])
	check(err)
	// corrections.json is kept by hand: what a borrowed template gets wrong for a release, with
	// the evidence.
	b, err := os.ReadFile(filepath.Join(filepath.Dir(os.Args[2]), "extract", "corrections.json"))
	check(err)
	var corrections map[string][]confmap.Correction
	check(json.Unmarshal(b, &corrections))
	for _, r := range releases {
		f, err := release(filepath.Join(os.Args[1], r.Name()), r.Name())
		check(err)
		f.Corrections = corrections[r.Name()]
		b, err := json.MarshalIndent(f, "", " ")
		check(err)
		check(os.WriteFile(filepath.Join(os.Args[2], r.Name()+".json"), append(b, '\n'), 0o644))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func release(dir, name string) (*confmap.Facts, error) {
	f := &confmap.Facts{
		Release: name, Mapper: mapperOf[name],
		Reads: map[string]string{}, Defaults: map[string]any{}, Infer: map[string]any{}, KeyMappings: map[string]any{},
		TimeUnits: map[string]string{},
	}
	if f.Mapper == "" {
		return nil, fmt.Errorf("%s: no config-mapper version known", name)
	}
	layers, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type template struct{ rel, file string }
	var templates []template
	own := map[string]bool{} // templates of the release's own product files
	borrowed := map[string]bool{}
	var fills []template
	open, loops := map[string]bool{}, map[string]bool{}
	for _, l := range layers {
		ldir := filepath.Join(dir, l.Name())
		var src confmap.Source
		b, err := os.ReadFile(filepath.Join(ldir, "origin.json"))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &src); err != nil {
			return nil, err
		}
		tdir := filepath.Join(ldir, "templates")
		err = filepath.WalkDir(tdir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".j2") {
				return err
			}
			rel, _ := filepath.Rel(tdir, p)
			if src.Role != "fill" {
				src.Templates++
			}
			switch src.Role {
			case "fill":
				fills = append(fills, template{rel, p})
			case "release":
				own[rel] = true
				templates = append(templates, template{rel, p})
			default:
				templates = append(templates, template{rel, p})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if src.Role != "fill" {
			// The mapper reads one file of each; a pack's is the union of its features' files,
			// which the kernel's and the product's approximate here (later layers win).
			for file, into := range map[string]map[string]any{"default.json": f.Defaults, "infer.json": f.Infer, "key-mappings.json": f.KeyMappings} {
				b, err := os.ReadFile(filepath.Join(ldir, file))
				if err != nil {
					return nil, err
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					return nil, fmt.Errorf("%s/%s: %w", ldir, file, err)
				}
				for k, v := range m {
					into[k] = v
				}
			}
			b, err := os.ReadFile(filepath.Join(ldir, "unit-resolve.json"))
			if err != nil {
				return nil, err
			}
			var units struct {
				Time map[string]string `json:"time"`
			}
			if err := json.Unmarshal(b, &units); err != nil {
				return nil, fmt.Errorf("%s/unit-resolve.json: %w", ldir, err)
			}
			for k, u := range units.Time {
				f.TimeUnits[k] = u
			}
		}
		f.Sources = append(f.Sources, src)
	}
	// A template the product does not carry comes from a feature repository (carbon-apimgt,
	// carbon-identity-framework), which may also replace a kernel template of the same name:
	// the fill's version is read as well as the kernel's, so a key either reads counts as read.
	for _, t := range fills {
		if !own[t.rel] {
			templates = append(templates, t)
			borrowed[t.rel] = true
			f.Sources[len(f.Sources)-1].Templates++
		}
	}
	sort.Slice(templates, func(i, j int) bool { return templates[i].rel < templates[j].rel })
	for _, t := range templates {
		b, err := os.ReadFile(t.file)
		if err != nil {
			return nil, err
		}
		s := scan(string(b))
		for _, k := range s.reads {
			if _, ok := f.Reads[k]; !ok {
				f.Reads[k] = t.rel
			}
		}
		for k := range s.open {
			open[k] = true
		}
		for k := range s.loops {
			loops[k] = true
		}
	}
	f.Borrowed = sorted(borrowed)
	f.Open, f.Loops = sorted(open), sorted(loops)
	return f, nil
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type scanned struct {
	reads       []string
	open, loops map[string]bool
}

var (
	tag      = regexp.MustCompile(`(?s)\{\{(.*?)\}\}|\{%-?(.*?)-?%\}|\{#.*?#\}`)
	forTag   = regexp.MustCompile(`^\s*for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+(.+?)\s*$`)
	setTag   = regexp.MustCompile(`^\s*set\s+([A-Za-z_]\w*)\s*=\s*(.+?)\s*$`)
	subStr   = regexp.MustCompile(`\[\s*(?:'([^']*)'|"([^"]*)")\s*\]`)
	strLit   = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	pathExpr = regexp.MustCompile(`(\|\s*|\bis\s+(?:not\s+)?)?\b([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\.\x01[^\x02]*\x02)*)(\s*\()?`)
)

// words that are Jinja's own, not deployment.toml keys.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true, "elif": true,
	"endif": true, "for": true, "endfor": true, "set": true, "true": true, "false": true, "none": true,
	"True": true, "False": true, "None": true, "loop": true, "range": true, "macro": true, "endmacro": true,
	"raw": true, "endraw": true, "recursive": true, "with": true, "endwith": true, "namespace": true,
}

// scan reads one template: every dotted path its expressions name, with loop variables replaced
// by the path they walk ("x[]" for an array element, the table itself for .items()).
func scan(src string) scanned {
	s := scanned{open: map[string]bool{}, loops: map[string]bool{}}
	type binding struct{ name, path string }
	var scope []binding // innermost last
	var frames []int    // len(scope) at each open for
	lookup := func(name string) (string, bool) {
		for i := len(scope) - 1; i >= 0; i-- {
			if scope[i].name == name {
				return scope[i].path, true
			}
		}
		return "", false
	}
	// paths returns the deployment.toml paths expr names; method calls on a path are returned
	// with the method.
	type ref struct{ path, method string }
	paths := func(expr string) []ref {
		expr = subStr.ReplaceAllStringFunc(expr, func(m string) string {
			g := subStr.FindStringSubmatch(m)
			return ".\x01" + g[1] + g[2] + "\x02"
		})
		expr = strLit.ReplaceAllString(expr, "''")
		var out []ref
		for _, m := range pathExpr.FindAllStringSubmatchIndex(expr, -1) {
			if m[2] >= 0 || keywords[expr[m[4]:m[5]]] { // a filter or test name, or a keyword
				continue
			}
			if m[4] > 0 && (expr[m[4]-1] == '.' || expr[m[4]-1] == '\x02') {
				continue // a method name after a call
			}
			segs := []string{expr[m[4]:m[5]]}
			rest := expr[m[6]:m[7]]
			for rest != "" {
				rest = rest[1:]
				if rest[0] == '\x01' {
					end := strings.IndexByte(rest, '\x02')
					segs = append(segs, quote(rest[1:end]))
					rest = rest[end+1:]
					continue
				}
				end := strings.IndexByte(rest[1:], '.')
				if end < 0 {
					segs = append(segs, rest)
					rest = ""
				} else {
					segs = append(segs, rest[:end+1])
					rest = rest[end+1:]
				}
			}
			method := ""
			if m[8] >= 0 && len(segs) > 1 {
				method, segs = segs[len(segs)-1], segs[:len(segs)-1]
			} else if m[8] >= 0 {
				continue // a function call such as range(...)
			}
			if base, ok := lookup(segs[0]); ok {
				if base == "" {
					continue // a loop over something that is not a deployment.toml value
				}
				segs[0] = base
			}
			out = append(out, ref{strings.Join(segs, "."), method})
		}
		return out
	}
	seen := map[string]bool{}
	read := func(p string) {
		// A loop variable on its own is the element or value it walks, not a key.
		if strings.HasSuffix(p, "[]") || strings.HasSuffix(p, ".*") {
			return
		}
		if !seen[p] {
			seen[p] = true
			s.reads = append(s.reads, p)
		}
	}
	for _, m := range tag.FindAllStringSubmatch(src, -1) {
		if m[1] == "" && m[2] == "" {
			continue // a comment
		}
		if m[1] != "" {
			for _, r := range paths(m[1]) {
				read(r.path)
			}
			continue
		}
		stmt := strings.TrimSpace(m[2])
		switch {
		case strings.HasPrefix(stmt, "for "):
			g := forTag.FindStringSubmatch(stmt)
			frames = append(frames, len(scope))
			if g == nil {
				continue
			}
			expr := g[3]
			if i := strings.Index(expr, " if "); i >= 0 {
				for _, r := range paths(expr[i+4:]) {
					read(r.path)
				}
				expr = expr[:i]
			}
			rs := paths(expr)
			target := ""
			if len(rs) == 1 {
				r := rs[0]
				switch r.method {
				case "items", "keys", "values":
					s.open[r.path] = true
					read(r.path)
					target = r.path + ".*"
				case "":
					s.loops[r.path] = true
					read(r.path)
					target = r.path + "[]"
				default:
					read(r.path)
				}
			} else {
				for _, r := range rs {
					read(r.path)
				}
			}
			if g[2] != "" { // for k, v in x.items(): v is the value under x
				scope = append(scope, binding{g[1], ""}, binding{g[2], target})
			} else {
				scope = append(scope, binding{g[1], target})
			}
		case strings.HasPrefix(stmt, "endfor"):
			if n := len(frames); n > 0 {
				scope, frames = scope[:frames[n-1]], frames[:n-1]
			}
		case strings.HasPrefix(stmt, "set "):
			if g := setTag.FindStringSubmatch(stmt); g != nil {
				rs := paths(g[2])
				for _, r := range rs {
					read(r.path)
				}
				target := ""
				if len(rs) == 1 && rs[0].method == "" {
					target = rs[0].path
				}
				scope = append(scope, binding{g[1], target})
			}
		default:
			for _, kw := range []string{"if ", "elif "} {
				if strings.HasPrefix(stmt, kw) {
					for _, r := range paths(stmt[len(kw):]) {
						read(r.path)
					}
				}
			}
		}
	}
	return s
}

// quote writes a key segment holding dots the way the mapper flattens it: 'a.b'.
func quote(seg string) string {
	if strings.Contains(seg, ".") {
		return "'" + seg + "'"
	}
	return seg
}
