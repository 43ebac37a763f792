package handler

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"
)

var ctx = context.Background()

const (
	secretArn = "arn:aws:secretsmanager:us-west-1:111111111111:secret:apim-keystore-AbCdEf"
	otherArn  = "arn:aws:secretsmanager:us-west-1:111111111111:secret:apim-keystore-2-GhIjKl"
)

var hosts = []any{"*.apim.internal", "portal.example.com", "api.example.com"}

// props are the properties the construct sets; 2048-bit keys keep the tests quick.
func props(revision string) map[string]any {
	p := map[string]any{"SecretArn": secretArn, "HostNames": hosts, "KeyBits": "2048"}
	if revision != "" {
		p["Revision"] = revision
	}
	return p
}

func newHandler() (*Handler, *fakeSecrets) {
	f := newFakeSecrets(secretArn, otherArn)
	return &Handler{Secrets: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, f
}

func event(kind cfn.RequestType, p, old map[string]any) cfn.Event {
	return cfn.Event{RequestType: kind, ResourceProperties: p, OldResourceProperties: old, PhysicalResourceID: "keystore:" + secretArn, RequestID: "req-1"}
}

// written decodes the secret value as the boot script reads it.
func written(t *testing.T, value string) (p12 []byte, password string) {
	t.Helper()
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(value), &v))
	assert.Len(t, v, 2, "keystore and password, nothing else")
	p12, err := base64.StdEncoding.DecodeString(v["keystore"])
	require.NoError(t, err, "keystore is base64")
	return p12, v["password"]
}

// bootScriptPassword is the rule internal/bootscript/boot.sh checks the password against.
var bootScriptPassword = regexp.MustCompile(`^[A-Za-z0-9._~@%+=-]{6,}$`)

func TestCreateWritesTheDeploymentsOwnKeystore(t *testing.T) {
	h, secrets := newHandler()
	id, data, err := h.Handle(ctx, event(cfn.RequestCreate, props(""), nil))
	require.NoError(t, err)
	assert.Equal(t, "keystore:"+secretArn, id)
	assert.Equal(t, map[string]any{"SecretArn": secretArn}, data, "the secret's ARN, and no key material, in the response")
	require.Len(t, secrets.puts[secretArn], 1, "one new version of the given secret")

	p12, password := written(t, secrets.puts[secretArn][0])
	assert.Regexp(t, `^[A-Za-z0-9]{16,}$`, password, "letters and digits, 16 or more")
	assert.Regexp(t, bootScriptPassword, password)

	// Read by an independent PKCS#12 implementation: the MAC and the key open with the password.
	key, cert, cas, err := pkcs12.DecodeChain(p12, password)
	require.NoError(t, err)
	assert.Empty(t, cas)
	rsaKey, ok := key.(*rsa.PrivateKey)
	require.True(t, ok, "an RSA key")
	assert.Equal(t, 2048, rsaKey.N.BitLen())
	assert.True(t, rsaKey.PublicKey.Equal(cert.PublicKey), "the certificate is the key's")
	assert.Equal(t, "*.apim.internal", cert.Subject.CommonName)
	assert.Equal(t, []string{"*.apim.internal", "portal.example.com", "api.example.com", "localhost"}, cert.DNSNames)
	assert.Equal(t, "127.0.0.1", cert.IPAddresses[0].String())
	assert.Equal(t, cert.RawSubject, cert.RawIssuer, "self-issued")
	require.NoError(t, cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature), "self-signed")
	assert.WithinDuration(t, time.Now().Add(Validity), cert.NotAfter, time.Minute)
	assert.True(t, cert.NotBefore.Before(time.Now()))
	_, _, _, err = pkcs12.DecodeChain(p12, password+"x")
	assert.Error(t, err, "a wrong password opens nothing")

	// Both bags carry the alias Java and WSO2 look the key up by.
	blocks, err := pkcs12.ToPEM(p12, password)
	require.NoError(t, err)
	require.Len(t, blocks, 2)
	for _, b := range blocks {
		assert.Equal(t, Alias, b.Headers["friendlyName"], b.Type)
		assert.NotEmpty(t, b.Headers["localKeyId"], b.Type)
	}
}

func TestKeysAreNotSharedBetweenDeployments(t *testing.T) {
	var certs []*x509.Certificate
	for range 2 {
		h, secrets := newHandler()
		_, _, err := h.Handle(ctx, event(cfn.RequestCreate, props(""), nil))
		require.NoError(t, err)
		p12, pw := written(t, secrets.currentValue(secretArn))
		_, cert, err := pkcs12.Decode(p12, pw)
		require.NoError(t, err)
		certs = append(certs, cert)
	}
	assert.False(t, certs[0].PublicKey.(*rsa.PublicKey).Equal(certs[1].PublicKey))
}

// A revision asked for again gets its own keystore back: CloudFormation rolling back an update
// that changed the Revision, a Revision set back to an earlier value, or the resource created
// again on the same secret. Nothing new is made, and the nodes read what they read before.
func TestAnEarlierRevisionGetsItsKeystoreBack(t *testing.T) {
	h, secrets := newHandler()
	_, _, err := h.Handle(ctx, event(cfn.RequestCreate, props(""), nil))
	require.NoError(t, err)
	first := secrets.currentValue(secretArn)
	_, _, err = h.Handle(ctx, event(cfn.RequestUpdate, props("2027-01"), props("")))
	require.NoError(t, err)
	second := secrets.currentValue(secretArn)
	assert.NotEqual(t, first, second, "the new revision is current")

	// The rollback: the old properties again.
	_, _, err = h.Handle(ctx, event(cfn.RequestUpdate, props(""), props("2027-01")))
	require.NoError(t, err)
	assert.Equal(t, first, secrets.currentValue(secretArn), "the first keystore is current again")
	assert.Equal(t, 2, secrets.writes(), "and nothing new was made")
	assert.Equal(t, 1, secrets.moves)

	// Forward again, then the same Create twice: still nothing new.
	_, _, err = h.Handle(ctx, event(cfn.RequestUpdate, props("2027-01"), props("")))
	require.NoError(t, err)
	assert.Equal(t, second, secrets.currentValue(secretArn))
	_, _, err = h.Handle(ctx, event(cfn.RequestCreate, props("2027-01"), nil))
	require.NoError(t, err)
	assert.Equal(t, second, secrets.currentValue(secretArn))
	assert.Equal(t, 2, secrets.writes())
	assert.Equal(t, 2, secrets.moves, "a keystore already current is not moved")

	// Each keystore's version carries its revision's label, beside AWSCURRENT or AWSPREVIOUS.
	stages := map[string][]string{}
	for _, v := range secrets.secrets[secretArn] {
		stages[v.id] = v.stages
	}
	assert.ElementsMatch(t, []string{RevisionLabel(""), "AWSPREVIOUS"}, stages["v1"])
	assert.ElementsMatch(t, []string{RevisionLabel("2027-01"), "AWSCURRENT"}, stages["v2"])
	assert.NotEqual(t, RevisionLabel(""), RevisionLabel("2027-01"))
}

// The keystore is stable across deploys: an Update writes only when asked for with a new
// Revision, or when the resource now points at another secret.
func TestUpdateWritesOnlyWhenAskedTo(t *testing.T) {
	withHosts := props("")
	withHosts["HostNames"] = []any{"*.apim.internal", "new.example.com"}
	otherSecret := props("")
	otherSecret["SecretArn"] = otherArn
	for name, tc := range map[string]struct {
		old, new map[string]any
		writes   int
	}{
		"nothing changed":                 {props(""), props(""), 0},
		"same revision":                   {props("1"), props("1"), 0},
		"host names changed, no revision": {props(""), withHosts, 0},
		"revision given":                  {props(""), props("1"), 1},
		"revision changed":                {props("1"), props("2"), 1},
		"revision removed":                {props("1"), props(""), 1},
		"another secret":                  {props(""), otherSecret, 1},
	} {
		t.Run(name, func(t *testing.T) {
			h, secrets := newHandler()
			id, data, err := h.Handle(ctx, event(cfn.RequestUpdate, tc.new, tc.old))
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"SecretArn": tc.new["SecretArn"]}, data, "the attribute the nodes read the secret by")
			assert.Equal(t, "keystore:"+tc.new["SecretArn"].(string), id)
			assert.Equal(t, tc.writes, secrets.writes())
			if tc.writes == 1 {
				arn := tc.new["SecretArn"].(string)
				assert.Equal(t, secrets.puts[arn][0], secrets.currentValue(arn), "the new keystore is the one the nodes read")
				p12, pw := written(t, secrets.puts[arn][0])
				_, _, err := pkcs12.Decode(p12, pw)
				assert.NoError(t, err)
			}
		})
	}
}

func TestDeleteKeepsTheSecret(t *testing.T) {
	h, secrets := newHandler()
	id, _, err := h.Handle(ctx, event(cfn.RequestDelete, props(""), nil))
	require.NoError(t, err)
	assert.Equal(t, "keystore:"+secretArn, id)
	assert.Zero(t, secrets.writes())
	// Even with properties that would not parse: a delete must never fail on them.
	_, _, err = h.Handle(ctx, event(cfn.RequestDelete, map[string]any{}, nil))
	assert.NoError(t, err)
}

func TestTheDefaultKeyIs3072Bits(t *testing.T) {
	h, secrets := newHandler()
	p := props("")
	delete(p, "KeyBits")
	_, _, err := h.Handle(ctx, event(cfn.RequestCreate, p, nil))
	require.NoError(t, err)
	p12, pw := written(t, secrets.puts[secretArn][0])
	key, _, err := pkcs12.Decode(p12, pw)
	require.NoError(t, err)
	assert.Equal(t, DefaultKeyBits, key.(*rsa.PrivateKey).N.BitLen())
}

func TestBadPropertiesAreRefusedByName(t *testing.T) {
	for field, tc := range map[string]struct {
		set  func(p map[string]any)
		want string
	}{
		"no secret":      {func(p map[string]any) { delete(p, "SecretArn") }, "ResourceProperties.SecretArn is missing"},
		"not an ARN":     {func(p map[string]any) { p["SecretArn"] = "apim-keystore" }, "ResourceProperties.SecretArn"},
		"no host":        {func(p map[string]any) { p["HostNames"] = []any{} }, "ResourceProperties.HostNames is empty"},
		"bad host":       {func(p map[string]any) { p["HostNames"] = []any{"ok.example.com", "Not A Host"} }, "ResourceProperties.HostNames[1]"},
		"inner wildcard": {func(p map[string]any) { p["HostNames"] = []any{"a.*.example.com"} }, "ResourceProperties.HostNames[0]"},
		"key size":       {func(p map[string]any) { p["KeyBits"] = "1024" }, "ResourceProperties.KeyBits"},
	} {
		t.Run(field, func(t *testing.T) {
			for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
				h, secrets := newHandler()
				p := props("1")
				tc.set(p)
				id, _, err := h.Handle(ctx, event(kind, p, props("")))
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.Empty(t, id, "the wrapper answers with the request's own id")
				assert.Zero(t, secrets.writes())
			}
		})
	}
	h, _ := newHandler()
	_, _, err := h.Handle(ctx, cfn.Event{RequestType: "Replace"})
	assert.ErrorContains(t, err, `RequestType "Replace"`)
}

func TestAFailedWriteIsReported(t *testing.T) {
	h, secrets := newHandler()
	secrets.fail = errors.New("AccessDeniedException: not authorized to perform secretsmanager:PutSecretValue")
	_, data, err := h.Handle(ctx, event(cfn.RequestCreate, props(""), nil))
	require.Error(t, err)
	assert.Nil(t, data)
	assert.Contains(t, err.Error(), secretArn)
	assert.Contains(t, err.Error(), "AccessDeniedException")
}

// A Secrets Manager call that hangs is given up before the function's deadline, so
// CloudFormation hears of the failure instead of waiting an hour.
func TestAHangingCallEndsBeforeTheDeadline(t *testing.T) {
	h := &Handler{Secrets: hangingSecrets{}, ResponseReserve: 900 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	deadline, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := h.Handle(deadline, event(cfn.RequestCreate, props(""), nil))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "given up with the reserve left")
}
