package handler

import (
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreatedTables(t *testing.T) {
	stmts, err := SplitStatements(apimScript + sharedScript + "CREATE TABLE `quoted name` (A INT);\n" +
		"create table if not exists other_db.`QUALIFIED` (A INT);\nCREATE TEMPORARY TABLE SCRATCH (A INT);\n" +
		"CREATE\n  TABLE\tSPREAD(A INT);\nCREATE TABLE IF NOT EXISTS AM_API (ID INT);\n" +
		"CREATE INDEX IDX_X ON AM_API (ID);\nINSERT INTO AM_API VALUES ('CREATE TABLE NOT_ONE (A INT)');\n")
	require.NoError(t, err)
	assert.Equal(t, []string{"AM_SUBSCRIBER", "AM_API", "AM_POLICY_SUBSCRIPTION", "REG_CLUSTER_LOCK", "UM_TENANT",
		"quoted name", "QUALIFIED", "SPREAD"}, CreatedTables(stmts),
		"in script order, once each, without quotes, qualifiers or temporary tables")
	assert.Empty(t, CreatedTables([]string{"INSERT INTO A VALUES (1)", "CREATE INDEX I ON A (X)"}))
}

// partialSchema refuses some-but-not-all of the script's tables without the function's record,
// naming the first missing ones and counting the rest; none, all, or the record pass to the load.
func TestPartialSchemaDecision(t *testing.T) {
	d := Database{Name: "apim_db", Script: "dbscripts/apimgt/mysql.sql"}
	want := []string{"T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"}
	cases := []struct {
		name string
		have []string
		rec  loadRecord
		err  string
	}{
		{"empty database", nil, loadRecord{}, ""},
		{"only tables of its own", []string{"MANAGED_ELSEWHERE"}, loadRecord{}, ""},
		{"all of them", want, loadRecord{}, ""},
		{"all of them and more", append([]string{"EXTRA"}, want...), loadRecord{}, ""},
		{"all of them in lower case", []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"}, loadRecord{}, ""},
		{"some of them, resuming the function's load", []string{"T1", MarkerTable}, loadRecord{present: true, sameScript: true}, ""},
		{"some of them, a half load of another script (loadSchema refuses it)", []string{"T1", MarkerTable}, loadRecord{present: true}, ""},
		{"all of them, loaded by the function", append([]string{MarkerTable}, want...), loadRecord{present: true, completed: true, sameScript: true}, ""},
		{"all of them after another script's load (migrated)", append([]string{MarkerTable}, want...), loadRecord{present: true, completed: true}, ""},
		{"another script's completed load lacking one", []string{"T1", "T2", "T3", "T4", "T5", "T6", "T7", MarkerTable}, loadRecord{present: true, completed: true},
			"apim_db holds a completed load of another schema script (another release's or pack's) and 7 of the 8 tables " +
				"dbscripts/apimgt/mysql.sql creates: it is missing T8. It is left as it is: migrate it"},
		{"another script's completed load sharing none", []string{"OLD1", MarkerTable}, loadRecord{present: true, completed: true},
			"holds a completed load of another schema script (another release's or pack's) and 0 of the 8 tables"},
		{"one missing", []string{"T1", "T2", "T3", "T4", "T5", "T6", "T8"}, loadRecord{},
			"apim_db holds 7 of the 8 tables dbscripts/apimgt/mysql.sql creates and no record of a load by this function: it is missing T7."},
		{"five missing, all named", []string{"T1", "T2", "T3"}, loadRecord{}, "it is missing T4, T5, T6, T7, T8. It is left as it is"},
		{"more than five missing", []string{"T2"}, loadRecord{}, "apim_db holds 1 of the 8 tables dbscripts/apimgt/mysql.sql creates and no record of a load by this function: " +
			"it is missing T1, T3, T4, T5, T6 and 2 more. It is left as it is, since it is half made or another release's schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := partialSchema(d, want, tc.have, tc.rec)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// A database holding some of the pack's tables but not all, and no load record of the function's
// (a half-made schema or an older release's), is refused before anything is written, with what is
// missing; before, it passed as loaded and WSO2 started on it.
func TestPartialSchemaIsRefused(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	db := admin(t)
	for _, q := range []string{
		"CREATE DATABASE apim_db",
		"CREATE TABLE apim_db.AM_SUBSCRIBER (SUBSCRIBER_ID INT PRIMARY KEY)",
		"CREATE TABLE apim_db.AM_API (API_ID INT PRIMARY KEY)",
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	before := observe(t)
	f := newFixture(t)
	for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
		_, _, err := f.h.Handle(ctx, event(kind, props()))
		require.Error(t, err, "%s: a partial schema is not taken for a loaded one", kind)
		assert.Equal(t, "dbinit: apim_db holds 2 of the 3 tables dbscripts/apimgt/mysql.sql creates and no record of a load "+
			"by this function: it is missing AM_POLICY_SUBSCRIPTION. It is left as it is, since it is half made or another "+
			"release's schema: complete or migrate it with WSO2's scripts, or point the function at an empty database", err.Error())
		assert.Equal(t, before, observe(t), "%s: nothing is written, not even the other database or the user", kind)
	}

	// Completed by hand, it holds all of them: left alone as a loaded schema, and the rest proceeds.
	_, err := db.ExecContext(ctx, "CREATE TABLE apim_db.AM_POLICY_SUBSCRIPTION (POLICY_ID INT PRIMARY KEY)")
	require.NoError(t, err)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, props()))
	require.NoError(t, err)
	s := observe(t)
	assert.ElementsMatch(t, []string{"AM_API", "AM_POLICY_SUBSCRIPTION", "AM_SUBSCRIBER"}, s.tables["apim_db"], "not loaded over")
	assert.ElementsMatch(t, sharedTables, s.tables["shared_db"])
	assert.True(t, s.user)
}

// Of a schema the size of WSO2's, the refusal names the first few missing tables and counts the rest.
func TestPartialSchemaRefusalNamesTheFirstMissing(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	f.objects.objects["packs/wso2am-4.3.0.zip"] = makePack(t, map[string]string{
		"dbscripts/apimgt/mysql.sql": syntheticScript("AM", 200, 10, 1),
		"dbscripts/mysql.sql":        sharedScript,
	})
	db := admin(t)
	_, err := db.ExecContext(ctx, "CREATE DATABASE apim_db")
	require.NoError(t, err)
	for i := range 180 {
		_, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE apim_db.AM_T%03d (ID INT)", i))
		require.NoError(t, err)
	}
	_, _, err = f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apim_db holds 180 of the 200 tables dbscripts/apimgt/mysql.sql creates")
	assert.Contains(t, err.Error(), "it is missing AM_T180, AM_T181, AM_T182, AM_T183, AM_T184 and 15 more.")
}

// A database whose load record is another script's completed load (the deployment moved to a new
// release or pack) is loaded only if every table of the new script is there, as after WSO2's
// migration; before, any completed record passed as loaded and WSO2 started on the old schema.
func TestAnotherReleasesLoadedSchemaIsRefusedUntilMigrated(t *testing.T) {
	dropAll(t, "apim_db", "shared_db")
	f := newFixture(t)
	_, _, err := f.h.Handle(ctx, event(cfn.RequestCreate, props()))
	require.NoError(t, err)

	f.objects.objects["packs/wso2am-4.4.0.zip"] = makePack(t, map[string]string{
		"dbscripts/mysql.sql":        sharedScript,
		"dbscripts/apimgt/mysql.sql": apimScript + "CREATE TABLE IF NOT EXISTS AM_NEW (ID INT);\n",
	})
	p := props()
	p["PackKey"] = "wso2am-4.4.0.zip"
	before := observe(t)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, p))
	require.Error(t, err)
	assert.Equal(t, "dbinit: apim_db holds a completed load of another schema script (another release's or pack's) and 3 of "+
		"the 4 tables dbscripts/apimgt/mysql.sql creates: it is missing AM_NEW. It is left as it is: migrate it to this "+
		"release with WSO2's migration resources, or point the function at an empty database", err.Error())
	assert.Equal(t, before, observe(t), "nothing is written")

	// Migrated (here by hand): the new script's tables are all there, and the update goes through.
	_, err = admin(t).ExecContext(ctx, "CREATE TABLE apim_db.AM_NEW (ID INT)")
	require.NoError(t, err)
	_, _, err = f.h.Handle(ctx, event(cfn.RequestUpdate, p))
	require.NoError(t, err)
	assert.Contains(t, observe(t).tables["apim_db"], "AM_NEW")
}
