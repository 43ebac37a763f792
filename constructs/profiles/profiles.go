// Package profiles is the WSO2 API Manager model the constructs are built from: which profiles a
// release has, which pack and command start each, the ports they listen on, the databases they
// use, how they are health-checked and exposed, and the deployment.toml each needs. It imports no
// CDK package.
package profiles

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is a WSO2 API Manager release.
type Version struct{ Major, Minor, Patch int }

// ParseVersion reads a release such as "4.3.0".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
		}
		n[i] = v
	}
	v := Version{n[0], n[1], n[2]}
	if !v.Supported() {
		return v, fmt.Errorf("version %s is not supported: use 3.2.x or 4.x", s)
	}
	if !v.Known() {
		return v, fmt.Errorf("version %s is not a WSO2 API Manager release this library knows (%s): "+
			"its profiles, packs and configuration keys are unchecked", s, strings.Join(KnownReleases, ", "))
	}
	return v, nil
}

// KnownReleases are the API Manager releases whose layout, packs and start commands the model
// has facts for: 3.2 (with its 3.2.1 update release) and 4.0 to 4.6.
var KnownReleases = []string{"3.2.0", "3.2.1", "4.0.0", "4.1.0", "4.2.0", "4.3.0", "4.4.0", "4.5.0", "4.6.0"}

// Known reports whether v is one of KnownReleases.
func (v Version) Known() bool { return slices.Contains(KnownReleases, v.String()) }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Supported reports whether the library models the release: 3.2 (the article's era) and 4.x.
func (v Version) Supported() bool { return (v.Major == 3 && v.Minor == 2) || v.Major == 4 }

// SplitDistributions reports whether WSO2 ships one distribution per component (4.5 and later)
// rather than one pack started with -Dprofile.
func (v Version) SplitDistributions() bool { return v.Major == 4 && v.Minor >= 5 }

// JMSOverTLS reports whether nodes of release v reach each other's brokers over TLS. The
// templates of 4.3 (carbon-apimgt 9.29.120 with product-apim's jndi2.properties) and 4.5 read
// apim.throttling.jms.ssl, apim.event_hub.jms.ssl and apim.event_hub.ssl into every broker URL
// a node of this library's layouts is given (api-manager.xml, jndi*.properties); 3.2's have no
// such option (carbon-apimgt 6.7.206), and 4.0 to 4.2 were not read, so their nodes keep the
// broker's plain port. 4.4, between two releases that have it, is taken to have it too.
func (v Version) JMSOverTLS() bool { return v.Major > 4 || (v.Major == 4 && v.Minor >= 3) }

// JMSPort is the broker port nodes of release v reach each other on: PortJMSSecure where
// JMSOverTLS, else PortJMS.
func (v Version) JMSPort() int {
	if v.JMSOverTLS() {
		return PortJMSSecure
	}
	return PortJMS
}

// Name is a profile (up to 4.4, the -Dprofile value) or, from 4.5, a component distribution.
type Name string

// The profiles of the two layouts.
const (
	ControlPlane   Name = "control-plane"
	Gateway        Name = "gateway-worker"
	TrafficManager Name = "traffic-manager"
	Publisher      Name = "api-publisher"
	DevPortal      Name = "api-devportal"
	KeyManager     Name = "api-key-manager"
)

// Default ports at offset 0 (§3 of the reference architecture). Every port moves with the node's
// [server] offset.
const (
	PortServletHTTPS = 9443
	PortServletHTTP  = 9763
	PortGatewayHTTPS = 8243
	PortGatewayHTTP  = 8280
	PortBinary       = 9611
	PortBinaryAuth   = 9711
	PortJMS          = 5672
	// PortJMSSecure is the broker's AMQP port with TLS (broker.transport.amqp.ssl_connection,
	// on by default in every supported release); nodes of a release whose templates can ask
	// for TLS (Version.JMSOverTLS) reach each other's brokers there.
	PortJMSSecure = 8672
	// PortWebSocketSecure is the gateways' secure WebSocket transport (wss), PortWebSocket the
	// plain one (ws).
	PortWebSocketSecure = 8099
	PortWebSocket       = 9099
)

// Databases a profile connects to.
const (
	ApimDb   = "apim_db"
	SharedDb = "shared_db"
)

// HealthCheck is how a load balancer or the boot script decides a node is up.
type HealthCheck struct {
	// Protocol is HTTPS (Path on Port) or TCP (Port only).
	Protocol string
	Port     int
	Path     string
}

// Exposure says how a profile is reached from the internet through the load balancer.
type Exposure struct {
	// TargetPort is the node port the load balancer forwards to.
	TargetPort int
	// Role names the public host: "portal" (publisher, developer portal, key manager, admin) or
	// "gateway" (API traffic).
	Role string
}

// Profile is one kind of WSO2 node.
type Profile struct {
	Name Name
	// Scalable profiles run as an Auto Scaling group of two or more; traffic managers are pinned,
	// one node per group.
	Scalable bool
	// Ports the node listens on, at offset 0.
	Ports []int
	// Databases the node connects to.
	Databases []string
	Health    HealthCheck
	// Exposure is nil for nodes the internet never reaches (traffic managers, key managers).
	Exposure *Exposure
}

// Port returns a port moved by the node's offset.
func Port(base, offset int) int { return base + offset }

var catalogue = map[Name]Profile{
	ControlPlane: {
		Name: ControlPlane, Scalable: true,
		Ports:     []int{PortServletHTTPS, PortServletHTTP, PortJMS, PortJMSSecure, PortBinary, PortBinaryAuth},
		Databases: []string{ApimDb, SharedDb},
		Health:    HealthCheck{"HTTPS", PortServletHTTPS, "/services/Version"},
		Exposure:  &Exposure{PortServletHTTPS, "portal"},
	},
	Gateway: {
		Name: Gateway, Scalable: true,
		Ports:     []int{PortGatewayHTTPS, PortGatewayHTTP, PortServletHTTPS, PortWebSocketSecure, PortWebSocket},
		Databases: []string{SharedDb},
		Health:    HealthCheck{"HTTPS", PortServletHTTPS, "/services/Version"},
		Exposure:  &Exposure{PortGatewayHTTPS, "gateway"},
	},
	TrafficManager: {
		Name:      TrafficManager,
		Ports:     []int{PortBinary, PortBinaryAuth, PortJMS, PortJMSSecure, PortServletHTTPS},
		Databases: []string{ApimDb, SharedDb},
		Health:    HealthCheck{"TCP", PortBinary, ""},
	},
	Publisher: {
		Name: Publisher, Scalable: true,
		Ports:     []int{PortServletHTTPS, PortServletHTTP},
		Databases: []string{ApimDb, SharedDb},
		Health:    HealthCheck{"HTTPS", PortServletHTTPS, "/services/Version"},
		Exposure:  &Exposure{PortServletHTTPS, "portal"},
	},
	DevPortal: {
		Name: DevPortal, Scalable: true,
		Ports:     []int{PortServletHTTPS, PortServletHTTP},
		Databases: []string{ApimDb, SharedDb},
		Health:    HealthCheck{"HTTPS", PortServletHTTPS, "/services/Version"},
		Exposure:  &Exposure{PortServletHTTPS, "portal"},
	},
	KeyManager: {
		Name: KeyManager, Scalable: true,
		Ports:     []int{PortServletHTTPS, PortServletHTTP},
		Databases: []string{ApimDb, SharedDb},
		Health:    HealthCheck{"HTTPS", PortServletHTTPS, "/services/Version"},
	},
}

// Layout returns the profiles of a distributed deployment of release v: control plane, gateway and
// traffic manager for 4.x; publisher, developer portal, key manager, gateway and traffic manager for
// 3.2.
func Layout(v Version) ([]Profile, error) {
	var names []Name
	switch {
	case v.Major == 4:
		names = []Name{ControlPlane, Gateway, TrafficManager}
	case v.Major == 3 && v.Minor == 2:
		names = []Name{Publisher, DevPortal, KeyManager, Gateway, TrafficManager}
	default:
		return nil, fmt.Errorf("version %s is not supported: use 3.2.x or 4.x", v)
	}
	out := make([]Profile, 0, len(names))
	for _, n := range names {
		out = append(out, catalogue[n])
	}
	return out, nil
}

// Lookup returns profile n of release v, or an error naming the profiles v has.
func Lookup(v Version, n Name) (Profile, error) {
	layout, err := Layout(v)
	if err != nil {
		return Profile{}, err
	}
	var names []string
	for _, p := range layout {
		if p.Name == n {
			return p, nil
		}
		names = append(names, string(p.Name))
	}
	return Profile{}, fmt.Errorf("profile %q is not part of API Manager %s, which has %s", n, v, strings.Join(names, ", "))
}

// Pack is what a node installs and how it starts.
type Pack struct {
	// Distribution is the archive's base name without version, such as wso2am or wso2am-acp.
	Distribution string
	// Home is the directory the archive unpacks to, such as wso2am-4.3.0.
	Home string
	// Start is the command, relative to Home, that runs the server in the foreground.
	Start []string
}

// PackOf says which pack serves profile p of release v and how it starts. Up to 4.4 (and in 3.2)
// one pack serves every profile: it starts with -Dprofile, and --optimize with
// --skipConfigOptimization strips the components the profile does not need while keeping the
// rendered deployment.toml. From 4.5 each component is its own distribution with its own script.
func PackOf(v Version, p Name) (Pack, error) {
	if _, err := Lookup(v, p); err != nil {
		return Pack{}, err
	}
	if !v.SplitDistributions() {
		script := "bin/api-manager.sh"
		if v.Major == 3 {
			script = "bin/wso2server.sh"
		}
		return Pack{
			Distribution: "wso2am",
			Home:         "wso2am-" + v.String(),
			Start:        []string{script, "--optimize", "-Dprofile=" + string(p), "--skipConfigOptimization"},
		}, nil
	}
	dist := map[Name][2]string{
		ControlPlane:   {"wso2am-acp", "bin/api-cp.sh"},
		Gateway:        {"wso2am-universal-gw", "bin/gateway.sh"},
		TrafficManager: {"wso2am-tm", "bin/traffic-manager.sh"},
	}[p]
	return Pack{Distribution: dist[0], Home: dist[0] + "-" + v.String(), Start: []string{dist[1]}}, nil
}

// ArchiveKey is the object key of the pack's zip under prefix, as the update instance writes it.
func (p Pack) ArchiveKey(prefix string) string {
	return strings.TrimSuffix(prefix, "/") + "/" + p.Home + ".zip"
}
