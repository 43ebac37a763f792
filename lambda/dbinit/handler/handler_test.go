package handler

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// state is what a test can observe on the server.
type state struct {
	databases map[string]string // name -> character set
	tables    map[string][]string
	rows      map[string]int // "db.table" -> count, for the seeded tables
	user      bool
}

func observe(t *testing.T) state {
	t.Helper()
	db := admin(t)
	s := state{databases: map[string]string{}, tables: map[string][]string{}, rows: map[string]int{}}
	rows, err := db.QueryContext(ctx, "SELECT schema_name, default_character_set_name FROM information_schema.schemata WHERE schema_name IN ('apim_db','shared_db')")
	require.NoError(t, err)
	for rows.Next() {
		var n, cs string
		require.NoError(t, rows.Scan(&n, &cs))
		s.databases[n] = cs
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('apim_db','shared_db') ORDER BY table_name")
	require.NoError(t, err)
	for rows.Next() {
		var d, n string
		require.NoError(t, rows.Scan(&d, &n))
		s.tables[d] = append(s.tables[d], n)
	}
	rows.Close()
	for _, tbl := range []string{"shared_db.UM_TENANT", "apim_db.AM_POLICY_SUBSCRIPTION"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tbl).Scan(&n); err == nil {
			s.rows[tbl] = n
		}
	}
	var users int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE user = 'wso2apim'").Scan(&users))
	s.user = users == 1
	return s
}

// asApp connects as the WSO2 application user.
func asApp(t *testing.T, password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "wso2apim", password, "tcp", net.JoinHostPort(server.host, strconv.Itoa(server.port))
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, db.PingContext(ctx)
}

var (
	apimTables   = []string{"AM_API", "AM_POLICY_SUBSCRIPTION", "AM_SUBSCRIBER", MarkerTable}
	sharedTables = []string{"REG_CLUSTER_LOCK", "UM_TENANT", MarkerTable}
)

func TestCreateMakesDatabasesUserAndTables(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	id, data, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	assert.Equal(t, "dbinit:"+net.JoinHostPort(server.host, strconv.Itoa(server.port)), id)
	assert.Equal(t, map[string]any{"Databases": "apim_db,shared_db", "AppUsername": "wso2apim"}, data, "no password in the response data")

	s := observe(t)
	assert.Equal(t, map[string]string{"apim_db": "latin1", "shared_db": "utf8mb4"}, s.databases)
	assert.ElementsMatch(t, apimTables, s.tables["apim_db"])
	assert.ElementsMatch(t, sharedTables, s.tables["shared_db"])
	assert.Equal(t, map[string]int{"shared_db.UM_TENANT": 1, "apim_db.AM_POLICY_SUBSCRIPTION": 1}, s.rows)

	app, err := asApp(t, appPass)
	require.NoError(t, err, "the application user logs in with the secret's password")
	var desc string
	require.NoError(t, app.QueryRowContext(ctx, "SELECT DESCRIPTION FROM apim_db.AM_POLICY_SUBSCRIPTION").Scan(&desc))
	assert.Equal(t, `it's "quoted"; really`, desc)
	_, err = app.ExecContext(ctx, "INSERT INTO shared_db.REG_CLUSTER_LOCK VALUES ('x', 'y')")
	assert.NoError(t, err, "the application user writes its databases")
	_, err = app.ExecContext(ctx, "SELECT COUNT(*) FROM mysql.user")
	assert.Error(t, err, "and reads nothing else")
	_, err = app.ExecContext(ctx, "DROP TABLE shared_db.REG_CLUSTER_LOCK")
	assert.Error(t, err, "and cannot drop tables")
	_, err = app.ExecContext(ctx, "CREATE DATABASE other_db")
	assert.Error(t, err, "or create databases")
}

// skip-verify still encrypts but accepts any certificate, for a server whose authority the
// function lacks.
func TestSkipVerifyConnectsWithoutTrustingTheCertificate(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	f.h.RootCAs = nil
	p := props()
	p["Tls"] = "skip-verify"
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, p))
	require.NoError(t, err)
	assert.ElementsMatch(t, apimTables, observe(t).tables["apim_db"])
}

func TestCreateAgainDuplicatesNothing(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	first := observe(t)
	for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
		_, _, err = f.h.Handle(ctx, event(kind, props()))
		require.NoError(t, err, kind)
		assert.Equal(t, first, observe(t), "%s again changes nothing", kind)
	}
}

func TestDeleteDropsNothing(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	before := observe(t)
	id, _, err := f.h.Handle(ctx, event(cfn.RequestDelete, props()))
	require.NoError(t, err)
	assert.Equal(t, "dbinit:existing", id, "delete keeps the physical id")
	assert.Equal(t, before, observe(t))
	// Even a delete whose properties are garbage succeeds without touching anything, so a
	// stack can always be rolled back or deleted.
	_, _, err = f.h.Handle(ctx, event(cfn.RequestDelete, map[string]any{"Port": "nope"}))
	require.NoError(t, err)
	assert.Equal(t, before, observe(t))
}

func TestHalfAppliedScriptIsFinishedByTheNextRun(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	f.h.beforeStatement = func(db string, i int) error {
		if db == "apim_db" && i == 3 {
			return errors.New("connection lost")
		}
		return nil
	}
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apim_db: statement 4 of 5: connection lost; the next run resumes there")
	half := observe(t)
	assert.ElementsMatch(t, []string{"AM_API", "AM_SUBSCRIBER", MarkerTable}, half.tables["apim_db"])

	f.h.beforeStatement = nil
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, props()))
	require.NoError(t, err)
	s := observe(t)
	assert.ElementsMatch(t, apimTables, s.tables["apim_db"])
	assert.Equal(t, 1, s.rows["apim_db.AM_POLICY_SUBSCRIPTION"], "seed rows exactly once")
}

func TestResumeToleratesAStatementThatTookEffect(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	// As if the load had been cut after CREATE INDEX (statement 3) committed but before its
	// progress was recorded: statements 4 and 5 never ran.
	db := admin(t)
	_, err = db.ExecContext(ctx, "DROP TABLE apim_db.AM_POLICY_SUBSCRIPTION")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "UPDATE apim_db."+MarkerTable+" SET statements_done = 2, completed = FALSE")
	require.NoError(t, err)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, props()))
	require.NoError(t, err)
	s := observe(t)
	assert.ElementsMatch(t, apimTables, s.tables["apim_db"])
	assert.Equal(t, 1, s.rows["apim_db.AM_POLICY_SUBSCRIPTION"])
}

func TestHalfAppliedFromAnotherScriptFailsClearly(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	f.h.beforeStatement = func(db string, i int) error {
		if db == "apim_db" && i == 2 {
			return errors.New("timeout")
		}
		return nil
	}
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.Error(t, err)
	f.h.beforeStatement = nil
	f.objects.objects["packs/wso2am-4.4.0.zip"] = makePack(t, map[string]string{
		"dbscripts/mysql.sql":        sharedScript,
		"dbscripts/apimgt/mysql.sql": apimScript + "CREATE TABLE IF NOT EXISTS AM_NEW (ID INT);\n",
	})
	p := props()
	p["PackKey"] = "wso2am-4.4.0.zip"
	before := observe(t)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, p))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apim_db: a different schema script was half-applied here (2 of 5 statements)")
	assert.Equal(t, before, observe(t), "nothing more is applied")
}

func TestNonEmptyDatabaseIsLeftAlone(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	db := admin(t)
	_, err := db.ExecContext(ctx, "CREATE DATABASE apim_db")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "CREATE TABLE apim_db.MANAGED_ELSEWHERE (ID INT)")
	require.NoError(t, err)
	f := newFixture(t)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	s := observe(t)
	assert.Equal(t, []string{"MANAGED_ELSEWHERE"}, s.tables["apim_db"], "a database with tables is not loaded")
	assert.ElementsMatch(t, sharedTables, s.tables["shared_db"])
}

func TestWithoutPackOnlyDatabasesAndUser(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	p := props()
	delete(p, "PackBucket")
	delete(p, "PackKey")
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, p))
	require.NoError(t, err)
	s := observe(t)
	assert.Len(t, s.databases, 2)
	assert.Empty(t, s.tables)
	assert.True(t, s.user)
	assert.Zero(t, f.objects.gets, "no pack is read")
}

func TestNewApplicationPasswordIsApplied(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)
	f.secrets[appArn] = `{"username":"wso2apim","password":"Rotated-Passw0rd"}`
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, props()))
	require.NoError(t, err)
	_, err = asApp(t, "Rotated-Passw0rd")
	assert.NoError(t, err)
	_, err = asApp(t, appPass)
	assert.Error(t, err, "the old password no longer works")
}

// Every failure says what failed, and leaves the server as it was.
func TestFailuresAreClearAndHarmless(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fixture, p map[string]any) cfn.Event
		want  []string
	}{
		{"server certificate from an authority the function does not trust", func(f *fixture, p map[string]any) cfn.Event {
			f.h.RootCAs = nil // the production roots: Amazon RDS's
			f.h.Region = "us-west-1"
			return event(cfn.RequestCreate, p)
		}, []string{"connecting to 127.0.0.1:", "certificate signed by unknown authority", "check the instance's certificate authority"}},
		{"server certificate in a region whose RDS root is not embedded", func(f *fixture, p map[string]any) cfn.Event {
			f.h.RootCAs = nil
			f.h.Region = "xx-test-1"
			return event(cfn.RequestCreate, p)
		}, []string{"certificate signed by unknown authority", "no Amazon RDS root for xx-test-1", "VerifyServerCertificate to false"}},
		{"server certificate for another name", func(f *fixture, p map[string]any) cfn.Event {
			p["Endpoint"] = "localhost"
			return event(cfn.RequestCreate, p)
		}, []string{"connecting to localhost:", "certificate is valid for db.test, not localhost"}},
		{"wrong master password", func(f *fixture, p map[string]any) cfn.Event {
			f.secrets[masterArn] = `{"username":"admin","password":"not-the-password"}`
			return event(cfn.RequestCreate, p)
		}, []string{"connecting to 127.0.0.1:", "as admin", "Access denied"}},
		{"unreachable host", func(f *fixture, p map[string]any) cfn.Event {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			p["Port"] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			f.h.ConnectTimeout = 2 * time.Second
			return event(cfn.RequestCreate, p)
		}, []string{"connecting to 127.0.0.1:", "connection refused"}},
		{"script missing from the pack", func(f *fixture, p map[string]any) cfn.Event {
			f.objects.objects["packs/wso2am-4.3.0.zip"] = makePack(t, map[string]string{"dbscripts/mysql.sql": sharedScript})
			return event(cfn.RequestCreate, p)
		}, []string{"the pack s3://packs/wso2am-4.3.0.zip has no dbscripts/apimgt/mysql.sql"}},
		{"pack missing", func(f *fixture, p map[string]any) cfn.Event {
			p["PackKey"] = "nope.zip"
			return event(cfn.RequestCreate, p)
		}, []string{"reading the pack s3://packs/nope.zip", "NoSuchKey"}},
		{"pack that is not a zip", func(f *fixture, p map[string]any) cfn.Event {
			f.objects.objects["packs/wso2am-4.3.0.zip"] = []byte("not a zip")
			return event(cfn.RequestCreate, p)
		}, []string{"is not a zip archive"}},
		{"script that does not parse", func(f *fixture, p map[string]any) cfn.Event {
			f.objects.objects["packs/wso2am-4.3.0.zip"] = makePack(t, map[string]string{
				"dbscripts/mysql.sql": sharedScript, "dbscripts/apimgt/mysql.sql": "CREATE TABLE X (A VARCHAR(3) DEFAULT 'oops);",
			})
			return event(cfn.RequestCreate, p)
		}, []string{"dbscripts/apimgt/mysql.sql", "line 1: unterminated ' quote"}},
		{"secret missing", func(f *fixture, p map[string]any) cfn.Event {
			delete(f.secrets, appArn)
			return event(cfn.RequestCreate, p)
		}, []string{"reading the application secret", "not found"}},
		{"secret that is not JSON", func(f *fixture, p map[string]any) cfn.Event {
			f.secrets[appArn] = "hunter2"
			return event(cfn.RequestCreate, p)
		}, []string{"the application secret is not JSON"}},
		{"application user is the master user", func(f *fixture, p map[string]any) cfn.Event {
			f.secrets[appArn] = `{"username":"ADMIN","password":"x1"}`
			return event(cfn.RequestCreate, p)
		}, []string{`the application user "ADMIN" is the master user`}},
		{"missing endpoint", func(f *fixture, p map[string]any) cfn.Event {
			delete(p, "Endpoint")
			return event(cfn.RequestCreate, p)
		}, []string{"ResourceProperties.Endpoint is missing"}},
		{"port that is not a port", func(f *fixture, p map[string]any) cfn.Event {
			p["Port"] = "33o6"
			return event(cfn.RequestCreate, p)
		}, []string{`ResourceProperties.Port "33o6" is not a TCP port`}},
		{"database name with a backtick", func(f *fixture, p map[string]any) cfn.Event {
			p["Databases"] = []any{map[string]any{"Name": "apim`db", "Charset": "latin1", "Script": "x.sql"}}
			return event(cfn.RequestCreate, p)
		}, []string{"ResourceProperties.Databases[0].Name"}},
		{"databases not a list", func(f *fixture, p map[string]any) cfn.Event {
			p["Databases"] = "apim_db"
			return event(cfn.RequestCreate, p)
		}, []string{"ResourceProperties:", "Databases"}},
		{"pack bucket without key", func(f *fixture, p map[string]any) cfn.Event {
			delete(p, "PackKey")
			return event(cfn.RequestCreate, p)
		}, []string{"PackBucket and PackKey go together"}},
		{"unknown request type", func(f *fixture, p map[string]any) cfn.Event {
			return event("Replace", p)
		}, []string{`RequestType "Replace" is not Create, Update or Delete`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dropAll(t, "apim_db", "shared_db")
			before := observe(t)
			f := newFixture(t)
			_, _, err := f.h.Handle(ctx, tc.setup(f, props()))
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "dbinit: "), err.Error())
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), adminPassword, "no password in an error")
			assert.NotContains(t, err.Error(), appPass)
			assert.Equal(t, before, observe(t), "no partial damage")
		})
	}
}

func TestSplitStatements(t *testing.T) {
	got, err := SplitStatements("-- c1\nCREATE TABLE A (X INT);\n/* c2; */ INSERT INTO A VALUES (1); # c3\n" +
		"INSERT INTO B VALUES ('a;b', \"c;d\", 'e''f', 'g\\'h');\nSELECT `x;y` FROM A--\n;\n   \n")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"CREATE TABLE A (X INT)",
		"INSERT INTO A VALUES (1)",
		`INSERT INTO B VALUES ('a;b', "c;d", 'e''f', 'g\'h')`,
		"SELECT `x;y` FROM A",
	}, got)

	for in, want := range map[string]string{
		"CREATE TABLE A (X INT);\nINSERT INTO A VALUES ('x);": "line 2: unterminated ' quote",
		"SELECT 1;\n/* open":                            "line 2: unterminated comment",
		"SELECT 1;\nDELIMITER //\nCREATE PROCEDURE p()": "line 2: DELIMITER is not supported",
	} {
		_, err := SplitStatements(in)
		assert.EqualError(t, err, want, in)
	}
}

func TestParsePropsDefaults(t *testing.T) {
	p := props()
	delete(p, "Tls")
	got, err := ParseProps(p)
	require.NoError(t, err)
	assert.Equal(t, "true", got.TLS, "TLS verification is the default")
	assert.Equal(t, Database{Name: "apim_db", Charset: "latin1", Script: "dbscripts/apimgt/mysql.sql"}, got.Databases[0])
	p["Tls"] = "maybe"
	_, err = ParseProps(p)
	assert.EqualError(t, err, `ResourceProperties.Tls "maybe" must be true, skip-verify or false`)
}

// A database that accepts the connection and then never answers is given up in time for the
// function to answer CloudFormation itself, before Lambda stops it.
func TestHangingDatabaseIsGivenUpBeforeTheDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent
		}
	}()
	f := newFixture(t)
	f.h.ConnectTimeout = time.Minute
	f.h.ResponseReserve = 500 * time.Millisecond
	p := props()
	p["Port"] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, _, err = f.h.Handle(ctx, event(cfn.RequestCreate, p))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the function ran out of time")
	assert.Less(t, time.Since(start), 900*time.Millisecond, "stopped before the function's own deadline")
}
