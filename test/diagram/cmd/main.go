// Command diagram prints the Graphviz drawing of the deployment synthesized into a cloud assembly
// directory (default cdk.out): go run ./test/diagram/cmd cdk.out | dot -Tsvg > docs/architecture.svg
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apimkit/apimkit/test/diagram"
)

func main() {
	dir := "cdk.out"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "diagram: no templates in %s: run make synth first\n", dir)
		os.Exit(1)
	}
	templates := map[string]map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "diagram:", err)
			os.Exit(1)
		}
		var t map[string]any
		if err := json.Unmarshal(raw, &t); err != nil {
			fmt.Fprintln(os.Stderr, "diagram:", f, err)
			os.Exit(1)
		}
		templates[strings.TrimSuffix(filepath.Base(f), ".template.json")] = t
	}
	dot, err := diagram.DOT(templates)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(dot)
}
