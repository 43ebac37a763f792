package handler

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"time"
)

// Alias is the name of the key entry: WSO2's configuration and the nodes' boot script
// (bootscript.KeystoreAlias) look the key up under it.
const Alias = "wso2carbon"

// Validity is how long the certificate is valid. The certificate is trusted by the nodes alone
// (never by a browser: the load balancer serves the public certificate), and it is replaced only
// when the deployment asks for a new Revision, so it outlives the deployments that use it.
const Validity = 10 * 365 * 24 * time.Hour

// passwordAlphabet is what the password is drawn from: letters and digits, which the boot script
// (letters, digits and ._~@%+=-), keytool, TOML and a shell all take as they are.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// passwordLength gives the password about 190 bits of entropy.
const passwordLength = 32

// Keystore is a generated keystore and what may be told about it.
type Keystore struct {
	// PKCS12 is the keystore file; Password opens it and its key.
	PKCS12   []byte
	Password string
	// Certificate is the key's self-signed certificate.
	Certificate *x509.Certificate
}

// Fingerprint is the certificate's SHA-256 fingerprint in hex, safe to log.
func (k Keystore) Fingerprint() string {
	sum := sha256.Sum256(k.Certificate.Raw)
	return hex.EncodeToString(sum[:])
}

// Generate makes an RSA key of bits, a self-signed certificate naming hosts (the first as
// subject common name; every one, and localhost and 127.0.0.1, as subject alternative names)
// and a PKCS#12 keystore holding them under Alias with a random password.
func Generate(random io.Reader, now time.Time, hosts []string, bits int) (Keystore, error) {
	if len(hosts) == 0 {
		return Keystore{}, fmt.Errorf("no host name to issue the certificate to")
	}
	key, err := rsa.GenerateKey(random, bits)
	if err != nil {
		return Keystore{}, fmt.Errorf("generating an RSA %d key: %w", bits, err)
	}
	serial, err := rand.Int(random, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Keystore{}, err
	}
	names := append([]string(nil), hosts...)
	if !slices.Contains(names, "localhost") {
		// WSO2 calls some of its own services at localhost.
		names = append(names, "localhost")
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"WSO2 API Manager (apimkit)"}},
		// An hour back, for clocks a little behind.
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(Validity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(random, template, template, &key.PublicKey, key)
	if err != nil {
		return Keystore{}, fmt.Errorf("signing the certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Keystore{}, err
	}
	password, err := newPassword(random)
	if err != nil {
		return Keystore{}, err
	}
	p12, err := encodePKCS12(random, key, cert, Alias, password)
	if err != nil {
		return Keystore{}, fmt.Errorf("encoding the PKCS12 keystore: %w", err)
	}
	return Keystore{PKCS12: p12, Password: password, Certificate: cert}, nil
}

// newPassword draws passwordLength characters of passwordAlphabet uniformly.
func newPassword(random io.Reader) (string, error) {
	out := make([]byte, passwordLength)
	limit := big.NewInt(int64(len(passwordAlphabet)))
	for i := range out {
		n, err := rand.Int(random, limit)
		if err != nil {
			return "", fmt.Errorf("drawing the keystore password: %w", err)
		}
		out[i] = passwordAlphabet[n.Int64()]
	}
	return string(out), nil
}
