package profiles

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Endpoint is a peer a node's deployment.toml tells it to call: scheme://Host:Port.
type Endpoint struct {
	Scheme string
	Host   string
	Port   int
	// Key is where the file names it, such as apim.throttling.url_group[0].traffic_manager_urls.
	Key string
}

func (e Endpoint) String() string { return fmt.Sprintf("%s://%s:%d", e.Scheme, e.Host, e.Port) }

// endpointURL is a URL of a WSO2 transport with an explicit port; URLs without one are public
// addresses the load balancer serves on 443 or 80, and JDBC URLs are the database's.
var endpointURL = regexp.MustCompile(`^(tcp|ssl|https?|wss?)://([A-Za-z0-9.-]+):(\d+)(/.*)?$`)

// Endpoints lists every peer a rendered deployment.toml names with a port, but the node itself
// (localhost), in the order of the file's keys.
func Endpoints(deploymentToml []byte) ([]Endpoint, error) {
	var doc map[string]any
	if err := toml.Unmarshal(deploymentToml, &doc); err != nil {
		return nil, fmt.Errorf("reading deployment.toml: %w", err)
	}
	var out []Endpoint
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(key+"."+k, "."), v[k])
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", key, i), e)
			}
		case string:
			m := endpointURL.FindStringSubmatch(v)
			if m == nil || m[2] == "localhost" || m[2] == "127.0.0.1" {
				return
			}
			port, _ := strconv.Atoi(m[3])
			out = append(out, Endpoint{Scheme: m[1], Host: strings.ToLower(m[2]), Port: port, Key: key})
		}
	}
	walk("", doc)
	return out, nil
}

// schemes are the schemes WSO2 uses on each of its base ports.
var schemes = map[int][]string{
	PortServletHTTPS: {"https"},
	PortServletHTTP:  {"http"},
	PortGatewayHTTPS: {"https"},
	PortGatewayHTTP:  {"http"},
	PortBinary:       {"tcp"},
	PortBinaryAuth:   {"ssl"},
	PortJMS:          {"tcp"},
	// The broker's TLS port is named tcp:// too: ssl='true' on the URL asks for TLS.
	PortJMSSecure:       {"tcp"},
	PortWebSocketSecure: {"wss"},
	PortWebSocket:       {"ws"},
}

// ServesScheme reports whether a node listening on base port serves scheme there.
func ServesScheme(base int, scheme string) bool { return slices.Contains(schemes[base], scheme) }
