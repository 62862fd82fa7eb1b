package ram

import (
	"context"
	"errors"
	"strings"
	"time"

	"ramconsole/ram/samlsp"
	"ramconsole/store"
)

// User-based SSO sign-in (SPEC §18.3–§18.5).

// LoginTypeSAML marks a console session signed in through user SSO (the
// session value SessionLoginType and the audit's loginType).
const (
	LoginTypeSAML    = "saml"
	SessionLoginType = "login_type"
)

// samlRequestLife is how long an SP-initiated sign-in's AuthnRequest stays
// outstanding.
const samlRequestLife = 10 * time.Minute

// The texts of a refused SSO sign-in (SPEC §18.3): one for any fault of the
// response, one for every identity that may not sign in.
const (
	SSOResponseRefused = "The sign-in response from your identity provider could not be accepted"
	SSOUserRefused     = "This identity provider user cannot sign in to this account"
	SSOOff             = "Single sign-on is off"
)

// SSORefusal is a refused SSO sign-in; Message is what the person sees,
// the audit event says why.
type SSORefusal struct{ Code, Message string }

func (e *SSORefusal) Error() string { return e.Code + ": " + e.Message }

// SAMLServiceProvider is one of ramconsole's SAML service providers.
type SAMLServiceProvider struct {
	EntityID string // also its metadata URL
	ACS      string // the Assertion Consumer Service URL (HTTP-POST)
}

// UserSAMLSP is the service provider of user-based SSO (SPEC §18.1).
func (s *Service) UserSAMLSP() SAMLServiceProvider {
	base := s.Issuer()
	return SAMLServiceProvider{EntityID: base + "/saml/metadata.xml", ACS: base + "/saml/acs"}
}

// RoleSAMLSP is the service provider of role-based SSO (SPEC §18.1).
func (s *Service) RoleSAMLSP() SAMLServiceProvider {
	return SAMLServiceProvider{EntityID: s.RoleSSOEntityID(), ACS: s.RoleSSOACSURL()}
}

// UserSSOOn reports whether user-based SSO is on: password sign-in is then
// off for RAM users and /login offers "Sign in with SSO".
func (s *Service) UserSSOOn(ctx context.Context) (bool, error) {
	set, err := s.st.UserSSOSettings(ctx)
	if err != nil {
		return false, err
	}
	return set.SsoEnabled, nil
}

// userSSOIdP returns the setting and its identity provider while SSO is on;
// an SSORefusal when it is off or its metadata is unusable.
func (s *Service) userSSOIdP(ctx context.Context) (*store.UserSSOSettings, *samlsp.IDPMetadata, error) {
	set, err := s.st.UserSSOSettings(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !set.SsoEnabled {
		return set, nil, &SSORefusal{Code: "SSODisabled", Message: SSOOff}
	}
	doc, ok := decodeMetadata(set.MetadataDocument) // as SetUserSsoSettings read it
	if !ok {
		return set, nil, &SSORefusal{Code: string(samlsp.ResponseInvalid), Message: SSOResponseRefused}
	}
	idp, err := samlsp.ParseIDPMetadata([]byte(doc))
	if err != nil {
		return set, nil, &SSORefusal{Code: string(samlsp.ResponseInvalid), Message: SSOResponseRefused}
	}
	return set, idp, nil
}

// maxSAMLNext bounds the next path a pending SSO sign-in keeps.
const maxSAMLNext = 2048

// StartSAMLSignIn begins an SP-initiated sign-in: the AuthnRequest's ID and
// next (a local path, checked by the caller) are kept under the SHA-256 of a
// fresh RelayState for 10 minutes, and the answer is the IdP's URL to send
// the browser to.
func (s *Service) StartSAMLSignIn(ctx context.Context, next string) (string, error) {
	_, idp, err := s.userSSOIdP(ctx)
	if err != nil {
		return "", err
	}
	if len(next) > maxSAMLNext {
		next = "" // a local path this long is no page of the console's; it is not kept
	}
	sp := s.UserSAMLSP()
	relay := newToken()
	req, err := samlsp.NewAuthnRequest(idp, sp.EntityID, sp.ACS, relay, s.Now())
	if err != nil {
		return "", err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		return tx.PutSAMLRequest(ctx, tokenHash(relay), req.ID, next, tx.Now().Add(samlRequestLife))
	})
	if err != nil {
		return "", err
	}
	return req.URL, nil
}

// SAMLSignInResult is a user SSO sign-in that passed: the caller starts a
// console session for Principal, ending no later than SessionNotOnOrAfter
// (zero: no cap), with acs:MFAPresent = MFAPresent, and sends the browser
// to Next (the SP-initiated sign-in's next, or an unsolicited response's
// RelayState; the caller keeps it only when it is a local path).
type SAMLSignInResult struct {
	Principal           Principal
	Name                string
	MFAPresent          bool
	Next                string
	SessionNotOnOrAfter time.Time
}

// SAMLSignIn checks a response posted to the user ACS (SPEC §18.3 checks 1–6,
// in order) and records the sign-in. A refusal is an *SSORefusal, audited
// with its cause; nothing is counted toward the lockout.
func (s *Service) SAMLSignIn(ctx context.Context, a Actor, samlResponse, relayState string) (*SAMLSignInResult, error) {
	acctID := s.accountID(ctx)
	data := map[string]any{"loginType": LoginTypeSAML, "mfaChecked": false}
	refuse := func(ea Actor, r *SSORefusal, reason string) (*SAMLSignInResult, error) {
		s.observeSignInFailure(r.Code)
		ev := s.event(ctx, ea, acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = data
		// A reason may quote the unverified document: cut, as the STS path does.
		if err := s.record(ctx, failEvent(ev, r.Code, truncate(reason, 512))); err != nil {
			return nil, err
		}
		return nil, r
	}
	set, idp, err := s.userSSOIdP(ctx)
	var refusal *SSORefusal
	if errors.As(err, &refusal) {
		reason := "user SSO is off"
		if refusal.Code != "SSODisabled" {
			reason = "the saved IdP metadata is unusable"
		}
		return refuse(a, refusal, reason)
	}
	if err != nil {
		return nil, err
	}
	data["idpEntityId"] = idp.EntityID
	sp := s.UserSAMLSP()
	as, err := samlsp.ParseResponse(samlResponse, samlsp.Expect{IDP: idp, Audience: sp.EntityID, Recipient: sp.ACS, Now: s.Now()})
	var perr *samlsp.Error
	if errors.As(err, &perr) {
		return refuse(a, &SSORefusal{Code: string(perr.Code), Message: SSOResponseRefused}, perr.Reason)
	}
	if err != nil {
		return nil, err
	}
	if !as.SessionNotOnOrAfter.IsZero() && !as.SessionNotOnOrAfter.After(s.Now()) {
		return refuse(a, &SSORefusal{Code: string(samlsp.AssertionExpired), Message: SSOResponseRefused}, "the AuthnStatement's SessionNotOnOrAfter passed")
	}
	data["nameId"], data["loginAccount"] = truncate(as.NameID, 128), truncate(as.NameID, 128)
	data["authnContextClassRef"] = truncate(as.AuthnContextClassRef, 256)
	badResponse := func(reason string) (*SAMLSignInResult, error) {
		return refuse(a, &SSORefusal{Code: string(samlsp.ResponseInvalid), Message: SSOResponseRefused}, reason)
	}
	// 4. InResponseTo: an outstanding request of this RelayState, taken.
	res := &SAMLSignInResult{Next: relayState, SessionNotOnOrAfter: as.SessionNotOnOrAfter}
	data["initiatedBy"] = "idp"
	if as.InResponseTo != "" {
		data["initiatedBy"] = "sp"
		if relayState == "" || len(relayState) > 256 {
			return badResponse("InResponseTo without the RelayState of an outstanding request")
		}
		var requestID string
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			var err error
			requestID, res.Next, err = tx.TakeSAMLRequest(ctx, tokenHash(relayState))
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return badResponse("InResponseTo names no outstanding request of this RelayState (unknown, used or expired)")
		case err != nil:
			return nil, err
		case requestID != as.InResponseTo:
			return badResponse("InResponseTo is not the request of this RelayState")
		}
	}
	// 5. Replay: the assertion is accepted once, on any node.
	var first bool
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		first, err = tx.ConsumeSAMLAssertion(ctx, as.Issuer, as.ID, as.NotOnOrAfter)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !first {
		return refuse(a, &SSORefusal{Code: "SAMLAssertionReplayed", Message: SSOResponseRefused}, "assertion "+truncate(as.ID, 128)+" was accepted before")
	}
	// 6. The NameID names a RAM user who may sign in to the console.
	c, reason, err := s.samlUser(ctx, set, as.NameID, a.SourceIP)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		ea := a
		if c != nil {
			ea = c.actor(a)
		}
		return refuse(ea, &SSORefusal{Code: "SAMLUserNotFound", Message: SSOUserRefused}, reason)
	}
	res.Principal, res.Name, res.MFAPresent = c.principal, c.name, samlsp.MFAPresent(as)
	data["mfaChecked"] = res.MFAPresent
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.clearFailures(ctx, tx, c, true); err != nil {
			return err
		}
		ev := s.event(ctx, c.actor(a), acctID, EventConsoleSignin, EventConsoleSignin)
		ev.AdditionalEventData = data
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// samlUser maps a NameID to the RAM user it names (SPEC §18.4). When no
// user may sign in, reason says why (for the audit) and the credential is
// the user's when one was found.
func (s *Service) samlUser(ctx context.Context, set *store.UserSSOSettings, nameID, sourceIP string) (*credential, string, error) {
	o, err := s.st.Owner(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	if o != nil && equalFoldASCII(nameID, o.Email) {
		return nil, "the NameID is the owner's address: the owner never signs in through SSO", nil
	}
	name := nameID
	at := strings.LastIndexByte(nameID, '@')
	switch {
	case !set.SsoLoginWithDomain && at >= 0:
		return nil, "unknown NameID: it has a domain and SsoLoginWithDomain is false", nil
	case set.SsoLoginWithDomain && at < 0:
		return nil, "unknown NameID: it has no domain and SsoLoginWithDomain is true", nil
	case set.SsoLoginWithDomain:
		acct, err := s.st.Account(ctx)
		if err != nil {
			return nil, "", err
		}
		suffix := nameID[at+1:]
		if !equalFoldASCII(suffix, acct.AccountID) && !(acct.Alias != "" && equalFoldASCII(suffix, acct.Alias)) &&
			!(set.AuxiliaryDomain != "" && equalFoldASCII(suffix, set.AuxiliaryDomain)) {
			return nil, "unknown NameID: its domain is not the account alias, AccountId or auxiliary domain", nil
		}
		name = nameID[:at]
	}
	var fe fieldErrors
	if checkName(&fe, "name", "UserName", "user name", name); fe.err() != nil {
		return nil, "unknown NameID: not a user name", nil
	}
	u, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "unknown NameID: no such user", nil
	}
	if err != nil {
		return nil, "", err
	}
	lp, err := s.st.LoginProfile(ctx, u.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	c := userCredential(u, lp)
	switch {
	case lp == nil || lp.Status != "Active":
		return c, "the user has no console access (no Active login profile)", nil
	case c.lockedUntil.After(s.Now()):
		return c, "the user is locked until " + c.lockedUntil.UTC().Format(time.RFC3339), nil
	case !inNetworks(s.securityPreference(ctx).LoginNetworkMasks, sourceIP):
		return c, "sign-in from " + sourceIP + " is outside the allowed networks", nil
	}
	return c, "", nil
}

// errPasswordSignInOff refuses a RAM user's password sign-in while user SSO
// is on (SPEC §18.5).
var errPasswordSignInOff = &Error{Kind: EAUTH, Code: "PasswordLoginDisabled", Message: "Single sign-on is on for this account: sign in with SSO"}

// ErrPasswordSignInOff reports whether err refused a password sign-in
// because user SSO is on.
func ErrPasswordSignInOff(err error) bool { return errors.Is(err, errPasswordSignInOff) }

// refusePasswordWhileSSO answers a password sign-in of anyone but the owner
// while user SSO is on: the password hash is computed as for any sign-in,
// nothing is counted, the refusal is audited.
func (s *Service) refusePasswordWhileSSO(ctx context.Context, a Actor, c *credential, username, password string) error {
	if _, err := s.verifyPassword(ctx, s.dummyHash, password); err != nil {
		return err
	}
	s.observeSignInFailure("PasswordLoginDisabled")
	if c != nil {
		a = c.actor(a)
	}
	ev := s.event(ctx, a, s.accountID(ctx), EventConsoleSignin, EventConsoleSignin)
	ev.AdditionalEventData = map[string]any{"loginAccount": truncate(username, 64), "mfaChecked": false, "loginType": "password"}
	if err := s.record(ctx, failEvent(ev, "PasswordLoginDisabled", "password sign-in is off while user SSO is on")); err != nil {
		return err
	}
	return errPasswordSignInOff
}

// endSSOSessions ends every console session signed in through user SSO
// (user SSO turned off, or its metadata changed: §18.11), in tx.
func (s *Service) endSSOSessions(ctx context.Context, tx *store.Tx) error {
	return tx.DeleteSessionsWithValue(ctx, "v_"+SessionLoginType, LoginTypeSAML)
}
