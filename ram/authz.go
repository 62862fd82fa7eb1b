package ram

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
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

// effectiveSet is a user's compiled policies as of a generation.
type effectiveSet struct {
	gen uint64
	set *policy.Set
}

// effectivePolicies returns the compiled set of every policy in force for a
// user: the default versions of the policies attached to it and to its
// groups. The set is cached until a change that could alter it.
func (s *Service) effectivePolicies(ctx context.Context, userID string) (*policy.Set, error) {
	gen := s.st.Generation() // read before loading, so a racing change invalidates what we build
	if v, ok := s.sets.Load(userID); ok {
		if es := v.(*effectiveSet); es.gen == gen {
			return es.set, nil
		}
	}
	atts, _, err := s.st.EffectiveAttachments(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.compileSet(ctx, userID, gen, atts)
}

// rolePolicies is effectivePolicies for a role: the default versions of the
// policies attached to it.
func (s *Service) rolePolicies(ctx context.Context, roleID string) (*policy.Set, error) {
	key := "role/" + roleID
	gen := s.st.Generation()
	if v, ok := s.sets.Load(key); ok {
		if es := v.(*effectiveSet); es.gen == gen {
			return es.set, nil
		}
	}
	atts, err := s.st.RoleAttachments(ctx, roleID)
	if err != nil {
		return nil, err
	}
	return s.compileSet(ctx, key, gen, atts)
}

// compileSet compiles attachments into a set and caches it under key.
func (s *Service) compileSet(ctx context.Context, key string, gen uint64, atts []store.Attachment) (*policy.Set, error) {
	compiled := make([]*policy.Compiled, 0, len(atts))
	for _, at := range atts {
		c, err := s.compiledPolicy(ctx, at.PolicyType, at.PolicyName)
		if err != nil {
			return nil, err
		}
		if c != nil {
			compiled = append(compiled, c)
		}
	}
	set := policy.NewSet(compiled...)
	s.sets.Store(key, &effectiveSet{gen: gen, set: set})
	return set, nil
}

// compiledVersion is a custom policy's compiled default version.
type compiledVersion struct {
	version string
	c       *policy.Compiled
}

// compiledPolicy returns the compiled default version of a policy (nil when
// it no longer exists). Custom versions are immutable: the compiled one is
// kept by the policy's UID (never reused, unlike its row id) until another
// version becomes the default or the policy is gone.
func (s *Service) compiledPolicy(ctx context.Context, policyType, name string) (*policy.Compiled, error) {
	if policyType == PolicyTypeSystem {
		return s.system[name], nil
	}
	p, err := s.st.CustomPolicy(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v, ok := s.compiled.Load(p.UID); ok {
		if cv := v.(*compiledVersion); cv.version == p.DefaultVersion {
			return cv.c, nil
		}
	}
	doc, err := s.defaultDocument(ctx, p)
	if doc == nil || err != nil {
		return nil, err
	}
	c := policy.Compile(policy.Source{Type: PolicyTypeCustom, Name: p.PolicyName, Version: p.DefaultVersion, ID: p.UID}, doc)
	s.compiled.Store(p.UID, &compiledVersion{version: p.DefaultVersion, c: c})
	return c, nil
}

// defaultDocument is a custom policy's default version, parsed (nil when
// the version is gone).
func (s *Service) defaultDocument(ctx context.Context, p *store.CustomPolicy) (*policy.Document, error) {
	versions, err := s.st.PolicyVersions(ctx, p.PolicyID)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.VersionID == p.DefaultVersion {
			doc, err := policy.Parse(v.Document)
			if err != nil {
				return nil, fmt.Errorf("ram: stored policy %s %s does not parse: %w", p.PolicyName, v.VersionID, err)
			}
			return doc, nil
		}
	}
	return nil, nil
}

// contexts recycles request contexts: a decision keeps nothing of its
// context (reasons name policies and statements only).
var contexts = sync.Pool{New: func() any { return policy.NewContext(6) }}

// fillContext sets a request's condition keys in pc.
func (s *Service) fillContext(pc *policy.Context, a Actor, acct string) *policy.Context {
	pc.Set(keyCurrentTime, s.Now().Format(time.RFC3339))
	pc.Set(keySecureTransport, strconv.FormatBool(a.SecureTransport))
	pc.Set(keyMFAPresent, strconv.FormatBool(a.MFAPresent))
	if a.SourceIP != "" {
		pc.Set(keySourceIP, a.SourceIP)
	}
	if a.UserAgent != "" {
		pc.Set(keyUserAgent, a.UserAgent)
	}
	switch {
	case a.Session != nil:
		pc.Set(keyPrincipalARN, RoleARN(acct, a.Session.Role.RoleName))
	case a.Name != "" && a.Principal != PrincipalRoot:
		pc.Set(keyPrincipalARN, UserARN(acct, a.Name))
	}
	return pc
}

// The condition keys in lower case, as a Context keeps them: set so, they
// are not lowered again on every request.
var (
	keyCurrentTime     = strings.ToLower(policy.KeyCurrentTime)
	keySecureTransport = strings.ToLower(policy.KeySecureTransport)
	keyMFAPresent      = strings.ToLower(policy.KeyMFAPresent)
	keySourceIP        = strings.ToLower(policy.KeySourceIP)
	keyUserAgent       = strings.ToLower(policy.KeyUserAgent)
	keyPrincipalARN    = strings.ToLower(policy.KeyPrincipalARN)
)

// decide evaluates a request of a RAM user or a role session; reasons are
// computed only for a denial. A role session may do what its role's
// policies allow and, when it has one, its session policy allows too.
func (s *Service) decide(ctx context.Context, a Actor, action string, resources []string) (policy.Decision, *policy.Result, error) {
	return s.evaluate(ctx, a, action, resources, countNone)
}

// What evaluate keeps for the access review.
type counting uint8

const (
	countNone     counting = iota // a navigation check
	countAll                      // a request that runs or is refused
	countRefusals                 // a gate before an operation that counts itself
)

// decideCounted is decide for a request that will run or be refused: the
// decision is kept for the request's event and counted by the access
// review (SPEC §16.1). Navigation checks (permits) use decide.
func (s *Service) decideCounted(ctx context.Context, a Actor, action string, resources []string) (policy.Decision, *policy.Result, error) {
	return s.evaluate(ctx, a, action, resources, countAll)
}

// evaluate is decide, keeping the decision for the access review as count
// says.
func (s *Service) evaluate(ctx context.Context, a Actor, action string, resources []string, count counting) (policy.Decision, *policy.Result, error) {
	var set, narrow *policy.Set
	var err error
	if a.Session != nil {
		set, err = s.rolePolicies(ctx, a.Session.Role.RoleID)
		narrow = a.Session.policy
	} else {
		set, err = s.effectivePolicies(ctx, a.Principal.UserID())
	}
	if err != nil {
		return policy.ImplicitDeny, nil, err
	}
	pc := contexts.Get().(*policy.Context)
	pc.Reset()
	defer contexts.Put(pc)
	req := &policy.Request{Action: action, Resources: resources, Context: s.fillContext(pc, a, s.accountID(ctx))}
	d := set.Evaluate(req)
	credited := set
	if d == policy.Allow && narrow != nil {
		if d = narrow.Evaluate(req); d != policy.Allow {
			set, credited = narrow, narrow // the session policy refused: explain it
		}
	}
	if count == countAll || count == countRefusals && d != policy.Allow {
		s.keepDecision(ctx, a, req, d, credited)
	}
	if d == policy.Allow {
		return d, nil, nil
	}
	res := set.Explain(req)
	return res.Decision, &res, nil
}

// authorize decides whether the actor may do action on every resource. The
// owner may do everything; a RAM user what its policies allow. A refusal is
// audited with errorCode NoPermission and explained in the error's Denial.
func (s *Service) authorize(ctx context.Context, a Actor, action string, rs ...Resource) error {
	return s.authorizeAs(ctx, a, action, "", rs...)
}

// authorizeAs is authorize, recording a refusal under eventName ("" = the
// action's name).
func (s *Service) authorizeAs(ctx context.Context, a Actor, action, eventName string, rs ...Resource) error {
	count := countAll
	if !a.API && apiEventRW(actionName(action)) == "Read" {
		// A console read is a page view, not audited: only its refusal
		// counts (it may precede a change, which counts its own).
		count = countRefusals
	}
	return s.check(ctx, a, action, eventName, count, nil, rs...)
}

// authorizeRead is authorizeAs for an audited read (counted, console or
// not), whose refusal's event shape finishes (its source, eventRW, what it
// reports).
func (s *Service) authorizeRead(ctx context.Context, a Actor, action, eventName string, shape func(*store.Event), rs ...Resource) error {
	return s.check(ctx, a, action, eventName, countAll, shape, rs...)
}

// check is authorizeAs, counting for the access review as count says (a
// refusal is always counted, with its event, which shape, when set,
// finishes).
func (s *Service) check(ctx context.Context, a Actor, action, eventName string, count counting, shape func(*store.Event), rs ...Resource) error {
	switch {
	case a.Principal == PrincipalRoot:
		if count == countAll {
			s.keepRootDecision(ctx, a, action, rs...)
		}
		s.observeDecision(surface(a), true)
		return nil
	case a.Principal == "":
		return &Error{Kind: EAUTH, Code: "InvalidAccessKeyId.NotFound", Message: "Sign in first."}
	}
	var arns [3]string
	resources := arns[:0]
	for _, r := range rs {
		resources = append(resources, r.arn)
	}
	decision, res, err := s.evaluate(ctx, a, action, resources, count)
	if err != nil {
		return err
	}
	s.observeDecision(surface(a), decision == policy.Allow)
	if decision == policy.Allow {
		return nil
	}
	d := explainDenial(action, append([]string(nil), resources...), decision, res)
	acct := s.accountID(ctx)
	name := eventName
	if name == "" {
		name = action
		if i := strings.IndexByte(action, ':'); i >= 0 {
			name = action[i+1:]
		}
	}
	ev := s.event(ctx, a, acct, s.opType(a), name)
	switch {
	case strings.HasPrefix(action, "sts:"):
		ev.EventSource, ev.ServiceName = "sts", "Sts"
	case strings.HasPrefix(action, "gateway:"):
		ev.EventSource = "gateway"
	case a.API && imsEventSource(name) != "":
		ev.EventSource = imsEventSource(name)
	}
	ev.ResourceName = strings.Join(resources, ",")
	ev.AdditionalEventData = map[string]any{"authAction": action, "noPermissionType": d.Type}
	if d.PolicyName != "" {
		ev.AdditionalEventData["deniedBy"] = fmt.Sprintf("%s policy %s, Statement[%d]", d.PolicyType, d.PolicyName, d.Statement)
	}
	if shape != nil {
		shape(ev)
	}
	if err := s.record(ctx, failEvent(ev, "NoPermission", "denied by "+d.Type)); err != nil {
		return err
	}
	return &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "You are not authorized to do this action.", Denial: d}
}

// explainDenial is a refusal's Denial: the action, the resources, the kind
// of deny and, for an explicit one, the statement that denied.
func explainDenial(action string, resources []string, decision policy.Decision, res *policy.Result) *Denial {
	d := &Denial{Action: action, Resources: resources, Type: decision.String()}
	if res != nil && decision == policy.ExplicitDeny {
		for _, m := range res.Matched {
			if m.Effect == policy.EffectDeny {
				d.PolicyType, d.PolicyName, d.Statement = m.PolicyType, m.PolicyName, m.Statement
				break
			}
		}
	}
	return d
}

// Allowed reports, without recording anything, whether the actor may do
// action on every resource (for navigation and buttons).
func (s *Service) Allowed(ctx context.Context, a Actor, action string, refs ...Ref) bool {
	if a.Principal == PrincipalRoot {
		return true
	}
	rs, err := s.resolve(ctx, s.accountID(ctx), refs)
	return err == nil && s.permits(ctx, a, action, rs...)
}

// permits is Allowed over resolved resources.
func (s *Service) permits(ctx context.Context, a Actor, action string, rs ...Resource) bool {
	switch a.Principal {
	case PrincipalRoot:
		return true
	case "":
		return false
	}
	arns := make([]string, len(rs))
	for i, r := range rs {
		arns[i] = r.arn
	}
	d, _, err := s.decide(ctx, a, action, arns)
	return err == nil && d == policy.Allow
}

// AccountID is the account's id ("" before setup).
func (s *Service) AccountID(ctx context.Context) string { return s.accountID(ctx) }

// Authorize lets handlers check a console-only action (a page view) through
// the same rules as the domain operations: each ref is resolved to its
// stored entity first. A refusal is recorded and counted by the access
// review; an allowed check is not counted (the operation it admits counts
// its own decision, and a page view is not counted).
func (s *Service) Authorize(ctx context.Context, a Actor, action string, refs ...Ref) error {
	if a.Principal == PrincipalRoot {
		return nil
	}
	rs, err := s.resolve(ctx, s.accountID(ctx), refs)
	if err != nil {
		return err
	}
	return s.check(ctx, a, action, "", countRefusals, nil, rs...)
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

// notFound is the domain's not-found error with RAM's code.
func notFound(code, what string) *Error {
	return &Error{Kind: ENOTFOUND, Code: code, Message: fmt.Sprintf("The %s does not exist.", what)}
}

func conflict(code, msg string) *Error { return &Error{Kind: ECONFLICT, Code: code, Message: msg} }
func limit(code, msg string) *Error    { return &Error{Kind: ELIMIT, Code: code, Message: msg} }
