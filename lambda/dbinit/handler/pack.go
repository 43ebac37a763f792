package handler

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Objects is the part of the S3 API the handler calls.
type Objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// maxPackBytes bounds the pack the handler copies to the function's ephemeral storage (4 GiB,
// set by ApimDatabase; a larger pack would fill it before this check could say why).
const maxPackBytes = 3584 << 20

// pack is a product pack copied from S3 to a temporary file.
type pack struct {
	where string
	file  *os.File
	zip   *zip.Reader
}

func openPack(ctx context.Context, objects Objects, p Props) (*pack, error) {
	where := fmt.Sprintf("s3://%s/%s", p.PackBucket, p.PackKey)
	in := &s3.GetObjectInput{Bucket: aws.String(p.PackBucket), Key: aws.String(p.PackKey)}
	if p.PackVersion != "" {
		in.VersionId = aws.String(p.PackVersion)
	}
	out, err := objects.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("reading the pack %s: %w", where, err)
	}
	defer out.Body.Close()
	f, err := os.CreateTemp("", "wso2-pack-*.zip")
	if err != nil {
		return nil, fmt.Errorf("reading the pack %s: %w", where, err)
	}
	os.Remove(f.Name()) // the open file lives until close
	n, err := io.Copy(f, io.LimitReader(out.Body, maxPackBytes+1))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the pack %s: %w", where, err)
	}
	if n > maxPackBytes {
		f.Close()
		return nil, fmt.Errorf("the pack %s is larger than %d bytes", where, maxPackBytes)
	}
	z, err := zip.NewReader(f, n)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("the pack %s is not a zip archive: %w", where, err)
	}
	return &pack{where: where, file: f, zip: z}, nil
}

func (p *pack) Close() error { return p.file.Close() }

// script returns the file at rel inside the pack, which may sit under one top-level folder
// (wso2am-4.3.0/dbscripts/mysql.sql for dbscripts/mysql.sql).
func (p *pack) script(rel string) (string, error) {
	rel = path.Clean(strings.TrimPrefix(rel, "/"))
	var found *zip.File
	for _, f := range p.zip.File {
		name := path.Clean(f.Name)
		top, rest, nested := strings.Cut(name, "/")
		if name == rel || (nested && rest == rel && top != "") {
			if found != nil {
				return "", fmt.Errorf("the pack %s holds %s twice (%s and %s)", p.where, rel, found.Name, f.Name)
			}
			found = f
		}
	}
	if found == nil {
		return "", fmt.Errorf("the pack %s has no %s", p.where, rel)
	}
	r, err := found.Open()
	if err != nil {
		return "", fmt.Errorf("opening %s in the pack %s: %w", found.Name, p.where, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("reading %s in the pack %s: %w", found.Name, p.where, err)
	}
	return string(b), nil
}
