// Package handler is the logic of the dbinit custom resource: it creates the WSO2 API Manager
// databases and their application user on the RDS instance, and loads the WSO2 schema scripts from
// the product pack into databases that are still empty. It never drops, truncates or deletes
// anything, on any request type.
package handler

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Database is one database to create, the character set to create it with, and the path of its
// schema script inside the product pack.
type Database struct {
	Name    string `json:"Name"`
	Charset string `json:"Charset"`
	Script  string `json:"Script"`
}

// Props are the custom resource's properties, as the ApimDatabase construct sets them.
type Props struct {
	// Endpoint and Port address the database instance.
	Endpoint string `json:"Endpoint"`
	Port     string `json:"Port"`
	// MasterSecretArn names the secret holding the administrative user (username, password).
	MasterSecretArn string `json:"MasterSecretArn"`
	// AppSecretArn names the secret holding the WSO2 application user (username, password).
	AppSecretArn string `json:"AppSecretArn"`
	// TLS is the client TLS mode: "true" (verify), "skip-verify" (encrypt, do not verify the
	// server's chain) or "false" (plain, for local tests only).
	TLS string `json:"Tls"`
	// Databases lists what to create.
	Databases []Database `json:"Databases"`
	// PackBucket and PackKey locate the WSO2 product pack (a zip). Both empty: databases and user
	// only, no schema is loaded.
	PackBucket string `json:"PackBucket"`
	PackKey    string `json:"PackKey"`
	// PackVersion is the S3 object version to read; empty reads the latest.
	PackVersion string `json:"PackVersion"`
}

var (
	identifier = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	charset    = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
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
	required := []struct{ name, value string }{
		{"Endpoint", p.Endpoint}, {"Port", p.Port}, {"MasterSecretArn", p.MasterSecretArn}, {"AppSecretArn", p.AppSecretArn},
	}
	for _, r := range required {
		if r.value == "" {
			return p, fmt.Errorf("ResourceProperties.%s is missing", r.name)
		}
	}
	if port, err := strconv.Atoi(p.Port); err != nil || port < 1 || port > 65535 {
		return p, fmt.Errorf("ResourceProperties.Port %q is not a TCP port", p.Port)
	}
	switch p.TLS {
	case "":
		p.TLS = "true"
	case "true", "skip-verify", "false":
	default:
		return p, fmt.Errorf("ResourceProperties.Tls %q must be true, skip-verify or false", p.TLS)
	}
	if len(p.Databases) == 0 {
		return p, fmt.Errorf("ResourceProperties.Databases is empty")
	}
	for i, d := range p.Databases {
		if !identifier.MatchString(d.Name) {
			return p, fmt.Errorf("ResourceProperties.Databases[%d].Name %q must be 1-64 letters, digits or underscores", i, d.Name)
		}
		if !charset.MatchString(d.Charset) {
			return p, fmt.Errorf("ResourceProperties.Databases[%d].Charset %q is not a character set name", i, d.Charset)
		}
		if p.PackKey != "" && d.Script == "" {
			return p, fmt.Errorf("ResourceProperties.Databases[%d].Script is missing: a pack is given, so every database needs its script", i)
		}
	}
	if (p.PackBucket == "") != (p.PackKey == "") {
		return p, fmt.Errorf("ResourceProperties.PackBucket and PackKey go together: give both or neither")
	}
	return p, nil
}

// credentials is the part of a Secrets Manager database secret the handler reads.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

var username = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

func parseCredentials(which, raw string) (credentials, error) {
	var c credentials
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("the %s secret is not JSON with username and password: %w", which, err)
	}
	if !username.MatchString(c.Username) {
		return c, fmt.Errorf("the %s secret's username %q must start with a letter and hold at most 32 letters, digits or underscores", which, c.Username)
	}
	if c.Password == "" {
		return c, fmt.Errorf("the %s secret has no password", which)
	}
	return c, nil
}
