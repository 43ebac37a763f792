// Package packupdate renders the update instance's script and settings: update.sh fetches WSO2's
// updates for the packs the nodes run with the WSO2 Update tool the packs carry (Updates 2.0, for
// 3.2 and 4.x alike; WUM was shut down in March 2023), stages each changed pack as a new version
// under the staging prefix and announces it on EventBridge. It changes nothing nodes run: a deploy
// promotes a staged version. It imports no CDK package; update.sh is tested in a sandbox with stubs.
package packupdate

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// Script is update.sh.
//
//go:embed update.sh
var Script string

// UpdateTool is the one updater: the WSO2 Update tool in each pack's bin folder
// (wso2update_linux, or wso2update_linux_arm64 on Graviton).
const UpdateTool = "update-tool"

// Config is the updater's settings; nothing in it is secret.
type Config struct {
	Region               string
	PackBucket           string
	PackPrefix           string
	ProductHomes         []string
	CredentialsSecretArn string
	Tool                 string
	EventBus             string
	// StagingPrefix is put before each pack's key (PackPrefix/<home>.zip) for the updated pack:
	// the updater reads the pack nodes run and writes the staged one.
	StagingPrefix string
	// RunReportID names the updater on the metric apimkit/Updates RunFailed (dimension Updater):
	// each run puts 1 when it fails and 0 when it succeeds. Empty: not reported.
	RunReportID string
}

// Run-outcome metric: namespace, name and dimension.
const (
	RunMetricNamespace = "apimkit/Updates"
	RunMetricName      = "RunFailed"
	RunMetricDimension = "Updater"
)

var (
	word  = regexp.MustCompile(`^[A-Za-z0-9_./:@+=,-]+$`)
	token = regexp.MustCompile(`\$\{Token\[[A-Za-z0-9._-]+\]\}`)
	// folder is one folder's name: update.sh unpacks each product home into a folder of that name
	// under its work folder, and removes it afterwards.
	folder = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Env renders updater.env. Values are single words; deploy-time tokens pass through.
func (c Config) Env() (string, error) {
	if c.Tool != UpdateTool {
		return "", fmt.Errorf("packupdate: Tool must be %s (WUM was shut down in March 2023), not %q", UpdateTool, c.Tool)
	}
	if c.EventBus == "" {
		c.EventBus = "default"
	}
	for _, h := range c.ProductHomes {
		if !folder.MatchString(h) {
			return "", fmt.Errorf("packupdate: PRODUCT_HOMES entry %q must be one folder's name (letters, digits, ._-), not a path", h)
		}
	}
	vars := []struct {
		k, v     string
		optional bool // may be empty
	}{
		{"AWS_REGION", c.Region, false}, {"PACK_BUCKET", c.PackBucket, false}, {"PACK_PREFIX", c.PackPrefix, false},
		{"PRODUCT_HOMES", strings.Join(c.ProductHomes, " "), false}, {"CREDENTIALS_SECRET_ARN", c.CredentialsSecretArn, false},
		{"TOOL", c.Tool, false}, {"EVENT_BUS", c.EventBus, false}, {"STAGING_PREFIX", c.StagingPrefix, false},
		{"RUN_REPORT_ID", c.RunReportID, true},
	}
	var b strings.Builder
	for _, kv := range vars {
		for _, w := range strings.Fields(kv.v) {
			if !word.MatchString(token.ReplaceAllString(w, "x")) {
				return "", fmt.Errorf("packupdate: %s %q holds characters a shell would interpret", kv.k, kv.v)
			}
		}
		if kv.v == "" && !kv.optional {
			return "", fmt.Errorf("packupdate: %s is empty", kv.k)
		}
		fmt.Fprintf(&b, "%s=%q\n", kv.k, kv.v)
	}
	return b.String(), nil
}
