package wso2

// Names kept for one release after v0.6.0 renamed them (CHANGELOG.md): network flows are
// Allow*, Grant* is for IAM only, and names spell Go's initialisms (DNS, IP, URL).

import "github.com/aws/aws-cdk-go/awscdk/v2/awsec2"

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
