package main

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A template of our own, in the shapes WSO2's use: plain values, tests and filters, loops over
// arrays and over a table's items, a quoted key, a set variable and a comment.
const sample = `
{# {{ commented.out }} #}
<Host>{{server.hostname}}</Host>
{% if apim.cors.enable is defined and apim.cors.enable %}{{ apim.cors.allow_origins | join(",") }}{% endif %}
<Timeout>{{ apim.cache.expiry | default(apim.cache.default_expiry) }}</Timeout>
{% for env in apim.gateway.environment %}
  <Name>{{env.name}}</Name>
  {% for role in env.visibility %}{{role}}{{ "," if not loop.last }}{% endfor %}
  {% for k, v in env.properties.items() %}<{{k}}>{{v}}</{{k}}>{% endfor %}
{% endfor %}
{% for l in event_listener %}{{ l['header.X-Key'] }}{{ l.properties.items() }}{% endfor %}
{% set ks = keystore.tls %}{{ ks.file_name }}
{{ "literal.not.a.key" }}
{{ server.hostname.split(".")[0] }}
`

func TestScanReadsTemplateKeys(t *testing.T) {
	s := scan(sample)
	reads := append([]string(nil), s.reads...)
	sort.Strings(reads)
	assert.Equal(t, []string{
		"apim.cache.default_expiry", "apim.cache.expiry",
		"apim.cors.allow_origins", "apim.cors.enable",
		"apim.gateway.environment", "apim.gateway.environment[].name",
		"apim.gateway.environment[].properties", "apim.gateway.environment[].visibility",
		"event_listener", "event_listener[].'header.X-Key'", "event_listener[].properties",
		"keystore.tls", "keystore.tls.file_name",
		"server.hostname",
	}, reads)
	assert.Equal(t, map[string]bool{"apim.gateway.environment[].properties": true}, s.open)
	assert.Equal(t, map[string]bool{"apim.gateway.environment": true, "apim.gateway.environment[].visibility": true, "event_listener": true}, s.loops)
}
