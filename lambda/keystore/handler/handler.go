package handler

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Secrets is the part of the Secrets Manager API the handler calls: it writes and relabels
// versions, and never reads a value.
type Secrets interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// Handler serves the custom resource. Secrets is required; the rest have defaults.
type Handler struct {
	Secrets Secrets
	// Random is the source of serial numbers, salts and passwords (the RSA key always comes
	// from the system's generator, as crypto/rsa has since Go 1.26). Default: crypto/rand.
	Random io.Reader
	// Now is the clock the certificate's validity starts from. Default: time.Now.
	Now func() time.Time
	// Log receives the handler's structured log. Default: slog.Default().
	Log *slog.Logger
	// ResponseReserve is kept back from the function's deadline, so that a call to Secrets
	// Manager that hangs is given up in time to answer CloudFormation, which otherwise waits an
	// hour for a function that was stopped. Default: 15 s.
	ResponseReserve time.Duration
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
	if deadline, ok := ctx.Deadline(); ok {
		reserve := h.ResponseReserve
		if reserve == 0 {
			reserve = 15 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	if err := h.ensure(ctx, props); err != nil {
		return "", nil, fmt.Errorf("keystore: %w", err)
	}
	return id, data, nil
}

// current is the staging label of the version the nodes read.
const current = "AWSCURRENT"

// RevisionLabel is the staging label the keystore made for revision carries in the secret, so a
// later request for the same revision (CloudFormation rolling an update back, or a Revision set
// back to an earlier value) makes that keystore current again instead of making another.
func RevisionLabel(revision string) string {
	sum := sha256.Sum256([]byte(revision))
	return "apimkit-rev-" + hex.EncodeToString(sum[:8])
}

// ensure makes the keystore of props.Revision the secret's current version: the one already
// labelled for it, or a new one.
func (h *Handler) ensure(ctx context.Context, props Props) error {
	label := RevisionLabel(props.Revision)
	desc, err := h.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(props.SecretArn)})
	if err != nil {
		return fmt.Errorf("describing %s: %w", props.SecretArn, err)
	}
	labelled, currentID := "", ""
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, label) {
			labelled = id
		}
		if slices.Contains(stages, current) {
			currentID = id
		}
	}
	if labelled != "" {
		if labelled == currentID {
			h.log().Info("the revision's keystore is already current", "secret", props.SecretArn, "version", labelled)
			return nil
		}
		in := &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(props.SecretArn), VersionStage: aws.String(current), MoveToVersionId: aws.String(labelled),
		}
		if currentID != "" {
			in.RemoveFromVersionId = aws.String(currentID)
		}
		if _, err := h.Secrets.UpdateSecretVersionStage(ctx, in); err != nil {
			return fmt.Errorf("making version %s of %s current again: %w", labelled, props.SecretArn, err)
		}
		h.log().Info("the revision's keystore is current again", "secret", props.SecretArn, "version", labelled, "revision", props.Revision)
		return nil
	}

	ks, err := Generate(h.random(), h.now(), props.HostNames, props.bits())
	if err != nil {
		return err
	}
	value, err := json.Marshal(secretValue{Keystore: base64.StdEncoding.EncodeToString(ks.PKCS12), Password: ks.Password})
	if err != nil {
		return err
	}
	out, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:      aws.String(props.SecretArn),
		SecretString:  aws.String(string(value)),
		VersionStages: []string{current, label},
	})
	if err != nil {
		return fmt.Errorf("writing the keystore to %s: %w", props.SecretArn, err)
	}
	h.log().Info("keystore written", "secret", props.SecretArn, "version", aws.ToString(out.VersionId),
		"subject", ks.Certificate.Subject.CommonName, "names", ks.Certificate.DNSNames,
		"notAfter", ks.Certificate.NotAfter, "sha256", ks.Fingerprint(), "revision", props.Revision)
	return nil
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
