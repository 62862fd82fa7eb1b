package ram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"ramconsole/store"
)

// Step is what a signing-in session must do next.
type Step string

// Sign-in steps, in order.
const (
	StepMFA            Step = "mfa"
	StepBindMFA        Step = "bind_mfa"
	StepChangePassword Step = "change_password"
	StepDone           Step = "done"
)

// mfaTicketLifetime is how long "remember this device" skips the MFA step.
const mfaTicketLifetime = 7 * 24 * time.Hour

// SignInResult is the outcome of the password step.
type SignInResult struct {
	Principal Principal
	Name      string
	Next      Step
	// MFAChecked is true when a remembered device stood in for the code.
	MFAChecked bool
}

// credential is an identity that signs in with a password: the owner or a
// RAM user with a login profile.
type credential struct {
	principal    Principal
	name         string // the owner's email or the user's name
	displayName  string
	owner        bool
	user         *store.User
	profile      *store.LoginProfile
	passwordHash string
	changedAt    time.Time
	lockedUntil  time.Time
}

func ownerCredential(o *store.Owner) *credential {
	return &credential{principal: PrincipalRoot, name: o.Email, displayName: o.Email, owner: true,
		passwordHash: o.PasswordHash, changedAt: o.PasswordChangedAt, lockedUntil: o.LockedUntil}
}

func userCredential(u *store.User, lp *store.LoginProfile) *credential {
	c := &credential{principal: UserPrincipal(u.UserID), name: u.UserName, displayName: u.DisplayName, user: u, profile: lp,
		lockedUntil: u.LockedUntil}
	if lp != nil {
		c.passwordHash, c.changedAt = lp.PasswordHash, lp.PasswordChangedAt
	}
	return c
}

// credentialOf loads the credential of a principal.
func (s *Service) credentialOf(ctx context.Context, r interface {
	Owner(context.Context) (*store.Owner, error)
	UserByID(context.Context, string) (*store.User, error)
	LoginProfile(context.Context, string) (*store.LoginProfile, error)
}, principal Principal) (*credential, error) {
	if principal == PrincipalRoot {
		o, err := r.Owner(ctx)
		if err != nil {
			return nil, err
		}
		return ownerCredential(o), nil
	}
	u, err := r.UserByID(ctx, principal.UserID())
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: EAUTH, Code: "EntityNotExist.User", Message: "The user no longer exists."}
	}
	if err != nil {
		return nil, err
	}
	lp, err := r.LoginProfile(ctx, u.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return userCredential(u, lp), nil
}

// resolveLogin finds who a logon name names: the owner's email, a RAM
// user's name@alias (the AccountId serves as alias too), or a bare name.
func (s *Service) resolveLogin(ctx context.Context, username string) (*credential, error) {
	o, err := s.st.Owner(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if o != nil && equalFoldASCII(username, o.Email) {
		return ownerCredential(o), nil
	}
	name := username
	if i := strings.LastIndexByte(username, '@'); i >= 0 {
		acct, err := s.st.Account(ctx)
		if err != nil {
			return nil, err
		}
		suffix := username[i+1:]
		if !equalFoldASCII(suffix, acct.AccountID) && !(acct.Alias != "" && equalFoldASCII(suffix, acct.Alias)) {
			return nil, nil
		}
		name = username[:i]
	}
	var fe fieldErrors
	if checkName(&fe, "name", "UserName", "user name", name); fe.err() != nil {
		return nil, nil
	}
	u, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lp, err := s.st.LoginProfile(ctx, u.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return userCredential(u, lp), nil
}

func (s *Service) recordFailure(ctx context.Context, tx *store.Tx, c *credential) error {
	max := s.passwordPolicy(ctx).MaxLoginAttemps
	var until time.Time
	var err error
	if c.owner {
		until, err = tx.RecordOwnerFailure(ctx, max, lockWindow, lockFor)
	} else {
		until, err = tx.RecordUserFailure(ctx, c.user.UserID, max, lockWindow, lockFor)
	}
	if err == nil {
		s.observeFailureCounted(until)
	}
	return err
}

// lockedError refuses a password or code check of a locked identity; the
// message stands next to field on a form.
func lockedError(field string, until time.Time) error {
	msg := "Too many failed attempts. Try again after " + until.UTC().Format("15:04 UTC") + "."
	return &Error{Kind: EFORBIDDEN, Code: "AccountLocked", Message: msg, Fields: map[string]string{field: msg}}
}

// refuseCounted records a wrong password or code outside sign-in (password
// change, unbinding one's own device) as sign-in failures are: counted
// toward lockout and audited as a failure, in one transaction.
func (s *Service) refuseCounted(ctx context.Context, a Actor, acct, eventName string, c *credential, err error) error {
	e, ok := AsError(err)
	if !ok {
		return err
	}
	ev := s.event(ctx, a, acct, s.opType(a), eventName)
	ev.ResourceName = c.name
	rerr := s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.recordFailure(ctx, tx, c); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, failEvent(ev, e.Code, e.Message))
	})
	if rerr != nil {
		return rerr
	}
	return err
}

func (s *Service) clearFailures(ctx context.Context, tx *store.Tx, c *credential, loggedIn bool) error {
	if c.owner {
		return tx.ClearOwnerFailures(ctx, loggedIn)
	}
	return tx.ClearUserFailures(ctx, c.user.UserID, loggedIn)
}

func (c *credential) actor(a Actor) Actor {
	a.Principal, a.Name = c.principal, c.name
	if c.owner {
		a.Name = c.name
	}
	return a
}

// errPasswordExpired answers a right password that expired under HardExpiry.
var errPasswordExpired = &Error{Kind: EAUTH, Code: "PasswordExpired", Message: "Your password has expired. Ask an administrator to reset it."}

// ErrPasswordExpired reports whether err is the hard-expiry refusal.
func ErrPasswordExpired(err error) bool { return errors.Is(err, errPasswordExpired) }

// SignIn checks a logon name and password. Unknown names, wrong passwords,
// locked identities, inactive or missing console access and sign-ins from
// outside the allowed networks all get the same errBadLogin; the audit event
// records the real cause. The password hash is computed in every case, so
// timing does not tell them apart. ticket is the "remember this device"
// cookie, if any.
func (s *Service) SignIn(ctx context.Context, a Actor, username, password, ticket string) (*SignInResult, error) {
	acctID := s.accountID(ctx)
	c, err := s.resolveLogin(ctx, username)
	if err != nil {
		return nil, err
	}
	// Step 0: while user SSO is on, only the owner signs in with a password.
	if c == nil || !c.owner {
		if on, err := s.UserSSOOn(ctx); err != nil {
			return nil, err
		} else if on {
			return nil, s.refusePasswordWhileSSO(ctx, a, c, username, password)
		}
	}
	refuse := func(ea Actor, code, msg string, count bool) (*SignInResult, error) {
		s.observeSignInFailure(code)
		ev := s.event(ctx, ea, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false}
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			if count {
				if err := s.recordFailure(ctx, tx, c); err != nil {
					return err
				}
			}
			return tx.AppendEvent(ctx, failEvent(ev, code, msg))
		})
		if err != nil {
			return nil, err
		}
		return nil, errBadLogin
	}
	if c == nil || c.passwordHash == "" {
		if _, err := s.verifyPassword(ctx, s.dummyHash, password); err != nil {
			return nil, err
		}
		if c == nil {
			return refuse(a, "InvalidCredentials", "unknown logon name", false)
		}
		return refuse(c.actor(a), "NoLoginProfile", "the user has no console access", false)
	}
	ok, err := s.verifyPassword(ctx, c.passwordHash, password)
	if err != nil {
		return nil, err
	}
	ea := c.actor(a)
	now := s.Now()
	// A security key is a factor whether or not keys can be used here
	// now: an identity whose only factor is a key is never let past the
	// password alone (nor into binding a new factor).
	hasDevice, err := s.st.HasSecondFactor(ctx, string(c.principal))
	if err != nil {
		return nil, err
	}
	// A wrong owner password does not count toward the lockout while a
	// device is bound: the password step is always followed by a code, so a
	// password alone gives nothing, and counting it would let anyone who
	// knows the email lock the owner out. Wrong codes count. Without a
	// device the password is the only factor and counts (docs/decisions.md).
	countWrongPassword := !c.owner || !hasDevice
	switch {
	case c.profile != nil && c.profile.Status != "Active":
		return refuse(ea, "LoginProfileInactive", "console access is deactivated", false)
	case c.lockedUntil.After(now):
		return refuse(ea, "AccountLocked", "too many failed attempts; locked until "+c.lockedUntil.Format(time.RFC3339), false)
	case !c.owner && !inNetworks(s.securityPreference(ctx).LoginNetworkMasks, a.SourceIP):
		return refuse(ea, "LoginNetworkDenied", "sign-in from "+a.SourceIP+" is outside the allowed networks", false)
	case !ok:
		return refuse(ea, "InvalidCredentials", "wrong password", countWrongPassword)
	}
	policy := s.passwordPolicy(ctx)
	if !c.owner && policy.HardExpiry && passwordExpired(policy, c.changedAt, now) {
		ev := s.event(ctx, ea, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false}
		if err := s.record(ctx, failEvent(ev, "PasswordExpired", "the password expired and HardExpiry is on")); err != nil {
			return nil, err
		}
		return nil, errPasswordExpired
	}
	res := &SignInResult{Principal: c.principal, Name: c.name}
	viaTicket := false
	switch {
	case hasDevice && ticket != "" && s.validTicket(ctx, ticket, c.principal):
		viaTicket, res.MFAChecked = true, true
		res.Next = s.stepAfterMFA(ctx, c)
	case hasDevice:
		res.Next = StepMFA
	case s.mustBindMFA(ctx, c):
		res.Next = StepBindMFA
	default:
		res.Next = s.stepAfterMFA(ctx, c)
	}
	if res.Next != StepMFA {
		// The last factor was checked: the sign-in is complete.
		err = s.st.Update(ctx, func(tx *store.Tx) error {
			if err := s.clearFailures(ctx, tx, c, true); err != nil {
				return err
			}
			ev := s.event(ctx, ea, acctID, EventConsoleSignin, EventConsoleSignin)
			ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": viaTicket, "nextStep": string(res.Next)}
			if viaTicket {
				ev.AdditionalEventData["mfaTicket"] = true
			}
			return tx.AppendEvent(ctx, ev)
		})
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// mustBindMFA reports whether an identity without a device must bind one
// before using the console.
func (s *Service) mustBindMFA(ctx context.Context, c *credential) bool {
	if c.owner {
		return true
	}
	return c.profile != nil && c.profile.MFABindRequired || s.securityPreference(ctx).EnforceMFAForLogin
}

// stepAfterMFA is the step after the MFA factor: a forced password change, or done.
func (s *Service) stepAfterMFA(ctx context.Context, c *credential) Step {
	if c.owner || c.profile == nil {
		return StepDone
	}
	if c.profile.PasswordResetRequired || passwordExpired(s.passwordPolicy(ctx), c.changedAt, s.Now()) {
		return StepChangePassword
	}
	return StepDone
}

func (s *Service) validTicket(ctx context.Context, ticket string, principal Principal) bool {
	if !s.securityPreference(ctx).EnableSaveMFATicket {
		return false
	}
	ok, err := s.st.ValidMFATicket(ctx, tokenHash(ticket), string(principal), s.Now())
	return err == nil && ok
}

// CheckMFA verifies the sign-in code of a session that passed the password
// step. Each time step is accepted once; a replay is refused, audited and
// counted as a failed attempt. With remember (and EnableSaveMFATicket on) it
// returns a ticket that skips this step on this device for 7 days.
func (s *Service) CheckMFA(ctx context.Context, a Actor, code string, remember bool) (Step, string, error) {
	acctID := s.accountID(ctx)
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return "", "", err
	}
	if c.lockedUntil.After(s.Now()) {
		return "", "", s.refuseLockedMFA(ctx, a, acctID, "totp", errBadMFA)
	}
	// An identity with security keys only has no code to match: a code
	// is a wrong one, counted as any.
	dev, err := s.st.MFADeviceFor(ctx, string(a.Principal))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", err
	}
	var step int64
	matched := false
	if dev != nil {
		seed, err := s.sealer.Open(mfaSeedAD(dev.ID), dev.SeedEnc)
		if err != nil {
			return "", "", err
		}
		step, matched = matchStep(seed, code, s.Now())
	}
	var refused error
	ticket := ""
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": a.Name, "mfaChecked": true, "mfaType": "totp"}
		if matched {
			fresh, err := tx.UseMFAStep(ctx, dev.ID, step)
			if err != nil {
				return err
			}
			if fresh {
				ticket, err = s.passMFA(ctx, tx, a, c, remember, ev)
				return err
			}
		}
		refused = errBadMFA
		if err := s.recordFailure(ctx, tx, c); err != nil {
			return err
		}
		ev.EventName = "CheckMFA"
		if matched {
			s.observeSignInFailure("MFACodeReplayed")
			return tx.AppendEvent(ctx, failEvent(ev, "MFACodeReplayed", "the code of this time step was already used"))
		}
		s.observeSignInFailure("InvalidMFACode")
		return tx.AppendEvent(ctx, failEvent(ev, "InvalidMFACode", "wrong MFA code"))
	})
	if err != nil {
		return "", "", err
	}
	if refused != nil {
		return "", "", refused
	}
	return s.stepAfterMFA(ctx, c), ticket, nil
}

// refuseLockedMFA records a second-factor check of a locked identity (of
// mfaType) and returns refusal: the answer is not even looked at.
func (s *Service) refuseLockedMFA(ctx context.Context, a Actor, acctID, mfaType string, refusal error) error {
	ev := s.event(ctx, a, acctID, EventConsoleSignin, "CheckMFA")
	ev.AdditionalEventData = map[string]any{"mfaChecked": true, "mfaType": mfaType}
	if err := s.record(ctx, failEvent(ev, "AccountLocked", "too many failed attempts")); err != nil {
		return err
	}
	return refusal
}

// passMFA completes a second-factor check that passed, in its transaction:
// the failures are cleared, a remembered-device ticket is issued when asked
// and allowed (ev says so), and the sign-in event ev is written.
func (s *Service) passMFA(ctx context.Context, tx *store.Tx, a Actor, c *credential, remember bool, ev *store.Event) (string, error) {
	if err := s.clearFailures(ctx, tx, c, true); err != nil {
		return "", err
	}
	ticket := ""
	if remember && s.securityPreference(ctx).EnableSaveMFATicket {
		ticket = newToken()
		if err := tx.CreateMFATicket(ctx, tokenHash(ticket), string(a.Principal), tx.Now().Add(mfaTicketLifetime)); err != nil {
			return "", err
		}
		ev.AdditionalEventData["mfaTicketIssued"] = true
	}
	return ticket, tx.AppendEvent(ctx, ev)
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// errBadMFA is the answer to a wrong, replayed or locked-out MFA code.
var errBadMFA = &Error{Kind: EAUTH, Code: "CheckAuthenticationCodeFail", Message: "The code is not valid. Wait for a new code and try again."}

// ErrBadMFA reports whether err is the refusal of an MFA code.
func ErrBadMFA(err error) bool { return errors.Is(err, errBadMFA) }

func mfaSeedAD(deviceID int64) string          { return fmt.Sprintf("mfa_devices/%d/seed", deviceID) }
func pendingSeedAD(principal Principal) string { return "pending-mfa/" + string(principal) }

// PendingMFA is a seed offered for binding, sealed so it can wait in a
// session without being readable there.
type PendingMFA struct {
	Sealed     []byte
	Enrollment MFAEnrollment
}

// NewPendingMFA creates a seed for principal to bind, labelled for its app.
func (s *Service) NewPendingMFA(ctx context.Context, principal Principal, label string) (*PendingMFA, error) {
	return s.pendingFromSeed(ctx, principal, label, NewTOTPSeed())
}

// ReopenPendingMFA shows a sealed pending seed again (the binding form re-rendered).
func (s *Service) ReopenPendingMFA(ctx context.Context, principal Principal, label string, sealed []byte) (*PendingMFA, error) {
	seed, err := s.sealer.Open(pendingSeedAD(principal), sealed)
	if err != nil {
		return nil, err
	}
	return s.pendingFromSeed(ctx, principal, label, seed)
}

func (s *Service) pendingFromSeed(ctx context.Context, principal Principal, label string, seed []byte) (*PendingMFA, error) {
	issuer := "ramconsole"
	if acct, err := s.st.Account(ctx); err == nil {
		issuer = "ramconsole " + displayAlias(acct)
	}
	en, err := enrollment(seed, issuer, label)
	if err != nil {
		return nil, err
	}
	return &PendingMFA{Sealed: s.sealer.Seal(pendingSeedAD(principal), seed), Enrollment: en}, nil
}

// mayManageOwnMFA reports whether the actor may bind or unbind its own
// device: the owner always; a RAM user when the security preference allows
// it or when binding is required of it.
func (s *Service) mayManageOwnMFA(ctx context.Context, c *credential) bool {
	return c.owner || s.securityPreference(ctx).AllowUserToManageMFADevices || s.mustBindMFA(ctx, c)
}

// ErrSelfServiceMFA refuses a RAM user's own MFA change the security
// preference does not allow.
var ErrSelfServiceMFA = errSelfServiceMFA

var errSelfServiceMFA = &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Your administrator does not let users manage their own MFA devices."}

// BindMFA binds the pending seed to the actor with two consecutive codes and
// returns the sign-in step that follows. The actor's other sessions end and
// its remembered devices are forgotten: its MFA device changed.
func (s *Service) BindMFA(ctx context.Context, a Actor, sealed []byte, code1, code2, keepSession string) (Step, error) {
	acctID := s.accountID(ctx)
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return "", err
	}
	if !s.mayManageOwnMFA(ctx, c) {
		return "", errSelfServiceMFA
	}
	var fe fieldErrors
	if !isSixDigits(code1) {
		fe.add("code1", "InvalidParameter.AuthenticationCode.Format", "Enter the 6-digit code your app shows.")
	}
	if !isSixDigits(code2) {
		fe.add("code2", "InvalidParameter.AuthenticationCode.Format", "Enter the next 6-digit code your app shows.")
	}
	if err := fe.err(); err != nil {
		return "", err
	}
	seed, err := s.sealer.Open(pendingSeedAD(a.Principal), sealed)
	if err != nil {
		return "", &Error{Kind: EINVALID, Code: "EntityNotExist.VirtualMFADevice", Message: "The binding expired; start again.",
			Fields: map[string]string{"code1": "The binding expired; scan the new code and try again."}}
	}
	last, ok := matchConsecutive(seed, code1, code2, s.Now())
	if !ok {
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		if err := s.record(ctx, failEvent(ev, "CheckAuthenticationCodeFail", "the two codes are not consecutive codes of this seed")); err != nil {
			return "", err
		}
		return "", &Error{Kind: EINVALID, Code: "CheckAuthenticationCodeFail", Message: "The codes do not match.",
			Fields: map[string]string{"code1": "These are not two consecutive codes of the key on this page. Enter the current code, wait for the next one, and enter it too. " +
				"If you scanned a QR code from an earlier visit to this page, that entry in your app holds an older key: delete it and scan the code shown here."}}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		id, err := tx.NextMFADeviceID(ctx)
		if err != nil {
			return err
		}
		serial := mfaARN(acctID, c.name)
		if c.owner {
			serial = ownerMFASerial(acctID)
		}
		// A serial in use (an unbound virtual device created through the
		// API, or a device an older version let take the owner's) stays
		// with its device, and the new one gets its own. A user named root
		// from before the name was reserved never takes the owner's.
		if taken, err := tx.SerialTaken(ctx, serial); err != nil {
			return err
		} else if taken || !c.owner && reservedUserName(c.name) {
			serial += "-" + randomAlnum(6)
		}
		dev := store.MFADevice{ID: id, Serial: serial, Principal: string(a.Principal), SeedEnc: s.sealer.Seal(mfaSeedAD(id), seed), LastStep: last}
		if err := tx.BindMFADevice(ctx, dev); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return conflict("EntityAlreadyExists.User.MFADevice", "An MFA device is already bound.")
			}
			return err
		}
		if err := s.endConsoleSessions(ctx, tx, a.Principal, keepSession, true); err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		ev.RequestParameters = map[string]any{"SerialNumber": serial, "UserName": c.name}
		ev.AdditionalEventData = map[string]any{"mfaType": "totp"}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return "", err
	}
	return s.stepAfterMFA(ctx, c), nil
}

// UnbindOwnMFA removes the actor's own device; it needs the password and a
// current code. Every other session of the actor ends.
func (s *Service) UnbindOwnMFA(ctx context.Context, a Actor, password, code, keepSession string) error {
	acctID := s.accountID(ctx)
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return err
	}
	if !c.owner && !s.securityPreference(ctx).AllowUserToManageMFADevices {
		return errSelfServiceMFA
	}
	dev, err := s.st.MFADeviceFor(ctx, string(a.Principal))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("EntityNotExist.User.MFADevice", "MFA device")
	}
	if err != nil {
		return err
	}
	seed, err := s.sealer.Open(mfaSeedAD(dev.ID), dev.SeedEnc)
	if err != nil {
		return err
	}
	if c.lockedUntil.After(s.Now()) {
		return s.refuse(ctx, a, acctID, "UnbindMFADevice", c.name, lockedError("password", c.lockedUntil))
	}
	var fe fieldErrors
	if ok, err := s.verifyPassword(ctx, c.passwordHash, password); err != nil {
		return err
	} else if !ok {
		fe.add("password", "InvalidParameter.Password", "The password is not correct.")
	}
	step, matched := matchStep(seed, code, s.Now())
	if !matched {
		fe.add("code", "CheckAuthenticationCodeFail", "The code is not valid.")
	}
	if verr := fe.err(); verr != nil {
		return s.refuseCounted(ctx, a, acctID, "UnbindMFADevice", c, verr)
	}
	replayed := false
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		fresh, err := tx.UseMFAStep(ctx, dev.ID, step)
		if err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "UnbindMFADevice")
		if !fresh {
			// A replayed code is a failed attempt (SPEC §2).
			replayed = true
			if err := s.recordFailure(ctx, tx, c); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, failEvent(ev, "MFACodeReplayed", "the code of this time step was already used"))
		}
		if err := s.clearFailures(ctx, tx, c, false); err != nil {
			return err
		}
		if err := tx.DeleteMFADeviceFor(ctx, string(a.Principal)); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, a.Principal, keepSession, true); err != nil {
			return err
		}
		ev.RequestParameters = map[string]any{"SerialNumber": dev.Serial, "UserName": c.name}
		ev.AdditionalEventData = map[string]any{"mfaType": "totp"}
		return tx.AppendEvent(ctx, ev)
	})
	if err == nil && replayed {
		return &Error{Kind: EINVALID, Code: "CheckAuthenticationCodeFail", Message: "Please correct the highlighted fields.",
			Fields: map[string]string{"code": "This code was already used. Wait for the next one."}}
	}
	return err
}

// UnbindMFADevice removes a RAM user's device (an administrator's action);
// the user's sessions end and remembered devices are forgotten. In the
// console it removes the user's security keys too (the OpenAPI knows TOTP
// devices only).
func (s *Service) UnbindMFADevice(ctx context.Context, a Actor, name string) (*store.MFADevice, error) {
	acct, target, err := s.authorizeUser(ctx, a, "ram:UnbindMFADevice", name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UnbindMFADevice", name, err)
	}
	var dev *store.MFADevice
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		var keys []store.SecurityKey
		if !a.API {
			if keys, err = tx.DeleteSecurityKeysOf(ctx, u.Principal()); err != nil {
				return err
			}
		}
		dev, err = tx.MFADeviceFor(ctx, u.Principal())
		if errors.Is(err, store.ErrNotFound) && len(keys) == 0 {
			return notFound("EntityNotExist.User.MFADevice", "MFA device")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		params := map[string]any{"UserName": u.UserName}
		data := map[string]any{}
		if dev != nil {
			// Through the API, as in RAM, the device stays, unbound, until
			// DeleteVirtualMFADevice; the console removes it with the binding.
			if a.API {
				err = tx.UnbindMFADeviceFor(ctx, u.Principal())
			} else {
				err = tx.DeleteMFADeviceFor(ctx, u.Principal())
			}
			if err != nil {
				return err
			}
			params["SerialNumber"], data["mfaType"] = dev.Serial, "totp"
		}
		if len(keys) > 0 {
			data["securityKeys"] = removedKeysData(keys)
			if dev == nil {
				data["mfaType"] = "webauthn"
			}
		}
		if err := s.endSessions(ctx, tx, UserPrincipal(u.UserID), "", true); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "UnbindMFADevice", u.UserName, params)
		ev.AdditionalEventData = data
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UnbindMFADevice", name, err)
	}
	return dev, nil
}

// ChangePasswordInput is the password change form.
type ChangePasswordInput struct {
	Current string
	New     string
	Confirm string
}

// ChangePassword changes the actor's own password. A RAM user needs
// AllowUserToChangePassword unless the change is forced (reset required or
// expired). The actor's other sessions end; the caller rotates its own.
func (s *Service) ChangePassword(ctx context.Context, a Actor, in ChangePasswordInput, keepSession string) error {
	acct := s.accountID(ctx)
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return err
	}
	if !c.owner && c.profile == nil {
		return notFound("EntityNotExist.User.LoginProfile", "login profile")
	}
	forced := !c.owner && s.stepAfterMFA(ctx, c) == StepChangePassword
	if !c.owner && !forced && !s.securityPreference(ctx).AllowUserToChangePassword {
		return s.refuse(ctx, a, acct, "ChangePassword", c.name, &Error{Kind: EFORBIDDEN, Code: "NoPermission",
			Message: "Your administrator does not let users change their own passwords."})
	}
	if c.lockedUntil.After(s.Now()) {
		return s.refuse(ctx, a, acct, "ChangePassword", c.name, lockedError("current_password", c.lockedUntil))
	}
	var fe fieldErrors
	currentOK, err := s.verifyPassword(ctx, c.passwordHash, in.Current)
	if err != nil {
		return err
	}
	if !currentOK {
		fe.add("current_password", "InvalidParameter.OldPassword.Incorrect", "The current password is not correct.")
	}
	if in.New != in.Confirm {
		fe.add("confirm_password", "InvalidParameter.NewPassword.Mismatch", "The two new passwords differ.")
	}
	var msg string
	if c.owner {
		msg = CheckPassword(in.New, PasswordRules{MinLength: max(OwnerMinPasswordLength, s.passwordPolicy(ctx).MinimumPasswordLength), Names: []string{emailLocal(c.name)}})
	} else {
		msg = s.checkNewPassword(ctx, in.New, c.name, c.displayName)
	}
	if msg != "" {
		fe.add("new_password", "InvalidParameter.NewPassword.TooWeak", "%s", msg)
	} else if in.New == in.Current {
		fe.add("new_password", "InvalidParameter.NewPassword.ReusePrevention", "Choose a password different from the current one.")
	} else if !c.owner && currentOK {
		if keep := s.passwordPolicy(ctx).PasswordReusePrevention; keep > 0 {
			hist, err := s.st.PasswordHistory(ctx, c.user.UserID, keep)
			if err != nil {
				return err
			}
			for _, h := range hist {
				if reused, err := s.verifyPassword(ctx, h, in.New); err != nil {
					return err
				} else if reused {
					fe.add("new_password", "InvalidParameter.NewPassword.ReusePrevention", "Do not reuse one of your last %d passwords.", keep)
					break
				}
			}
		}
	}
	if err := fe.err(); err != nil {
		if !currentOK {
			return s.refuseCounted(ctx, a, acct, "ChangePassword", c, err)
		}
		return s.refuse(ctx, a, acct, "ChangePassword", c.name, err)
	}
	hash, err := s.hashPassword(ctx, in.New)
	if err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.clearFailures(ctx, tx, c, false); err != nil {
			return err
		}
		if c.owner {
			if err := tx.SetOwnerPassword(ctx, hash); err != nil {
				return err
			}
		} else {
			// Read again in the transaction: a profile removed or
			// deactivated since the checks above stays so (the write must
			// not re-create console access from a stale copy).
			lp, err := tx.LoginProfile(ctx, c.user.UserID)
			if errors.Is(err, store.ErrNotFound) {
				return notFound("EntityNotExist.User.LoginProfile", "login profile")
			}
			if err != nil {
				return err
			}
			if lp.Status != "Active" {
				return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Console access was deactivated."}
			}
			lp.PasswordHash, lp.PasswordResetRequired, lp.PasswordChangedAt = hash, false, tx.Now()
			if err := tx.PutLoginProfile(ctx, lp); err != nil {
				return err
			}
			if keep := s.passwordPolicy(ctx).PasswordReusePrevention; keep > 0 {
				if err := tx.AddPasswordHistory(ctx, c.user.UserID, hash, keep); err != nil {
					return err
				}
			}
		}
		if err := s.endSessions(ctx, tx, a.Principal, keepSession, true); err != nil {
			return err
		}
		ev := s.event(ctx, a, acct, s.opType(a), "ChangePassword")
		ev.ResourceName = c.name
		if forced {
			ev.AdditionalEventData = map[string]any{"forced": true}
		}
		return tx.AppendEvent(ctx, ev)
	})
}
