package views

// MeRoleSession is /me while a RAM user acts as a role in the console: the
// role session the console answers as, and the user it came from.
type MeRoleSession struct {
	Layout        Layout
	Arn           string // acs:ram::<AccountId>:assumed-role/<RoleName>/<session>
	AssumedRoleID string // <RoleId>:<session>
	Role          string
	RoleHref      string
	RoleArn       string
	SessionName   string
	SourceUser    string
	Started       string
	Expires       string
	MFAPresent    bool
	BackAction    string
}
