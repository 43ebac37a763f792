// Package doccheck keeps the Markdown documentation true to the code, without CDK or node (it
// runs in milliseconds): every Go block in README.md and docs/ is the body of a named Example
// function, which `go vet` and `go test` compile (and run, for those with an Output comment);
// every exported field of a construct's props and every exported method of the construct is
// named in that construct's page; and every relative link leads to a file that exists, and to a
// heading of it when it names one.
package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

const root = "../.."

// markdownFiles are README.md, CHANGELOG.md and every .md under docs/, relative to the root.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CHANGELOG.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// example is an Example function of some _test.go file of the module.
type example struct {
	file    string
	body    string          // the statements between the braces, without the Output comment
	imports map[string]bool // the import paths of its file
}

// examples finds every Example function of the module's test files.
func examples(t *testing.T) map[string]example {
	t.Helper()
	out := map[string]example{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "node_modules" || d.Name() == "cdk.out" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			return err
		}
		imports := map[string]bool{}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			imports[path] = true
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") || fn.Body == nil {
				continue
			}
			body := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
			if i := strings.Index(body, "// Output:"); i >= 0 {
				body = body[:i]
			}
			out[fn.Name.Name] = example{file: p, body: body, imports: imports}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normalise makes two spellings of one program compare equal: blank lines dropped, and every run
// of spaces or tabs (gofmt's indentation and alignment) made one space.
func normalise(code string) string {
	space := regexp.MustCompile(`[ \t]+`)
	var out []string
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(space.ReplaceAllString(l, " ")); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var (
	goBlock   = regexp.MustCompile("(?s)(?:<!-- example: (\\w+) -->\n)?```go\n(.*?)```")
	importRe  = regexp.MustCompile(`(?s)^import (?:\((.*?)\n\)|("[^"]+"))\n`)
	quotedRe  = regexp.MustCompile(`"([^"]+)"`)
	mainFunc  = regexp.MustCompile(`(?s)^func main\(\) \{\n(.*)\n\}\s*$`)
	packageRe = regexp.MustCompile(`^package \w+\n`)
)

// splitBlock takes a Markdown Go block apart: its import paths, and its statements (the body of
// func main when the block is a whole program).
func splitBlock(code string) (imports []string, body string) {
	code = strings.TrimLeft(packageRe.ReplaceAllString(strings.TrimLeft(code, "\n"), ""), "\n")
	if m := importRe.FindStringSubmatch(code); m != nil {
		for _, q := range quotedRe.FindAllStringSubmatch(m[1]+m[2], -1) {
			imports = append(imports, q[1])
		}
		code = strings.TrimLeft(code[len(m[0]):], "\n")
	}
	if m := mainFunc.FindStringSubmatch(code); m != nil {
		code = m[1]
	}
	return imports, code
}

// Every Go block of the documentation names the Example it shows, in an HTML comment on the line
// before it, and equals that Example's body: the compiler checks the example, this test checks
// that the reader sees the compiled one. A block's imports must be its Example file's.
func TestEveryGoBlockIsACompiledExample(t *testing.T) {
	all := examples(t)
	blocks := 0
	for _, md := range markdownFiles(t) {
		text := read(t, md)
		if strings.Count(text, "```go\n") != len(goBlock.FindAllString(text, -1)) {
			t.Errorf("%s: a ```go block is not closed", md)
		}
		for i, m := range goBlock.FindAllStringSubmatch(text, -1) {
			blocks++
			name := m[1]
			if name == "" {
				t.Errorf("%s: Go block %d names no Example: put <!-- example: ExampleName --> on the line before it, "+
					"and the code in that Example function of a _test.go file:\n%s", md, i+1, m[2])
				continue
			}
			ex, ok := all[name]
			if !ok {
				t.Errorf("%s: Go block %d names %s, which no _test.go file defines", md, i+1, name)
				continue
			}
			imports, body := splitBlock(m[2])
			for _, p := range imports {
				if !ex.imports[p] {
					t.Errorf("%s: Go block %d imports %q, which %s (%s) does not", md, i+1, p, name, ex.file)
				}
			}
			if normalise(body) != normalise(ex.body) {
				t.Errorf("%s: Go block %d differs from %s in %s; the block should read:\n%s", md, i+1, name, ex.file, strings.TrimSpace(ex.body))
			}
		}
	}
	if blocks == 0 {
		t.Fatal("no Go block found: is the Markdown where this test looks?")
	}
}

// The construct pages name each construct's props and methods. Pages and the types they own:
var pages = map[string][]string{
	"docs/constructs/apim-deployment.md":        {"ApimDeployment", "ApimDeploymentProps"},
	"docs/constructs/apim-network.md":           {"ApimNetwork", "ApimNetworkProps", "CidrPlan", "TierCidr", "ExistingTierSubnets"},
	"docs/constructs/apim-database.md":          {"ApimDatabase", "ApimDatabaseProps", "SchemaPack"},
	"docs/constructs/apim-keystore.md":          {"ApimKeystore", "ApimKeystoreProps"},
	"docs/constructs/profile-asg.md":            {"ProfileAsg", "ProfileAsgProps", "NodeOptions", "NodeWiring", "BootCommands", "LaunchHook"},
	"docs/constructs/apim-load-balancer.md":     {"ApimLoadBalancer", "ApimLoadBalancerProps", "LoadBalancedProfile", "ApimWebAclProps"},
	"docs/constructs/apim-internal-endpoint.md": {"ApimInternalEndpoint", "ApimInternalEndpointProps"},
	"docs/constructs/traffic-manager-pair.md":   {"TrafficManagerPair", "TrafficManagerPairProps"},
	"docs/constructs/bastion.md":                {"Bastion", "BastionProps"},
	"docs/constructs/wum-updater.md":            {"WumUpdater", "WumUpdaterProps"},
	"docs/constructs/apim-operations.md":        {"ApimOperations", "ApimOperationsProps"},
	"docs/constructs/other-helpers.md":          {"AlarmTopicProps"},
	"docs/constructs/pack-promoter.md":          {"PackPromoter", "PackPromoterProps", "PinnedObject"},
}

// exported reads package wso2's exported struct fields (embedded structs by their type's name)
// and exported methods, by type name.
func exported(t *testing.T) (fields, methods map[string][]string) {
	t.Helper()
	fields, methods = map[string][]string{}, map[string][]string{}
	fset := token.NewFileSet()
	dir := filepath.Join(root, "constructs", "wso2")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					fields[ts.Name.Name] = append(fields[ts.Name.Name], []string{}...)
					for _, fl := range st.Fields.List {
						for _, n := range fl.Names {
							if n.IsExported() {
								fields[ts.Name.Name] = append(fields[ts.Name.Name], n.Name)
							}
						}
						if len(fl.Names) == 0 { // embedded
							if id, ok := fl.Type.(*ast.Ident); ok && id.IsExported() {
								fields[ts.Name.Name] = append(fields[ts.Name.Name], id.Name)
							}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || !d.Name.IsExported() || len(d.Recv.List) != 1 {
					continue
				}
				typ := d.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					methods[id.Name] = append(methods[id.Name], d.Name.Name)
				}
			}
		}
	}
	return fields, methods
}

// Every exported field of a construct's props (and of the structs they take) is named in its
// page as `Field` (alone or in a longer code span), and every exported method as `Method(`;
// every exported Props type of package wso2 has a page.
func TestConstructPagesNameEveryPropAndMethod(t *testing.T) {
	fields, methods := exported(t)
	owned := map[string]bool{}
	for page, types := range pages {
		text := read(t, page)
		// The code spans of the page, paired left to right (a span may run over a line break);
		// the fences of Go blocks are left out so they do not pair with a span.
		spans := strings.Join(regexp.MustCompile("`[^`]+`").FindAllString(strings.ReplaceAll(text, "```", ""), -1), "\n")
		for _, typ := range types {
			owned[typ] = true
			if _, ok := fields[typ]; !ok {
				t.Errorf("%s: package wso2 has no exported struct %s", page, typ)
			}
			for _, f := range fields[typ] {
				if !regexp.MustCompile(`\b` + f + `\b`).MatchString(spans) {
					t.Errorf("%s does not name %s.%s (in backticks)", page, typ, f)
				}
			}
			for _, m := range methods[typ] {
				if !strings.Contains(text, m+"(") {
					t.Errorf("%s does not name the method %s.%s()", page, typ, m)
				}
			}
		}
	}
	var missing []string
	for typ := range fields {
		if strings.HasSuffix(typ, "Props") && !owned[typ] {
			missing = append(missing, typ)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no page in docs/constructs/ owns %v: add it to a page and to the pages table here", missing)
	}
}

var linkRe = regexp.MustCompile(`\]\(([^)#\s]*)(#[^)\s]*)?\)`)

// Every relative link of the documentation leads to a file or folder that exists, and a link to
// a heading (file.md#heading, or #heading within the page) to a heading the page has.
func TestRelativeLinksResolve(t *testing.T) {
	for _, md := range markdownFiles(t) {
		for _, problem := range linkProblems(md, read(t, md), func(rel string) (string, bool) {
			b, err := os.ReadFile(filepath.Join(root, rel))
			return string(b), err == nil
		}, func(rel string) bool {
			_, err := os.Stat(filepath.Join(root, rel))
			return err == nil
		}) {
			t.Error(problem)
		}
	}
}

// The link check reports a missing file and a heading the page does not have, and accepts the
// anchors GitHub gives headings (backquotes and punctuation dropped, a repeated heading's -1).
func TestLinkCheckReportsMissingTargets(t *testing.T) {
	pages := map[string]string{
		"docs/a.md": "# Page A\n\n## Not handled yet: check these\n\n```sh\n# a comment, not a heading\n```\n\n## `make test`'s time\n\n## Repeated\n\n## Repeated\n",
	}
	readPage := func(rel string) (string, bool) { s, ok := pages[rel]; return s, ok }
	exists := func(rel string) bool { _, ok := pages[rel]; return ok }
	good := "[a](a.md#not-handled-yet-check-these) [b](a.md#make-tests-time) [c](a.md#repeated-1) [d](#own) [e](a.md)\n\n# Own\n"
	assert.Empty(t, linkProblems("docs/b.md", good, readPage, exists))
	bad := "[a](a.md#not-handled-yet) [b](missing.md) [c](#nowhere) [d](a.md#a-comment-not-a-heading)\n"
	assert.Equal(t, []string{
		"docs/b.md links to a.md#not-handled-yet, a heading a.md does not have",
		"docs/b.md links to missing.md, which does not exist",
		"docs/b.md links to #nowhere, a heading docs/b.md does not have",
		"docs/b.md links to a.md#a-comment-not-a-heading, a heading a.md does not have",
	}, linkProblems("docs/b.md", bad, readPage, exists))
}

// linkProblems lists the relative links of page md (its text given) whose file does not exist or
// whose #fragment names no heading of the Markdown page it leads to. Paths are relative to the
// repository root.
func linkProblems(md, text string, readPage func(string) (string, bool), exists func(string) bool) []string {
	var problems []string
	for _, m := range linkRe.FindAllStringSubmatch(text, -1) {
		target, fragment := m[1], strings.TrimPrefix(m[2], "#")
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		page := md
		if target != "" {
			page = filepath.ToSlash(filepath.Join(filepath.Dir(md), target))
			if !exists(page) {
				problems = append(problems, fmt.Sprintf("%s links to %s, which does not exist", md, target))
				continue
			}
		}
		if fragment == "" || !strings.HasSuffix(page, ".md") {
			continue
		}
		body := text
		if page != md {
			body, _ = readPage(page)
		}
		if !headingAnchors(body)[fragment] {
			problems = append(problems, fmt.Sprintf("%s links to %s#%s, a heading %s does not have", md, target, fragment, displayPage(target, md)))
		}
	}
	return problems
}

func displayPage(target, md string) string {
	if target == "" {
		return md
	}
	return target
}

// headingAnchors are the anchors GitHub gives a page's headings: lower case, spaces to hyphens,
// everything but letters, digits, hyphens and underscores dropped, -1, -2... for repeats.
// Lines inside fenced code blocks are not headings.
func headingAnchors(page string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", anchor, n)] = true
		} else {
			anchors[anchor] = true
		}
		seen[anchor]++
	}
	return anchors
}
