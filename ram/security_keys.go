package ram

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"ramconsole/store"
)

// Security keys (WebAuthn credentials) are a second factor beside the TOTP
// device (SPEC §15): the password is still asked first. The relying party
// (origin and RP ID) comes from the configured public URL only, never from a
// request.

// Limits and timings of security keys.
const (
	MaxSecurityKeys  = 8
	keyCeremonyLife  = 5 * time.Minute
	maxKeyAnswerSize = 16 << 10 // a browser's answer is a few hundred bytes
	maxKeyNameLength = 64
)

// SecurityKeySupport says whether security keys can be used, and why not.
type SecurityKeySupport struct {
	Available bool
	Reason    string // why not, for the person reading the page
	Origin    string // scheme://host[:port]
	RPID      string // the host name
}

// relyingParty is the configured WebAuthn relying party.
type relyingParty struct {
	SecurityKeySupport
	wa *webauthn.WebAuthn
}

var noPublicURL = &relyingParty{SecurityKeySupport: SecurityKeySupport{Reason: "set --public-url to the https address of the console"}}

// ParsePublicURL checks a --public-url value: an absolute http or https URL
// with a host and no path (but "/"), query or fragment.
func ParsePublicURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("--public-url %q is not a URL: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("--public-url %q must start with https:// (or http:// for localhost)", raw)
	case u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "":
		return nil, fmt.Errorf("--public-url %q must name a host, as in https://ram.example.com", raw)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("--public-url %q must be only scheme://host[:port], without a path, query or fragment", raw)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || strings.TrimLeft(p, "0123456789") != "" {
			return nil, fmt.Errorf("--public-url %q has a malformed port", raw)
		}
	}
	return u, nil
}

// SetPublicURL configures the relying party from the address people reach
// the console at ("" = none: security keys are unavailable). A malformed
// value is an error naming --public-url.
func (s *Service) SetPublicURL(raw string) error {
	if raw == "" {
		s.rp.Store(noPublicURL)
		return nil
	}
	u, err := ParsePublicURL(raw)
	if err != nil {
		return err
	}
	host := strings.ToLower(u.Hostname())
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	rp := &relyingParty{SecurityKeySupport: SecurityKeySupport{Origin: origin, RPID: host}}
	switch {
	case net.ParseIP(host) != nil:
		rp.Reason = "security keys need a host name, not an IP address"
	case u.Scheme != "https" && host != "localhost" && !strings.HasSuffix(host, ".localhost"):
		rp.Reason = "set --public-url to the https address of the console"
	default:
		wa, err := webauthn.New(&webauthn.Config{
			RPID: host, RPDisplayName: "ramconsole", RPOrigins: []string{origin},
			AttestationPreference: protocol.PreferNoAttestation,
			AuthenticatorSelection: protocol.AuthenticatorSelection{
				ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationDiscouraged,
			},
			// Expiry is checked on the service's clock (keyCeremonyLife).
			Timeouts: webauthn.TimeoutsConfig{
				Login:        webauthn.TimeoutConfig{Timeout: keyCeremonyLife, TimeoutUVD: keyCeremonyLife},
				Registration: webauthn.TimeoutConfig{Timeout: keyCeremonyLife, TimeoutUVD: keyCeremonyLife},
			},
		})
		if err != nil {
			return fmt.Errorf("--public-url %q: %v", raw, err)
		}
		rp.Available, rp.wa = true, wa
	}
	s.rp.Store(rp)
	return nil
}

func (s *Service) relyingParty() *relyingParty {
	if rp := s.rp.Load(); rp != nil {
		return rp
	}
	return noPublicURL
}

// SecurityKeySupport says whether security keys can be used here.
func (s *Service) SecurityKeySupport() SecurityKeySupport { return s.relyingParty().SecurityKeySupport }

// errKeysUnavailable answers a security-key operation when keys are off.
var errKeysUnavailable = &Error{Kind: ENOTFOUND, Code: "SecurityKeysUnavailable", Message: "Security keys are not available on this console."}

// KeyCeremony names what a challenge is for.
type KeyCeremony string

// The ceremonies: adding a key, signing in, confirming a deletion.
const (
	KeyRegister KeyCeremony = "register"
	KeyLogin    KeyCeremony = "login"
	KeyConfirm  KeyCeremony = "confirm"
)

// keyChallenge is a ceremony's state, kept in the server-side session
// between the page and its POST: bound to the ceremony and the identity,
// used once, and good for keyCeremonyLife.
type keyChallenge struct {
	Ceremony  KeyCeremony          `json:"c"`
	Principal Principal            `json:"p"`
	Issued    time.Time            `json:"t"`
	Session   webauthn.SessionData `json:"s"`
}

// keyHolder is an identity as go-webauthn sees it.
type keyHolder struct {
	handle        []byte
	name, display string
	keys          []store.SecurityKey
}

func (h *keyHolder) WebAuthnID() []byte          { return h.handle }
func (h *keyHolder) WebAuthnName() string        { return h.name }
func (h *keyHolder) WebAuthnDisplayName() string { return h.display }
func (h *keyHolder) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(h.keys))
	for i, k := range h.keys {
		var transports []protocol.AuthenticatorTransport
		for _, t := range k.Transports {
			transports = append(transports, protocol.AuthenticatorTransport(t))
		}
		out[i] = webauthn.Credential{ID: k.CredentialID, PublicKey: k.PublicKey, AttestationFormat: k.AttestationFormat,
			Transport: transports, Flags: webauthn.CredentialFlags{UserPresent: true, BackupEligible: k.BackupEligible, BackupState: k.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}}
	}
	return out
}

func (h *keyHolder) key(credentialID []byte) *store.SecurityKey {
	for i := range h.keys {
		if bytes.Equal(h.keys[i].CredentialID, credentialID) {
			return &h.keys[i]
		}
	}
	return nil
}

// holderOf loads an identity's keys and WebAuthn user handle; create gives
// it a handle when it has none yet.
func (s *Service) holderOf(ctx context.Context, c *credential, create bool) (*keyHolder, error) {
	keys, err := s.st.SecurityKeysOf(ctx, string(c.principal))
	if err != nil {
		return nil, err
	}
	h := &keyHolder{name: c.name, display: c.displayName, keys: keys}
	if !c.owner {
		if acct, err := s.st.Account(ctx); err == nil {
			h.name = c.name + "@" + displayAlias(acct)
		}
	}
	h.handle, err = s.st.WebAuthnHandle(ctx, string(c.principal))
	if errors.Is(err, store.ErrNotFound) && create {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			panic("ram: no randomness: " + err.Error())
		}
		err = s.st.Update(ctx, func(tx *store.Tx) error {
			h.handle, err = tx.EnsureWebAuthnHandle(ctx, string(c.principal), fresh)
			return err
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		return h, nil
	}
	return h, err
}

// SecurityKeys lists an identity's keys.
func (s *Service) SecurityKeys(ctx context.Context, principal Principal) ([]store.SecurityKey, error) {
	return s.st.SecurityKeysOf(ctx, string(principal))
}

// BeginKeyCeremony starts a ceremony for principal: the options for the
// page's data-options attribute, and the state to keep in the session
// until the POST. Signing in and confirming list exactly the identity's
// keys; with none, options is "".
func (s *Service) BeginKeyCeremony(ctx context.Context, principal Principal, ceremony KeyCeremony) (options, state string, err error) {
	rp := s.relyingParty()
	if !rp.Available {
		return "", "", errKeysUnavailable
	}
	c, err := s.credentialOf(ctx, s.st, principal)
	if err != nil {
		return "", "", err
	}
	h, err := s.holderOf(ctx, c, ceremony == KeyRegister)
	if err != nil {
		return "", "", err
	}
	var opts any
	var sd *webauthn.SessionData
	if ceremony == KeyRegister {
		var exclude []protocol.CredentialDescriptor
		for _, cr := range h.WebAuthnCredentials() {
			exclude = append(exclude, cr.Descriptor())
		}
		opts, sd, err = rp.wa.BeginRegistration(h, webauthn.WithExclusions(exclude))
	} else {
		if len(h.keys) == 0 || len(h.handle) == 0 {
			return "", "", nil
		}
		opts, sd, err = rp.wa.BeginLogin(h, webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	}
	if err != nil {
		return "", "", err
	}
	o, err := json.Marshal(opts)
	if err != nil {
		return "", "", err
	}
	st, err := json.Marshal(keyChallenge{Ceremony: ceremony, Principal: principal, Issued: s.Now(), Session: *sd})
	if err != nil {
		return "", "", err
	}
	return string(o), string(st), nil
}

// keyFailure is why a key's answer was refused, for the audit log only:
// the person always reads the same message.
type keyFailure struct {
	code, message string
}

func (f *keyFailure) Error() string { return f.code + ": " + f.message }

func failKey(code, format string, args ...any) *keyFailure {
	return &keyFailure{code: code, message: fmt.Sprintf(format, args...)}
}

// libraryFailure turns a go-webauthn error into a keyFailure with its short
// details (never its developer information, which may echo the challenge).
func libraryFailure(code string, err error) *keyFailure {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return failKey(code, "%s", pe.Details)
	}
	return failKey(code, "the answer did not verify")
}

// openChallenge checks a ceremony's state from the session.
func (s *Service) openChallenge(state string, ceremony KeyCeremony, principal Principal) (*keyChallenge, *keyFailure) {
	var ch keyChallenge
	if state == "" || json.Unmarshal([]byte(state), &ch) != nil {
		return nil, failKey("SecurityKeyChallengeMissing", "no challenge was issued to this session, or it was used already")
	}
	if ch.Ceremony != ceremony || ch.Principal != principal {
		return nil, failKey("SecurityKeyChallengeMismatch", "the challenge was issued for another ceremony or identity")
	}
	if s.Now().Sub(ch.Issued) > keyCeremonyLife || s.Now().Before(ch.Issued.Add(-time.Minute)) {
		return nil, failKey("SecurityKeyChallengeExpired", "the challenge expired")
	}
	return &ch, nil
}

// keyAnswer is a verified assertion: which key answered, and its new count.
type keyAnswer struct {
	key         *store.SecurityKey
	count       uint32
	backupState bool
}

// verifyAssertion checks a key's answer to a sign-in or confirmation
// challenge of identity c.
func (s *Service) verifyAssertion(ctx context.Context, c *credential, ceremony KeyCeremony, state, answer string) (*keyAnswer, *keyFailure, error) {
	rp := s.relyingParty()
	if !rp.Available {
		return nil, failKey("SecurityKeysUnavailable", "security keys are not available (no usable --public-url)"), nil
	}
	ch, f := s.openChallenge(state, ceremony, c.principal)
	if f != nil {
		return nil, f, nil
	}
	if answer == "" || len(answer) > maxKeyAnswerSize {
		return nil, failKey("SecurityKeyAnswerMalformed", "the answer is empty or too long (%d bytes)", len(answer)), nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(answer))
	if err != nil {
		return nil, libraryFailure("SecurityKeyAnswerMalformed", err), nil
	}
	h, err := s.holderOf(ctx, c, false)
	if err != nil {
		return nil, nil, err
	}
	k := h.key(parsed.RawID)
	if k == nil {
		return nil, failKey("SecurityKeyUnknown", "the credential is not one of this identity's keys"), nil
	}
	cred, err := rp.wa.ValidateLogin(h, ch.Session, parsed)
	if err != nil {
		// The key is named in the audit event: its answer did not verify.
		return &keyAnswer{key: k}, libraryFailure("SecurityKeyNotVerified", err), nil
	}
	if cred.Authenticator.CloneWarning {
		return &keyAnswer{key: k}, failKey("SecurityKeySignCountNotIncreasing", "the sign count %d did not increase past %d",
			parsed.Response.AuthenticatorData.Counter, k.SignCount), nil
	}
	return &keyAnswer{key: k, count: cred.Authenticator.SignCount, backupState: cred.Flags.BackupState}, nil, nil
}

// useKey records a verified answer: false when another answer with the
// same count won the race (one answer, one sign-in).
func useKey(ctx context.Context, tx *store.Tx, ans *keyAnswer) (bool, error) {
	return tx.UseSecurityKey(ctx, ans.key.Principal, ans.key.ID, ans.count, ans.backupState)
}

// keyEventData is what the audit log says of a key: never the attestation,
// assertion or challenge.
func keyEventData(k *store.SecurityKey) map[string]any {
	d := map[string]any{"mfaType": "webauthn"}
	if k != nil {
		d["credentialId"] = base64.RawURLEncoding.EncodeToString(k.CredentialID)
		d["aaguid"] = aaguidText(k.AAGUID)
		d["name"] = k.Name
	}
	return d
}

func aaguidText(b []byte) string {
	if id, err := uuid.FromBytes(b); err == nil {
		return id.String()
	}
	return uuid.Nil.String()
}

// errBadKey is the one answer to a security key that did not verify,
// whatever the cause.
var errBadKey = &Error{Kind: EAUTH, Code: "CheckAuthenticationCodeFail", Message: "The security key could not be verified"}

// ErrBadKey reports whether err is the refusal of a key's answer at sign-in.
func ErrBadKey(err error) bool { return errors.Is(err, errBadKey) }

// CheckSecurityKey verifies the sign-in answer of a key for a session that
// passed the password step, exactly as CheckMFA verifies a code: a failure
// of any kind is audited and counts toward the lockout; success continues
// the sign-in (and, with remember, issues a remembered-device ticket).
func (s *Service) CheckSecurityKey(ctx context.Context, a Actor, state, answer string, remember bool) (Step, string, error) {
	acctID := s.accountID(ctx)
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return "", "", err
	}
	if c.lockedUntil.After(s.Now()) {
		return "", "", s.refuseLockedMFA(ctx, a, acctID, "webauthn", errBadKey)
	}
	ans, fail, err := s.verifyAssertion(ctx, c, KeyLogin, state, answer)
	if err != nil {
		return "", "", err
	}
	ticket := ""
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		ev := s.event(ctx, a, acctID, EventConsoleSignin, EventConsoleSignin)
		if fail == nil {
			fresh, err := useKey(ctx, tx, ans)
			if err != nil {
				return err
			}
			if !fresh {
				fail = failKey("SecurityKeySignCountNotIncreasing", "another answer with sign count %d was used first", ans.count)
			}
		}
		var k *store.SecurityKey
		if ans != nil {
			k = ans.key
		}
		ev.AdditionalEventData = keyEventData(k)
		ev.AdditionalEventData["loginAccount"], ev.AdditionalEventData["mfaChecked"] = a.Name, true
		if fail != nil {
			if err := s.recordFailure(ctx, tx, c); err != nil {
				return err
			}
			ev.EventName = "CheckMFA"
			s.observeSignInFailure(fail.code)
			return tx.AppendEvent(ctx, failEvent(ev, fail.code, fail.message))
		}
		var err error
		ticket, err = s.passMFA(ctx, tx, a, c, remember, ev)
		return err
	})
	if err != nil {
		return "", "", err
	}
	if fail != nil {
		return "", "", errBadKey
	}
	return s.stepAfterMFA(ctx, c), ticket, nil
}

// KeyRegistration is the form that adds a security key.
type KeyRegistration struct {
	Name     string
	Answer   string // the browser's credential JSON
	Password string // asked when the identity has a factor and the session checked none lately
	State    string // the ceremony's state from the session
	// Recent is true when the session passed a factor check in the last
	// five minutes: no password is asked then.
	Recent bool
}

// PasswordNeededForKey reports whether adding a key asks for the password:
// the identity has a factor already and the session checked none lately.
func (s *Service) PasswordNeededForKey(ctx context.Context, principal Principal, recent bool) (bool, error) {
	if recent {
		return false, nil
	}
	return s.st.HasSecondFactor(ctx, string(principal))
}

// checkKeyName validates a key's name.
func checkKeyName(fe *fieldErrors, name string) {
	checkText(fe, "name", "Name", name, 1, maxKeyNameLength)
}

// RegisterSecurityKey verifies a new key's answer against the session's
// challenge and stores it. The actor's other sessions end and its
// remembered devices are forgotten (its MFA devices changed). It returns
// the sign-in step that follows (a forced binding may lead on).
func (s *Service) RegisterSecurityKey(ctx context.Context, a Actor, in KeyRegistration, keepSession string) (Step, error) {
	acctID := s.accountID(ctx)
	rp := s.relyingParty()
	if !rp.Available {
		return "", errKeysUnavailable
	}
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return "", err
	}
	if !s.mayManageOwnMFA(ctx, c) {
		return "", s.refuse(ctx, a, acctID, "BindMFADevice", c.name, errSelfServiceMFA)
	}
	refuse := func(err error) (Step, error) { return "", s.refuse(ctx, a, acctID, "BindMFADevice", c.name, err) }
	var fe fieldErrors
	in.Name = strings.TrimSpace(in.Name)
	checkKeyName(&fe, in.Name)
	h, err := s.holderOf(ctx, c, false)
	if err != nil {
		return "", err
	}
	if fe.err() == nil {
		for _, k := range h.keys {
			if strings.EqualFold(k.Name, in.Name) {
				fe.add("name", "EntityAlreadyExists.MFADevice", "You already have a security key named %s.", k.Name)
			}
		}
	}
	if len(h.keys) >= MaxSecurityKeys {
		return refuse(limit("LimitExceeded.MFADevice", fmt.Sprintf("You have %d security keys, the most an identity may have. Delete one to add another.", MaxSecurityKeys)))
	}
	needPassword, err := s.PasswordNeededForKey(ctx, a.Principal, in.Recent)
	if err != nil {
		return "", err
	}
	if needPassword {
		if c.lockedUntil.After(s.Now()) {
			return refuse(lockedError("password", c.lockedUntil))
		}
		ok, err := s.verifyPassword(ctx, c.passwordHash, in.Password)
		if err != nil {
			return "", err
		}
		if !ok {
			fe.add("password", "InvalidParameter.Password", "The password is not correct.")
			return "", s.refuseCounted(ctx, a, acctID, "BindMFADevice", c, fe.err())
		}
	}
	if err := fe.err(); err != nil {
		return refuse(err)
	}
	// The answer, against the challenge this session was given.
	badAnswer := func(f *keyFailure) (Step, error) {
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		ev.ResourceName, ev.AdditionalEventData = c.name, map[string]any{"mfaType": "webauthn", "name": in.Name}
		if err := s.record(ctx, failEvent(ev, f.code, f.message)); err != nil {
			return "", err
		}
		return "", &Error{Kind: EINVALID, Code: "InvalidParameter.SecurityKey",
			Message: "The security key could not be registered. Try again, with the key you want to add."}
	}
	ch, f := s.openChallenge(in.State, KeyRegister, a.Principal)
	if f != nil {
		return badAnswer(f)
	}
	if in.Answer == "" || len(in.Answer) > maxKeyAnswerSize {
		return badAnswer(failKey("SecurityKeyAnswerMalformed", "the answer is empty or too long (%d bytes)", len(in.Answer)))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(in.Answer))
	if err != nil {
		return badAnswer(libraryFailure("SecurityKeyAnswerMalformed", err))
	}
	if h.handle, err = s.st.WebAuthnHandle(ctx, string(c.principal)); err != nil {
		return badAnswer(failKey("SecurityKeyChallengeMismatch", "the identity has no WebAuthn user handle"))
	}
	cred, err := rp.wa.CreateCredential(h, ch.Session, parsed)
	if err != nil {
		return badAnswer(libraryFailure("SecurityKeyNotVerified", err))
	}
	key := store.SecurityKey{ID: randomKeyID(), Principal: string(a.Principal), Name: in.Name, CredentialID: cred.ID,
		PublicKey: cred.PublicKey, AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, AttestationFormat: cred.AttestationFormat}
	for _, t := range cred.Transport {
		key.Transports = append(key.Transports, string(t))
	}
	if len(key.AAGUID) == 0 {
		key.AAGUID = make([]byte, 16)
	}
	if taken, err := s.st.CredentialTaken(ctx, cred.ID); err != nil {
		return "", err
	} else if taken {
		return badAnswer(failKey("SecurityKeyAlreadyRegistered", "the credential is registered already"))
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		switch err := tx.AddSecurityKey(ctx, key, MaxSecurityKeys); {
		case errors.Is(err, store.ErrLimitExceeded):
			return limit("LimitExceeded.MFADevice", fmt.Sprintf("You have %d security keys, the most an identity may have.", MaxSecurityKeys))
		case errors.Is(err, store.ErrConflict):
			return &Error{Kind: EINVALID, Code: "EntityAlreadyExists.MFADevice", Message: "Please correct the highlighted fields.",
				Fields: map[string]string{"name": "That name or key is registered already."}}
		case err != nil:
			return err
		}
		if err := s.endConsoleSessions(ctx, tx, a.Principal, keepSession, true); err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "BindMFADevice")
		ev.ResourceName, ev.RequestParameters = c.name, map[string]any{"UserName": c.name}
		ev.AdditionalEventData = keyEventData(&key)
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return refuse(err)
	}
	return s.stepAfterMFA(ctx, c), nil
}

// randomKeyID is a key's id in routes: 16 random bytes, base64url.
func randomKeyID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// KeyDeletion confirms the deletion of one's own key: the password and a
// current factor, a TOTP code or a key's answer to the confirm challenge.
type KeyDeletion struct {
	ID       string
	Password string
	Code     string
	Answer   string
	State    string
}

var errSecurityKeyNotFound = notFound("EntityNotExist.MFADevice", "security key")

// SecurityKeyOf returns one of the principal's own keys (ENOTFOUND for
// anyone else's).
func (s *Service) SecurityKeyOf(ctx context.Context, principal Principal, id string) (*store.SecurityKey, error) {
	k, err := s.st.SecurityKey(ctx, string(principal), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSecurityKeyNotFound
	}
	return k, err
}

// DeleteOwnSecurityKey removes one of the actor's keys. It needs the
// password and a current factor; a failure of either is counted toward
// the lockout. The last factor of an identity that must have MFA stays.
// Every other session of the actor ends.
func (s *Service) DeleteOwnSecurityKey(ctx context.Context, a Actor, in KeyDeletion, keepSession string) error {
	acctID := s.accountID(ctx)
	if !s.relyingParty().Available {
		return errKeysUnavailable
	}
	c, err := s.credentialOf(ctx, s.st, a.Principal)
	if err != nil {
		return err
	}
	if !c.owner && !s.securityPreference(ctx).AllowUserToManageMFADevices {
		return s.refuse(ctx, a, acctID, "UnbindMFADevice", c.name, errSelfServiceMFA)
	}
	key, err := s.SecurityKeyOf(ctx, a.Principal, in.ID)
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "UnbindMFADevice")
		ev.ResourceName, ev.AdditionalEventData = c.name, keyEventData(key)
		if e, ok := AsError(err); ok {
			if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
				return rerr
			}
		}
		return err
	}
	if c.lockedUntil.After(s.Now()) {
		return refuse(lockedError("password", c.lockedUntil))
	}
	dev, err := s.st.MFADeviceFor(ctx, string(a.Principal))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	keys, err := s.st.SecurityKeysOf(ctx, string(a.Principal))
	if err != nil {
		return err
	}
	if dev == nil && len(keys) == 1 && (c.owner || s.mustBindMFA(ctx, c)) {
		return refuse(&Error{Kind: EINVALID, Code: "MFADeviceRequired",
			Message: "This is your last MFA device and your identity must use MFA: add another security key or bind a TOTP device first."})
	}
	var fe fieldErrors
	if ok, err := s.verifyPassword(ctx, c.passwordHash, in.Password); err != nil {
		return err
	} else if !ok {
		fe.add("password", "InvalidParameter.Password", "The password is not correct.")
	}
	// The factor: a TOTP code when one is given, else a key's answer.
	var step int64
	var ans *keyAnswer
	var fail *keyFailure
	code := strings.TrimSpace(in.Code)
	switch {
	case code != "" && dev != nil:
		seed, err := s.sealer.Open(mfaSeedAD(dev.ID), dev.SeedEnc)
		if err != nil {
			return err
		}
		var matched bool
		if step, matched = matchStep(seed, code, s.Now()); !matched {
			fe.add("code", "CheckAuthenticationCodeFail", "The code is not valid.")
		}
	case in.Answer != "":
		if ans, fail, err = s.verifyAssertion(ctx, c, KeyConfirm, in.State, in.Answer); err != nil {
			return err
		}
		if fail != nil {
			fe.add("credential", fail.code, "The security key could not be verified.")
		}
	case dev != nil:
		fe.add("code", "CheckAuthenticationCodeFail", "Enter the code your app shows, or confirm with a security key.")
	default:
		fe.add("credential", "CheckAuthenticationCodeFail", "Confirm with one of your security keys.")
	}
	if verr := fe.err(); verr != nil {
		return s.refuseCounted(ctx, a, acctID, "UnbindMFADevice", c, verr)
	}
	replayed := false
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		fresh := true
		var err error
		if ans != nil {
			fresh, err = useKey(ctx, tx, ans)
		} else {
			fresh, err = tx.UseMFAStep(ctx, dev.ID, step)
		}
		if err != nil {
			return err
		}
		ev := s.event(ctx, a, acctID, EventConsoleOperation, "UnbindMFADevice")
		ev.ResourceName, ev.AdditionalEventData = c.name, keyEventData(key)
		if !fresh {
			replayed = true
			if err := s.recordFailure(ctx, tx, c); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, failEvent(ev, "MFACodeReplayed", "the factor's answer was used already"))
		}
		if err := s.clearFailures(ctx, tx, c, false); err != nil {
			return err
		}
		if err := tx.DeleteSecurityKey(ctx, string(a.Principal), key.ID); errors.Is(err, store.ErrNotFound) {
			return errSecurityKeyNotFound
		} else if err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, a.Principal, keepSession, true); err != nil {
			return err
		}
		ev.RequestParameters = map[string]any{"UserName": c.name}
		return tx.AppendEvent(ctx, ev)
	})
	if err == nil && replayed {
		return &Error{Kind: EINVALID, Code: "CheckAuthenticationCodeFail", Message: "Please correct the highlighted fields.",
			Fields: map[string]string{"code": "This code or answer was used already. Try again."}}
	}
	return err
}

// DeleteUserSecurityKey removes one key of a RAM user (an administrator's
// action, ram:UnbindMFADevice on the user); the user's sessions end.
func (s *Service) DeleteUserSecurityKey(ctx context.Context, a Actor, name, id string) (*store.SecurityKey, error) {
	acct, target, err := s.authorizeUser(ctx, a, "ram:UnbindMFADevice", name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UnbindMFADevice", name, err)
	}
	var key *store.SecurityKey
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		key, err = tx.SecurityKey(ctx, u.Principal(), id)
		if errors.Is(err, store.ErrNotFound) {
			return errSecurityKeyNotFound
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteSecurityKey(ctx, u.Principal(), id); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, UserPrincipal(u.UserID), "", true); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "UnbindMFADevice", u.UserName, map[string]any{"UserName": u.UserName})
		ev.AdditionalEventData = keyEventData(key)
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UnbindMFADevice", name, err)
	}
	return key, nil
}

// removedKeysData is what the audit log says of keys removed together.
func removedKeysData(keys []store.SecurityKey) []map[string]any {
	out := make([]map[string]any, len(keys))
	for i := range keys {
		out[i] = keyEventData(&keys[i])
	}
	return out
}

// HasTOTP reports whether principal has a TOTP device bound.
func (s *Service) HasTOTP(ctx context.Context, principal Principal) (bool, error) {
	_, err := s.st.MFADeviceFor(ctx, string(principal))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// MayManageOwnKeys reports whether principal may add and delete its own
// security keys (as its own TOTP device): the owner always, a RAM user when
// the security preference allows it or binding a factor is required of it.
func (s *Service) MayManageOwnKeys(ctx context.Context, principal Principal) (bool, error) {
	c, err := s.credentialOf(ctx, s.st, principal)
	if err != nil {
		return false, err
	}
	return s.mayManageOwnMFA(ctx, c), nil
}
