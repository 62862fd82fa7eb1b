package ram

import (
	"context"
	"strings"

	"ramconsole/policy"
	"ramconsole/store"
)

// The resource gateway (SPEC §13) decides, for a proxy in front of one of
// the enterprise's services, whether a request may pass: who is calling
// (an Alibaba signature, checked by the same verifier as the OpenAPI, or a
// console session), what the request is (the service's mapping to an
// action and a resource) and what the caller's policies say. Every
// decision is an audit event, in the journal before the answer.

// GatewayCall is one request a proxy asks about, as its service maps it.
type GatewayCall struct {
	Service  *ServiceDef
	Host     string // the original host: the event's source
	Action   string // <code>:<Name>
	Resource Resource
	Params   map[string]any // the original query's parameters, for the record (no secrets)
}

// GatewayDecide evaluates a mapped request for an authenticated call and
// records the decision before it is answered: nil to let it pass, or a
// NoPermission error explained like the OpenAPI's. A replayed signature
// nonce is ErrNonceUsed.
func (s *Service) GatewayDecide(ctx context.Context, call *Call, gc GatewayCall) error {
	a := call.Actor
	allowed := a.Principal == PrincipalRoot
	var denial *Denial
	resources := []string{gc.Resource.arn}
	if allowed {
		s.keepRootDecision(ctx, a, gc.Action, gc.Resource)
	}
	if !allowed && a.Principal != "" {
		decision, res, err := s.decideCounted(ctx, a, gc.Action, resources)
		if err != nil {
			return err
		}
		allowed = decision == policy.Allow
		if !allowed {
			denial = explainDenial(gc.Action, resources, decision, res)
		}
	}
	rec := APICall{Action: actionName(gc.Action), Resource: gc.Resource.arn, Params: gc.Params, shape: s.gatewayShape(ctx, gc)}
	var refusal error
	if !allowed {
		if denial == nil {
			denial = &Denial{Action: gc.Action, Resources: resources, Type: "ImplicitDeny"}
		}
		refusal = &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "You are not authorized to do this action.", Denial: denial}
		rec.ErrorCode, rec.ErrorMessage = "NoPermission", "denied by "+denial.Type
	}
	if err := call.Record(ctx, rec); err != nil {
		return err
	}
	s.observeDecision("gateway", allowed)
	return refusal
}

// GatewayRefuse records a request refused before a decision (its shape,
// its mapping, its caller not identified, its signature), keyed to the
// service when one was found; it returns cause, or the error that kept it
// from being recorded.
func (s *Service) GatewayRefuse(ctx context.Context, call *Call, gc GatewayCall, cause error) error {
	name := actionName(gc.Action)
	if name == "" {
		name = "UnknownAction"
	}
	return call.Refuse(ctx, APICall{Action: name, Resource: gc.Resource.arn, Params: gc.Params, shape: s.gatewayShape(ctx, gc)}, cause)
}

// gatewayShape fills a gateway event's fields: the original host as its
// source, the service, the resource's region and the paying account.
func (s *Service) gatewayShape(ctx context.Context, gc GatewayCall) func(ev *store.Event) {
	acct := s.accountID(ctx)
	return func(ev *store.Event) {
		ev.EventSource = gc.Host
		if gc.Service != nil {
			ev.ServiceName = gc.Service.Code
		}
		ev.RecipientAccountID = acct
		if parts := strings.SplitN(gc.Resource.arn, ":", 5); len(parts) == 5 {
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
