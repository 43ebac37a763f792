package handler

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Java's keytool reads the keystore as the nodes' boot script does: the entry wso2carbon is a
// private key entry, its certificate exports under that alias and imports into a truststore, and
// the key opens with the store's password (signing a certificate request needs it).
func TestKeytoolReadsTheKeystore(t *testing.T) {
	keytool, err := exec.LookPath("keytool")
	if err != nil {
		t.Skip("keytool is not installed (Debian: openjdk-17-jre-headless); the Go decoding tests still run")
	}
	ks, err := Generate(rand.Reader, time.Now(), []string{"*.apim.internal", "portal.example.com"}, 2048)
	require.NoError(t, err)
	dir := t.TempDir()
	store := filepath.Join(dir, "apimkit.p12")
	require.NoError(t, os.WriteFile(store, ks.PKCS12, 0o600))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(keytool, args...)
		cmd.Env = append(os.Environ(), "KEYSTORE_PASSWORD="+ks.Password)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "keytool %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	list := run("-list", "-storetype", "PKCS12", "-keystore", store, "-storepass:env", "KEYSTORE_PASSWORD")
	assert.Contains(t, list, "Your keystore contains 1 entry")
	assert.Regexp(t, `(?m)^wso2carbon, .*PrivateKeyEntry`, list)

	// The command boot.sh runs to trust the certificate.
	certFile := filepath.Join(dir, "cert.pem")
	run("-exportcert", "-rfc", "-alias", Alias, "-storetype", "PKCS12", "-keystore", store,
		"-storepass:env", "KEYSTORE_PASSWORD", "-file", certFile)
	exported, err := os.ReadFile(certFile)
	require.NoError(t, err)
	block, _ := pem.Decode(exported)
	require.NotNil(t, block)
	assert.True(t, bytes.Equal(ks.Certificate.Raw, block.Bytes), "the exported certificate is the keystore's")
	// And trusts it in a JKS truststore, as boot.sh does with the pack's client-truststore.jks.
	truststore := filepath.Join(dir, "client-truststore.jks")
	run("-importcert", "-noprompt", "-alias", Alias, "-file", certFile, "-storetype", "JKS", "-keystore", truststore,
		"-storepass:env", "KEYSTORE_PASSWORD")
	assert.Regexp(t, `(?m)^wso2carbon, .*trustedCertEntry`,
		run("-list", "-storetype", "JKS", "-keystore", truststore, "-storepass:env", "KEYSTORE_PASSWORD"))

	csr := run("-certreq", "-alias", Alias, "-storetype", "PKCS12", "-keystore", store,
		"-storepass:env", "KEYSTORE_PASSWORD", "-keypass:env", "KEYSTORE_PASSWORD")
	assert.Contains(t, csr, "BEGIN NEW CERTIFICATE REQUEST")
}
