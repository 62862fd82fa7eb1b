package ram

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"ramconsole/store"
)

// Principals as sessions and MFA devices name them.
const (
	PrincipalRoot = "root"
)

// Event types (SPEC §7).
const (
	EventConsoleSignin    = "ConsoleSignin"
	EventConsoleOperation = "ConsoleOperation"
	EventAPICall          = "ApiCall"
)

// Lockout (SPEC §2): failures within lockWindow lock the identity for lockFor.
const (
	lockWindow              = time.Hour
	lockFor                 = time.Hour
	defaultMaxLoginAttempts = 5
)

// SetupTokenFile is the setup token's file inside the data directory.
const SetupTokenFile = "setup-token"

// Actor is who asks for an operation and where the request came from: what
// every audit event records.
type Actor struct {
	Principal   string // PrincipalRoot, "user/<UserId>", or "" when not signed in
	Name        string // the owner's email or the user's name
	AccessKeyID string
	RequestID   string
	SourceIP    string
	UserAgent   string
	API         bool // the request came through the OpenAPI
}

// Service is the domain service.
type Service struct {
	st        *store.Store
	sealer    *store.Sealer
	dummyHash string

	setupMu        sync.Mutex
	setupTokenHash []byte
	setupTokenPath string
	setupDone      atomic.Bool
}

// New returns the domain service over a store.
func New(st *store.Store, sealer *store.Sealer) *Service {
	return &Service{st: st, sealer: sealer, dummyHash: HashPassword("ramconsole dummy password for unknown names")}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.st.Now() }

// newID returns a random decimal string of n digits without a leading zero.
func newID(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n-1)), nil)
	v, err := rand.Int(rand.Reader, new(big.Int).Mul(max, big.NewInt(9)))
	if err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	return v.Add(v, max).String()
}

// NewRequestID returns a request id (a UUID).
func NewRequestID() string { return uuid.NewString() }

// event starts an audit event for actor.
func (s *Service) event(ctx context.Context, a Actor, accountID, eventType, name string) *store.Event {
	ev := &store.Event{
		EventID:         uuid.NewString(),
		EventVersion:    "1",
		EventType:       eventType,
		EventSource:     "ram",
		EventName:       name,
		ServiceName:     "Ram",
		RequestID:       a.RequestID,
		SourceIPAddress: a.SourceIP,
		UserAgent:       a.UserAgent,
	}
	if eventType == EventConsoleSignin {
		ev.EventSource = "signin"
	}
	switch {
	case a.Principal == PrincipalRoot:
		ev.UserIdentity = store.Identity{Type: "root-account", PrincipalID: accountID, AccountID: accountID, UserName: "root"}
	case a.Principal != "":
		ev.UserIdentity = store.Identity{Type: "ram-user", PrincipalID: principalUserID(a.Principal), AccountID: accountID,
			UserName: a.Name, AccessKeyID: a.AccessKeyID}
	default:
		ev.UserIdentity = store.Identity{Type: "unknown", AccountID: accountID}
	}
	return ev
}

func principalUserID(p string) string {
	if len(p) > 5 && p[:5] == "user/" {
		return p[5:]
	}
	return ""
}

func failEvent(ev *store.Event, code, message string) *store.Event {
	ev.ErrorCode, ev.ErrorMessage, ev.IsError = code, message, true
	return ev
}

// record writes a standalone event (one that changes nothing else).
func (s *Service) record(ctx context.Context, ev *store.Event) error {
	return s.st.Update(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, ev) })
}

func (s *Service) accountID(ctx context.Context) string {
	if a, err := s.st.Account(ctx); err == nil {
		return a.AccountID
	}
	return ""
}

// NeedsSetup reports whether the account has not been created yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	if s.setupDone.Load() {
		return false, nil
	}
	_, err := s.st.Account(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	s.setupDone.Store(true)
	return false, nil
}

// IssueSetupToken creates the one-time setup token, writes it to
// <dataDir>/setup-token (0600) and returns it. It returns "" once set up.
func (s *Service) IssueSetupToken(ctx context.Context, dataDir string) (string, error) {
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	path := filepath.Join(dataDir, SetupTokenFile)
	_ = os.Remove(path)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("ram: write setup token: %w", err)
	}
	sum := sha256.Sum256([]byte(token))
	s.setupMu.Lock()
	s.setupTokenHash, s.setupTokenPath = sum[:], path
	s.setupMu.Unlock()
	return token, nil
}

// SetupInput is the first-run form.
type SetupInput struct {
	Token    string
	Email    string
	Password string
	Alias    string
}

// Setup creates the account and its owner with the one-time token. The owner
// is signed in at once and must bind an MFA device next.
func (s *Service) Setup(ctx context.Context, a Actor, in SetupInput) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if need, err := s.NeedsSetup(ctx); err != nil {
		return err
	} else if !need {
		return &Error{Kind: ENOTFOUND, Code: "EntityNotExist", Message: "Setup is already done."}
	}
	var fe fieldErrors
	sum := sha256.Sum256([]byte(in.Token))
	if s.setupTokenHash == nil || subtle.ConstantTimeCompare(sum[:], s.setupTokenHash) != 1 {
		fe.add("token", "InvalidParameter.Token", "The setup token is not valid. Use the one printed when the server started.")
	}
	email, msg := normalizeEmail(in.Email)
	if msg != "" {
		fe.add("email", "InvalidParameter.Email.Format", "%s", msg)
	}
	if in.Alias != "" {
		if msg := checkAlias(in.Alias); msg != "" {
			fe.add("alias", "InvalidParameter.AccountAlias.Format", "%s", msg)
		}
	}
	if msg := CheckPassword(in.Password, PasswordRules{MinLength: OwnerMinPasswordLength, Names: []string{emailLocal(email), in.Alias}}); msg != "" {
		fe.add("password", "InvalidParameter.Password.TooWeak", "%s", msg)
	}
	if err := fe.err(); err != nil {
		return err
	}
	acct := store.Account{AccountID: newID(16), Alias: in.Alias}
	owner := store.Owner{Email: email, PasswordHash: HashPassword(in.Password)}
	a.Principal, a.Name = PrincipalRoot, email
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, acct, owner); err != nil {
			return err
		}
		ev := s.event(ctx, a, acct.AccountID, EventConsoleOperation, "SetupAccount")
		ev.RequestParameters = map[string]any{"Email": email, "AccountAlias": in.Alias}
		return tx.AppendEvent(ctx, ev)
	})
	if errors.Is(err, store.ErrConflict) {
		return &Error{Kind: ENOTFOUND, Code: "EntityNotExist", Message: "Setup is already done."}
	}
	if err != nil {
		return err
	}
	s.setupDone.Store(true)
	s.setupTokenHash = nil
	if s.setupTokenPath != "" {
		_ = os.Remove(s.setupTokenPath)
	}
	return nil
}

// Step is what a signing-in session must do next.
type Step string

// Sign-in steps, in order.
const (
	StepMFA            Step = "mfa"
	StepBindMFA        Step = "bind_mfa"
	StepChangePassword Step = "change_password"
	StepDone           Step = "done"
)

// SignInResult is the outcome of the password step.
type SignInResult struct {
	Principal string
	Name      string
	Next      Step
}

// SignIn checks a logon name and password. Every refusal is the same
// errBadLogin; the audit event records the real cause. The password hash is
// computed even for unknown names, so timing does not tell them apart.
func (s *Service) SignIn(ctx context.Context, a Actor, username, password string) (*SignInResult, error) {
	acctID := s.accountID(ctx)
	owner, err := s.st.Owner(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if owner == nil || !equalFoldASCII(username, owner.Email) {
		VerifyPassword(s.dummyHash, password)
		ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false}
		if err := s.record(ctx, failEvent(ev, "InvalidCredentials", "unknown logon name")); err != nil {
			return nil, err
		}
		return nil, errBadLogin
	}
	a.Principal, a.Name = PrincipalRoot, owner.Email
	now := s.Now()
	ok := VerifyPassword(owner.PasswordHash, password)
	if owner.LockedUntil.After(now) {
		ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false}
		if err := s.record(ctx, failEvent(ev, "AccountLocked", "too many failed attempts; locked until "+owner.LockedUntil.Format(time.RFC3339))); err != nil {
			return nil, err
		}
		return nil, errBadLogin
	}
	if !ok {
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			if _, err := tx.RecordOwnerFailure(ctx, s.maxLoginAttempts(), lockWindow, lockFor); err != nil {
				return err
			}
			ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
			ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false}
			return tx.AppendEvent(ctx, failEvent(ev, "InvalidCredentials", "wrong password"))
		})
		if err != nil {
			return nil, err
		}
		return nil, errBadLogin
	}
	res := &SignInResult{Principal: PrincipalRoot, Name: owner.Email, Next: StepMFA}
	if _, err := s.st.MFADeviceFor(ctx, PrincipalRoot); errors.Is(err, store.ErrNotFound) {
		res.Next = StepBindMFA
	} else if err != nil {
		return nil, err
	}
	if res.Next == StepBindMFA {
		// No device to check: the password step completes the sign-in, and
		// the session may do nothing but bind one.
		err = s.st.Update(ctx, func(tx *store.Tx) error {
			if err := tx.ClearOwnerFailures(ctx, true); err != nil {
				return err
			}
			ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
			ev.AdditionalEventData = map[string]any{"loginAccount": owner.Email, "mfaChecked": false, "nextStep": string(StepBindMFA)}
			return tx.AppendEvent(ctx, ev)
		})
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (s *Service) maxLoginAttempts() int { return defaultMaxLoginAttempts }

// CheckMFA verifies the sign-in code of a session that passed the password
// step. Each time step is accepted once; a replay is refused, audited and
// counted as a failed attempt.
func (s *Service) CheckMFA(ctx context.Context, a Actor, code string) (Step, error) {
	acctID := s.accountID(ctx)
	owner, err := s.st.Owner(ctx)
	if err != nil {
		return "", err
	}
	if owner.LockedUntil.After(s.Now()) {
		ev := s.event(ctx, a, acctID, EventConsoleSignin, "CheckMFA")
		ev.AdditionalEventData = map[string]any{"mfaChecked": true}
		if err := s.record(ctx, failEvent(ev, "AccountLocked", "too many failed attempts")); err != nil {
			return "", err
		}
		return "", errBadMFA
	}
	dev, err := s.st.MFADeviceFor(ctx, a.Principal)
	if err != nil {
		return "", err
	}
	seed, err := s.sealer.Open(mfaSeedAD(dev.ID), dev.SeedEnc)
	if err != nil {
		return "", err
	}
	step, matched := matchStep(seed, code, s.Now())
	var refused error
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = map[string]any{"loginAccount": a.Name, "mfaChecked": true}
		if matched {
			fresh, err := tx.UseMFAStep(ctx, dev.ID, step)
			if err != nil {
				return err
			}
			if fresh {
				if err := tx.ClearOwnerFailures(ctx, true); err != nil {
					return err
				}
				return tx.AppendEvent(ctx, ev)
			}
		}
		refused = errBadMFA
		if _, err := tx.RecordOwnerFailure(ctx, s.maxLoginAttempts(), lockWindow, lockFor); err != nil {
			return err
		}
		ev.EventName = "CheckMFA"
		if matched {
			return tx.AppendEvent(ctx, failEvent(ev, "MFACodeReplayed", "the code of this time step was already used"))
		}
		return tx.AppendEvent(ctx, failEvent(ev, "InvalidMFACode", "wrong MFA code"))
	})
	if err != nil {
		return "", err
	}
	if refused != nil {
		return "", refused
	}
	return StepDone, nil
}

// errBadMFA is the answer to a wrong, replayed or locked-out MFA code.
var errBadMFA = &Error{Kind: EAUTH, Code: "CheckAuthenticationCodeFail", Message: "The code is not valid. Wait for a new code and try again."}

// ErrBadMFA reports whether err is the refusal of an MFA code.
func ErrBadMFA(err error) bool { return errors.Is(err, errBadMFA) }

func mfaSeedAD(deviceID int64) string       { return fmt.Sprintf("mfa_devices/%d/seed", deviceID) }
func pendingSeedAD(principal string) string { return "pending-mfa/" + principal }

// PendingMFA is a seed offered for binding, sealed so it can wait in a
// session without being readable there.
type PendingMFA struct {
	Sealed     []byte
	Enrollment MFAEnrollment
}

// NewPendingMFA creates a seed for principal to bind, labelled for its app.
func (s *Service) NewPendingMFA(ctx context.Context, principal, label string) (*PendingMFA, error) {
	seed := NewTOTPSeed()
	return s.pendingFromSeed(ctx, principal, label, seed)
}

// ReopenPendingMFA shows a sealed pending seed again (the binding form re-rendered).
func (s *Service) ReopenPendingMFA(ctx context.Context, principal, label string, sealed []byte) (*PendingMFA, error) {
	seed, err := s.sealer.Open(pendingSeedAD(principal), sealed)
	if err != nil {
		return nil, err
	}
	return s.pendingFromSeed(ctx, principal, label, seed)
}

func (s *Service) pendingFromSeed(ctx context.Context, principal, label string, seed []byte) (*PendingMFA, error) {
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

// BindMFA binds the pending seed to the actor with two consecutive codes.
// The other sessions of the actor end: their MFA device changed.
func (s *Service) BindMFA(ctx context.Context, a Actor, sealed []byte, code1, code2, keepSession string) error {
	acctID := s.accountID(ctx)
	var fe fieldErrors
	if !isSixDigits(code1) {
		fe.add("code1", "InvalidParameter.AuthenticationCode.Format", "Enter the 6-digit code your app shows.")
	}
	if !isSixDigits(code2) {
		fe.add("code2", "InvalidParameter.AuthenticationCode.Format", "Enter the next 6-digit code your app shows.")
	}
	if err := fe.err(); err != nil {
		return err
	}
	seed, err := s.sealer.Open(pendingSeedAD(a.Principal), sealed)
	if err != nil {
		return &Error{Kind: EINVALID, Code: "EntityNotExist.VirtualMFADevice", Message: "The binding expired; start again.",
			Fields: map[string]string{"code1": "The binding expired; scan the new code and try again."}}
	}
	last, ok := matchConsecutive(seed, code1, code2, s.Now())
	if !ok {
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		if err := s.record(ctx, failEvent(ev, "CheckAuthenticationCodeFail", "the two codes are not consecutive codes of this seed")); err != nil {
			return err
		}
		return &Error{Kind: EINVALID, Code: "CheckAuthenticationCodeFail", Message: "The codes do not match.",
			Fields: map[string]string{"code1": "These are not two consecutive codes of the scanned key. Enter the current code, wait for the next one, and enter it too."}}
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		id, err := tx.NextMFADeviceID(ctx)
		if err != nil {
			return err
		}
		serial := "acs:ram::" + acctID + ":mfa/" + serialName(a)
		dev := store.MFADevice{ID: id, Serial: serial, Principal: a.Principal, SeedEnc: s.sealer.Seal(mfaSeedAD(id), seed), LastStep: last}
		if err := tx.BindMFADevice(ctx, dev); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.User.MFADevice", Message: "An MFA device is already bound."}
			}
			return err
		}
		if err := tx.DeleteSessionsFor(ctx, a.Principal, keepSession); err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		ev.RequestParameters = map[string]any{"SerialNumber": serial}
		return tx.AppendEvent(ctx, ev)
	})
}

func serialName(a Actor) string {
	if a.Principal == PrincipalRoot {
		return "root"
	}
	return a.Name
}

// UnbindOwnMFA removes the actor's own device; it needs the password and a
// current code. Every other session of the actor ends.
func (s *Service) UnbindOwnMFA(ctx context.Context, a Actor, password, code, keepSession string) error {
	acctID := s.accountID(ctx)
	owner, err := s.st.Owner(ctx)
	if err != nil {
		return err
	}
	dev, err := s.st.MFADeviceFor(ctx, a.Principal)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: ENOTFOUND, Code: "EntityNotExist.User.MFADevice", Message: "No MFA device is bound."}
	}
	if err != nil {
		return err
	}
	seed, err := s.sealer.Open(mfaSeedAD(dev.ID), dev.SeedEnc)
	if err != nil {
		return err
	}
	var fe fieldErrors
	if !VerifyPassword(owner.PasswordHash, password) {
		fe.add("password", "InvalidParameter.Password", "The password is not correct.")
	}
	step, matched := matchStep(seed, code, s.Now())
	if !matched {
		fe.add("code", "CheckAuthenticationCodeFail", "The code is not valid.")
	}
	if verr := fe.err(); verr != nil {
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "UnbindMFADevice")
		if err := s.record(ctx, failEvent(ev, verr.(*Error).Code, "password or code refused")); err != nil {
			return err
		}
		return verr
	}
	replayed := false
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		fresh, err := tx.UseMFAStep(ctx, dev.ID, step)
		if err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "UnbindMFADevice")
		if !fresh {
			replayed = true
			return tx.AppendEvent(ctx, failEvent(ev, "MFACodeReplayed", "the code of this time step was already used"))
		}
		if err := tx.DeleteMFADeviceFor(ctx, a.Principal); err != nil {
			return err
		}
		if err := tx.DeleteSessionsFor(ctx, a.Principal, keepSession); err != nil {
			return err
		}
		ev.RequestParameters = map[string]any{"SerialNumber": dev.Serial}
		return tx.AppendEvent(ctx, ev)
	})
	if err == nil && replayed {
		return &Error{Kind: EINVALID, Code: "CheckAuthenticationCodeFail", Message: "Please correct the highlighted fields.",
			Fields: map[string]string{"code": "This code was already used. Wait for the next one."}}
	}
	return err
}

// ResetOwnerMFA removes the owner's device from the host (a lost phone). The
// owner must bind a new one at the next sign-in; every owner session ends.
func (s *Service) ResetOwnerMFA(ctx context.Context, a Actor) error {
	acctID := s.accountID(ctx)
	if acctID == "" {
		return &Error{Kind: ENOTFOUND, Code: "EntityNotExist", Message: "The account has not been set up."}
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		err := tx.DeleteMFADeviceFor(ctx, PrincipalRoot)
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Kind: ENOTFOUND, Code: "EntityNotExist.User.MFADevice", Message: "The owner has no MFA device."}
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteSessionsFor(ctx, PrincipalRoot, ""); err != nil {
			return err
		}
		ev := s.event(ctx, Actor{Principal: PrincipalRoot, RequestID: a.RequestID, SourceIP: a.SourceIP, UserAgent: a.UserAgent},
			acctID, EventConsoleOperation, "ResetOwnerMFA")
		ev.EventSource = "host"
		return tx.AppendEvent(ctx, ev)
	})
}

// SignOut records the end of a console session.
func (s *Service) SignOut(ctx context.Context, a Actor) error {
	ev := s.event(ctx, a, s.accountID(ctx), EventConsoleSignin, "ConsoleSignout")
	return s.record(ctx, ev)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
