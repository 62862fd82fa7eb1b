package ram

import (
	"context"
	"fmt"
	"reflect"
	"strings"
)

// Denial explains a refused authorisation: the action, the resources and
// which kind of deny it was.
type Denial struct {
	Action    string
	Resources []string
	Type      string // ImplicitDeny | ExplicitDeny
	// PolicyName and Statement name the statement of an explicit deny.
	PolicyType string
	PolicyName string
	Statement  int
}

// DenialOf returns the Denial carried by a NoPermission error.
func DenialOf(err error) (*Denial, bool) {
	e, ok := AsError(err)
	if !ok || e.Denial == nil {
		return nil, false
	}
	return e.Denial, true
}

// authorize decides whether the actor may do action on every resource. The
// owner may do everything; a RAM user what the evaluator allows. A refusal is
// audited with errorCode NoPermission.
func (s *Service) authorize(ctx context.Context, a Actor, action string, resources ...string) error {
	switch {
	case a.Principal == PrincipalRoot:
		return nil
	case a.Principal == "":
		return &Error{Kind: EAUTH, Code: "InvalidAccessKeyId.NotFound", Message: "Sign in first."}
	}
	d := &Denial{Action: action, Resources: resources, Type: "ImplicitDeny"}
	acct := s.accountID(ctx)
	name := action
	if i := strings.IndexByte(action, ':'); i >= 0 {
		name = action[i+1:]
	}
	ev := s.event(ctx, a, acct, s.opType(a), name)
	ev.ResourceName = strings.Join(resources, ",")
	ev.AdditionalEventData = map[string]any{"authAction": action, "noPermissionType": d.Type}
	if err := s.record(ctx, failEvent(ev, "NoPermission", "denied by "+d.Type)); err != nil {
		return err
	}
	return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "You are not authorized to do this action.", Denial: d}
}

// Allowed reports, without recording anything, whether the actor may do
// action on every resource (for navigation and buttons).
func (s *Service) Allowed(ctx context.Context, a Actor, action string, resources ...string) bool {
	return a.Principal == PrincipalRoot
}

// AccountID is the account's id ("" before setup).
func (s *Service) AccountID(ctx context.Context) string { return s.accountID(ctx) }

// Authorize lets handlers check a console-only action (a page view) through
// the same rules as the domain operations.
func (s *Service) Authorize(ctx context.Context, a Actor, action string, resources ...string) error {
	return s.authorize(ctx, a, action, resources...)
}

// refuse records a failed operation's event and returns err.
func (s *Service) refuse(ctx context.Context, a Actor, acct, eventName, resource string, err error) error {
	e, ok := AsError(err)
	if !ok {
		return err
	}
	ev := s.event(ctx, a, acct, s.opType(a), eventName)
	ev.ResourceName = resource
	if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
		return rerr
	}
	return err
}

// opType is the event type of an operation by a.
func (s *Service) opType(a Actor) string {
	if a.API {
		return EventAPICall
	}
	return EventConsoleOperation
}

// structParams turns a settings struct into requestParameters.
func structParams(v any) map[string]any {
	out := map[string]any{}
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		out[rv.Type().Field(i).Name] = rv.Field(i).Interface()
	}
	return out
}

// ARNs of RAM resources as requests name them (ram-actions.md).
func userARN(acct, name string) string   { return "acs:ram:*:" + acct + ":user/" + name }
func groupARN(acct, name string) string  { return "acs:ram:*:" + acct + ":group/" + name }
func policyARN(acct, name string) string { return "acs:ram:*:" + acct + ":policy/" + name }
func allUsersARN(acct string) string     { return "acs:ram:*:" + acct + ":user/*" }
func allGroupsARN(acct string) string    { return "acs:ram:*:" + acct + ":group/*" }

// ARN builders for the route table: the resources a console route names.
var (
	UserARN      = userARN
	GroupARN     = groupARN
	PolicyARN    = policyARN
	AllUsersARN  = allUsersARN
	AllGroupsARN = allGroupsARN
)

// AccountARN is the resource of account-wide settings.
func AccountARN(acct string) string { return "acs:ram:*:" + acct + ":*" }

// notFound is the domain's not-found error with RAM's code.
func notFound(code, what string) *Error {
	return &Error{Kind: ENOTFOUND, Code: code, Message: fmt.Sprintf("The %s does not exist.", what)}
}

func conflict(code, msg string) *Error { return &Error{Kind: ECONFLICT, Code: code, Message: msg} }
func limit(code, msg string) *Error    { return &Error{Kind: ELIMIT, Code: code, Message: msg} }
