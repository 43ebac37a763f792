package handler

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests below run WSO2's own schema scripts instead of the stand-ins, when
// APIMKIT_WSO2_PACKS names a folder of unpacked packs (see scripts/fetch-wso2-pack.sh).

// wso2Packs returns the unpacked packs under $APIMKIT_WSO2_PACKS that hold both MySQL schema
// scripts, by home (wso2am-4.5.0), or skips the test saying how to get them.
func wso2Packs(t *testing.T) map[string]string {
	t.Helper()
	dir := os.Getenv("APIMKIT_WSO2_PACKS")
	if dir == "" {
		t.Skip("opt-in: set APIMKIT_WSO2_PACKS to a folder of unpacked WSO2 packs to run their dbscripts " +
			"(scripts/fetch-wso2-pack.sh fills .wso2/, or unzip a pack downloaded from WSO2 into it)")
	}
	homes, err := os.ReadDir(dir)
	require.NoError(t, err, "APIMKIT_WSO2_PACKS")
	packs := map[string]string{}
	for _, h := range homes {
		home := filepath.Join(dir, h.Name())
		if fileExists(filepath.Join(home, "dbscripts", "mysql.sql")) && fileExists(filepath.Join(home, "dbscripts", "apimgt", "mysql.sql")) {
			packs[h.Name()] = home
		}
	}
	if len(packs) == 0 {
		t.Skipf("APIMKIT_WSO2_PACKS=%s holds no pack with dbscripts/mysql.sql and dbscripts/apimgt/mysql.sql", dir)
	}
	return packs
}

// zipDbscripts lays the pack's dbscripts/ out as the function reads a pack: under one top-level
// folder named after its home.
func zipDbscripts(t *testing.T, home string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	root := filepath.Join(home, "dbscripts")
	require.NoError(t, filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(root), p)
		f, err := w.Create(filepath.Base(home) + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = f.Write(body)
		return err
	}))
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// contents lists each table of the two databases with its row count.
func contents(t *testing.T) map[string]int {
	t.Helper()
	db := admin(t)
	rows, err := db.QueryContext(ctx, "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('apim_db','shared_db')")
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var d, n string
		require.NoError(t, rows.Scan(&d, &n))
		names = append(names, d+".`"+n+"`")
	}
	rows.Close()
	out := map[string]int{}
	for _, n := range names {
		var c int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+n).Scan(&c))
		out[n] = c
	}
	return out
}

// scriptTables are the tables a pack's script creates.
func scriptTables(t *testing.T, path string) []string {
	t.Helper()
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	stmts, err := SplitStatements(string(body))
	require.NoError(t, err, path)
	return CreatedTables(stmts)
}

func withMarker(tables []string) []string {
	out := append([]string{MarkerTable}, tables...)
	sort.Strings(out)
	return out
}

// Each pack's real dbscripts load completely through the function, a second run changes nothing,
// and the same schema with a table taken away and no load record is refused, naming that table.
func TestWSO2PackSchemasLoadAndRerun(t *testing.T) {
	for home, dir := range wso2Packs(t) {
		t.Run(home, func(t *testing.T) {
			dropAll(t, "apim_db", "shared_db")
			f := newFixture(t)
			f.objects.objects["packs/"+home+".zip"] = zipDbscripts(t, dir)
			p := props()
			p["PackKey"] = home + ".zip"

			apim := scriptTables(t, filepath.Join(dir, "dbscripts", "apimgt", "mysql.sql"))
			shared := scriptTables(t, filepath.Join(dir, "dbscripts", "mysql.sql"))
			t.Logf("%s: dbscripts/apimgt/mysql.sql creates %d tables, dbscripts/mysql.sql %d", home, len(apim), len(shared))

			_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, p))
			require.NoError(t, err, "the pack's scripts load")
			s := observe(t)
			got := func(d string) []string { out := append([]string{}, s.tables[d]...); sort.Strings(out); return out }
			assert.Equal(t, withMarker(apim), got("apim_db"), "every table the script creates, and nothing else")
			assert.Equal(t, withMarker(shared), got("shared_db"))
			first := contents(t)
			var seeded []string
			for n, c := range first {
				if c > 0 && !strings.Contains(n, MarkerTable) {
					seeded = append(seeded, fmt.Sprintf("%s=%d", n, c))
				}
			}
			sort.Strings(seeded)
			t.Logf("%s: seeded rows: %s", home, strings.Join(seeded, ", "))

			for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
				_, _, err = f.h.Handle(ctx, event(kind, p))
				require.NoError(t, err, "%s again", kind)
				assert.Equal(t, first, contents(t), "%s again changes no table or row", kind)
			}

			// As if the schema came from elsewhere, one table short.
			conn, err := admin(t).Conn(ctx)
			require.NoError(t, err)
			gone := apim[len(apim)/2]
			for _, q := range []string{"SET FOREIGN_KEY_CHECKS = 0", "DROP TABLE apim_db.`" + gone + "`", "DROP TABLE apim_db." + MarkerTable} {
				_, err := conn.ExecContext(ctx, q)
				require.NoError(t, err, q)
			}
			conn.Close()
			_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, p))
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("apim_db holds %d of the %d tables dbscripts/apimgt/mysql.sql creates", len(apim)-1, len(apim)))
			assert.Contains(t, err.Error(), "it is missing "+gone+".")
			t.Logf("%s: with %s dropped: %v", home, gone, err)
		})
	}
}
