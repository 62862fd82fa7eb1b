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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"ramconsole/policy"
	"ramconsole/store"
)

// Principal is who acts — the account owner, a RAM user, or a role session
// — in the form sessions, MFA devices and role sessions store it. The zero
// Principal is nobody (not signed in).
type Principal string

// PrincipalRoot is the account owner.
const PrincipalRoot Principal = "root"

// UserPrincipal is the RAM user with the UserId.
func UserPrincipal(userID string) Principal { return Principal("user/" + userID) }

// RoleSessionPrincipal is a session of a role, named by its temporary
// AccessKey id.
func RoleSessionPrincipal(roleID, keyID string) Principal {
	return Principal("assumed-role/" + roleID + "/" + keyID)
}

// IsOwner reports whether p is the account owner.
func (p Principal) IsOwner() bool { return p == PrincipalRoot }

// UserID is the UserId of a RAM user ("" for anyone else).
func (p Principal) UserID() string {
	if id, ok := strings.CutPrefix(string(p), "user/"); ok {
		return id
	}
	return ""
}

// RoleSession returns the role and the temporary AccessKey of a role
// session; ok is false for anyone else.
func (p Principal) RoleSession() (roleID, keyID string, ok bool) {
	rest, found := strings.CutPrefix(string(p), "assumed-role/")
	if !found {
		return "", "", false
	}
	roleID, keyID, ok = strings.Cut(rest, "/")
	return roleID, keyID, ok && roleID != "" && keyID != ""
}

// Kind names what kind of principal p is, as audit events do: root-account,
// ram-user, assumed-role, or "" for nobody.
func (p Principal) Kind() string {
	switch _, _, role := p.RoleSession(); {
	case p == PrincipalRoot:
		return "root-account"
	case p.UserID() != "":
		return "ram-user"
	case role:
		return "assumed-role"
	}
	return ""
}

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
	Principal   Principal // "" when not signed in
	Name        string    // the owner's email or the user's name
	AccessKeyID string
	RequestID   string
	SourceIP    string
	UserAgent   string
	API         bool // the request came through the OpenAPI
	// SecureTransport and MFAPresent feed the acs:SecureTransport and
	// acs:MFAPresent condition keys.
	SecureTransport bool
	MFAPresent      bool
	// Session is set when the caller is a role session (Principal is then
	// "assumed-role/<RoleId>/<AccessKeyId>").
	Session *RoleSessionActor
}

// Service is the domain service.
type Service struct {
	st        *store.Store
	sealer    *store.Sealer
	gate      atomic.Pointer[hashGate] // bounds concurrent argon2id computations
	dummyHash string

	setupMu        sync.Mutex
	setupTokenHash []byte
	setupTokenPath string
	setupDone      atomic.Bool
	acctID         atomic.Value // string
	audit          auditChain   // the audit page's incremental chain verification (audit.go)
	throttle       apiThrottle  // refused calls without a valid identity (api_throttle.go)

	// Caches. Each entry carries the store generation it was read at (read
	// before the data): any committed change to what it was built from
	// moves the generation, so the entry is rebuilt on its next use
	// (store.Generation). Keys are ids that are never reused.
	sets     sync.Map // UserId, or "role/<RoleId>" → *effectiveSet
	keys     sync.Map // AccessKeyId → *cachedKey (api_auth.go)
	sessions sync.Map // STS AccessKeyId → *cachedSession (sts.go)
	trusts   sync.Map // RoleId → *cachedTrust (sts.go)
	compiled sync.Map // custom policy UID → *compiledVersion
	// hostServices: lower-case host → *cachedHostService (services.go).
	// Keyed by host names, which a later service may own: the generation
	// is what keeps an entry right.
	hostServices sync.Map
	system       map[string]*policy.Compiled

	observer atomic.Pointer[Observer] // what /metrics counts (observer.go)
	rp       atomic.Pointer[relyingParty]

	// The OpenID provider (oidc.go, oidc_keys.go).
	issuer      atomic.Value // string
	oidcKeys    oidcKeys
	clientFails clientFailures

	// Federation in (federation.go, sts_federated.go): the outbound proxy
	// for OIDC issuers' discovery and JWKS (nil: direct).
	outboundProxy atomic.Pointer[url.URL]

	// auditRetention is the audit log's retention in days (0: forever):
	// the access review refuses a window longer than what is kept.
	auditRetention atomic.Int32
}

// New returns the domain service over a store.
func New(st *store.Store, sealer *store.Sealer) *Service {
	s := &Service{st: st, sealer: sealer, dummyHash: HashPassword("ramconsole dummy password for unknown names"),
		system: map[string]*policy.Compiled{}}
	s.gate.Store(newHashGate(DefaultHashSlots(), DefaultHashWait))
	st.OnChange(s.sweepCredentials)
	for _, sp := range policy.SystemPolicies() {
		doc, err := policy.Parse(sp.Document)
		if err != nil {
			panic("ram: system policy " + sp.Name + " does not parse: " + err.Error())
		}
		s.system[sp.Name] = policy.Compile(policy.Source{Type: PolicyTypeSystem, Name: sp.Name, Version: systemPolicyVersion, ID: sp.Name}, doc)
	}
	return s
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

// MAC is the deployment's HMAC-SHA256 of msg for purpose (see store.Sealer.MAC).
func (s *Service) MAC(purpose string, msg []byte) []byte { return s.sealer.MAC(purpose, msg) }

// NewRequestID returns a request id: a UUID, version 7 (time-ordered), so
// the audit log's index of request ids grows at its end.
func NewRequestID() string { return newUUID() }

// Request and event ids draw their random bits from a pool filled from
// crypto/rand in batches (two ids a call otherwise cost two reads of it).
// Set at init, before anything generates an id, as the package requires.
func init() { uuid.EnableRandPool() }

// newUUID returns a version 7 UUID: random but ordered by time, which keeps
// inserts into the audit log's indexes of ids on their last pages.
func newUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	return id.String()
}

// event starts an audit event for actor.
func (s *Service) event(ctx context.Context, a Actor, accountID, eventType, name string) *store.Event {
	ev := &store.Event{
		EventID:         newUUID(),
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
	if a.API {
		ev.EventRW = apiEventRW(name) // ActionTrail records Read/Write for API calls
	}
	switch {
	case a.Session != nil:
		rs := a.Session.Session
		ev.UserIdentity = store.Identity{Type: "assumed-role", PrincipalID: a.Session.Role.RoleID + ":" + rs.SessionName,
			AccountID: accountID, UserName: a.Name, AccessKeyID: a.AccessKeyID, ARN: RoleARN(accountID, a.Session.Role.RoleName),
			SessionName: rs.SessionName, SourceUserName: a.Session.sourceUserName(), SourceUserID: Principal(rs.SourcePrincipal).UserID(),
			SourceAccessKeyID: rs.SourceKeyID}
	case a.Principal == PrincipalRoot:
		ev.UserIdentity = store.Identity{Type: "root-account", PrincipalID: accountID, AccountID: accountID, UserName: "root"}
	case a.Principal != "":
		ev.UserIdentity = store.Identity{Type: "ram-user", PrincipalID: a.Principal.UserID(), AccountID: accountID,
			UserName: a.Name, AccessKeyID: a.AccessKeyID}
	default:
		ev.UserIdentity = store.Identity{Type: "unknown", AccountID: accountID}
	}
	return ev
}

// change is the event of an operation by a on resource, with its request
// parameters (never secrets).
func (s *Service) change(ctx context.Context, a Actor, accountID, name, resource string, params map[string]any) *store.Event {
	ev := s.event(ctx, a, accountID, s.opType(a), name)
	ev.ResourceName, ev.RequestParameters = resource, params
	return ev
}

func failEvent(ev *store.Event, code, message string) *store.Event {
	ev.ErrorCode, ev.ErrorMessage, ev.IsError = code, message, true
	return ev
}

// record writes a standalone event (one that changes nothing else).
func (s *Service) record(ctx context.Context, ev *store.Event) error {
	return s.st.Update(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, ev) })
}

// accountID is the AccountId, read once: it never changes after setup.
func (s *Service) accountID(ctx context.Context) string {
	if id, ok := s.acctID.Load().(string); ok {
		return id
	}
	if a, err := s.st.Account(ctx); err == nil {
		s.acctID.Store(a.AccountID)
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
	// ConfirmPassword, when the form asks for the password twice, must
	// equal Password.
	ConfirmPassword *string
	Alias           string
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
	if in.ConfirmPassword != nil && *in.ConfirmPassword != in.Password {
		fe.add("confirm_password", "InvalidParameter.Password.Mismatch", "The two passwords differ. Type the same password twice.")
	}
	if err := fe.err(); err != nil {
		return err
	}
	acct := store.Account{AccountID: newID(16), Alias: in.Alias}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	owner := store.Owner{Email: email, PasswordHash: hash}
	a.Principal, a.Name = PrincipalRoot, email
	err = s.st.Update(ctx, func(tx *store.Tx) error {
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

// SignOut records the end of a console session.
func (s *Service) SignOut(ctx context.Context, a Actor) error {
	ev := s.event(ctx, a, s.accountID(ctx), EventConsoleSignin, "ConsoleSignout")
	return s.record(ctx, ev)
}

// SignOutEverywhere ends every console session of the actor but keep and
// revokes the tokens its applications hold (SPEC §17.5); remembered
// devices stay.
func (s *Service) SignOutEverywhere(ctx context.Context, a Actor, keep string) error {
	if a.Session != nil || a.Principal != PrincipalRoot && !strings.HasPrefix(string(a.Principal), "user/") {
		return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Switch back to your own identity to end its sessions."}
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.endSessions(ctx, tx, a.Principal, keep, false); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event(ctx, a, s.accountID(ctx), EventConsoleOperation, "SignOutEverywhere"))
	})
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
