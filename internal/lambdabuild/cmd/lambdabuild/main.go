// Command lambdabuild rebuilds the zips the library ships (internal/lambdazip/<name>.zip) from
// lambda/*/ with the pinned toolchain, and removes the zip of a function that is gone. Run it
// from the repository root: `make lambdas`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apimkit/apimkit/internal/lambdabuild"
)

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabuild:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	names, err := lambdabuild.Names(root)
	if err != nil {
		return err
	}
	zips, err := lambdabuild.Build(root, names, true)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "internal", "lambdazip")
	old, err := filepath.Glob(filepath.Join(dir, "*.zip"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, ok := zips[strings.TrimSuffix(filepath.Base(f), ".zip")]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
			fmt.Println("removed", f)
		}
	}
	for _, n := range names {
		f := filepath.Join(dir, n+".zip")
		if prev, err := os.ReadFile(f); err == nil && string(prev) == string(zips[n]) {
			fmt.Printf("%s: unchanged (%.1f MiB, sha256 %s)\n", f, float64(len(zips[n]))/(1<<20), lambdabuild.Sum(zips[n]))
			continue
		}
		if err := os.WriteFile(f, zips[n], 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: written (%.1f MiB, sha256 %s)\n", f, float64(len(zips[n]))/(1<<20), lambdabuild.Sum(zips[n]))
	}
	return nil
}
