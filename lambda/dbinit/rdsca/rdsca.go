// Package rdsca holds the Amazon RDS root certificate authorities, so a client can verify the
// certificate an RDS instance presents. The schema function trusts them when it connects; the
// constructs ask which regions they cover before they turn verification on, and hand the WSO2
// nodes their region's roots.
package rdsca

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

//go:embed rds-ca-bundle.pem
var bundle []byte

// Each RDS root names its region: "Amazon RDS us-west-1 Root CA RSA2048 G1".
var regionalRoot = regexp.MustCompile(`^Amazon RDS ([a-z0-9-]+) Root CA `)

var load = sync.OnceValues(func() ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("rdsca: certificate %d of the bundle: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
})

// Certificates returns the embedded roots. The bundle is checked by this package's tests, so an
// error means a broken build.
func Certificates() ([]*x509.Certificate, error) { return load() }

// Pool returns a pool with the embedded roots added to base (nil: to an empty pool).
func Pool(base *x509.CertPool) (*x509.CertPool, error) {
	certs, err := load()
	if err != nil {
		return nil, err
	}
	pool := base
	if pool == nil {
		pool = x509.NewCertPool()
	} else {
		pool = pool.Clone()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

var regions = sync.OnceValue(func() []string {
	certs, err := load()
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range certs {
		if m := regionalRoot.FindStringSubmatch(c.Subject.CommonName); m != nil && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
})

// Regions returns, sorted, the AWS Regions whose RDS roots are embedded.
func Regions() []string { return slices.Clone(regions()) }

// RSA2048G1 names the root of RDS's default certificate authority, rds-ca-rsa2048-g1.
const RSA2048G1 = "RSA2048 G1"

// RegionPEM returns the embedded roots of region, PEM-encoded, or nil when none are embedded.
// Given kinds (such as RSA2048G1), it returns only the roots of those kinds.
func RegionPEM(region string, kinds ...string) []byte {
	certs, err := load()
	if err != nil {
		return nil
	}
	var out []byte
	for _, c := range certs {
		m := regionalRoot.FindStringSubmatch(c.Subject.CommonName)
		if m == nil || m[1] != region {
			continue
		}
		if len(kinds) > 0 && !slices.Contains(kinds, strings.TrimPrefix(c.Subject.CommonName, m[0])) {
			continue
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Covers reports whether the roots of region are embedded.
func Covers(region string) bool { return slices.Contains(regions(), region) }
