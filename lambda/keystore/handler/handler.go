package handler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Secrets is the part of the Secrets Manager API the handler calls.
type Secrets interface {
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Handler serves the custom resource. Secrets is required; the rest have defaults.
type Handler struct {
	Secrets Secrets
	// Random is the source of keys, serial numbers and passwords. Default: crypto/rand.
	Random io.Reader
	// Now is the clock the certificate's validity starts from. Default: time.Now.
	Now func() time.Time
	// Log receives the handler's structured log. Default: slog.Default().
	Log *slog.Logger
}

// secretValue is what the secret holds, the form the nodes' boot script reads.
type secretValue struct {
	Keystore string `json:"keystore"`
	Password string `json:"password"`
}

// Handle serves one CloudFormation request. The returned error becomes the Reason CloudFormation
// shows. The response data is the secret's ARN alone (SecretArn), never the key or the password:
// a resource that reads the secret through this attribute is created after the keystore is in it.
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	switch ev.RequestType {
	case cfn.RequestDelete:
		h.log().Info("delete: the secret and its keystore are kept", "physicalId", ev.PhysicalResourceID)
		return ev.PhysicalResourceID, nil, nil
	case cfn.RequestCreate, cfn.RequestUpdate:
	default:
		return "", nil, fmt.Errorf("keystore: RequestType %q is not Create, Update or Delete", ev.RequestType)
	}
	props, err := ParseProps(ev.ResourceProperties)
	if err != nil {
		return "", nil, fmt.Errorf("keystore: %w", err)
	}
	id := "keystore:" + props.SecretArn
	data := map[string]any{"SecretArn": props.SecretArn}
	if ev.RequestType == cfn.RequestUpdate && !props.changedSince(ev.OldResourceProperties) {
		h.log().Info("update without a new Revision: the keystore is kept", "secret", props.SecretArn)
		return id, data, nil
	}
	ks, err := Generate(h.random(), h.now(), props.HostNames, props.bits())
	if err != nil {
		return "", nil, fmt.Errorf("keystore: %w", err)
	}
	value, err := json.Marshal(secretValue{Keystore: base64.StdEncoding.EncodeToString(ks.PKCS12), Password: ks.Password})
	if err != nil {
		return "", nil, fmt.Errorf("keystore: %w", err)
	}
	out, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(props.SecretArn),
		SecretString: aws.String(string(value)),
	})
	if err != nil {
		return "", nil, fmt.Errorf("keystore: writing the keystore to %s: %w", props.SecretArn, err)
	}
	h.log().Info("keystore written", "secret", props.SecretArn, "version", aws.ToString(out.VersionId),
		"subject", ks.Certificate.Subject.CommonName, "names", ks.Certificate.DNSNames,
		"notAfter", ks.Certificate.NotAfter, "sha256", ks.Fingerprint(), "revision", props.Revision)
	return id, data, nil
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) random() io.Reader {
	if h.Random != nil {
		return h.Random
	}
	return rand.Reader
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
