package ram

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"ramconsole/policy"
	"ramconsole/store"
)

// STS (SPEC §12): AssumeRole turns a caller that its own policies and a
// role's trust policy allow into a role session with temporary credentials.
// A security token is a reference to the session kept here, not a sealed
// claim: ending the session (Revoke sessions, a new trust policy, the
// role's deletion, deactivating or deleting the AccessKey that assumed the
// role) ends the credentials at once, and for good.

// STS limits.
const (
	MinAssumeDuration       = 900
	maxSessionPolicyLength  = 2048
	stsKeyPrefix            = "STS."
	securityTokenPrefix     = "ramsts1."
	roleSessionNameMinimum  = 2
	roleSessionNameMaximum  = 64
	defaultAssumeRoleLength = 3600
)

// RoleSessionActor is what an Actor carries when it is a role session.
type RoleSessionActor struct {
	Role    *store.Role
	Session *store.RoleSession
	policy  *policy.Set // the session policy, nil when none narrows the session
	// federatedBy is the ARN of the identity provider a federated session
	// was started through ("" for any other).
	federatedBy string
}

// Act returns a acting as the role session: its principal, its name
// ("<role>/<session>") and the session.
func (rs *RoleSessionActor) Act(a Actor) Actor {
	a.Principal, a.Name, a.Session = RoleSessionPrincipal(rs.Role.RoleID, rs.Session.AccessKeyID), rs.Role.RoleName+"/"+rs.Session.SessionName, rs
	return a
}

// AssumeRoleInput is an AssumeRole request.
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int // 0 = one hour
	Policy          string
	ExternalID      string
}

// AssumedRole is AssumeRole's answer: the session and its credentials,
// known only here.
type AssumedRole struct {
	Arn             string
	AssumedRoleID   string
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      time.Time
}

func stsError(code, format string, args ...any) *Error {
	return &Error{Kind: EINVALID, Code: code, Message: fmt.Sprintf(format, args...)}
}

// parseRoleARN reads acs:ram::<AccountId>:role/<RoleName>.
func parseRoleARN(arn string) (acct, name string, ok bool) {
	rest, found := strings.CutPrefix(arn, "acs:ram::")
	if !found {
		return "", "", false
	}
	acct, name, found = strings.Cut(rest, ":role/")
	return acct, name, found && acct != "" && name != ""
}

func validSessionName(n string) bool {
	if len(n) < roleSessionNameMinimum || len(n) > roleSessionNameMaximum {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '@' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// AssumeRole starts a role session for the caller. It is allowed only when
// the caller's own policies allow sts:AssumeRole on the role's ARN and the
// role's trust policy allows the caller; a session policy narrows what the
// session may do.
func (s *Service) AssumeRole(ctx context.Context, a Actor, in AssumeRoleInput) (*AssumedRole, error) {
	return s.assume(ctx, a, in, "AssumeRole")
}

// assume is AssumeRole, recorded as eventName (AssumeRole, or SwitchRole in
// the console).
func (s *Service) assume(ctx context.Context, a Actor, in AssumeRoleInput, eventName string) (*AssumedRole, error) {
	acct := s.accountID(ctx)
	refuse := func(err error) (*AssumedRole, error) { return nil, s.refusedSTS(ctx, a, acct, in, eventName, err) }
	if a.Principal == "" || a.Principal == PrincipalRoot {
		return refuse(&Error{Kind: EINVALID, Code: "NotSupport.Account", Message: "The account owner cannot assume roles; use a RAM user."})
	}
	arnAcct, roleName, err := checkAssumeInput(acct, in, true)
	if err != nil {
		return refuse(err)
	}
	// A role of another account, or a role that does not exist, is authorised
	// as named and then does not exist.
	res := Resource{"acs:ram:*:" + arnAcct + ":role/" + roleName}
	var role *store.Role
	if arnAcct == acct {
		r, found, err := s.lookupRole(ctx, s.st, acct, roleName)
		if err != nil {
			return nil, err
		}
		res, role = r, found
	}
	if err := s.authorizeAs(ctx, a, "sts:AssumeRole", eventName, res); err != nil {
		return nil, err
	}
	if role == nil {
		return refuse(notFound("EntityNotExist.Role", "role"))
	}
	duration, err := sessionDuration(in.DurationSeconds, role, 0)
	if err != nil {
		return refuse(err)
	}
	if err := s.trustAllows(ctx, a, acct, role, in.ExternalID); err != nil {
		return refuse(err)
	}
	start := sessionStart{source: string(a.Principal), sourceName: a.Name, sourceKey: a.AccessKeyID, mfa: a.MFAPresent,
		event: s.stsEvent(ctx, a, acct, in, eventName)}
	if a.Session != nil { // a role session assuming another role: its source is the first caller
		start.source, start.sourceName = a.Session.Session.SourcePrincipal, a.Session.Session.SourceName
		start.notAfter = a.Session.Session.ExpiresAt // a chained session never outlives the one it came from
	}
	r, err := s.startSession(ctx, acct, role, in, duration, start)
	if err != nil {
		return refuse(err)
	}
	return r, nil
}

// checkAssumeInput checks what every way of assuming a role is given: the
// role ARN, the session name (when withName: a federated session's may come
// later), and the session policy. It returns the ARN's account and role name.
func checkAssumeInput(acct string, in AssumeRoleInput, withName bool) (arnAcct, roleName string, err error) {
	arnAcct, roleName, ok := parseRoleARN(in.RoleArn)
	if !ok {
		return "", "", stsError("InvalidParameter.RoleArn", "The RoleArn %q is not a role ARN like acs:ram::%s:role/<RoleName>.", truncate(in.RoleArn, 200), acct)
	}
	if withName && !validSessionName(in.RoleSessionName) {
		return "", "", errSessionName
	}
	if utf8.RuneCountInString(in.Policy) > maxSessionPolicyLength {
		return "", "", stsError("InvalidParameter.PolicySize", "The session policy has more than %d characters.", maxSessionPolicyLength)
	}
	if strings.TrimSpace(in.Policy) != "" {
		if _, err := policy.Parse(in.Policy); err != nil {
			return "", "", stsError("InvalidParameter.PolicyGrammar", "The session policy is not valid: %s", err.Error())
		}
	}
	return arnAcct, roleName, nil
}

var errSessionName = stsError("InvalidParameter.RoleSessionName", "RoleSessionName must be 2 to 64 letters, digits, periods, at signs, underscores and hyphens.")

// sessionDuration is a new session's length in seconds: requested (0: an
// hour) within 900 and the role's MaxSessionDuration, and at most limit
// when limit is positive (a SAML assertion's SessionDuration).
func sessionDuration(requested int, role *store.Role, limit int) (int, error) {
	d := requested
	if d == 0 {
		d = min(defaultAssumeRoleLength, role.MaxSessionDuration)
	}
	if d < MinAssumeDuration || d > role.MaxSessionDuration {
		return 0, stsError("InvalidParameter.DurationSeconds", "DurationSeconds must be %d to %d (the role's MaxSessionDuration).",
			MinAssumeDuration, role.MaxSessionDuration)
	}
	if limit > 0 && limit < MinAssumeDuration {
		return 0, stsError("InvalidParameter.DurationSeconds", "The SAML assertion's SessionDuration %d is under %d seconds, the shortest session.",
			limit, MinAssumeDuration)
	}
	if limit > 0 && d > limit {
		d = limit
	}
	return d, nil
}

// sessionStart is what a new role session comes from and how it is
// recorded.
type sessionStart struct {
	source, sourceName, sourceKey string // SourcePrincipal, SourceName, SourceKeyID
	mfa                           bool
	notAfter                      time.Time    // the session ends by then at the latest (zero: no bound)
	event                         *store.Event // the success event, completed by startSession
}

// startSession writes a role session of role for st with new credentials,
// once what was checked still holds, and records st.event with it.
func (s *Service) startSession(ctx context.Context, acct string, role *store.Role, in AssumeRoleInput, duration int, st sessionStart) (*AssumedRole, error) {
	keyID := stsKeyPrefix + randomAlnum(28)
	secret := randomAlnum(30)
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	token := securityTokenPrefix + keyID + "." + hex.EncodeToString(tok)
	sess := &store.RoleSession{AccessKeyID: keyID, RoleID: role.RoleID, SessionName: in.RoleSessionName, SourcePrincipal: st.source,
		SourceName: st.sourceName, SourceKeyID: st.sourceKey, SecretEnc: s.sealer.Seal(roleSessionSecretAD(keyID), []byte(secret)),
		TokenHash: tokenHash(token), MFAPresent: st.mfa, ExpiresAt: s.Now().Add(time.Duration(duration) * time.Second)}
	if !st.notAfter.IsZero() && st.notAfter.Before(sess.ExpiresAt) {
		sess.ExpiresAt = st.notAfter
	}
	if strings.TrimSpace(in.Policy) != "" {
		sess.SessionPolicy = in.Policy
	}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		// What was checked must still hold when the session is written: the
		// role and its trust policy unchanged, and the caller's user, key,
		// session or identity provider still there (a change or revocation
		// meanwhile wins).
		cur, err := s.sameRole(ctx, tx, role)
		if err != nil {
			return err
		}
		if cur.AssumeRolePolicy != role.AssumeRolePolicy || cur.MaxSessionDuration != role.MaxSessionDuration {
			return conflict("Conflict.Role.Changed", "The role changed meanwhile. Try again.")
		}
		if live, err := s.sessionSourceLive(ctx, tx.Reads, sess, 0); err != nil {
			return err
		} else if !live {
			return errTokenExpired
		}
		if err := tx.CreateRoleSession(ctx, sess); err != nil {
			return err
		}
		ev := st.event
		ev.ResourceName = RoleARN(acct, role.RoleName)
		if ev.AdditionalEventData == nil {
			ev.AdditionalEventData = map[string]any{}
		}
		ev.AdditionalEventData["assumedRoleId"] = role.RoleID + ":" + in.RoleSessionName
		ev.AdditionalEventData["sessionAccessKeyId"] = keyID
		ev.AdditionalEventData["expiration"] = apiTime(sess.ExpiresAt)
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return &AssumedRole{Arn: AssumedRoleARN(acct, role.RoleName, in.RoleSessionName), AssumedRoleID: role.RoleID + ":" + in.RoleSessionName,
		AccessKeyID: keyID, AccessKeySecret: secret, SecurityToken: token, Expiration: sess.ExpiresAt}, nil
}

func roleSessionSecretAD(keyID string) string { return "role_sessions/" + keyID + "/secret" }

func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// stsEvent is the event of an AssumeRole call (never with credentials).
func (s *Service) stsEvent(ctx context.Context, a Actor, acct string, in AssumeRoleInput, eventName string) *store.Event {
	ev := s.event(ctx, a, acct, s.opType(a), eventName)
	ev.EventSource, ev.ServiceName = "sts", "Sts"
	ev.RequestParameters = map[string]any{"RoleArn": in.RoleArn, "RoleSessionName": in.RoleSessionName,
		"DurationSeconds": in.DurationSeconds, "ExternalId": in.ExternalID, "Policy": in.Policy}
	return ev
}

// refusedSTS records a refused AssumeRole, unless authorize did already.
func (s *Service) refusedSTS(ctx context.Context, a Actor, acct string, in AssumeRoleInput, eventName string, err error) error {
	e, ok := AsError(err)
	if !ok || e.Code == "NoPermission" && e.Denial != nil && !e.trust {
		return err
	}
	ev := s.stsEvent(ctx, a, acct, in, eventName)
	if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
		return rerr
	}
	return err
}

// trustAllows checks the role's trust policy for the caller: the RAM user
// (or, for a role session, its role), with sts:ExternalId and the request's
// condition keys.
func (s *Service) trustAllows(ctx context.Context, a Actor, acct string, role *store.Role, externalID string) error {
	caller := policy.Caller{Kind: policy.CallerRAMUser, Account: acct, ARN: UserARN(acct, a.Name)}
	if a.Session != nil {
		caller.Kind, caller.ARN = policy.CallerRoleSession, RoleARN(acct, a.Session.Role.RoleName)
	}
	pc := s.fillContext(policy.NewContext(8), a, acct)
	if externalID != "" {
		pc.Set(policy.KeyExternalID, externalID)
	}
	return s.trustDecides(acct, role, caller, pc)
}

// trustDecides evaluates the role's trust policy for caller with the
// request's condition keys: nil when it allows, else NoPermission.
func (s *Service) trustDecides(acct string, role *store.Role, caller policy.Caller, pc *policy.Context) error {
	tp, err := s.trustPolicy(role)
	if err != nil {
		return err
	}
	res := tp.ExplainTrust(&policy.TrustRequest{Caller: caller, Context: pc})
	if res.Decision == policy.Allow {
		return nil
	}
	d := &Denial{Action: "sts:AssumeRole", Resources: []string{RoleARN(acct, role.RoleName)}, Type: res.Decision.String()}
	for _, m := range res.Matched {
		if m.Effect == policy.EffectDeny {
			d.PolicyType, d.PolicyName, d.Statement = "Trust", role.RoleName, m.Statement
			break
		}
	}
	return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "You are not authorized to assume this role: its trust policy does not allow you.", Denial: d, trust: true}
}

// trustPolicy compiles a role's trust policy (cached by the document).
func (s *Service) trustPolicy(role *store.Role) (*policy.Compiled, error) {
	if v, ok := s.trusts.Load(role.RoleID); ok {
		if ct := v.(*cachedTrust); ct.doc == role.AssumeRolePolicy {
			return ct.trust, nil
		}
	}
	d, err := parseTrustPolicy(role.AssumeRolePolicy)
	if err != nil {
		return nil, fmt.Errorf("ram: stored trust policy of %s does not parse: %w", role.RoleName, err)
	}
	t := policy.Compile(policy.Source{Type: "Trust", Name: role.RoleName, Version: "-"}, d)
	s.trusts.Store(role.RoleID, &cachedTrust{doc: role.AssumeRolePolicy, trust: t})
	return t, nil
}

// cachedTrust is a role's compiled trust policy, good while the stored
// document is the one it was compiled from.
type cachedTrust struct {
	doc   string
	trust *policy.Compiled
}

var (
	errMissingToken   = stsError("MissingSecurityToken", "SecurityToken is required with temporary (STS.) credentials.")
	errTokenMalformed = stsError("InvalidSecurityToken.Malformed", "The security token is malformed.")
	errTokenMismatch  = stsError("InvalidSecurityToken.MismatchWithAccessKey", "The security token does not belong to this AccessKeyId.")
	errTokenExpired   = stsError("InvalidSecurityToken.Expired", "The security token has expired or its session was ended.")
)

// IsTemporaryKey reports whether an AccessKeyId is STS's.
func IsTemporaryKey(id string) bool { return strings.HasPrefix(id, stsKeyPrefix) }

// cachedSession is a live role session as of a store generation.
type cachedSession struct {
	gen    uint64
	caller APICaller
	hash   []byte
}

// RoleSessionCaller looks up the role session of temporary credentials and
// checks its security token. Like AccessKeyCaller it keeps a live session
// in memory with the store generation it was read at, so that ending the
// session (or changing the role) takes effect on the next call.
func (s *Service) RoleSessionCaller(ctx context.Context, keyID, token string) (*APICaller, error) {
	if token == "" {
		return nil, errMissingToken
	}
	rest, ok := strings.CutPrefix(token, securityTokenPrefix)
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 || !IsTemporaryKey(rest[:i]) || len(token) > 256 {
		return nil, errTokenMalformed
	}
	tokKey := rest[:i]
	if tokKey != keyID {
		return nil, errTokenMismatch
	}
	sum := sha256.Sum256([]byte(token))
	e, err := s.liveSession(ctx, keyID)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(sum[:], e.hash) != 1 {
		return nil, errTokenMismatch
	}
	if !s.Now().Before(e.caller.Session.Session.ExpiresAt) {
		return nil, errTokenExpired
	}
	c := e.caller
	return &c, nil
}

// liveSession returns a role session from the cache while the store's
// generation has not moved, else from the store.
func (s *Service) liveSession(ctx context.Context, keyID string) (*cachedSession, error) {
	gen := s.st.Generation() // before reading: a change committed meanwhile makes the entry stale at once
	if v, ok := s.sessions.Load(keyID); ok && v.(*cachedSession).gen == gen {
		return v.(*cachedSession), nil
	}
	return s.loadSession(ctx, keyID, gen)
}

func (s *Service) loadSession(ctx context.Context, keyID string, gen uint64) (*cachedSession, error) {
	sess, err := s.st.RoleSession(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		s.sessions.Delete(keyID)
		return nil, errTokenExpired
	}
	if err != nil {
		return nil, err
	}
	role, err := s.st.RoleByID(ctx, sess.RoleID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errTokenExpired
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.sealer.Open(roleSessionSecretAD(keyID), sess.SecretEnc)
	if err != nil {
		return nil, err
	}
	hash, err := hex.DecodeString(sess.TokenHash)
	if err != nil {
		return nil, err
	}
	rs := &RoleSessionActor{Role: role, Session: sess}
	if _, _, ok := parseFederatedSource(sess.SourcePrincipal); ok {
		// Its provider, read once: the session's source, and what it acts by.
		if rs.federatedBy, err = s.federatedProvider(ctx, s.st.Reads, sess.SourcePrincipal); isNotFound(err) {
			s.sessions.Delete(keyID)
			return nil, errTokenExpired
		} else if err != nil {
			return nil, err
		}
	} else if live, err := s.sessionSourceLive(ctx, s.st.Reads, sess, 0); err != nil {
		return nil, err
	} else if !live {
		s.sessions.Delete(keyID)
		return nil, errTokenExpired
	}
	if sess.SessionPolicy != "" {
		d, err := policy.Parse(sess.SessionPolicy)
		if err != nil {
			return nil, fmt.Errorf("ram: stored session policy of %s does not parse: %w", keyID, err)
		}
		rs.policy = policy.NewSet(policy.Compile(policy.Source{Type: "Session", Name: sess.SessionName, Version: "-"}, d))
	}
	e := &cachedSession{gen: gen, hash: hash, caller: APICaller{AccessKeyID: keyID, Secret: secret, Session: rs, macs: newKeyMACs(secret)}}
	s.sessions.Store(keyID, e)
	if s.st.Generation() != gen { // a change committed meanwhile: its sweep may have run before this Store
		s.sessions.CompareAndDelete(keyID, e)
	}
	return e, nil
}

// CallerIdentity is GetCallerIdentity's answer.
type CallerIdentity struct {
	AccountID, UserID, RoleID, Arn, IdentityType, PrincipalID string
}

// GetCallerIdentity says who the caller is; it needs no permission.
func (s *Service) GetCallerIdentity(ctx context.Context, a Actor) (*CallerIdentity, error) {
	acct := s.accountID(ctx)
	if rs := a.Session; rs != nil {
		return &CallerIdentity{AccountID: acct, RoleID: rs.Role.RoleID, IdentityType: "AssumedRoleUser",
			Arn: AssumedRoleARN(acct, rs.Role.RoleName, rs.Session.SessionName), PrincipalID: rs.Role.RoleID + ":" + rs.Session.SessionName}, nil
	}
	id := a.Principal.UserID()
	if id == "" {
		return nil, &Error{Kind: EINVALID, Code: "NotSupport.Account", Message: "Only RAM users and role sessions call the API."}
	}
	return &CallerIdentity{AccountID: acct, UserID: id, PrincipalID: id, IdentityType: "RAMUser", Arn: UserARN(acct, a.Name)}, nil
}

// RoleSessions lists a role's live sessions (authorised as ram:GetRole).
func (s *Service) RoleSessions(ctx context.Context, a Actor, roleName string) ([]store.RoleSession, error) {
	_, r, err := s.authorizeRole(ctx, a, "ram:GetRole", roleName)
	if err != nil {
		return nil, err
	}
	return s.st.RoleSessions(ctx, r.RoleID, s.Now())
}

// RevokeRoleSessions ends every session of a role at once (authorised as
// ram:UpdateRole: it changes who acts as the role). It returns how many
// sessions ended.
func (s *Service) RevokeRoleSessions(ctx context.Context, a Actor, roleName string) (int, error) {
	acct, target, err := s.authorizeRole(ctx, a, "ram:UpdateRole", roleName)
	if err != nil {
		return 0, s.refused(ctx, a, acct, "RevokeRoleSessions", roleName, err)
	}
	n := 0
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		r, err := s.sameRole(ctx, tx, target)
		if err != nil {
			return err
		}
		if n, err = tx.DeleteRoleSessions(ctx, r.RoleID); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "RevokeRoleSessions", r.RoleName, map[string]any{"RoleName": r.RoleName})
		ev.AdditionalEventData = map[string]any{"endedSessions": n}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return 0, s.refuse(ctx, a, acct, "RevokeRoleSessions", roleName, err)
	}
	return n, nil
}

// consoleSessionLength is how long a console role switch lasts (at most the
// role's MaxSessionDuration, which is never shorter).
const consoleSessionLength = time.Hour

// SwitchRole starts a console role session for a signed-in RAM user, with
// the same checks as AssumeRole: the user's policies must allow
// sts:AssumeRole on the role and its trust policy the user. It returns the
// session's temporary AccessKey id, which the console session keeps.
func (s *Service) SwitchRole(ctx context.Context, a Actor, roleName string) (string, error) {
	if a.Session != nil {
		return "", &Error{Kind: EINVALID, Code: "InvalidParameter.SwitchRole", Message: "Switch back before switching to another role."}
	}
	name := a.Name
	if len(name) < roleSessionNameMinimum {
		name += "-console"
	}
	r, err := s.assume(ctx, a, AssumeRoleInput{RoleArn: RoleARN(s.accountID(ctx), roleName), RoleSessionName: name,
		DurationSeconds: int(consoleSessionLength / time.Second)}, "SwitchRole")
	if err != nil {
		return "", err
	}
	return r.AccessKeyID, nil
}

// SwitchableRoles lists the roles a signed-in RAM user may switch to now,
// by name: those its own policies allow sts:AssumeRole on and whose trust
// policy allows it, as SwitchRole decides. Looking records nothing; the
// owner, and a user already acting as a role, get none.
func (s *Service) SwitchableRoles(ctx context.Context, a Actor) ([]string, error) {
	if a.Principal == "" || a.Principal == PrincipalRoot || a.Session != nil {
		return nil, nil
	}
	acct := s.accountID(ctx)
	var out []string
	after := ""
	for {
		roles, err := s.st.Roles(ctx, "", after, maxPageSize)
		if err != nil {
			return nil, err
		}
		for i := range roles {
			r := &roles[i]
			if !s.permits(ctx, a, "sts:AssumeRole", roleResource(acct, r)) {
				continue
			}
			if err := s.trustAllows(ctx, a, acct, r, ""); ErrorKind(err) == EFORBIDDEN {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, r.RoleName)
		}
		if len(roles) < maxPageSize {
			return out, nil
		}
		after = roles[len(roles)-1].RoleName
	}
}

// errSwitchEnded says a console role session is over.
var errSwitchEnded = &Error{Kind: EAUTH, Code: "InvalidSecurityToken.Expired", Message: "Your role session ended: you act as yourself again."}

// SwitchedSession returns the console role session keyID of the signed-in
// principal while it is live; an EAUTH error once it has ended (expired,
// revoked, the role deleted) or when it is not the principal's.
func (s *Service) SwitchedSession(ctx context.Context, principal Principal, keyID string) (*RoleSessionActor, error) {
	e, err := s.liveSession(ctx, keyID)
	if err != nil {
		if e, ok := AsError(err); ok && e.Code == errTokenExpired.Code {
			return nil, errSwitchEnded
		}
		return nil, err
	}
	rs := e.caller.Session
	if Principal(rs.Session.SourcePrincipal) != principal || !s.Now().Before(rs.Session.ExpiresAt) {
		return nil, errSwitchEnded
	}
	return rs, nil
}

// SwitchBack ends the console role session a signed-in user acts through
// and records it; the user acts as itself again.
func (s *Service) SwitchBack(ctx context.Context, a Actor) error {
	rs := a.Session
	if rs == nil {
		return nil
	}
	user := Actor{Principal: Principal(rs.Session.SourcePrincipal), Name: rs.Session.SourceName, RequestID: a.RequestID,
		SourceIP: a.SourceIP, UserAgent: a.UserAgent, SecureTransport: a.SecureTransport, MFAPresent: a.MFAPresent}
	acct := s.accountID(ctx)
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteRoleSession(ctx, rs.Session.AccessKeyID); err != nil {
			return err
		}
		ev := s.event(ctx, user, acct, EventConsoleOperation, "SwitchBack")
		ev.EventSource, ev.ServiceName = "sts", "Sts"
		ev.ResourceName = RoleARN(acct, rs.Role.RoleName)
		ev.AdditionalEventData = map[string]any{"sessionAccessKeyId": rs.Session.AccessKeyID}
		return tx.AppendEvent(ctx, ev)
	})
}

// maxChain bounds how many sessions deep a chain of role sessions is
// followed.
const maxChain = 8

// sessionSourceLive reports whether what a role session was started from
// still stands: its user, the AccessKey it signed AssumeRole with (still
// Active), for a chained session the session it came from, in turn, and for
// a federated session (AssumeRoleWithSAML, AssumeRoleWithOIDC) its identity
// provider.
// Deleting the user or its key, disabling the key, or ending the parent
// session thereby ends the session. Those changes also delete the sessions
// in their own transaction (DeleteUser, endKeySessions), so that
// re-activating a key revives nothing; AssumeRole asks this in the
// transaction that writes the session, and every load asks it again.
func (s *Service) sessionSourceLive(ctx context.Context, r store.Reads, sess *store.RoleSession, depth int) (bool, error) {
	if depth > maxChain {
		return false, nil
	}
	if _, _, ok := parseFederatedSource(sess.SourcePrincipal); ok {
		if _, err := s.federatedProvider(ctx, r, sess.SourcePrincipal); isNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return true, nil
	}
	if uid := Principal(sess.SourcePrincipal).UserID(); uid != "" {
		if _, err := r.UserByID(ctx, uid); isNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	switch key := sess.SourceKeyID; {
	case key == "":
		return true, nil
	case IsTemporaryKey(key):
		parent, err := r.RoleSession(ctx, key)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !s.Now().Before(parent.ExpiresAt) {
			return false, nil
		}
		return s.sessionSourceLive(ctx, r, parent, depth+1)
	default:
		k, err := r.AccessKey(ctx, key)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return k.Status == "Active", nil
	}
}
