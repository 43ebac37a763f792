package handler

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-sql-driver/mysql"

	"github.com/apimkit/apimkit/lambda/dbinit/rdsca"
)

// Secrets is the part of the Secrets Manager API the handler calls.
type Secrets interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Privileges the WSO2 application user gets on each of its databases: what the product needs at
// run time, and nothing that drops data or reaches other databases.
const appPrivileges = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE"

// Handler serves the custom resource. Secrets and Objects are required; the rest have defaults.
type Handler struct {
	Secrets Secrets
	Objects Objects
	// ConnectTimeout bounds connecting to the database. Default: 10 s.
	ConnectTimeout time.Duration
	// ResponseReserve is kept back from the function's deadline, so that work running long
	// (a database that hangs) is stopped in time to answer CloudFormation, which otherwise
	// waits an hour for a function that was killed. Default: 20 s.
	ResponseReserve time.Duration
	// RootCAs are the authorities the database's certificate must chain to when Tls is "true".
	// Default: the Amazon RDS roots of package rdsca, and nothing else (the database is RDS).
	RootCAs *x509.CertPool
	// Region is where the function runs, for the advice given on an untrusted certificate.
	// Default: $AWS_REGION.
	Region string
	// Log receives the handler's structured log. Default: slog.Default().
	Log *slog.Logger
	// beforeStatement, when set, runs before each schema statement; tests use it to interrupt a
	// load half-way.
	beforeStatement func(database string, index int) error
}

// Handle serves one CloudFormation request. Create and Update converge the databases, the user and
// the schemas; Delete leaves everything in place. The returned error becomes the Reason
// CloudFormation shows.
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	switch ev.RequestType {
	case cfn.RequestDelete:
		h.log().Info("delete: nothing is dropped", "physicalId", ev.PhysicalResourceID)
		return ev.PhysicalResourceID, nil, nil
	case cfn.RequestCreate, cfn.RequestUpdate:
	default:
		return "", nil, fmt.Errorf("dbinit: RequestType %q is not Create, Update or Delete", ev.RequestType)
	}
	props, err := ParseProps(ev.ResourceProperties)
	if err != nil {
		return "", nil, fmt.Errorf("dbinit: %w", err)
	}
	id := "dbinit:" + net.JoinHostPort(props.Endpoint, props.Port)
	if deadline, ok := ctx.Deadline(); ok {
		reserve := h.ResponseReserve
		if reserve == 0 {
			reserve = 20 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	data, err := h.apply(ctx, props)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (the function ran out of time: what is done stays done, and the next deploy resumes)", err)
		}
		return id, nil, fmt.Errorf("dbinit: %w", err)
	}
	return id, data, nil
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) apply(ctx context.Context, p Props) (map[string]any, error) {
	master, err := h.credentials(ctx, "master", p.MasterSecretArn)
	if err != nil {
		return nil, err
	}
	app, err := h.credentials(ctx, "application", p.AppSecretArn)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(app.Username, master.Username) {
		return nil, fmt.Errorf("the application user %q is the master user: give WSO2 its own user", app.Username)
	}

	// Everything that can be checked before touching the database is checked first, so a bad
	// pack or secret leaves the server as it was.
	scripts := map[string][]string{}
	if p.PackKey != "" {
		pk, err := openPack(ctx, h.Objects, p)
		if err != nil {
			return nil, err
		}
		defer pk.Close()
		for _, d := range p.Databases {
			text, err := pk.script(d.Script)
			if err != nil {
				return nil, err
			}
			stmts, err := SplitStatements(text)
			if err != nil {
				return nil, fmt.Errorf("%s in the pack %s: %w", d.Script, pk.where, err)
			}
			if len(stmts) == 0 {
				return nil, fmt.Errorf("%s in the pack %s has no statements", d.Script, pk.where)
			}
			scripts[d.Name] = stmts
		}
	}

	db, err := h.connect(ctx, p, master)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	// A half-made schema is refused before anything is written, so the server stays as it was.
	for _, d := range p.Databases {
		if stmts, ok := scripts[d.Name]; ok {
			if err := refusePartialSchema(ctx, db, d, stmts); err != nil {
				return nil, err
			}
		}
	}
	for _, d := range p.Databases {
		q := fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET %s", d.Name, d.Charset)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("creating database %s: %w", d.Name, err)
		}
	}
	if err := ensureUser(ctx, db, app, p.Databases); err != nil {
		return nil, err
	}
	loaded := []string{}
	for _, d := range p.Databases {
		stmts, ok := scripts[d.Name]
		if !ok {
			continue
		}
		did, err := h.loadSchema(ctx, db, d, stmts)
		if err != nil {
			return nil, err
		}
		if did {
			loaded = append(loaded, d.Name)
		}
	}
	h.log().Info("databases ready", "endpoint", p.Endpoint, "user", app.Username, "schemasLoaded", loaded)
	names := make([]string, 0, len(p.Databases))
	for _, d := range p.Databases {
		names = append(names, d.Name)
	}
	return map[string]any{"Databases": strings.Join(names, ","), "AppUsername": app.Username}, nil
}

func (h *Handler) credentials(ctx context.Context, which, arn string) (credentials, error) {
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return credentials{}, fmt.Errorf("reading the %s secret %s: %w", which, arn, err)
	}
	if out.SecretString == nil {
		return credentials{}, fmt.Errorf("the %s secret %s has no string value", which, arn)
	}
	return parseCredentials(which, *out.SecretString)
}

func (h *Handler) connect(ctx context.Context, p Props, c credentials) (*sql.DB, error) {
	timeout := h.ConnectTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = c.Username, c.Password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(p.Endpoint, p.Port)
	if p.TLS == "true" {
		roots, err := h.rootCAs()
		if err != nil {
			return nil, err
		}
		// The certificate must chain to a trusted root and name the endpoint.
		cfg.TLS = &tls.Config{RootCAs: roots, ServerName: p.Endpoint, MinVersion: tls.VersionTLS12}
	} else {
		cfg.TLSConfig = p.TLS
	}
	cfg.Timeout = timeout
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(connector)
	pingCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		if _, unknown := errors.AsType[x509.UnknownAuthorityError](err); unknown && h.RootCAs == nil {
			region := h.Region
			if region == "" {
				region = os.Getenv("AWS_REGION")
			}
			err = fmt.Errorf("%w (%s)", err, untrustedHint(region))
		}
		return nil, fmt.Errorf("connecting to %s as %s: %w", cfg.Addr, c.Username, err)
	}
	return db, nil
}

func (h *Handler) rootCAs() (*x509.CertPool, error) {
	if h.RootCAs != nil {
		return h.RootCAs, nil
	}
	pool, err := rdsca.Pool(nil)
	if err != nil {
		return nil, fmt.Errorf("loading the Amazon RDS roots: %w", err)
	}
	return pool, nil
}

// untrustedHint says what to do about a certificate no embedded RDS root signed, in region.
func untrustedHint(region string) string {
	if region != "" && !rdsca.Covers(region) {
		return fmt.Sprintf("the function embeds no Amazon RDS root for %s; set ApimDatabaseProps.VerifyServerCertificate "+
			"to false there, or add the region's roots to lambda/dbinit/rdsca", region)
	}
	return "the function trusts the Amazon RDS roots of its region, so the database presents a certificate of another " +
		"authority: check the instance's certificate authority (CACertificateIdentifier, rds-ca-rsa2048-g1 by default) " +
		"and that the endpoint is the RDS instance's own"
}

// ensureUser creates the application user, or resets its password to the secret's, and grants it
// its databases.
func ensureUser(ctx context.Context, db *sql.DB, app credentials, dbs []Database) error {
	account := fmt.Sprintf("'%s'@'%%'", app.Username)
	if _, err := db.ExecContext(ctx, "CREATE USER IF NOT EXISTS "+account+" IDENTIFIED BY ?", app.Password); err != nil {
		return fmt.Errorf("creating user %s: %w", app.Username, err)
	}
	if _, err := db.ExecContext(ctx, "ALTER USER "+account+" IDENTIFIED BY ?", app.Password); err != nil {
		return fmt.Errorf("setting the password of user %s: %w", app.Username, err)
	}
	for _, d := range dbs {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("GRANT %s ON `%s`.* TO %s", appPrivileges, d.Name, account)); err != nil {
			return fmt.Errorf("granting %s to user %s: %w", d.Name, app.Username, err)
		}
	}
	return nil
}

// missingShown is how many missing tables a refusal names before it gives only their count.
const missingShown = 5

// refusePartialSchema refuses a database that holds some, but not all, of the tables its script
// creates, unless the function's own load record says it is resuming that script: an older
// release's schema, or one half made by hand or by another tool. Loading the script into it would
// mix two schemas, and leaving it as "already loaded" would start WSO2 on a schema it cannot use.
// A completed load of another script (the deployment moved to another release or pack) counts as
// loaded only once every table of the new script is there, as WSO2's migration leaves it. A
// database with none of the script's tables or all of them is left to loadSchema.
func refusePartialSchema(ctx context.Context, db *sql.DB, d Database, stmts []string) error {
	want := CreatedTables(stmts)
	if len(want) == 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", d.Name)
	if err != nil {
		return fmt.Errorf("%s: listing tables: %w", d.Name, err)
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("%s: listing tables: %w", d.Name, err)
		}
		have = append(have, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: listing tables: %w", d.Name, err)
	}
	rec := loadRecord{}
	if slices.ContainsFunc(have, func(t string) bool { return strings.EqualFold(t, MarkerTable) }) {
		var digest string
		err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT digest, completed FROM `%s`.%s WHERE id = 1", d.Name, MarkerTable)).
			Scan(&digest, &rec.completed)
		switch {
		case err == nil:
			rec.present, rec.sameScript = true, digest == scriptDigest(stmts)
		case errors.Is(err, sql.ErrNoRows):
		default:
			return fmt.Errorf("%s: reading %s: %w", d.Name, MarkerTable, err)
		}
	}
	return partialSchema(d, want, have, rec)
}

// loadRecord is what a database's MarkerTable row says about the script being loaded now.
type loadRecord struct {
	present    bool
	completed  bool
	sameScript bool
}

// partialSchema decides for refusePartialSchema, given the tables the script creates, those the
// database holds and its load record. Names compare without regard to case, so a schema made
// where lower_case_table_names folds them (an RDS instance set to 1, a copy from Windows) still
// counts.
func partialSchema(d Database, want, have []string, rec loadRecord) error {
	if rec.present && !(rec.completed && !rec.sameScript) {
		// The function's own load of this script (done or to resume), or a half-applied load of
		// another one, which loadSchema refuses with its progress.
		return nil
	}
	held := map[string]bool{}
	for _, t := range have {
		held[strings.ToLower(t)] = true
	}
	var missing []string
	for _, t := range want {
		if !held[strings.ToLower(t)] {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 || (len(missing) == len(want) && !rec.present) {
		return nil
	}
	named := strings.Join(missing[:min(len(missing), missingShown)], ", ")
	if more := len(missing) - missingShown; more > 0 {
		named += fmt.Sprintf(" and %d more", more)
	}
	if rec.present {
		return fmt.Errorf("%s holds a completed load of another schema script (another release's or pack's) and %d of the %d "+
			"tables %s creates: it is missing %s. It is left as it is: migrate it to this release with WSO2's migration "+
			"resources, or point the function at an empty database", d.Name, len(want)-len(missing), len(want), d.Script, named)
	}
	return fmt.Errorf("%s holds %d of the %d tables %s creates and no record of a load by this function: "+
		"it is missing %s. It is left as it is, since it is half made or another release's schema: "+
		"complete or migrate it with WSO2's scripts, or point the function at an empty database",
		d.Name, len(want)-len(missing), len(want), d.Script, named)
}

// scriptDigest identifies a schema script in the load record.
func scriptDigest(stmts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(stmts, ";\n")))
	return hex.EncodeToString(sum[:])
}

// MarkerTable records, inside each database, how far its schema script has been applied, so a
// load interrupted half-way is resumed rather than skipped or repeated.
const MarkerTable = "apimkit_schema_load"

// loadSchema applies the statements to a database that is empty, or finishes a load this handler
// started and did not complete. It reports whether it applied anything.
func (h *Handler) loadSchema(ctx context.Context, db *sql.DB, d Database, stmts []string) (bool, error) {
	digest := scriptDigest(stmts)
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", d.Name, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("USE `%s`", d.Name)); err != nil {
		return false, fmt.Errorf("%s: %w", d.Name, err)
	}

	var others int
	if err := conn.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name <> ?", d.Name, MarkerTable,
	).Scan(&others); err != nil {
		return false, fmt.Errorf("%s: counting tables: %w", d.Name, err)
	}
	var (
		haveMarker  bool
		markDigest  string
		total, done int
		completed   bool
	)
	err = conn.QueryRowContext(ctx, "SELECT digest, statements_total, statements_done, completed FROM "+MarkerTable+" WHERE id = 1").
		Scan(&markDigest, &total, &done, &completed)
	switch {
	case err == nil:
		haveMarker = true
	case errors.Is(err, sql.ErrNoRows) || isMySQLError(err, 1146): // no row, or no marker table
	default:
		return false, fmt.Errorf("%s: reading %s: %w", d.Name, MarkerTable, err)
	}

	start := 0
	switch {
	case haveMarker && completed:
		h.log().Info("schema already loaded", "database", d.Name)
		return false, nil
	case haveMarker && markDigest != digest:
		return false, fmt.Errorf("%s: a different schema script was half-applied here (%d of %d statements); "+
			"it is left as it is: finish it with the pack that started it, or restore the database", d.Name, done, total)
	case haveMarker:
		start = done
		h.log().Info("resuming a half-applied schema", "database", d.Name, "done", done, "total", total)
	case others > 0:
		h.log().Info("database is not empty: schema left as it is", "database", d.Name, "tables", others)
		return false, nil
	default:
		if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+MarkerTable+
			" (id INT PRIMARY KEY, digest CHAR(64) NOT NULL, statements_total INT NOT NULL, statements_done INT NOT NULL,"+
			" completed BOOLEAN NOT NULL, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)"); err != nil {
			return false, fmt.Errorf("%s: creating %s: %w", d.Name, MarkerTable, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+MarkerTable+
			" (id, digest, statements_total, statements_done, completed) VALUES (1, ?, ?, 0, FALSE)", digest, len(stmts)); err != nil {
			return false, fmt.Errorf("%s: writing %s: %w", d.Name, MarkerTable, err)
		}
	}

	for i := start; i < len(stmts); i++ {
		if h.beforeStatement != nil {
			if err := h.beforeStatement(d.Name, i); err != nil {
				return false, fmt.Errorf("%s: statement %d of %d: %w; the next run resumes there", d.Name, i+1, len(stmts), err)
			}
		}
		if err := applyStatement(ctx, conn, stmts[i], i+1); err != nil {
			// DDL commits on its own, so the first statement of a resumed load may have taken
			// effect before the interruption; its "already there" error is success.
			if !(i == start && start > 0 && alreadyApplied(err)) {
				return false, fmt.Errorf("%s: statement %d of %d failed: %w (it begins %q); the %d statements before it are applied and the next run resumes there",
					d.Name, i+1, len(stmts), err, head(stmts[i]), i)
			}
			if err := recordProgress(ctx, conn, i+1); err != nil {
				return false, fmt.Errorf("%s: recording progress: %w", d.Name, err)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "UPDATE "+MarkerTable+" SET completed = TRUE WHERE id = 1"); err != nil {
		return false, fmt.Errorf("%s: recording completion: %w", d.Name, err)
	}
	h.log().Info("schema loaded", "database", d.Name, "statements", len(stmts)-start)
	return true, nil
}

// applyStatement runs one statement and records it as done. A data statement and its record
// commit together, so a seed row is never inserted twice; DDL commits implicitly in MySQL, so it
// is recorded right after.
func applyStatement(ctx context.Context, conn *sql.Conn, stmt string, done int) error {
	if !isDataStatement(stmt) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
		return recordProgress(ctx, conn, done)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+MarkerTable+" SET statements_done = ? WHERE id = 1", done); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func recordProgress(ctx context.Context, conn *sql.Conn, done int) error {
	_, err := conn.ExecContext(ctx, "UPDATE "+MarkerTable+" SET statements_done = ? WHERE id = 1", done)
	return err
}

func isDataStatement(stmt string) bool {
	switch strings.ToUpper(firstWord(strings.TrimSpace(stmt))) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE":
		return true
	}
	return false
}

func isMySQLError(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}

// alreadyApplied recognises the errors a DDL or insert statement gives when run a second time:
// table exists, duplicate column, duplicate key name, duplicate entry, duplicate foreign key.
func alreadyApplied(err error) bool {
	return isMySQLError(err, 1050, 1060, 1061, 1062, 1022, 1826)
}

func head(stmt string) string {
	s := strings.Join(strings.Fields(stmt), " ")
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
