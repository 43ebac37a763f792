package handler

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeSecrets map[string]string

func (f fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := f[*in.SecretId]
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: secret %s not found", *in.SecretId)
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

type fakeObjects struct {
	objects map[string][]byte
	gets    int
}

func (f *fakeObjects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.gets++
	b, ok := f.objects[*in.Bucket+"/"+*in.Key]
	if !ok {
		return nil, errors.New("NoSuchKey: The specified key does not exist.")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// makePack returns a zip laid out like a WSO2 pack (one top-level folder) holding files.
func makePack(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range files {
		f, err := w.Create("wso2am-4.3.0/" + name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(body))
	}
	w.Create("wso2am-4.3.0/bin/api-manager.sh")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A small stand-in for WSO2's scripts, with what the real ones contain: IF NOT EXISTS tables,
// indexes, seed rows, comments, and semicolons inside strings.
const sharedScript = `-- shared_db: users and registry
CREATE TABLE IF NOT EXISTS REG_CLUSTER_LOCK (
  REG_LOCK_NAME VARCHAR (20),
  REG_LOCK_STATUS VARCHAR (20),
  PRIMARY KEY (REG_LOCK_NAME)
)ENGINE INNODB;
CREATE TABLE IF NOT EXISTS UM_TENANT (
  UM_ID INTEGER NOT NULL AUTO_INCREMENT,
  UM_DOMAIN_NAME VARCHAR(255) NOT NULL,
  PRIMARY KEY (UM_ID)
)ENGINE INNODB;
CREATE INDEX INDEX_UM_TENANT_UM_DOMAIN_NAME ON UM_TENANT (UM_DOMAIN_NAME);
/* seed row; the text holds a semicolon */
INSERT INTO UM_TENANT (UM_DOMAIN_NAME) VALUES ('carbon.super;default');
`

const apimScript = `# apim_db
CREATE TABLE IF NOT EXISTS AM_SUBSCRIBER (
    SUBSCRIBER_ID INTEGER AUTO_INCREMENT,
    USER_ID VARCHAR(255) NOT NULL,
    EMAIL_ADDRESS VARCHAR(256) NULL,
    PRIMARY KEY (SUBSCRIBER_ID)
)ENGINE INNODB;
CREATE TABLE IF NOT EXISTS AM_API (
    API_ID INTEGER AUTO_INCREMENT,
    API_PROVIDER VARCHAR(200),
    API_NAME VARCHAR(200),
    API_VERSION VARCHAR(30),
    CONTEXT VARCHAR(256),
    PRIMARY KEY(API_ID),
    UNIQUE (API_PROVIDER,API_NAME,API_VERSION)
)ENGINE INNODB;
CREATE INDEX IDX_AM_API_CONTEXT ON AM_API (CONTEXT);
CREATE TABLE IF NOT EXISTS AM_POLICY_SUBSCRIPTION (
    POLICY_ID INT(11) NOT NULL AUTO_INCREMENT,
    NAME VARCHAR(512) NOT NULL,
    DESCRIPTION VARCHAR(1024) NULL DEFAULT 'it''s "quoted"; really',
    PRIMARY KEY (POLICY_ID)
)ENGINE INNODB;
INSERT INTO AM_POLICY_SUBSCRIPTION (NAME) VALUES ('Unlimited');
`

const (
	masterArn = "arn:aws:secretsmanager:us-west-1:111111111111:secret:master"
	appArn    = "arn:aws:secretsmanager:us-west-1:111111111111:secret:app"
	appPass   = "Wso2-app-Passw0rd"
)

// fixture is a handler wired to fakes, with a pack holding both scripts.
type fixture struct {
	h       *Handler
	secrets fakeSecrets
	objects *fakeObjects
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{
		secrets: fakeSecrets{
			masterArn: fmt.Sprintf(`{"username":%q,"password":%q,"engine":"mysql"}`, adminUser, adminPassword),
			appArn:    fmt.Sprintf(`{"username":"wso2apim","password":%q}`, appPass),
		},
		objects: &fakeObjects{objects: map[string][]byte{
			"packs/wso2am-4.3.0.zip": makePack(t, map[string]string{
				"dbscripts/mysql.sql":        sharedScript,
				"dbscripts/apimgt/mysql.sql": apimScript,
			}),
		}},
	}
	f.h = &Handler{Secrets: f.secrets, Objects: f.objects, RootCAs: server.roots, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return f
}

// props are the properties the construct sets, pointed at the test server: over TLS, its
// certificate verified against the fixture's roots, as the function does against RDS's.
func props() map[string]any {
	return map[string]any{
		"Endpoint":        server.host,
		"Port":            strconv.Itoa(server.port),
		"MasterSecretArn": masterArn,
		"AppSecretArn":    appArn,
		"Tls":             "true",
		"Databases": []any{
			map[string]any{"Name": "apim_db", "Charset": "latin1", "Script": "dbscripts/apimgt/mysql.sql"},
			map[string]any{"Name": "shared_db", "Charset": "utf8mb4", "Script": "dbscripts/mysql.sql"},
		},
		"PackBucket": "packs",
		"PackKey":    "wso2am-4.3.0.zip",
	}
}

func event(kind cfn.RequestType, p map[string]any) cfn.Event {
	return cfn.Event{RequestType: kind, ResourceProperties: p, PhysicalResourceID: "dbinit:existing"}
}
