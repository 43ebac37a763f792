package confmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// small is a release whose templates read a handful of keys, to test the mapper's rules one by one.
func small(mapper string) *Facts {
	return &Facts{
		Release: "test", Mapper: mapper,
		Reads: map[string]string{
			"server.hostname": "t", "server.node_ip": "t", "a.new_name": "t", "list": "t", "list[].name": "t", "list[].secret": "t",
			"role.x":         "t",
			"server.timeout": "t", "server.refd_timeout": "t",
		},
		Open:  []string{"list[].properties"},
		Loops: []string{"list"},
		Defaults: map[string]any{
			"cluster.host": "$ref{server.node_ip}",
		},
		TimeUnits:   map[string]string{"server.timeout": "s", "server.refd_timeout": "ms"},
		Infer:       map[string]any{"server.role": map[string]any{"gw": map[string]any{"role.x": "inferred"}}},
		KeyMappings: map[string]any{"a.old_name": "a.new_name"},
	}
}

func TestMapperRules(t *testing.T) {
	env := Env{Vars: []string{"IP", "SECRET"}}
	cases := []struct {
		name, mapper, doc string
		want              []string
	}{
		{"clean", "1.0.23", "[server]\nhostname = 'h'\nnode_ip = '$env{IP}'\n", nil},
		{"a default's $ref{} needs its key", "1.0.23", "[server]\nhostname = 'h'\n",
			[]string{`$ref{server.node_ip} in cluster.host names nothing: the mapper stops with "Configuration with key server.node_ip doesn't exist" and the server does not start`}},
		{"key-mappings.json renames an old key first", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\n[a]\nold_name = 1\n", nil},
		{"an infer.json trigger is read", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\nrole = 'gw'\n", nil},
		{"a whole table read through .items()", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\n[[list]]\nname = 'n'\n[list.properties]\nany = 1\n", nil},
		{"an unread key inside an array of tables", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\n[[list]]\nnmae = 'n'\n",
			[]string{"list[].nmae is read by no template, infer.json or default.json of test"}},
		{"$env{} inside an array of tables, 1.0.2", "1.0.2", "[server]\nnode_ip = '1.2.3.4'\n[[list]]\nsecret = '$env{SECRET}'\n",
			[]string{"$env{SECRET} in list[].secret is not resolved inside an array of tables by config-mapper 1.0.2: it reaches the XML as text"}},
		{"$env{} inside an array of tables, 1.0.5 on", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\n[[list]]\nsecret = '$env{SECRET}'\n", nil},
		{"$sys{} the start command does not set", "1.0.23", "[server]\nnode_ip = '$sys{carbon.local.ip}'\n",
			[]string{`$sys{carbon.local.ip} in server.node_ip: no such system property when the mapper runs, it stops with "Error while retrieving carbon.local.ip system property"`}},
		{"a circular $ref{}", "1.0.23", "[server]\nnode_ip = '$ref{server.hostname}'\nhostname = '$ref{server.node_ip}'\n",
			[]string{
				`$ref{server.hostname} in server.node_ip is circular: the mapper stops with "References can't be resolved"`,
				`$ref{server.node_ip} in server.hostname is circular: the mapper stops with "References can't be resolved"`,
			}},
		{"a duration in another unit", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\ntimeout = '2m'\nrefd_timeout = '$ref{server.timeout}'\n", nil},
		{"a duration that converts to 0", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\ntimeout = '500ms'\n",
			[]string{`server.timeout = "500ms" is 0 in s, its unit: the mapper stops`}},
		{"an unknown unit", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\ntimeout = '5 minutes'\n",
			[]string{`server.timeout = "5 minutes": the mapper knows the units d, h, m, s and ms only, and stops with "Invalid unit : minutes"`}},
		{"a duration resolved through $ref{}", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\ntimeout = 'soon'\nrefd_timeout = '$ref{server.timeout}'\n",
			[]string{
				`server.refd_timeout = "soon" is not a duration: the mapper stops with "Invalid configuration value"`,
				`server.timeout = "soon" is not a duration: the mapper stops with "Invalid configuration value"`,
			}},
		{"a table where the templates loop", "1.0.23", "[server]\nnode_ip = '1.2.3.4'\n[list]\nname = 'n'\n",
			[]string{
				"list is a table, but the templates loop over it as an array: write [[list]]",
				"list.name is read by no template, infer.json or default.json of test",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Replay([]byte(c.doc), small(c.mapper), env))
		})
	}
}

// The kept facts name where they come from, and hold what the replay relies on.
func TestFactsOfEachRelease(t *testing.T) {
	for _, v := range []string{"3.2.0", "4.3.0", "4.5.0"} {
		f, err := Load(v)
		require.NoError(t, err)
		require.NotEmpty(t, f.Sources, v)
		for _, s := range f.Sources {
			assert.Regexp(t, "^[0-9a-f]{40}$", s.Commit, "%s %s", v, s.Repo)
		}
		assert.Contains(t, f.Loops, "event_listener", v)
		assert.Contains(t, f.Loops, "apim.throttling.url_group", v)
		assert.Equal(t, "$ref{server.node_ip}", f.Defaults["clustering.local_member_host"], v)
		_, has := f.Defaults["server.node_ip"]
		assert.Equal(t, v != "3.2.0", has, "%s: only 4.x defines a default node_ip", v)
	}
	_, err := Load("2.6.0")
	assert.Error(t, err)
}
