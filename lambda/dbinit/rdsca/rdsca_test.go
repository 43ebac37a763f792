package rdsca

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every embedded certificate is an Amazon RDS root: a self-signed CA for one region, currently
// valid, with all three key types per region.
func TestBundleHoldsCurrentRdsRoots(t *testing.T) {
	certs, err := Certificates()
	require.NoError(t, err)
	require.NotEmpty(t, certs)
	now := time.Now()
	kinds := map[string][]string{}
	for _, c := range certs {
		name := c.Subject.CommonName
		assert.True(t, c.IsCA, name)
		assert.NoError(t, c.CheckSignatureFrom(c), "%s is self-signed", name)
		assert.True(t, now.After(c.NotBefore) && now.Before(c.NotAfter), "%s is valid now (until %s)", name, c.NotAfter)
		m := regionalRoot.FindStringSubmatch(name)
		if assert.NotNil(t, m, "%q names its region", name) {
			kinds[m[1]] = append(kinds[m[1]], strings.TrimPrefix(name, m[0]))
		}
	}
	for region, k := range kinds {
		assert.ElementsMatch(t, []string{"RSA2048 G1", "RSA4096 G1", "ECC384 G1"}, k, region)
	}
	regions := Regions()
	assert.True(t, slices.IsSorted(regions) && len(slices.Compact(slices.Clone(regions))) == len(regions), "sorted, once each")
	assert.Len(t, certs, 3*len(regions), "three roots per region, nothing else")
}

func TestCovers(t *testing.T) {
	for _, r := range []string{"us-east-1", "us-west-1", "eu-west-1", "ap-southeast-2"} {
		assert.True(t, Covers(r), r)
	}
	assert.False(t, Covers("xx-nowhere-1"))
	assert.False(t, Covers(""))
}

func TestPoolAddsToACopyOfBase(t *testing.T) {
	certs, err := Certificates()
	require.NoError(t, err)
	base := x509.NewCertPool()
	pool, err := Pool(base)
	require.NoError(t, err)
	for _, c := range []*x509.Certificate{certs[0], certs[len(certs)-1]} {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool})
		assert.NoError(t, err, "%s chains to the pool", c.Subject.CommonName)
		_, err = c.Verify(x509.VerifyOptions{Roots: base})
		assert.Error(t, err, "the base pool is left as it was")
	}
}

func TestRegionPEM(t *testing.T) {
	var names []string
	for rest := RegionPEM("us-west-1"); ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		names = append(names, c.Subject.CommonName)
	}
	assert.ElementsMatch(t, []string{"Amazon RDS us-west-1 Root CA RSA2048 G1", "Amazon RDS us-west-1 Root CA RSA4096 G1",
		"Amazon RDS us-west-1 Root CA ECC384 G1"}, names)
	assert.Nil(t, RegionPEM("xx-nowhere-1"))

	block, rest := pem.Decode(RegionPEM("eu-west-1", RSA2048G1))
	require.NotNil(t, block)
	assert.Empty(t, rest, "one root of that kind")
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, "Amazon RDS eu-west-1 Root CA RSA2048 G1", c.Subject.CommonName)
}
