package ram

// The ARNs of principals — who calls, as policies, trust policies, STS and
// the gateway's answers name them. One builder for each kind, and one for
// whoever an Actor is.

// RootARN is the account owner's ARN (and, in a trust policy, every RAM
// identity of the account).
func RootARN(acct string) string { return "acs:ram::" + acct + ":root" }

// UserARN is a RAM user's ARN.
func UserARN(acct, userName string) string { return "acs:ram::" + acct + ":user/" + userName }

// AssumedRoleARN is a role session's ARN.
func AssumedRoleARN(acct, roleName, sessionName string) string {
	return "acs:ram::" + acct + ":assumed-role/" + roleName + "/" + sessionName
}

// PrincipalARN is the ARN of whoever a is: the owner, a RAM user or a role
// session.
func PrincipalARN(acct string, a Actor) string {
	switch {
	case a.Session != nil:
		return AssumedRoleARN(acct, a.Session.Role.RoleName, a.Session.Session.SessionName)
	case a.Principal.IsOwner():
		return RootARN(acct)
	default:
		return UserARN(acct, a.Name)
	}
}

// PrincipalType is how Alibaba Cloud names a's kind: Root, SubUser or
// AssumedRoleUser.
func PrincipalType(a Actor) string {
	switch {
	case a.Session != nil:
		return "AssumedRoleUser"
	case a.Principal.IsOwner():
		return "Root"
	default:
		return "SubUser"
	}
}
