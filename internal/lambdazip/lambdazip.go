// Package lambdazip holds the module's Go Lambda functions prebuilt, one <name>.zip per
// lambda/<name>/ (a bootstrap binary for arm64 Linux), written by `make lambdas` and checked
// against the sources by the lambdabuild tests: a synth deploys these bytes and builds nothing.
package lambdazip

import (
	"embed"
	"fmt"
)

//go:embed *.zip
var zips embed.FS

// Zip returns the shipped zip of the function in lambda/<name>.
func Zip(name string) ([]byte, error) {
	b, err := zips.ReadFile(name + ".zip")
	if err != nil {
		return nil, fmt.Errorf("no prebuilt Lambda %q in this module (run `make lambdas`): %w", name, err)
	}
	return b, nil
}

// Names lists the functions shipped.
func Names() []string {
	entries, _ := zips.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name()[:len(e.Name())-len(".zip")])
	}
	return names
}
