package wso2

import "github.com/aws/aws-cdk-go/awscdk/v2/awsiam"

// The constructs that own a role are awsiam.IGrantable, as aws-cdk-lib's own are: pass one to
// any Grant* method (bucket.GrantRead(gateway, nil), secret.GrantRead(bastion, nil)) and the
// permission lands on its role.
var (
	_ awsiam.IGrantable = (*ProfileAsg)(nil)
	_ awsiam.IGrantable = (*Bastion)(nil)
	_ awsiam.IGrantable = (*WumUpdater)(nil)
)

// GrantPrincipal is the nodes' instance role, to which grants of this group go.
func (n *ProfileAsg) GrantPrincipal() awsiam.IPrincipal { return n.role }

// GrantPrincipal is the bastion instance's role.
func (b *Bastion) GrantPrincipal() awsiam.IPrincipal { return b.instance.GrantPrincipal() }

// GrantPrincipal is the update instance's role.
func (u *WumUpdater) GrantPrincipal() awsiam.IPrincipal { return u.instance.GrantPrincipal() }
