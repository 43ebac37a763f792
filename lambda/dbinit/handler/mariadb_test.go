package handler

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The handler's tests run against a real MariaDB server that TestMain starts on a loopback port
// with a throwaway data directory, and stops afterwards. `make test` installs Debian's
// mariadb-server when it is missing.

const (
	adminUser     = "admin"
	adminPassword = "Adm1n-test-Passw0rd"
)

var server struct {
	host string
	port int
}

func TestMain(m *testing.M) {
	stop, err := startMariaDB()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbinit tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		if p := filepath.Join("/usr/sbin", n); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install Debian's mariadb-server (make test does it)", names[0])
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func startMariaDB() (func(), error) {
	mariadbd, err := findBinary("mariadbd", "mysqld")
	if err != nil {
		return nil, err
	}
	installDB, err := findBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dbinit-mariadb-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	socket := filepath.Join(dir, "mysqld.sock")
	// As root (CI), the server must be told to run as root; as anyone else it runs as them.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"--user=root"}
	}
	install := exec.Command(installDB, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, asUser...)...)
	if out, err := install.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(mariadbd, append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + socket,
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--log-error=" + filepath.Join(dir, "error.log"),
		"--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--skip-log-bin"}, asUser...)...)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	}

	// Over the socket as root, create the administrative user the tests treat as RDS's master.
	rootCfg := mysql.NewConfig()
	rootCfg.User, rootCfg.Net, rootCfg.Addr = "root", "unix", socket
	root, _ := sql.Open("mysql", rootCfg.FormatDSN())
	defer root.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = root.Ping(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			stop()
			return nil, fmt.Errorf("mariadbd did not start: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", adminUser, adminPassword),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", adminUser),
	} {
		if _, err := root.Exec(q); err != nil {
			stop()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	server.host, server.port = "127.0.0.1", port
	return stop, nil
}

// admin opens a connection as the administrative user, for the tests' own checks.
func admin(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = adminUser, adminPassword, "tcp", net.JoinHostPort(server.host, strconv.Itoa(server.port))
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dropAll removes what a test created, so each test starts from a server without WSO2 databases.
func dropAll(t testing.TB, dbs ...string) {
	t.Helper()
	db := admin(t)
	ctx := context.Background()
	for _, d := range dbs {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+d+"`"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "DROP USER IF EXISTS 'wso2apim'@'%'"); err != nil {
		t.Fatal(err)
	}
}
