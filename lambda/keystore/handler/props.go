// Package handler is the logic of the keystore custom resource: it makes a WSO2 API Manager
// deployment its own key pair and self-signed certificate, as a PKCS#12 keystore whose key entry
// is wso2carbon, and stores it with its password in an existing Secrets Manager secret, as JSON
// {"keystore": <base64 PKCS#12>, "password": <password>}, the form the nodes' boot script reads.
// It writes on Create and when the Revision (or the secret) changes; any other Update and every
// Delete leave the secret as it is. Each keystore's version carries a staging label of its
// revision (RevisionLabel), so a revision asked for again, as when CloudFormation rolls back an
// update, makes its keystore current again rather than making a new one. The key never leaves the
// function but in the secret.
package handler

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Props are the custom resource's properties, as the ApimKeystore construct sets them.
type Props struct {
	// SecretArn names the secret the keystore is written to, as a new version. Required.
	SecretArn string `json:"SecretArn"`
	// HostNames are the names the certificate is issued to: the first is its common name, all
	// are subject alternative names (a wildcard such as *.apim.internal is allowed). Required.
	HostNames []string `json:"HostNames"`
	// Revision is any text; a new value makes an Update write a new keystore.
	Revision string `json:"Revision"`
	// KeyBits is the RSA key size, 2048, 3072 or 4096. Default: 3072.
	KeyBits string `json:"KeyBits"`
}

// DefaultKeyBits is the RSA key size when KeyBits is not given: 128-bit security, as NIST
// advises for keys used beyond 2030.
const DefaultKeyBits = 3072

// hostName is a DNS name, optionally a wildcard in its first label.
var hostName = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

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
	if p.SecretArn == "" {
		return p, fmt.Errorf("ResourceProperties.SecretArn is missing")
	}
	if !strings.HasPrefix(p.SecretArn, "arn:") || !strings.Contains(p.SecretArn, ":secretsmanager:") {
		return p, fmt.Errorf("ResourceProperties.SecretArn %q is not a Secrets Manager secret ARN", p.SecretArn)
	}
	if err := CheckHostNames(p.HostNames); err != nil {
		return p, fmt.Errorf("ResourceProperties.%w", err)
	}
	if p.KeyBits == "" {
		p.KeyBits = strconv.Itoa(DefaultKeyBits)
	}
	switch p.KeyBits {
	case "2048", "3072", "4096":
	default:
		return p, fmt.Errorf("ResourceProperties.KeyBits %q must be 2048, 3072 or 4096", p.KeyBits)
	}
	return p, nil
}

// CheckHostNames checks the names a certificate is to be issued to: at least one, each a
// lower-case DNS name whose first label may be a wildcard. The error names the field, HostNames.
// The ApimKeystore construct checks its props with it at synth.
func CheckHostNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("HostNames is empty: name at least one host the certificate is for")
	}
	for i, h := range names {
		if len(h) > 253 || !hostName.MatchString(h) {
			return fmt.Errorf("HostNames[%d] %q is not a lower-case DNS name (a leading *. is allowed)", i, h)
		}
	}
	return nil
}

// bits is KeyBits as a number (ParseProps checked it).
func (p Props) bits() int {
	n, _ := strconv.Atoi(p.KeyBits)
	return n
}

// changedSince reports whether an Update from old must write a new keystore: a new Revision, or
// another secret (which holds no keystore of this resource yet).
func (p Props) changedSince(old map[string]any) bool {
	str := func(k string) string {
		s, _ := old[k].(string)
		return s
	}
	return str("Revision") != p.Revision || str("SecretArn") != p.SecretArn
}
