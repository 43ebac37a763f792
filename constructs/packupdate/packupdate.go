// Package packupdate renders the update instance's script and settings: update.sh fetches WSO2's
// updates for the packs in the pack bucket with the WSO2 Update tool the packs carry (Updates 2.0,
// for 3.2 and 4.x alike; WUM was shut down in March 2023), uploads each changed pack as a new object version, announces it on EventBridge and may start an
// instance refresh. It imports no CDK package; update.sh is tested in a sandbox with stubs.
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
	RefreshGroups        []string
	MinHealthyPercentage int
	// ReplaceFirstGroups are refreshed one node at a time, never above their size
	// (MaxHealthyPercentage 100: a node is terminated as its replacement launches), keeping
	// MinHealthyPercentage of their own: groups whose nodes are named per zone, where a
	// replacement started beside the node it replaces would share its zone, and so its name.
	ReplaceFirstGroups []ReplaceFirstGroup
	// OneByOneGroups are refreshed one after the other, in this order, each waited for before
	// the next starts, with nothing kept in service (MinHealthyPercentage 0,
	// MaxHealthyPercentage 100): single-node groups whose peer takes over while one is replaced,
	// such as the traffic managers. A refresh that does not succeed stops the sequence.
	OneByOneGroups []string
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

// ReplaceFirstGroup is a group refreshed one node at a time, and the share of it kept in service.
type ReplaceFirstGroup struct {
	Name                 string
	MinHealthyPercentage int
}

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
		{"TOOL", c.Tool, false}, {"EVENT_BUS", c.EventBus, false}, {"REFRESH_GROUPS", strings.Join(c.RefreshGroups, " "), true},
		{"MIN_HEALTHY", fmt.Sprint(c.MinHealthyPercentage), false},
		{"REPLACE_FIRST_GROUPS", replaceFirst(c.ReplaceFirstGroups), true},
		{"ONE_BY_ONE_GROUPS", strings.Join(c.OneByOneGroups, " "), true},
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

// replaceFirst renders ReplaceFirstGroups as name:percent words.
func replaceFirst(groups []ReplaceFirstGroup) string {
	words := make([]string, 0, len(groups))
	for _, g := range groups {
		words = append(words, fmt.Sprintf("%s:%d", g.Name, g.MinHealthyPercentage))
	}
	return strings.Join(words, " ")
}
