package handler

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Objects is the part of the S3 API the handler calls.
type Objects interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, opts ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// Handler serves the custom resource. Objects is required.
type Handler struct {
	Objects Objects
	// Log receives the handler's structured log. Default: slog.Default().
	Log *slog.Logger
	// ResponseReserve is kept back from the function's deadline, so that a download that hangs is
	// given up in time to answer CloudFormation. Default: 15 s.
	ResponseReserve time.Duration
}

// MaxCopySize is the largest object one CopyObject copies (5 GiB); WSO2 packs are well below.
const MaxCopySize = 5 << 30

// Handle serves one CloudFormation request. The response data are VersionId (the promoted copy's
// version), Sha256 (its digest, lower-case hex) and StagedVersionId (the version it was copied
// from). The returned error becomes the Reason CloudFormation shows.
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	switch ev.RequestType {
	case cfn.RequestDelete:
		h.log().Info("delete: the promoted and staged objects are kept", "physicalId", ev.PhysicalResourceID)
		return ev.PhysicalResourceID, nil, nil
	case cfn.RequestCreate, cfn.RequestUpdate:
	default:
		return "", nil, fmt.Errorf("packpin: RequestType %q is not Create, Update or Delete", ev.RequestType)
	}
	props, err := ParseProps(ev.ResourceProperties)
	if err != nil {
		return "", nil, fmt.Errorf("packpin: %w", err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		reserve := h.ResponseReserve
		if reserve == 0 {
			reserve = 15 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	p, err := h.promote(ctx, props, h.keptVersion(ctx, ev, props))
	if err != nil {
		return "", nil, fmt.Errorf("packpin: %w", err)
	}
	return PhysicalID(props.Bucket, props.PromotedKey, p.version), map[string]any{
		"VersionId": p.version, "Sha256": p.sha256, "StagedVersionId": p.staged,
	}, nil
}

// promoted is one promoted version.
type promoted struct{ version, sha256, staged string }

// keptVersion is, for an Update that names no staged version, the staged version the resource
// promoted before, if it comes from the same staged object: an Update for another reason (a
// changed promoted key, say) does not pick up an upload no deploy named.
func (h *Handler) keptVersion(ctx context.Context, ev cfn.Event, props Props) string {
	if ev.RequestType != cfn.RequestUpdate || props.StagedVersionId != "" {
		return ""
	}
	bucket, key, version, ok := parsePhysicalID(ev.PhysicalResourceID)
	if !ok || bucket != props.Bucket {
		return ""
	}
	head, err := h.Objects.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil || head.Metadata[MetaSourceKey] != props.StagedKey {
		return ""
	}
	return head.Metadata[MetaSourceVersion]
}

// promote copies the staged version (named, kept, or else the newest) to the promoted key, or
// finds the copy made of it before.
func (h *Handler) promote(ctx context.Context, props Props, kept string) (promoted, error) {
	staged := props.StagedVersionId
	if staged == "" {
		staged = kept
	}
	where := fmt.Sprintf("s3://%s/%s", props.Bucket, props.StagedKey)
	in := &s3.HeadObjectInput{Bucket: aws.String(props.Bucket), Key: aws.String(props.StagedKey)}
	if staged != "" {
		in.VersionId = aws.String(staged)
	}
	head, err := h.Objects.HeadObject(ctx, in)
	switch {
	case notFound(err) && staged != "":
		return promoted{}, fmt.Errorf("version %s of %s does not exist: name a version that `aws s3api list-object-versions --bucket %s --prefix %s` lists", staged, where, props.Bucket, props.StagedKey)
	case notFound(err):
		return promoted{}, fmt.Errorf("%s does not exist: upload the object there first (nodes install only a promoted version of it)", where)
	case err != nil:
		return promoted{}, fmt.Errorf("reading %s: %w", where, err)
	}
	if staged == "" {
		staged = aws.ToString(head.VersionId)
		if staged == "" || staged == "null" {
			return promoted{}, fmt.Errorf("%s has no version id: the pack bucket must be versioned", where)
		}
		h.log().Info("no staged version named: promoting the newest", "object", where, "stagedVersion", staged)
	}
	if size := aws.ToInt64(head.ContentLength); size > MaxCopySize {
		return promoted{}, fmt.Errorf("version %s of %s is %d bytes, over the %d one copy takes", staged, where, size, int64(MaxCopySize))
	}
	if p, ok, err := h.findCopy(ctx, props, staged); err != nil {
		return promoted{}, err
	} else if ok {
		h.log().Info("already promoted", "object", where, "stagedVersion", staged, "version", p.version, "sha256", p.sha256)
		return p, nil
	}

	sum, err := h.digest(ctx, props.Bucket, props.StagedKey, staged)
	if err != nil {
		return promoted{}, err
	}
	source := url.PathEscape(props.Bucket+"/"+props.StagedKey) + "?versionId=" + url.QueryEscape(staged)
	out, err := h.Objects.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(props.Bucket), Key: aws.String(props.PromotedKey), CopySource: aws.String(source),
		MetadataDirective: types.MetadataDirectiveReplace,
		Metadata:          map[string]string{MetaSourceKey: props.StagedKey, MetaSourceVersion: staged, MetaSHA256: sum},
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return promoted{}, fmt.Errorf("copying version %s of %s to %s: %w", staged, where, props.PromotedKey, err)
	}
	version := aws.ToString(out.VersionId)
	if version == "" || version == "null" {
		return promoted{}, fmt.Errorf("the copy to s3://%s/%s has no version id: the pack bucket must be versioned", props.Bucket, props.PromotedKey)
	}
	// S3's own checksum of the copy, when it answers one, must be the digest just computed.
	if r := out.CopyObjectResult; r != nil && r.ChecksumSHA256 != nil {
		if raw, err := base64.StdEncoding.DecodeString(*r.ChecksumSHA256); err == nil && len(raw) == sha256.Size && hex.EncodeToString(raw) != sum {
			return promoted{}, fmt.Errorf("S3 reports SHA-256 %s for the copy s3://%s/%s version %s, the staged version read as %s",
				hex.EncodeToString(raw), props.Bucket, props.PromotedKey, version, sum)
		}
	}
	h.log().Info("promoted", "object", where, "stagedVersion", staged, "to", props.PromotedKey, "version", version, "sha256", sum)
	return promoted{version: version, sha256: sum, staged: staged}, nil
}

// findCopy looks for a version of the promoted key copied from staged before.
func (h *Handler) findCopy(ctx context.Context, props Props, staged string) (promoted, bool, error) {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(props.Bucket), Prefix: aws.String(props.PromotedKey)}
	for {
		out, err := h.Objects.ListObjectVersions(ctx, in)
		if err != nil {
			return promoted{}, false, fmt.Errorf("listing the versions of s3://%s/%s: %w", props.Bucket, props.PromotedKey, err)
		}
		for _, v := range out.Versions {
			if aws.ToString(v.Key) != props.PromotedKey {
				continue
			}
			head, err := h.Objects.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(props.Bucket), Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				return promoted{}, false, fmt.Errorf("reading version %s of s3://%s/%s: %w", aws.ToString(v.VersionId), props.Bucket, props.PromotedKey, err)
			}
			m := head.Metadata
			if m[MetaSourceKey] == props.StagedKey && m[MetaSourceVersion] == staged && sha256Hex.MatchString(m[MetaSHA256]) {
				return promoted{version: aws.ToString(v.VersionId), sha256: m[MetaSHA256], staged: staged}, true, nil
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return promoted{}, false, nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// digest streams one version of an object through SHA-256, without keeping it.
func (h *Handler) digest(ctx context.Context, bucket, key, version string) (string, error) {
	out, err := h.Objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		return "", fmt.Errorf("reading version %s of s3://%s/%s: %w", version, bucket, key, err)
	}
	defer out.Body.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, out.Body); err != nil {
		return "", fmt.Errorf("reading version %s of s3://%s/%s: %w", version, bucket, key, err)
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// notFound reports S3's answer for a missing object or version (HeadObject answers 404 as
// NotFound, GetObject as NoSuchKey or NoSuchVersion; a malformed version id is a 400).
func notFound(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchVersion", "InvalidArgument":
			return true
		}
	}
	return false
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
