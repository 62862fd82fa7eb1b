package ram

import (
	"context"
	"strings"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
)

// The resource gateway (SPEC §13) decides, for a proxy in front of one of
// the enterprise's services, whether a request may pass: who is calling
// (an Alibaba signature, checked by the same verifier as the OpenAPI, or a
// console session), what the request is (the service's mapping to an
// action and a resource) and what the caller's policies say. Every
// decision is an audit event, in the journal before the answer.

// GatewayCall is one request a proxy asks about.
type GatewayCall struct {
	Service  *ServiceDef
	Host     string // the original host: the event's source
	Action   string // <code>:<Name>
	Resource string
	Params   map[string]any // the original query's parameters, for the record (no secrets)
	// Caller, Nonce and Timestamp are a signed request's; Caller is nil
	// for a console session.
	Caller    *APICaller
	Nonce     string
	Timestamp time.Time
	// Unverified marks a refusal of a signature, key, token or timestamp
	// that did not hold: throttled in the audit log like the OpenAPI's
	// (SPEC §7), even when the AccessKeyId names a known key.
	Unverified bool
}

// GatewayDecide evaluates a mapped request and records the decision before
// it is answered: nil to let it pass, or a NoPermission error explained
// like the OpenAPI's. A replayed signature nonce is ErrNonceUsed.
func (s *Service) GatewayDecide(ctx context.Context, a Actor, call GatewayCall) error {
	allowed := a.Principal == PrincipalRoot
	var denial *Denial
	if !allowed && a.Principal != "" {
		decision, res, err := s.decide(ctx, a, call.Action, []string{call.Resource})
		if err != nil {
			return err
		}
		allowed = decision == policy.Allow
		if !allowed {
			denial = explainDenial(call.Action, []string{call.Resource}, decision, res)
		}
	}
	rec := APICall{Action: actionName(call.Action), Resource: call.Resource, Params: call.Params, Caller: call.Caller, Nonce: call.Nonce,
		Timestamp: call.Timestamp, shape: s.gatewayShape(ctx, call)}
	var refusal error
	if !allowed {
		if denial == nil {
			denial = &Denial{Action: call.Action, Resources: []string{call.Resource}, Type: "ImplicitDeny"}
		}
		refusal = &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "You are not authorized to do this action.", Denial: denial}
		rec.ErrorCode, rec.ErrorMessage = "NoPermission", "denied by "+denial.Type
	}
	if err := s.RecordAPICall(ctx, a, rec); err != nil {
		return err
	}
	s.observeDecision("gateway", allowed)
	return refusal
}

// GatewayRefuse records a request refused before a decision (its caller
// not identified, its signature or mapping refused), keyed to the service
// when one was found; err is the refusal.
func (s *Service) GatewayRefuse(ctx context.Context, a Actor, call GatewayCall, err error) error {
	code, msg := "InternalError", "The request processing has failed due to some unknown error."
	if e, ok := AsError(err); ok {
		code, msg = e.Code, e.Message
	}
	name := actionName(call.Action)
	if name == "" {
		name = "UnknownAction"
	}
	rec := APICall{Action: name, Resource: call.Resource, Params: call.Params, ErrorCode: code, ErrorMessage: msg,
		Unauthenticated: call.Caller == nil && (a.Principal == "" || call.Unverified), shape: s.gatewayShape(ctx, call)}
	if rerr := s.RecordAPICall(ctx, a, rec); rerr != nil {
		return rerr
	}
	return err
}

// gatewayShape fills a gateway event's fields: the original host as its
// source, the service, the resource's region and the paying account.
func (s *Service) gatewayShape(ctx context.Context, call GatewayCall) func(ev *store.Event) {
	acct := s.accountID(ctx)
	return func(ev *store.Event) {
		ev.EventSource = call.Host
		if call.Service != nil {
			ev.ServiceName = call.Service.Code
		}
		ev.RecipientAccountID = acct
		if parts := strings.SplitN(call.Resource, ":", 5); len(parts) == 5 {
			ev.AcsRegion = parts[2]
		}
	}
}

// actionName is an action's name part ("StopInstance" of ecs:StopInstance).
func actionName(action string) string {
	if _, name, ok := strings.Cut(action, ":"); ok {
		return name
	}
	return action
}
