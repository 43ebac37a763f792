package handler

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
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
	// roots trust the server's certificate: a throwaway root, whose intermediate issued it for
	// 127.0.0.1 and db.test only.
	roots *x509.CertPool
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
	tlsFlags, roots, err := serverCertificate(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
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
		"--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--skip-log-bin"}, append(tlsFlags, asUser...)...)...)
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
	server.host, server.port, server.roots = "127.0.0.1", port, roots
	return stop, nil
}

// serverCertificate issues the server a certificate for 127.0.0.1 and db.test through an
// intermediate authority, as RDS does, writes the chain and the key into dir, and returns
// mariadbd's flags for them and a pool trusting the root alone.
func serverCertificate(dir string) ([]string, *x509.CertPool, error) {
	now := time.Now()
	issue := func(serial int64, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), now.Add(-time.Hour), now.Add(24*time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return nil, nil, err
		}
		c, err := x509.ParseCertificate(der)
		return c, key, err
	}
	authority := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root, rootKey, err := issue(1, authority("dbinit test root"), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	sub, subKey, err := issue(2, authority("dbinit test intermediate"), root, rootKey)
	if err != nil {
		return nil, nil, err
	}
	leaf, key, err := issue(3, &x509.Certificate{
		Subject: pkix.Name{CommonName: "db.test"}, DNSNames: []string{"db.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, sub, subKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	files := map[string][]byte{
		"ca.pem":    certPEM(root),
		"chain.pem": append(certPEM(leaf), certPEM(sub)...), // the server sends the intermediate
		"key.pem":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			return nil, nil, err
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	return []string{"--ssl-ca=" + filepath.Join(dir, "ca.pem"), "--ssl-cert=" + filepath.Join(dir, "chain.pem"),
		"--ssl-key=" + filepath.Join(dir, "key.pem")}, roots, nil
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
