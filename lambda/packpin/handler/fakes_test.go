package handler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// fakeBucket models one versioned bucket: each key's versions, oldest first.
type fakeBucket struct {
	name    string
	objects map[string][]*fakeVersion
	// bodies, when set for a key and version, stands in for that version's content (a large
	// generated stream).
	bodies  map[string]func() io.Reader
	copies  int
	gets    int
	counter int
}

type fakeVersion struct {
	id       string
	body     []byte
	metadata map[string]string
	size     int64
}

func newFakeBucket(name string) *fakeBucket {
	return &fakeBucket{name: name, objects: map[string][]*fakeVersion{}, bodies: map[string]func() io.Reader{}}
}

// put stores a new version of key and returns its id.
func (f *fakeBucket) put(key string, body []byte, metadata map[string]string) string {
	f.counter++
	id := fmt.Sprintf("v%03d.%s", f.counter, strings.ReplaceAll(key, "/", "_"))
	f.objects[key] = append(f.objects[key], &fakeVersion{id: id, body: body, metadata: metadata, size: int64(len(body))})
	return id
}

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

func (f *fakeBucket) find(bucket, key string, version *string) (*fakeVersion, error) {
	if bucket != f.name {
		return nil, apiError("NoSuchBucket")
	}
	vs := f.objects[key]
	if len(vs) == 0 {
		return nil, apiError("NotFound")
	}
	if version == nil {
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.id == *version {
			return v, nil
		}
	}
	return nil, apiError("NotFound")
}

func (f *fakeBucket) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	v, err := f.find(aws.ToString(in.Bucket), aws.ToString(in.Key), in.VersionId)
	if err != nil {
		return nil, err
	}
	return &s3.HeadObjectOutput{VersionId: aws.String(v.id), ContentLength: aws.Int64(v.size), Metadata: v.metadata}, nil
}

func (f *fakeBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	v, err := f.find(aws.ToString(in.Bucket), aws.ToString(in.Key), in.VersionId)
	if err != nil {
		if err.Error() == apiError("NotFound").Error() {
			return nil, apiError("NoSuchVersion")
		}
		return nil, err
	}
	f.gets++
	if gen, ok := f.bodies[v.id]; ok {
		return &s3.GetObjectOutput{Body: io.NopCloser(gen())}, nil
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(v.body))}, nil
}

func (f *fakeBucket) CopyObject(_ context.Context, in *s3.CopyObjectInput, _ ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	path, query, _ := strings.Cut(aws.ToString(in.CopySource), "?")
	path, _ = url.PathUnescape(path)
	q, _ := url.ParseQuery(query)
	bucket, key, _ := strings.Cut(path, "/")
	var version *string
	if q.Has("versionId") {
		version = aws.String(q.Get("versionId"))
	}
	src, err := f.find(bucket, key, version)
	if err != nil {
		return nil, err
	}
	if in.MetadataDirective != types.MetadataDirectiveReplace {
		return nil, fmt.Errorf("fake: the copy keeps the source's metadata")
	}
	f.copies++
	id := f.put(aws.ToString(in.Key), src.body, in.Metadata)
	copied := f.objects[aws.ToString(in.Key)]
	copied[len(copied)-1].size = src.size
	if gen, ok := f.bodies[src.id]; ok {
		f.bodies[id] = gen
	}
	return &s3.CopyObjectOutput{VersionId: aws.String(id), CopyObjectResult: &types.CopyObjectResult{}}, nil
}

func (f *fakeBucket) ListObjectVersions(_ context.Context, in *s3.ListObjectVersionsInput, _ ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	out := &s3.ListObjectVersionsOutput{IsTruncated: aws.Bool(false)}
	for key, vs := range f.objects {
		if !strings.HasPrefix(key, aws.ToString(in.Prefix)) {
			continue
		}
		for i := len(vs) - 1; i >= 0; i-- {
			out.Versions = append(out.Versions, types.ObjectVersion{Key: aws.String(key), VersionId: aws.String(vs[i].id), IsLatest: aws.Bool(i == len(vs)-1)})
		}
	}
	return out, nil
}
