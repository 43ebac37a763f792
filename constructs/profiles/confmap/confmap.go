// Package confmap replays what WSO2's config mapper does with a deployment.toml before the
// server starts, so a rendered file can be checked without a WSO2 pack: it flattens the file,
// applies key-mappings.json, infer.json and default.json, resolves $env{}, $sys{} and $ref{}
// references the way the mapper of the release does, and compares what is left with the keys
// the release's Jinja templates read. The rules are this package's reading of
// github.com/wso2/config-mapper (TomlParser, KeyMapper, ValueInferrer, DefaultParser,
// ReferenceResolver, UnitResolver and JinjaParser, tags v1.0.2 and v1.0.23); the facts about each release's
// templates and JSON files are extracted by ./extract into testdata/<release>.json.
//
// It imports no CDK package.
package confmap

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Source is one folder of WSO2 files a release's facts were read from.
type Source struct {
	Repo   string `json:"repo"`
	Path   string `json:"path"`
	Rev    string `json:"rev"`
	Commit string `json:"commit"`
	// Role is "release" for the release's own files, "fill" for templates the release ships
	// from a repository not reachable here, taken from the nearest release that has them
	// (never its JSON files).
	Role string `json:"role"`
	// Templates counts the Jinja templates taken from this folder.
	Templates int `json:"templates"`
}

// Correction changes a fact a borrowed template gets wrong for the release, with the evidence.
type Correction struct {
	// Unread keys the borrowed templates read but the release does not; Read keys the other
	// way round.
	Unread []string `json:"unread,omitempty"`
	Read   []string `json:"read,omitempty"`
	Why    string   `json:"why"`
}

// Facts is what the config mapper of one release knows: the keys its templates read and the
// JSON files it applies.
type Facts struct {
	Release string `json:"release"`
	// Mapper is the config-mapper version the release runs.
	Mapper  string   `json:"config_mapper"`
	Sources []Source `json:"sources"`
	// Borrowed lists the templates taken from a fill source.
	Borrowed    []string     `json:"borrowed_templates,omitempty"`
	Corrections []Correction `json:"corrections,omitempty"`
	// Reads maps each key a template names (an array element's keys as "a.b[].c") to the
	// first template that names it.
	Reads map[string]string `json:"reads"`
	// Open lists tables a template reads whole (a loop over .items()): every key under them is
	// read.
	Open []string `json:"open_tables"`
	// Loops lists the values a template loops over as arrays.
	Loops       []string       `json:"loops"`
	Defaults    map[string]any `json:"defaults"`
	Infer       map[string]any `json:"infer"`
	KeyMappings map[string]any `json:"key_mappings"`
	// TimeUnits is unit-resolve.json's "time": the unit (d, h, m, s, ms) each key is written
	// into the XML in.
	TimeUnits map[string]string `json:"time_units"`

	patterns map[string]*regexp.Regexp
}

//go:embed testdata/*.json
var factFiles embed.FS

// Load returns the facts of release ("3.2.0", "4.3.0", "4.5.0"), with its corrections applied.
func Load(release string) (*Facts, error) {
	b, err := factFiles.ReadFile("testdata/" + release + ".json")
	if err != nil {
		return nil, fmt.Errorf("confmap: no facts for WSO2 API Manager %s: %w", release, err)
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("confmap: facts of %s: %w", release, err)
	}
	for _, c := range f.Corrections {
		for _, k := range c.Unread {
			delete(f.Reads, k)
		}
		for _, k := range c.Read {
			f.Reads[k] = "correction"
		}
	}
	return &f, nil
}

// resolvesInsideArrays reports whether the mapper resolves $env{} and $sys{} in the tables of an
// array ([[x]]): from config-mapper 1.0.5. No version resolves $ref{} there.
func (f *Facts) resolvesInsideArrays() bool {
	var v [3]int
	for i, p := range strings.SplitN(f.Mapper, ".", 3) {
		v[i], _ = strconv.Atoi(p)
	}
	return v[0] > 1 || (v[0] == 1 && (v[1] > 0 || v[2] >= 5))
}
