package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bucket = "apim-packs"

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func event(kind cfn.RequestType, props map[string]any) cfn.Event {
	return cfn.Event{RequestType: kind, ResourceProperties: props}
}

func packProps(version string) map[string]any {
	p := map[string]any{"Bucket": bucket, "StagedKey": "staging/packs/wso2am-4.3.0.zip", "PromotedKey": "packs/wso2am-4.3.0.zip"}
	if version != "" {
		p["StagedVersionId"] = version
	}
	return p
}

// With no version named, the newest staged version is promoted: copied with its digest, and the
// copy's version id answered.
func TestNoVersionNamedPromotesTheNewest(t *testing.T) {
	f := newFakeBucket(bucket)
	f.put("staging/packs/wso2am-4.3.0.zip", []byte("old pack"), nil)
	newest := f.put("staging/packs/wso2am-4.3.0.zip", []byte("new pack"), nil)
	h := &Handler{Objects: f}
	id, data, err := h.Handle(context.Background(), event(cfn.RequestCreate, packProps("")))
	require.NoError(t, err)
	promoted := f.objects["packs/wso2am-4.3.0.zip"]
	require.Len(t, promoted, 1)
	assert.Equal(t, "new pack", string(promoted[0].body))
	assert.Equal(t, promoted[0].id, data["VersionId"])
	assert.Equal(t, sum([]byte("new pack")), data["Sha256"])
	assert.Equal(t, newest, data["StagedVersionId"])
	assert.Equal(t, "s3://apim-packs/packs/wso2am-4.3.0.zip?versionId="+promoted[0].id, id)
	assert.Equal(t, map[string]string{MetaSourceKey: "staging/packs/wso2am-4.3.0.zip", MetaSourceVersion: newest, MetaSHA256: sum([]byte("new pack"))}, promoted[0].metadata)
}

// A named version is promoted even when newer ones were uploaded since.
func TestNamedVersionIsPromoted(t *testing.T) {
	f := newFakeBucket(bucket)
	named := f.put("staging/packs/wso2am-4.3.0.zip", []byte("pack one"), nil)
	f.put("staging/packs/wso2am-4.3.0.zip", []byte("pack two"), nil)
	_, data, err := (&Handler{Objects: f}).Handle(context.Background(), event(cfn.RequestCreate, packProps(named)))
	require.NoError(t, err)
	assert.Equal(t, sum([]byte("pack one")), data["Sha256"])
	assert.Equal(t, named, data["StagedVersionId"])
}

func TestNamedVersionMissingIsAClearError(t *testing.T) {
	f := newFakeBucket(bucket)
	f.put("staging/packs/wso2am-4.3.0.zip", []byte("pack"), nil)
	_, _, err := (&Handler{Objects: f}).Handle(context.Background(), event(cfn.RequestCreate, packProps("gone123")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "version gone123 of s3://apim-packs/staging/packs/wso2am-4.3.0.zip does not exist")
	assert.Contains(t, err.Error(), "aws s3api list-object-versions --bucket apim-packs --prefix staging/packs/wso2am-4.3.0.zip")
	assert.Zero(t, f.copies)
}

func TestNothingStagedIsAClearError(t *testing.T) {
	f := newFakeBucket(bucket)
	_, _, err := (&Handler{Objects: f}).Handle(context.Background(), event(cfn.RequestCreate, packProps("")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s3://apim-packs/staging/packs/wso2am-4.3.0.zip does not exist: upload the object there first")
}

// An upload after the resource was created changes nothing: an Update for another reason keeps
// the staged version promoted before; the same staged version promoted again (a rollback) reuses
// its copy rather than making another.
func TestUpdateKeepsThePromotedVersionAndRollbackReusesTheCopy(t *testing.T) {
	f := newFakeBucket(bucket)
	first := f.put("staging/packs/wso2am-4.3.0.zip", []byte("pack one"), nil)
	h := &Handler{Objects: f}
	id, created, err := h.Handle(context.Background(), event(cfn.RequestCreate, packProps("")))
	require.NoError(t, err)
	second := f.put("staging/packs/wso2am-4.3.0.zip", []byte("pack two"), nil)

	update := event(cfn.RequestUpdate, packProps(""))
	update.PhysicalResourceID = id
	update.OldResourceProperties = map[string]any{"Bucket": bucket, "StagedKey": "staging/packs/wso2am-4.3.0.zip", "PromotedKey": "packs/wso2am-4.3.0.zip", "Other": "x"}
	_, kept, err := h.Handle(context.Background(), update)
	require.NoError(t, err)
	assert.Equal(t, first, kept["StagedVersionId"], "the upload no deploy named is not promoted")
	assert.Equal(t, created["VersionId"], kept["VersionId"])
	assert.Equal(t, 1, f.copies)

	named := event(cfn.RequestUpdate, packProps(second))
	named.PhysicalResourceID = id
	_, moved, err := h.Handle(context.Background(), named)
	require.NoError(t, err)
	assert.Equal(t, sum([]byte("pack two")), moved["Sha256"])
	assert.Equal(t, 2, f.copies)

	back := event(cfn.RequestUpdate, packProps(first))
	back.PhysicalResourceID = moved["VersionId"].(string)
	_, rolledBack, err := h.Handle(context.Background(), back)
	require.NoError(t, err)
	assert.Equal(t, created["VersionId"], rolledBack["VersionId"], "the earlier copy is promoted again")
	assert.Equal(t, 2, f.copies)
}

// The digest is computed by streaming: a 256 MiB pack is hashed with far less memory than its size.
func TestDigestIsStreamed(t *testing.T) {
	const size = 256 << 20
	f := newFakeBucket(bucket)
	id := f.put("staging/packs/wso2am-4.3.0.zip", nil, nil)
	f.objects["staging/packs/wso2am-4.3.0.zip"][0].size = size
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{7}), size) }
	f.bodies[id] = gen
	want := sha256.New()
	_, err := io.Copy(want, gen())
	require.NoError(t, err)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, data, err := (&Handler{Objects: f}).Handle(context.Background(), event(cfn.RequestCreate, packProps("")))
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(want.Sum(nil)), data["Sha256"])
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "the handler must not hold the object in memory")
}

func TestBadPropertiesNameTheField(t *testing.T) {
	for name, tc := range map[string]struct {
		props map[string]any
		want  string
	}{
		"staged outside staging":  {map[string]any{"Bucket": bucket, "StagedKey": "packs/a.zip", "PromotedKey": "packs/a.zip"}, "StagedKey \"packs/a.zip\" must lie under staging/"},
		"promoted inside staging": {map[string]any{"Bucket": bucket, "StagedKey": "staging/a.zip", "PromotedKey": "staging/b.zip"}, "PromotedKey \"staging/b.zip\" must lie outside staging/"},
		"bad version":             {map[string]any{"Bucket": bucket, "StagedKey": "staging/a.zip", "PromotedKey": "packs/a.zip", "StagedVersionId": "a b"}, "StagedVersionId"},
		"bad bucket":              {map[string]any{"Bucket": "A_B", "StagedKey": "staging/a.zip", "PromotedKey": "packs/a.zip"}, "Bucket"},
		"dot dot":                 {map[string]any{"Bucket": bucket, "StagedKey": "staging/../a.zip", "PromotedKey": "packs/a.zip"}, "StagedKey"},
	} {
		_, _, err := (&Handler{Objects: newFakeBucket(bucket)}).Handle(context.Background(), event(cfn.RequestCreate, tc.props))
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tc.want, name)
		}
	}
}

func TestDeleteKeepsEverything(t *testing.T) {
	f := newFakeBucket(bucket)
	f.put("packs/a.zip", []byte("x"), nil)
	ev := event(cfn.RequestDelete, packProps(""))
	ev.PhysicalResourceID = "s3://apim-packs/packs/a.zip?versionId=v1"
	id, _, err := (&Handler{Objects: f}).Handle(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, ev.PhysicalResourceID, id)
	assert.Len(t, f.objects["packs/a.zip"], 1)
}
