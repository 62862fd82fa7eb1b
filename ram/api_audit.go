package ram

import (
	"context"
	"strings"
	"time"

	"ramconsole/store"
)

// apiEventRW is ActionTrail's eventRW of an API action: Read for Get* and
// List*, Write for everything else.
func apiEventRW(name string) string {
	if strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Head") {
		return "Read"
	}
	return "Write"
}

// APICall is an OpenAPI call to record when the operation did not record it
// itself: a read, or a call refused before the operation ran (a bad
// signature, a missing parameter, an unknown action, a name that is not
// valid).
type APICall struct {
	Action       string
	Resource     string
	Params       map[string]any
	ErrorCode    string
	ErrorMessage string
	// Recorded is true when the operation wrote its event already; only
	// the nonce and the key's use are then recorded.
	Recorded bool
	// Caller, Nonce and Timestamp, for an authenticated call whose nonce is
	// recorded here, with the event.
	Caller    *APICaller
	Nonce     string
	Timestamp time.Time
	// Unauthenticated is true for a call refused before a valid identity
	// was established (unsigned, unknown key, bad signature): its events
	// are throttled per source address (api_throttle.go).
	Unauthenticated bool
	// shape, when set, completes the event (the gateway's fields).
	shape func(*store.Event)
}

// RecordAPICall records what a call leaves for the audit log: its event
// (eventType ApiCall) unless the operation wrote it, and for an
// authenticated call the nonce it used and the key's use. The call may be
// answered once this returns: the record is in the store's journal and is
// folded into the audit log within milliseconds, before any later change
// (store.Queue). When the nonce turns out to be used already, the event
// records the refusal and ErrNonceUsed is returned: the caller must answer
// SignatureNonceUsed.
func (s *Service) RecordAPICall(ctx context.Context, a Actor, call APICall) error {
	a.API = true
	var rec store.Record
	replayed := false
	if c := call.Caller; c != nil && call.Nonce != "" {
		expires := nonceExpiry(call.Timestamp)
		fresh, err := s.st.UseNonce(ctx, c.AccessKeyID, call.Nonce, expires)
		if err != nil {
			return err
		}
		if fresh {
			rec.KeyID, rec.Nonce, rec.NonceExpires = c.AccessKeyID, call.Nonce, expires
			if c.Session == nil { // temporary credentials have no LastUsedDate
				rec.KeyUsed = c.use(s.Now())
			}
		} else {
			replayed = true
			call.Recorded = false
			call.ErrorCode, call.ErrorMessage = ErrNonceUsed.Code, ErrNonceUsed.Message
		}
	}
	if !call.Recorded && call.Unauthenticated {
		ok, closed := s.admitUnauthenticated(a.SourceIP, s.Now())
		if err := s.recordThrottled(ctx, closed); err != nil {
			return err
		}
		if !ok {
			return nil // counted; the window's summary records it
		}
	}
	if !call.Recorded {
		ev := s.event(ctx, a, s.accountID(ctx), EventAPICall, call.Action) // eventRW too: a.API
		if a.AccessKeyID != "" {
			ev.UserIdentity.AccessKeyID = truncate(a.AccessKeyID, 64)
		}
		ev.ResourceName = call.Resource
		ev.RequestParameters = call.Params
		if src := imsEventSource(call.Action); src != "" {
			ev.EventSource = src
		}
		if call.shape != nil {
			call.shape(ev)
		}
		if call.ErrorCode != "" {
			failEvent(ev, call.ErrorCode, auditMessage(call.ErrorMessage))
		}
		rec.Event = ev
	}
	if rec.Event == nil && rec.Nonce == "" {
		return nil
	}
	if err := s.st.Queue(ctx, rec); err != nil {
		return err
	}
	if replayed {
		return ErrNonceUsed
	}
	return nil
}

// ServerStringToSign introduces, in a signature mismatch's message, the
// server's string to sign: the SDKs compare it with theirs.
const ServerStringToSign = "server string to sign is:"

// auditMessage is a refusal's message as the audit log records it: a
// signature mismatch's string to sign holds every parameter of a V1 call
// (a security token, a password), so it is cut off.
func auditMessage(msg string) string {
	if i := strings.Index(msg, ServerStringToSign); i >= 0 {
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

// WithEventMark returns a context that records whether an operation run
// with it wrote an audit event (see store.WithEventMark).
func WithEventMark(ctx context.Context) (context.Context, *store.EventMark) {
	return store.WithEventMark(ctx)
}

// imsActionSources are the event sources of IMS 2019-08-15's actions: the
// OpenID provider's applications are oidc's (SPEC §17.10), identity
// providers and user SSO ims's (§18.9), whether the call is a read, a
// change or a refusal.
var imsActionSources = func() map[string]string {
	m := map[string]string{}
	for _, a := range []string{ActionCreateApplication, ActionGetApplication, ActionListApplications, ActionUpdateApplication,
		ActionDeleteApplication, ActionCreateAppSecret, ActionGetAppSecret, ActionListAppSecretIDs, ActionDeleteAppSecret} {
		m[strings.TrimPrefix(a, "ram:")] = "oidc"
	}
	for _, a := range []string{ActionSetUserSsoSettings, ActionGetUserSsoSettings, ActionCreateSAMLProvider, ActionGetSAMLProvider,
		ActionListSAMLProviders, ActionUpdateSAMLProvider, ActionDeleteSAMLProvider, ActionCreateOIDCProvider, ActionGetOIDCProvider,
		ActionListOIDCProviders, ActionUpdateOIDCProvider, ActionDeleteOIDCProvider, ActionAddClientIDToOIDCProvider,
		ActionRemoveClientIDFromOIDCProvider, ActionAddFingerprintToOIDCProvider, ActionRemoveFingerprintFromOIDCProvider,
		ActionGenerateCredentialReport, ActionGetCredentialReport} {
		m[strings.TrimPrefix(a, "ram:")] = "ims"
	}
	return m
}()

// imsEventSource is the event source of an IMS action's events ("" for
// RAM's and STS's actions).
func imsEventSource(action string) string { return imsActionSources[action] }
