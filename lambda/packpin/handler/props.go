// Package handler is the logic of the pack promotion custom resource. A WSO2 pack or JDBC driver
// is uploaded (by an operator or the updater) under the bucket's staging prefix; a deploy promotes
// one version of it: the handler copies that exact version to the promoted key, which only its own
// role may write (the bucket policy), and answers the copy's version id and SHA-256. The nodes'
// launch template carries both, so what nodes boot changes only when a deploy changes them, and
// each node refuses an object whose digest differs.
//
// A staged version not named (StagedVersionId empty) is the newest one when the resource is
// created; CloudFormation calls the handler again only when a property changes, so a later upload
// changes nothing until a deploy names another version. A version promoted before (as when
// CloudFormation rolls an update back) is found again by the metadata the copy carries, rather
// than copied once more. Delete keeps every object.
package handler

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Props are the custom resource's properties, as the PackPromoter construct sets them.
type Props struct {
	// Bucket is the pack bucket's name. Required.
	Bucket string `json:"Bucket"`
	// StagedKey is the staged object's key; it must lie under StagingPrefix. Required.
	StagedKey string `json:"StagedKey"`
	// StagedVersionId names the staged version to promote. Default: the newest version when the
	// resource is created (and the one promoted before on an Update that names none).
	StagedVersionId string `json:"StagedVersionId"`
	// PromotedKey is where the nodes install the object from; it must lie outside
	// StagingPrefix. Required.
	PromotedKey string `json:"PromotedKey"`
}

// StagingPrefix is where packs and drivers are uploaded; everything outside it is written by
// the promoter alone.
const StagingPrefix = "staging/"

// Metadata keys the promoted copy carries (S3 stores them as x-amz-meta-*).
const (
	MetaSourceKey     = "apimkit-staged-key"
	MetaSourceVersion = "apimkit-staged-version"
	MetaSHA256        = "apimkit-sha256"
)

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// objectKey is a key made of the characters the nodes' boot script passes on as they are.
	objectKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./+=@-]*$`)
	// versionID is an S3 version id: URL-safe characters, at most 1024.
	versionID = regexp.MustCompile(`^[A-Za-z0-9._+=-]+$`)
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseProps reads and validates the custom resource's properties. Every error names the field.
func ParseProps(raw map[string]any) (Props, error) {
	var p Props
	b, err := json.Marshal(raw)
	if err != nil {
		return p, fmt.Errorf("ResourceProperties: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("ResourceProperties: %w", err)
	}
	switch {
	case !bucketName.MatchString(p.Bucket):
		return p, fmt.Errorf("ResourceProperties.Bucket %q is not a bucket name", p.Bucket)
	case !objectKey.MatchString(p.StagedKey) || strings.Contains(p.StagedKey, ".."):
		return p, fmt.Errorf("ResourceProperties.StagedKey %q is not an object key of letters, digits and _./+=@-", p.StagedKey)
	case !strings.HasPrefix(p.StagedKey, StagingPrefix):
		return p, fmt.Errorf("ResourceProperties.StagedKey %q must lie under %s", p.StagedKey, StagingPrefix)
	case !objectKey.MatchString(p.PromotedKey) || strings.Contains(p.PromotedKey, ".."):
		return p, fmt.Errorf("ResourceProperties.PromotedKey %q is not an object key of letters, digits and _./+=@-", p.PromotedKey)
	case strings.HasPrefix(p.PromotedKey, StagingPrefix):
		return p, fmt.Errorf("ResourceProperties.PromotedKey %q must lie outside %s, which others may write", p.PromotedKey, StagingPrefix)
	case len(p.StagedKey) > 1024 || len(p.PromotedKey) > 1024:
		return p, fmt.Errorf("ResourceProperties: StagedKey and PromotedKey take at most 1024 characters")
	case p.StagedVersionId != "" && (!versionID.MatchString(p.StagedVersionId) || len(p.StagedVersionId) > 1024):
		return p, fmt.Errorf("ResourceProperties.StagedVersionId %q is not an S3 version id", p.StagedVersionId)
	}
	return p, nil
}

// PhysicalID names a promoted version: s3://bucket/key?versionId=id.
func PhysicalID(bucket, key, version string) string {
	return "s3://" + bucket + "/" + key + "?versionId=" + version
}

// parsePhysicalID reads back what PhysicalID wrote; ok is false for any other text.
func parsePhysicalID(id string) (bucket, key, version string, ok bool) {
	rest, found := strings.CutPrefix(id, "s3://")
	if !found {
		return "", "", "", false
	}
	path, version, found := strings.Cut(rest, "?versionId=")
	if !found {
		return "", "", "", false
	}
	bucket, key, found = strings.Cut(path, "/")
	return bucket, key, version, found && version != ""
}
