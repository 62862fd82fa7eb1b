package ram

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"ramconsole/policy"
	"ramconsole/ram/oidcfed"
	"ramconsole/ram/samlsp"
	"ramconsole/store"
)

// Role-based SSO through STS (SPEC §18.7–§18.10): AssumeRoleWithSAML and
// AssumeRoleWithOIDC turn a SAML assertion or an OIDC token of a registered
// identity provider into a role session, with no caller identity of
// ramconsole: the assertion or token is the credential. The role's trust
// policy decides with principal = the provider's ARN; the session is
// AssumeRole's (startSession), its source the provider (FederatedSource)
// and the subject, so deleting the provider ends it.

// Federated STS limits (SPEC §18.10).
const (
	maxSAMLAssertionLength = 100000
	maxOIDCTokenLength     = 20000
	minFederatedCredential = 4
	// FederatedCallsPerSecond is how many AssumeRoleWithSAML and
	// AssumeRoleWithOIDC calls the account takes in one second.
	FederatedCallsPerSecond = 100
)

// The events, the provider kinds of FederatedSource and the SAML attributes
// of role-based SSO.
const (
	EventAssumeRoleWithSAML = "AssumeRoleWithSAML"
	EventAssumeRoleWithOIDC = "AssumeRoleWithOIDC"

	kindSAMLProvider = "saml-provider"
	kindOIDCProvider = "oidc-provider"

	SAMLRoleAttribute            = "https://www.aliyun.com/SAML-Role/Attributes/Role"
	SAMLRoleSessionNameAttribute = "https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"
	SAMLSessionDurationAttribute = "https://www.aliyun.com/SAML-Role/Attributes/SessionDuration"
)

// The condition keys of a federated trust decision (SPEC §18.7).
const (
	KeySAMLRecipient = "saml:recipient"
	KeySAMLSub       = "saml:sub"
	KeySAMLIss       = "saml:iss"
	KeySAMLAud       = "saml:aud"
	KeyOIDCIss       = "oidc:iss"
	KeyOIDCAud       = "oidc:aud"
	KeyOIDCSub       = "oidc:sub"
)

// AssumeRoleWithSAMLInput is an AssumeRoleWithSAML request.
type AssumeRoleWithSAMLInput struct {
	SAMLProviderArn string
	RoleArn         string
	SAMLAssertion   string // Base64 of the whole SAML Response
	DurationSeconds int    // 0 = one hour
	Policy          string
}

// AssumeRoleWithOIDCInput is an AssumeRoleWithOIDC request.
type AssumeRoleWithOIDCInput struct {
	OIDCProviderArn string
	RoleArn         string
	OIDCToken       string
	RoleSessionName string
	DurationSeconds int
	Policy          string
}

// SAMLAssumedRole is AssumeRoleWithSAML's answer.
type SAMLAssumedRole struct {
	AssumedRole
	SubjectType, Subject, Recipient, Issuer string
}

// OIDCAssumedRole is AssumeRoleWithOIDC's answer.
type OIDCAssumedRole struct {
	AssumedRole
	Subject, Issuer            string
	ClientIDs                  []string // the token's audiences
	ExpirationTime, IssuedTime time.Time
}

// RoleSSOEntityID is the role SSO service provider's entityID, the audience
// an assertion for AssumeRoleWithSAML must name (SPEC §18.1).
func (s *Service) RoleSSOEntityID() string { return s.Issuer() + "/saml-role/metadata.xml" }

// RoleSSOACSURL is the role SSO Assertion Consumer Service, the Recipient
// an assertion for AssumeRoleWithSAML must name (saml:recipient).
func (s *Service) RoleSSOACSURL() string { return s.Issuer() + "/saml-role/sso" }

var (
	errFederatedThrottled = &Error{Kind: EINVALID, Code: "Throttling.User", Message: "Request was denied due to user flow control."}
	errNoOIDCProvider     = &Error{Kind: EAUTH, Code: "AuthenticationFail.NoPermission", Message: "No such OIDC Provider registered."}
	errNoSAMLProvider     = notFound("EntityNotExist.SAMLProvider", "SAML provider")
)

func samlInvalid(msg string) *Error {
	return &Error{Kind: EAUTH, Code: "AuthenticationFail.SAMLAssertion.Invalid", Message: msg}
}

func missingFederated(name string) *Error {
	return &Error{Kind: EINVALID, Code: "MissingParameter." + name, Message: "The input parameter " + name + " that is mandatory for processing this request is not supplied."}
}

// federatedRate counts the account's federated calls of the current second
// on this node.
type federatedRate struct {
	mu  sync.Mutex
	sec int64
	n   int
}

var federatedRates sync.Map // *Service → *federatedRate

// admitFederated reports whether one more federated call fits in this
// second's FederatedCallsPerSecond.
func (s *Service) admitFederated() bool {
	v, _ := federatedRates.LoadOrStore(s, &federatedRate{})
	r := v.(*federatedRate)
	now := s.Now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sec != now {
		r.sec, r.n = now, 0
	}
	r.n++
	return r.n <= FederatedCallsPerSecond
}

// federated is one AssumeRoleWithSAML or AssumeRoleWithOIDC call: what it
// asks, and once its assertion or token is verified, whose it is.
type federated struct {
	a                          Actor
	acct                       string
	action                     string // the event name
	kind                       string // kindSAMLProvider | kindOIDCProvider
	providerParam, providerArn string // "SAMLProviderArn" or "OIDCProviderArn", and its value
	in                         AssumeRoleInput
	// Known once verified.
	subject, issuer string
	audiences       []string
	idKey, id       string // "assertionId" or "jti", and its value
	reason          string // why an assertion was refused, for the audit log only
	// console marks the console's role SSO (POST /saml-role/sso), whose
	// session ends by notAfter (zero: no bound).
	console  bool
	notAfter time.Time
}

// shape fills an event of the call: who (the identity provider's user),
// which role, the parameters (never the assertion, token or policy) and
// what the verified credential said.
func (f *federated) shape(ev *store.Event) {
	ev.EventSource, ev.ServiceName = "sts", "Sts"
	typ := "saml-user"
	if f.kind == kindOIDCProvider {
		typ = "oidc-user"
	}
	ev.UserIdentity = store.Identity{Type: typ, AccountID: f.acct, PrincipalID: truncate(f.providerArn, 256)}
	if f.subject != "" {
		ev.UserIdentity.PrincipalID += ":" + truncate(f.subject, 256)
		ev.UserIdentity.UserName = truncate(f.subject, 256)
	}
	ev.ResourceName = truncate(f.in.RoleArn, 256)
	ev.RequestParameters = map[string]any{"RoleArn": truncate(f.in.RoleArn, 1024), f.providerParam: truncate(f.providerArn, 1024),
		"RoleSessionName": truncate(f.in.RoleSessionName, 128), "DurationSeconds": f.in.DurationSeconds}
	if f.reason != "" || f.console || f.issuer != "" {
		ev.AdditionalEventData = map[string]any{}
	}
	if f.reason != "" {
		ev.AdditionalEventData["reason"] = truncate(f.reason, 512)
	}
	if f.console {
		ev.AdditionalEventData["loginType"], ev.AdditionalEventData["via"] = LoginTypeSAML, "console"
	}
	if f.issuer != "" {
		ev.AdditionalEventData["issuer"] = truncate(f.issuer, 512)
		ev.AdditionalEventData["subject"] = truncate(f.subject, 512)
		ev.AdditionalEventData["audience"] = truncate(strings.Join(f.audiences, ","), 1024)
		ev.AdditionalEventData["roleSessionName"] = truncate(f.in.RoleSessionName, 128)
		ev.AdditionalEventData[f.idKey] = truncate(f.id, 256)
	}
}

// refuse records a refused call — as an unauthenticated one, throttled per
// source address (nobody was identified, or the identity was refused) —
// and returns err.
func (s *Service) refuseFederated(ctx context.Context, f *federated, err error) error {
	e, ok := AsError(err)
	if !ok {
		return err
	}
	if rerr := s.RecordAPICall(ctx, f.a, APICall{Action: f.action, Unauthenticated: true, ErrorCode: e.Code,
		ErrorMessage: e.Detail(), shape: f.shape}); rerr != nil {
		return rerr
	}
	return err
}

// providerName reads acs:ram::<AccountId>:<kind>/<name> of this account.
func providerName(acct, kind, arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, "acs:ram::"+acct+":"+kind+"/")
	return name, ok && name != "" && len(name) <= 128
}

// parseFederatedSource reads a FederatedSource.
func parseFederatedSource(src string) (kind, id string, ok bool) {
	kind, id, ok = strings.Cut(src, "/")
	return kind, id, ok && id != "" && (kind == kindSAMLProvider || kind == kindOIDCProvider)
}

// federatedProvider returns the ARN of a federated session's identity
// provider; store.ErrNotFound once it was deleted.
func (s *Service) federatedProvider(ctx context.Context, r store.Reads, src string) (string, error) {
	kind, id, _ := parseFederatedSource(src)
	acct := s.accountID(ctx)
	if kind == kindSAMLProvider {
		p, err := r.SAMLProvider(ctx, id)
		if err != nil {
			return "", err
		}
		return SAMLProviderARN(acct, p.Name), nil
	}
	p, err := r.OIDCProvider(ctx, id)
	if err != nil {
		return "", err
	}
	return OIDCProviderARN(acct, p.Name), nil
}

// sourceUserName is the source of a role session as events name it: the
// RAM user's name, or for a federated session the identity provider's ARN
// and the subject ("<provider ARN>:<subject>", as the federated call's own
// event names its principal).
func (rs *RoleSessionActor) sourceUserName() string {
	if rs.federatedBy != "" {
		return rs.federatedBy + ":" + rs.Session.SourceName
	}
	return rs.Session.SourceName
}

// AssumeRoleWithSAML starts a role session for the user a SAML identity
// provider vouches for in a signed assertion (SPEC §18.7); a is only the
// request's address and agent.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, a Actor, in AssumeRoleWithSAMLInput) (*SAMLAssumedRole, error) {
	if !s.admitFederated() {
		return nil, errFederatedThrottled
	}
	acct := s.accountID(ctx)
	f := &federated{a: a, acct: acct, action: EventAssumeRoleWithSAML, kind: kindSAMLProvider, providerParam: "SAMLProviderArn",
		providerArn: in.SAMLProviderArn, idKey: "assertionId",
		in: AssumeRoleInput{RoleArn: in.RoleArn, DurationSeconds: in.DurationSeconds, Policy: in.Policy}}
	refuse := func(err error) (*SAMLAssumedRole, error) { return nil, s.refuseFederated(ctx, f, err) }
	for _, p := range [][2]string{{"RoleArn", in.RoleArn}, {"SAMLProviderArn", in.SAMLProviderArn}, {"SAMLAssertion", in.SAMLAssertion}} {
		if p[1] == "" {
			return refuse(missingFederated(p[0]))
		}
	}
	if len(in.SAMLAssertion) < minFederatedCredential || len(in.SAMLAssertion) > maxSAMLAssertionLength {
		return refuse(stsError("InvalidParameter.SAMLAssertion", "SAMLAssertion must be 4 to %d characters.", maxSAMLAssertionLength))
	}
	if _, _, err := checkAssumeInput(acct, f.in, false); err != nil {
		return refuse(err)
	}
	name, ok := providerName(acct, kindSAMLProvider, in.SAMLProviderArn)
	if !ok {
		return refuse(errNoSAMLProvider)
	}
	p, err := s.st.SAMLProviderByName(ctx, name)
	if isNotFound(err) {
		return refuse(errNoSAMLProvider)
	} else if err != nil {
		return nil, err
	}
	providerARN := SAMLProviderARN(acct, p.Name)
	idp, err := samlsp.ParseIDPMetadata([]byte(p.Metadata))
	if err != nil {
		return refuse(&Error{Kind: EAUTH, Code: "AuthenticationFail.IDPMetadata.Invalid", Message: "The metadata of the SAML provider cannot be used: " + err.Error()})
	}
	as, err := samlsp.ParseResponse(in.SAMLAssertion, samlsp.Expect{IDP: idp, Audience: s.RoleSSOEntityID(), Recipient: s.RoleSSOACSURL(), Now: s.Now()})
	if err != nil {
		var se *samlsp.Error
		if !errors.As(err, &se) {
			return nil, err
		}
		f.reason = se.Error()
		if se.Code == samlsp.AssertionExpired {
			return refuse(&Error{Kind: EAUTH, Code: "AuthenticationFail.SAMLAssertion.Expired", Message: "The SAML assertion has expired or is not valid yet."})
		}
		return refuse(samlInvalid("The SAML assertion is not valid."))
	}
	f.subject, f.issuer, f.audiences, f.id = as.NameID, as.Issuer, as.Audiences, as.ID
	var first bool
	if err := s.st.Update(ctx, func(tx *store.Tx) (err error) {
		first, err = tx.ConsumeSAMLAssertion(ctx, as.Issuer, as.ID, as.NotOnOrAfter)
		return err
	}); err != nil {
		return nil, err
	}
	if !first {
		return refuse(samlInvalid("The SAML assertion was used already."))
	}
	if !rolePairListed(as.Attributes[SAMLRoleAttribute], in.RoleArn, in.SAMLProviderArn) {
		return refuse(errRoleNotListed)
	}
	g, err := samlGrantOf(as)
	if err != nil {
		return refuse(err)
	}
	r, err := s.assumeSAMLGrant(ctx, f, g, SAMLRolePair{RoleArn: in.RoleArn, ProviderArn: providerARN, ProviderID: p.ProviderID})
	if err != nil {
		return refuse(err)
	}
	return &SAMLAssumedRole{AssumedRole: *r, Subject: as.NameID, Recipient: as.Recipient, Issuer: as.Issuer,
		SubjectType: subjectType(as.NameIDFormat)}, nil
}

var errRoleNotListed = &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "The SAML assertion does not list the role with this SAML provider in its Role attribute."}

// SAMLRoleGrant is what a verified role-SSO assertion vouches for: the
// identity provider's user, the session name and length it asks for, and
// the roles it lists with a provider that verified it. The console keeps it
// server-side while the person picks one of several roles.
type SAMLRoleGrant struct {
	Subject, Issuer, Recipient, AssertionID string
	Audiences                               []string
	SessionName                             string
	MFAPresent                              bool
	Limit                                   int       // the SessionDuration attribute (0: none)
	NotAfter                                time.Time // the AuthnStatement's SessionNotOnOrAfter (zero: none)
	Roles                                   []SAMLRolePair
}

// SAMLRolePair is one role an assertion lists, with its SAML provider.
type SAMLRolePair struct{ RoleArn, ProviderArn, ProviderID string }

// samlGrantOf reads what a verified assertion grants but the roles: the
// RoleSessionName (required) and SessionDuration attributes.
func samlGrantOf(as *samlsp.Assertion) (*SAMLRoleGrant, error) {
	g := &SAMLRoleGrant{Subject: as.NameID, Issuer: as.Issuer, Recipient: as.Recipient, AssertionID: as.ID, Audiences: as.Audiences,
		MFAPresent: samlsp.MFAPresent(as), NotAfter: as.SessionNotOnOrAfter}
	names := as.Attributes[SAMLRoleSessionNameAttribute]
	if len(names) == 0 || !validSessionName(names[0]) {
		return nil, stsError("InvalidParameter.RoleSessionName", "The SAML assertion's RoleSessionName attribute must be 2 to 64 letters, digits, periods, at signs, underscores and hyphens.")
	}
	g.SessionName = names[0]
	if v := as.Attributes[SAMLSessionDurationAttribute]; len(v) > 0 {
		if n, err := strconv.Atoi(strings.TrimSpace(v[0])); err == nil && n > 0 {
			g.Limit = n
		}
	}
	return g, nil
}

// assumeSAMLGrant is the end of AssumeRoleWithSAML, for the STS call and
// the console alike: the role's trust policy decides with principal = the
// pair's provider and the saml:* keys, then the session starts.
func (s *Service) assumeSAMLGrant(ctx context.Context, f *federated, g *SAMLRoleGrant, pair SAMLRolePair) (*AssumedRole, error) {
	f.in.RoleArn, f.providerArn, f.in.RoleSessionName = pair.RoleArn, pair.ProviderArn, g.SessionName
	f.notAfter = g.NotAfter // the IdP's SessionNotOnOrAfter bounds the session
	if !g.NotAfter.IsZero() && !g.NotAfter.After(s.Now()) {
		f.reason = "the AuthnStatement's SessionNotOnOrAfter passed"
		return nil, &Error{Kind: EAUTH, Code: "AuthenticationFail.SAMLAssertion.Expired", Message: "The SAML assertion has expired or is not valid yet."}
	}
	pc := policy.NewContext(12)
	pc.Set(KeySAMLRecipient, g.Recipient)
	pc.Set(KeySAMLSub, g.Subject)
	pc.Set(KeySAMLIss, g.Issuer)
	for _, aud := range g.Audiences {
		pc.Add(KeySAMLAud, aud)
	}
	r, err := s.assumeFederated(ctx, f, pair.ProviderArn, pair.ProviderID, pc, g.MFAPresent, g.Limit)
	if errors.Is(err, errTokenExpired) { // the provider was deleted meanwhile
		err = errNoSAMLProvider
	}
	return r, err
}

// subjectType is a NameID format without its URN prefix: emailAddress,
// persistent, unspecified, …
func subjectType(format string) string {
	for _, p := range []string{"urn:oasis:names:tc:SAML:2.0:nameid-format:", "urn:oasis:names:tc:SAML:1.1:nameid-format:"} {
		if t, ok := strings.CutPrefix(format, p); ok {
			return t
		}
	}
	return format
}

// rolePairListed reports whether a Role attribute lists "<role ARN>,<provider
// ARN>", in either order.
func rolePairListed(values []string, roleArn, providerArn string) bool {
	for _, v := range values {
		a, b, ok := strings.Cut(v, ",")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if ok && (a == roleArn && b == providerArn || a == providerArn && b == roleArn) {
			return true
		}
	}
	return false
}

// AssumeRoleWithOIDC starts a role session for the workload or user an OIDC
// issuer vouches for in a signed token (SPEC §18.7); a is only the
// request's address and agent.
func (s *Service) AssumeRoleWithOIDC(ctx context.Context, a Actor, in AssumeRoleWithOIDCInput) (*OIDCAssumedRole, error) {
	if !s.admitFederated() {
		return nil, errFederatedThrottled
	}
	acct := s.accountID(ctx)
	f := &federated{a: a, acct: acct, action: EventAssumeRoleWithOIDC, kind: kindOIDCProvider, providerParam: "OIDCProviderArn",
		providerArn: in.OIDCProviderArn, idKey: "jti",
		in: AssumeRoleInput{RoleArn: in.RoleArn, RoleSessionName: in.RoleSessionName, DurationSeconds: in.DurationSeconds, Policy: in.Policy}}
	refuse := func(err error) (*OIDCAssumedRole, error) { return nil, s.refuseFederated(ctx, f, err) }
	for _, p := range [][2]string{{"RoleArn", in.RoleArn}, {"OIDCProviderArn", in.OIDCProviderArn}, {"OIDCToken", in.OIDCToken},
		{"RoleSessionName", in.RoleSessionName}} {
		if p[1] == "" {
			return refuse(missingFederated(p[0]))
		}
	}
	if len(in.OIDCToken) > maxOIDCTokenLength {
		return refuse(stsError("InvalidParameter.OIDCToken", "OIDCToken must be 4 to %d characters.", maxOIDCTokenLength))
	}
	if _, _, err := checkAssumeInput(acct, f.in, true); err != nil {
		return refuse(err)
	}
	// SPEC §18.8's order: format, provider, then what the verifier checks.
	if !jwtShaped(in.OIDCToken) {
		return refuse(&Error{Kind: EAUTH, Code: string(oidcfed.TokenInvalid), Message: "The OIDC token is not a JWT."})
	}
	name, ok := providerName(acct, kindOIDCProvider, in.OIDCProviderArn)
	if !ok {
		return refuse(errNoOIDCProvider)
	}
	p, err := s.st.OIDCProviderByName(ctx, name)
	if isNotFound(err) {
		return refuse(errNoOIDCProvider)
	} else if err != nil {
		return nil, err
	}
	providerARN := OIDCProviderARN(acct, p.Name)
	v := &oidcfed.Verifier{Cache: jwksCache{s.st}, Now: s.Now, Proxy: s.outboundProxyFunc()}
	cl, err := v.Verify(ctx, &oidcfed.Provider{ID: p.ProviderID, IssuerURL: p.IssuerURL, ClientIDs: p.ClientIDs, Fingerprints: p.Fingerprints,
		IssuanceLimit: time.Duration(p.IssuanceLimitTime) * time.Hour}, in.OIDCToken)
	if err != nil {
		var oe *oidcfed.Error
		if !errors.As(err, &oe) {
			return nil, err
		}
		return refuse(&Error{Kind: EAUTH, Code: string(oe.Code), Message: oe.Message})
	}
	f.subject, f.issuer, f.audiences, f.id = cl.Subject, cl.Issuer, cl.Audiences, cl.JTI
	pc := policy.NewContext(12)
	pc.Set(KeyOIDCIss, cl.Issuer)
	pc.Set(KeyOIDCSub, cl.Subject)
	for _, aud := range cl.Audiences {
		pc.Add(KeyOIDCAud, aud)
	}
	r, err := s.assumeFederated(ctx, f, providerARN, p.ProviderID, pc, false, 0)
	if err != nil {
		if errors.Is(err, errTokenExpired) { // the provider was deleted meanwhile
			err = errNoOIDCProvider
		}
		return refuse(err)
	}
	return &OIDCAssumedRole{AssumedRole: *r, Subject: cl.Subject, Issuer: cl.Issuer, ClientIDs: cl.Audiences,
		ExpirationTime: cl.Expiry, IssuedTime: cl.IssuedAt}, nil
}

// jwtShaped reports whether a token is three Base64url parts whose first
// two are JSON objects: anything else is refused before the provider is
// looked at.
func jwtShaped(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(p)
		var obj map[string]json.RawMessage
		if err != nil || json.Unmarshal(b, &obj) != nil {
			return false
		}
	}
	_, err := base64.RawURLEncoding.DecodeString(parts[2])
	return err == nil
}

// assumeFederated is the end of both calls, once the credential is
// verified: the role, the duration, the trust policy with principal = the
// provider, then the session (as AssumeRole's).
func (s *Service) assumeFederated(ctx context.Context, f *federated, providerARN, providerID string, pc *policy.Context, mfa bool, limit int) (*AssumedRole, error) {
	arnAcct, roleName, _ := parseRoleARN(f.in.RoleArn)
	var role *store.Role
	if arnAcct == f.acct {
		_, r, err := s.lookupRole(ctx, s.st, f.acct, roleName)
		if err != nil {
			return nil, err
		}
		role = r
	}
	if role == nil {
		return nil, notFound("EntityNotExist.Role", "role")
	}
	duration, err := sessionDuration(f.in.DurationSeconds, role, limit)
	if err != nil {
		return nil, err
	}
	a := f.a
	a.API, a.MFAPresent = true, mfa
	s.fillContext(pc, a, f.acct)
	if err := s.trustDecides(f.acct, role, policy.Caller{Kind: policy.CallerFederated, Account: f.acct, ARN: providerARN}, pc); err != nil {
		if d, ok := DenialOf(err); ok {
			d.PolicyType = "AssumeRolePolicy"
		}
		return nil, err
	}
	ev := s.event(ctx, a, f.acct, EventAPICall, f.action)
	f.shape(ev)
	return s.startSession(ctx, f.acct, role, f.in, duration, sessionStart{source: FederatedSource(f.kind, providerID),
		sourceName: truncate(f.subject, 512), mfa: mfa, notAfter: f.notAfter, event: ev})
}

// jwksCache keeps OIDC issuers' JWKS in the database, for every node.
type jwksCache struct{ st *store.Store }

func (c jwksCache) LoadJWKS(ctx context.Context, key string) ([]byte, time.Time, bool, error) {
	return c.st.OIDCProviderJWKS(ctx, key)
}

func (c jwksCache) StoreJWKS(ctx context.Context, key, providerID string, doc []byte, fetched time.Time) error {
	return c.st.Update(ctx, func(tx *store.Tx) error { return tx.PutOIDCProviderJWKS(ctx, key, providerID, doc, fetched) })
}

// Console role-based SSO (SPEC §18.11, §5): a response posted to the role
// ACS is checked as AssumeRoleWithSAML checks it — one path: the same
// verification, replay consumption, trust decision, session and audit — and
// the console then acts as the role session, as Switch role does (§12).

// SSORoleRefused is the text of a console role sign-in whose assertion was
// valid but grants no role: none listed, the trust policy refuses, the role
// is gone.
const SSORoleRefused = "Your identity provider's sign-in does not let you act as a role of this account"

// errSSORoleEnded ends a console session acting as a federated role
// session once that session is over (expired, revoked, the trust policy
// changed, the provider deleted).
var errSSORoleEnded = &Error{Kind: EAUTH, Code: "InvalidSecurityToken.Expired", Message: "Your role session ended: sign in through your identity provider again."}

// SAMLRoleConsole is a console role sign-in that passed: either the role
// session to act as (Principal, Name, until Expiration), or, when the
// assertion listed several roles, Choice to pick one from.
type SAMLRoleConsole struct {
	Principal  Principal // the role session
	Name       string    // "<role>/<session>"
	Expiration time.Time
	MFAPresent bool
	Choice     *SAMLRoleGrant
}

// consoleRefusal turns a refused call into what the role ACS shows.
func consoleRefusal(err error) error {
	e, ok := AsError(err)
	if !ok {
		return err
	}
	msg := SSOResponseRefused
	switch {
	case e.Code == errFederatedThrottled.Code:
		msg = e.Message
	case e.Kind == EFORBIDDEN || e.Kind == ENOTFOUND:
		msg = SSORoleRefused
	}
	return &SSORefusal{Code: e.Code, Message: msg}
}

// SAMLRoleSignIn checks a response posted to the role ACS. The identity
// provider is whichever SAML provider of the account verifies it; the
// roles are those its Role attribute lists with such a provider. One role:
// its session starts now. Several: the answer's Choice, for ChooseSAMLRole.
// A refusal is an *SSORefusal, audited as AssumeRoleWithSAML.
func (s *Service) SAMLRoleSignIn(ctx context.Context, a Actor, samlResponse string) (*SAMLRoleConsole, error) {
	if !s.admitFederated() {
		return nil, consoleRefusal(errFederatedThrottled)
	}
	acct := s.accountID(ctx)
	f := &federated{a: a, acct: acct, action: EventAssumeRoleWithSAML, kind: kindSAMLProvider, providerParam: "SAMLProviderArn",
		idKey: "assertionId", console: true}
	refuse := func(err error) (*SAMLRoleConsole, error) { return nil, consoleRefusal(s.refuseFederated(ctx, f, err)) }
	if len(samlResponse) < minFederatedCredential || len(samlResponse) > maxSAMLAssertionLength {
		f.reason = "no SAMLResponse, or one over 100 000 characters"
		return refuse(samlInvalid("The SAML assertion is not valid."))
	}
	providers, err := s.st.SAMLProviders(ctx)
	if err != nil {
		return nil, err
	}
	var as *samlsp.Assertion
	verifiedBy := map[string]string{} // provider ARN → ProviderID
	var refusal *samlsp.Error
	for _, p := range providers {
		idp, err := samlsp.ParseIDPMetadata([]byte(p.Metadata))
		if err != nil {
			continue
		}
		got, err := samlsp.ParseResponse(samlResponse, samlsp.Expect{IDP: idp, Audience: s.RoleSSOEntityID(), Recipient: s.RoleSSOACSURL(), Now: s.Now()})
		var se *samlsp.Error
		switch {
		case err == nil:
			as = got
			verifiedBy[SAMLProviderARN(acct, p.Name)] = p.ProviderID
		case !errors.As(err, &se):
			return nil, err
		case refusal == nil || refusal.Code == samlsp.SignatureInvalid && se.Code != samlsp.SignatureInvalid:
			refusal = se // the most telling: a provider whose key verified it says why it is refused
		}
	}
	if as == nil {
		if refusal == nil {
			f.reason = "no SAML provider is registered"
			return refuse(samlInvalid("The SAML assertion is not valid."))
		}
		f.reason = refusal.Error()
		if refusal.Code == samlsp.AssertionExpired {
			return refuse(&Error{Kind: EAUTH, Code: "AuthenticationFail.SAMLAssertion.Expired", Message: "The SAML assertion has expired or is not valid yet."})
		}
		return refuse(samlInvalid("The SAML assertion is not valid."))
	}
	f.subject, f.issuer, f.audiences, f.id = as.NameID, as.Issuer, as.Audiences, as.ID
	for arn := range verifiedBy {
		f.providerArn = arn
	}
	var first bool
	if err := s.st.Update(ctx, func(tx *store.Tx) (err error) {
		first, err = tx.ConsumeSAMLAssertion(ctx, as.Issuer, as.ID, as.NotOnOrAfter)
		return err
	}); err != nil {
		return nil, err
	}
	if !first {
		return refuse(samlInvalid("The SAML assertion was used already."))
	}
	var pairs []SAMLRolePair
	seen := map[string]bool{}
	for _, v := range as.Attributes[SAMLRoleAttribute] {
		x, y, _ := strings.Cut(v, ",")
		x, y = strings.TrimSpace(x), strings.TrimSpace(y)
		if _, ok := verifiedBy[x]; ok {
			x, y = y, x
		}
		id, ok := verifiedBy[y]
		if roleAcct, _, isRole := parseRoleARN(x); !ok || !isRole || roleAcct != acct || seen[x] {
			continue
		}
		seen[x] = true
		pairs = append(pairs, SAMLRolePair{RoleArn: x, ProviderArn: y, ProviderID: id})
	}
	if len(pairs) == 0 {
		return refuse(errRoleNotListed)
	}
	g, err := samlGrantOf(as)
	if err != nil {
		return refuse(err)
	}
	g.Roles = pairs
	if len(pairs) > 1 {
		return &SAMLRoleConsole{Choice: g}, nil
	}
	return s.consoleRoleSession(ctx, a, g, pairs[0])
}

// ChooseSAMLRole starts the session of the role picked from a console role
// sign-in's Choice (kept server-side since the assertion was accepted).
func (s *Service) ChooseSAMLRole(ctx context.Context, a Actor, g *SAMLRoleGrant, roleArn string) (*SAMLRoleConsole, error) {
	if !s.admitFederated() {
		return nil, consoleRefusal(errFederatedThrottled)
	}
	for _, p := range g.Roles {
		if p.RoleArn == roleArn {
			return s.consoleRoleSession(ctx, a, g, p)
		}
	}
	f := s.consoleCall(ctx, a, g)
	f.in.RoleArn = roleArn
	return nil, consoleRefusal(s.refuseFederated(ctx, f, errRoleNotListed))
}

// consoleCall is the AssumeRoleWithSAML call of a console role sign-in.
func (s *Service) consoleCall(ctx context.Context, a Actor, g *SAMLRoleGrant) *federated {
	return &federated{a: a, acct: s.accountID(ctx), action: EventAssumeRoleWithSAML, kind: kindSAMLProvider, providerParam: "SAMLProviderArn",
		idKey: "assertionId", console: true, subject: g.Subject, issuer: g.Issuer, audiences: g.Audiences, id: g.AssertionID}
}

// consoleRoleSession starts the role session of pair for the console and
// records the console sign-in as that role session.
func (s *Service) consoleRoleSession(ctx context.Context, a Actor, g *SAMLRoleGrant, pair SAMLRolePair) (*SAMLRoleConsole, error) {
	f := s.consoleCall(ctx, a, g)
	r, err := s.assumeSAMLGrant(ctx, f, g, pair)
	if err != nil {
		return nil, consoleRefusal(s.refuseFederated(ctx, f, err))
	}
	e, err := s.liveSession(ctx, r.AccessKeyID)
	if err != nil {
		return nil, err
	}
	rs := e.caller.Session
	a.MFAPresent = g.MFAPresent
	actor := rs.Act(a)
	ev := s.event(ctx, actor, f.acct, EventConsoleSignin, EventConsoleSignin)
	ev.ResourceName = pair.RoleArn
	ev.AdditionalEventData = map[string]any{"loginType": LoginTypeSAML, "mfaChecked": g.MFAPresent, "idpEntityId": truncate(g.Issuer, 512),
		"nameId": truncate(g.Subject, 128), "samlProviderArn": pair.ProviderArn, "roleArn": pair.RoleArn, "sessionAccessKeyId": r.AccessKeyID}
	if err := s.record(ctx, ev); err != nil {
		return nil, err
	}
	return &SAMLRoleConsole{Principal: actor.Principal, Name: actor.Name, Expiration: r.Expiration, MFAPresent: g.MFAPresent}, nil
}

// SAMLRoleConsoleSession returns the identity and the role session of a
// console session signed in through role SSO (its principal is the role
// session) while that lives; an EAUTH error once it has ended.
func (s *Service) SAMLRoleConsoleSession(ctx context.Context, p Principal) (*Identity, *RoleSessionActor, error) {
	roleID, keyID, ok := p.RoleSession()
	if !ok {
		return nil, nil, errSSORoleEnded
	}
	e, err := s.liveSession(ctx, keyID)
	if err != nil {
		if e, ok := AsError(err); ok && e.Code == errTokenExpired.Code {
			return nil, nil, errSSORoleEnded
		}
		return nil, nil, err
	}
	rs := e.caller.Session
	if rs.Role.RoleID != roleID || rs.federatedBy == "" || !s.Now().Before(rs.Session.ExpiresAt) {
		return nil, nil, errSSORoleEnded
	}
	name := rs.Role.RoleName + "/" + rs.Session.SessionName
	return &Identity{Principal: p, Name: name, DisplayName: name}, rs, nil
}

// FederatedBy is the ARN of the identity provider a federated role session
// was started through, "" for any other.
func (rs *RoleSessionActor) FederatedBy() string { return rs.federatedBy }

// EndSAMLRoleConsole ends the role session a console session signed in
// through role SSO acts as (signing out ends it for good).
func (s *Service) EndSAMLRoleConsole(ctx context.Context, a Actor) error {
	if a.Session == nil || a.Session.federatedBy == "" {
		return nil
	}
	return s.st.Update(ctx, func(tx *store.Tx) error { return tx.DeleteRoleSession(ctx, a.Session.Session.AccessKeyID) })
}
