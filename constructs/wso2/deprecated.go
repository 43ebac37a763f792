package wso2

// Names kept for one release after v0.6.0 renamed them (CHANGELOG.md): network flows are
// Allow*, Grant* is for IAM only, and names spell Go's initialisms (DNS, IP, URL).

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"

	"github.com/apimkit/apimkit/constructs/profiles"
)

// DnsHookName is DNSHookName.
//
// Deprecated: use DNSHookName.
const DnsHookName = DNSHookName

// GrantAccessFrom is AllowFrom.
//
// Deprecated: use AllowFrom; Grant* names are for IAM grants.
func (p *TrafficManagerPair) GrantAccessFrom(peers ...awsec2.IConnectable) { p.AllowFrom(peers...) }

// GrantPublishFrom is AllowPublishFrom.
//
// Deprecated: use AllowPublishFrom; Grant* names are for IAM grants.
func (p *TrafficManagerPair) GrantPublishFrom(peers ...awsec2.IConnectable) {
	p.AllowPublishFrom(peers...)
}

// ReceiverUrlGroup is ReceiverURLGroup.
//
// Deprecated: use ReceiverURLGroup.
func (p *TrafficManagerPair) ReceiverUrlGroup() string { return p.ReceiverURLGroup() }

// AuthUrlGroup is AuthURLGroup.
//
// Deprecated: use AuthURLGroup.
func (p *TrafficManagerPair) AuthUrlGroup() string { return p.AuthURLGroup() }

// DnsName is DNSName.
//
// Deprecated: use DNSName.
func (lb *ApimLoadBalancer) DnsName() *string { return lb.DNSName() }

// PublicIp is PublicIP.
//
// Deprecated: use PublicIP.
func (b *Bastion) PublicIp() *string { return b.PublicIP() }

// Props fields renamed in v0.6.0 stay in their structs, marked deprecated, and each constructor
// first moves them onto their new names (currentBastionProps and the others below), so the rest
// of the construct reads the new names only.

// renamed is the value of a renamed prop: the new name's, else the deprecated name's. Both given
// with different values is refused, naming the new field.
func renamed[T comparable](construct, name, old string, cur, dep *T) *T {
	if cur != nil && dep != nil && *cur != *dep {
		propsError(construct, "%s is %v and %s, its deprecated name, is %v: set %s only", name, *cur, old, *dep, name)
	}
	if cur == nil {
		return dep
	}
	return cur
}

// renamedList is renamed for a list of strings: both names given are refused unless they list
// the same strings in the same order.
func renamedList(construct, name, old string, cur, dep *[]*string) *[]*string {
	if cur != nil && dep != nil && !slices.Equal(derefAll(*cur), derefAll(*dep)) {
		propsError(construct, "%s is %v and %s, its deprecated name, is %v: set %s only", name, derefAll(*cur), old, derefAll(*dep), name)
	}
	if cur == nil {
		return dep
	}
	return cur
}

// derefAll is the strings of a jsii list ("<nil>" for a missing one).
func derefAll(list []*string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "<nil>"
		if s != nil {
			out[i] = *s
		}
	}
	return out
}

// currentBastionProps is a copy of props on the new names (SSHFrom, AllowSSHFromAnywhere).
func currentBastionProps(props *BastionProps) *BastionProps {
	p := *props
	p.SSHFrom = renamedList(bastionName, "SSHFrom", "SshFrom", p.SSHFrom, p.SshFrom)
	p.AllowSSHFromAnywhere = renamed(bastionName, "AllowSSHFromAnywhere", "AllowSshFromAnywhere", p.AllowSSHFromAnywhere, p.AllowSshFromAnywhere)
	p.SshFrom, p.AllowSshFromAnywhere = nil, nil
	return &p
}

// currentNetworkProps is a copy of props on the new names (AdminSSHCidrs, AllowSSHFromAnywhere).
func currentNetworkProps(props *ApimNetworkProps) *ApimNetworkProps {
	p := *props
	p.AdminSSHCidrs = renamedList(networkName, "AdminSSHCidrs", "AdminSshCidrs", p.AdminSSHCidrs, p.AdminSshCidrs)
	p.AllowSSHFromAnywhere = renamed(networkName, "AllowSSHFromAnywhere", "AllowSshFromAnywhere", p.AllowSSHFromAnywhere, p.AllowSshFromAnywhere)
	p.AdminSshCidrs, p.AllowSshFromAnywhere = nil, nil
	return &p
}

// currentProfileAsgProps is a copy of props on the new names (Release, Wiring.WebSocketOnHTTPS).
func currentProfileAsgProps(props *ProfileAsgProps) *ProfileAsgProps {
	p := *props
	p.Release = renamed(profileAsgName, "Release", "Version", p.Release, p.Version)
	p.Version = nil
	if p.Wiring != nil {
		w := *p.Wiring
		w.WebSocketOnHTTPS = renamed(profileAsgName, "Wiring.WebSocketOnHTTPS", "Wiring.WebSocketOnHttps", w.WebSocketOnHTTPS, w.WebSocketOnHttps)
		w.WebSocketOnHttps = nil
		p.Wiring = &w
	}
	return &p
}

// currentPairProps is a copy of props on the new names (Release).
func currentPairProps(props *TrafficManagerPairProps) *TrafficManagerPairProps {
	p := *props
	p.Release = renamed(pairName, "Release", "Version", p.Release, p.Version)
	p.Version = nil
	return &p
}

// currentUpdaterProps is a copy of props on the new names (Release).
func currentUpdaterProps(props *WumUpdaterProps) *WumUpdaterProps {
	p := *props
	p.Release = renamed(updaterName, "Release", "Version", p.Release, p.Version)
	p.Version = nil
	return &p
}

// ApimDb is profiles.ApimDb, the name of WSO2's API Manager database.
//
// Deprecated: use profiles.ApimDb; the names are the profiles package's.
const ApimDb = profiles.ApimDb

// SharedDb is profiles.SharedDb, the name of WSO2's shared (registry and user store) database.
//
// Deprecated: use profiles.SharedDb.
const SharedDb = profiles.SharedDb
