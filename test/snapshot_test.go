package test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/apimkit/apimkit/test/testkit"
)

// The reference app's templates, compared with testdata/reference/. Rewrite them with
// `go test ./test/ -run TestReferenceSnapshots -update` and read the diff before committing.
func TestReferenceSnapshots(t *testing.T) {
	for dir, asm := range map[string]*testkit.Assembly{"reference": reference(t), "reference-3.2": reference32(t)} {
		require.NotEmpty(t, asm.Stacks)
		for _, s := range asm.Stacks {
			t.Run(dir+"/"+s.ID, func(t *testing.T) {
				testkit.Golden(t, filepath.Join("testdata", dir, s.ID+".template.json"), s.Template)
			})
		}
	}
}
