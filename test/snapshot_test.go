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
	asm := reference(t)
	require.NotEmpty(t, asm.Stacks)
	for _, s := range asm.Stacks {
		t.Run(s.ID, func(t *testing.T) {
			testkit.Golden(t, filepath.Join("testdata", "reference", s.ID+".template.json"), s.Template)
		})
	}
}
