package handler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
)

// syntheticScript stands in for a WSO2 schema script of realistic size: tables with a key and a
// few columns, secondary indexes and seed rows.
func syntheticScript(prefix string, tables, indexes, rows int) string {
	var b strings.Builder
	for i := range tables {
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s_T%03d (\n  ID INTEGER NOT NULL AUTO_INCREMENT,\n  NAME VARCHAR(255) NOT NULL,\n"+
			"  TENANT_ID INTEGER DEFAULT -1,\n  CREATED TIMESTAMP DEFAULT CURRENT_TIMESTAMP,\n  VALUE VARCHAR(1024),\n  PRIMARY KEY (ID)\n)ENGINE INNODB;\n", prefix, i)
	}
	for i := range indexes {
		fmt.Fprintf(&b, "CREATE INDEX IDX_%s_%03d ON %s_T%03d (NAME, TENANT_ID);\n", prefix, i, prefix, i%tables)
	}
	for i := range rows {
		fmt.Fprintf(&b, "INSERT INTO %s_T000 (NAME, VALUE) VALUES ('seed-%d', 'x');\n", prefix, i)
	}
	return b.String()
}

// BenchmarkInitFromPack times the cold path: both databases created, the user granted, and both
// schemas loaded from a pack the size of WSO2's (about 200 apim_db and 60 shared_db tables).
func BenchmarkInitFromPack(b *testing.B) {
	f := newFixture(b)
	f.objects.objects["packs/wso2am-4.3.0.zip"] = makePack(b, map[string]string{
		"dbscripts/apimgt/mysql.sql": syntheticScript("AM", 200, 80, 20),
		"dbscripts/mysql.sql":        syntheticScript("UM", 60, 20, 5),
	})
	for b.Loop() {
		b.StopTimer()
		dropAll(b, "apim_db", "shared_db")
		b.StartTimer()
		if _, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props())); err != nil {
			b.Fatal(err)
		}
	}
}
