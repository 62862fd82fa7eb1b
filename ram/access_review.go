package ram

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
)

// The access review (SPEC §16): what each principal was granted and used,
// which statements of a policy matched, what is unused, from the rollups
// the store keeps of every counted decision.

// The access review's actions and events.
const (
	ActionGetServiceLastAccessedDetails      = "ram:GetServiceLastAccessedDetails"
	ActionGenerateServiceLastAccessedDetails = "ram:GenerateServiceLastAccessedDetails"
	EventGetServiceLastAccessedDetails       = "GetServiceLastAccessedDetails"
	EventGenerateServiceLastAccessedDetails  = "GenerateServiceLastAccessedDetails"
)

// The access pages' window: days, by default and at most.
const (
	AccessDaysDefault = 90
	AccessDaysMax     = 400
)

// AccessWindow is the period a page reports on: Days UTC days ending now,
// from the midnight that starts the first of them (the rollups count per
// UTC day, so the window holds whole days and its counts are exact).
type AccessWindow struct {
	Days     int
	From, To time.Time
}

func (w AccessWindow) fromDay() string { return w.From.Format(time.DateOnly) }

// errAccessDays is the answer to a bad days parameter.
func errAccessDays(msg string) *Error {
	return &Error{Kind: EINVALID, Code: "InvalidParameter.Days", Message: msg, Fields: map[string]string{"days": msg}}
}

// AccessWindow parses a page's days parameter ("" = the default).
func (s *Service) AccessWindow(days string) (AccessWindow, error) {
	retention := int(s.auditRetention.Load())
	n := AccessDaysDefault
	if retention > 0 && n > retention {
		n = retention // the default window is what is kept
	}
	if days != "" {
		v, err := strconv.Atoi(days)
		if err != nil || v < 1 || v > AccessDaysMax {
			return AccessWindow{}, errAccessDays("days must be an integer from 1 to 400")
		}
		n = v
	}
	if retention > 0 && n > retention {
		return AccessWindow{}, errAccessDays("days must not exceed the audit retention of " + strconv.Itoa(retention) + " days")
	}
	now := s.Now().UTC().Truncate(time.Second)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-n)
	return AccessWindow{Days: n, From: from, To: now}, nil
}

// SetAuditRetention tells the access review how many days of events are
// kept (0: all), so that it refuses a window it cannot see.
func (s *Service) SetAuditRetention(days int) { s.auditRetention.Store(int32(days)) }

// AccessAction is one action of a principal's access page.
type AccessAction struct {
	Action       string
	Service      string
	Granted      bool
	AllowedCount int64
	DeniedCount  int64
	LastAllowed  time.Time // zero: never in the window
	LastDenied   time.Time
	Resources    []string
}

// Used reports whether the action was allowed in the window.
func (a AccessAction) Used() bool { return a.AllowedCount > 0 }

// PrincipalAccess is a user's, group's or role's access page.
type PrincipalAccess struct {
	Principal     string // its principal ARN
	PrincipalType string // user, group, role
	Name          string
	Window        AccessWindow
	Actions       []AccessAction // sorted by action, case-insensitively
}

// The principal kinds of the access pages.
const (
	AccessUser  = "user"
	AccessGroup = "group"
	AccessRole  = "role"
)

// GroupARN is a group's ARN in principal form.
func GroupARN(acct, name string) string { return "acs:ram::" + acct + ":group/" + name }

// PrincipalAccess reports what a user, group or role was granted and used
// in the window. It needs ram:GetServiceLastAccessedDetails on the
// principal's ARN; every view is recorded.
func (s *Service) PrincipalAccess(ctx context.Context, a Actor, kind, name string, w AccessWindow) (*PrincipalAccess, error) {
	acct := s.accountID(ctx)
	out := &PrincipalAccess{PrincipalType: kind, Window: w}
	var res Resource
	var keys []string
	var groupID string
	var set *policy.Set
	var err error
	switch kind {
	case AccessUser:
		u, gerr := s.st.UserByName(ctx, name)
		if u != nil {
			res, out.Name, out.Principal = userResource(acct, u), u.UserName, UserARN(acct, u.UserName)
			keys = []string{"user/" + u.UserID}
		}
		if err := s.authorizeView(ctx, a, acct, res, gerr, kind, name); err != nil {
			return nil, err
		}
		set, err = s.effectivePolicies(ctx, u.UserID)
	case AccessGroup:
		g, gerr := s.st.GroupByName(ctx, name)
		if g != nil {
			res, out.Name, out.Principal = groupResource(acct, g), g.GroupName, GroupARN(acct, g.GroupName)
			groupID = g.GroupID
		}
		if err := s.authorizeView(ctx, a, acct, res, gerr, kind, name); err != nil {
			return nil, err
		}
		atts, aerr := s.st.GroupAttachments(ctx, g.GroupID)
		if aerr != nil {
			return nil, aerr
		}
		set, err = s.compileAttachments(ctx, atts)
	case AccessRole:
		r, gerr := s.st.RoleByName(ctx, name)
		if r != nil {
			res, out.Name, out.Principal = roleResource(acct, r), r.RoleName, RoleARN(acct, r.RoleName)
			keys = []string{"role/" + r.RoleID}
		}
		if err := s.authorizeView(ctx, a, acct, res, gerr, kind, name); err != nil {
			return nil, err
		}
		set, err = s.rolePolicies(ctx, r.RoleID)
	default:
		return nil, &Error{Kind: ENOTFOUND, Code: "EntityNotExist", Message: "No such principal."}
	}
	if err != nil {
		return nil, err
	}
	if err := s.st.Settle(ctx); err != nil { // calls answered still in the journal
		return nil, err
	}
	var calls []store.AccessCall
	if kind == AccessGroup {
		calls, err = s.st.GroupAccessCalls(ctx, groupID, w.fromDay()) // its current members'
	} else {
		calls, err = s.st.AccessCalls(ctx, keys, w.fromDay())
	}
	if err != nil {
		return nil, err
	}
	known, err := s.knownActions(ctx)
	if err != nil {
		return nil, err
	}
	entries := map[string]*AccessAction{}
	entry := func(action string) *AccessAction {
		k := strings.ToLower(action)
		e := entries[k]
		if e == nil {
			spelled := action
			if cat, ok := known[k]; ok {
				spelled = cat
			}
			e = &AccessAction{Action: spelled, Service: serviceOf(spelled), Granted: set.Grants(spelled)}
			entries[k] = e
		}
		return e
	}
	for _, action := range known {
		if set.Grants(action) {
			entry(action)
		}
	}
	resources := map[string]map[string]bool{}
	for _, c := range calls {
		if kind == AccessGroup && !set.Grants(c.Action) {
			continue // a group counts its members' use of what it grants
		}
		e := entry(c.Action)
		e.AllowedCount += c.Allowed
		e.DeniedCount += c.Denied
		e.LastAllowed = laterTime(e.LastAllowed, c.LastAllowed)
		e.LastDenied = laterTime(e.LastDenied, c.LastDenied)
		if c.Allowed > 0 {
			k := strings.ToLower(e.Action)
			if resources[k] == nil {
				resources[k] = map[string]bool{}
			}
			for _, r := range c.Resources {
				resources[k][r] = true
			}
		}
	}
	for k, e := range entries {
		for r := range resources[k] {
			e.Resources = append(e.Resources, r)
		}
		sort.Strings(e.Resources)
		out.Actions = append(out.Actions, *e)
	}
	sort.Slice(out.Actions, func(i, j int) bool {
		return strings.ToLower(out.Actions[i].Action) < strings.ToLower(out.Actions[j].Action)
	})
	ev := s.event(ctx, a, acct, EventConsoleOperation, EventGetServiceLastAccessedDetails)
	ev.EventRW, ev.ResourceName = "Read", res.arn
	ev.RequestParameters = map[string]any{"days": w.Days}
	return out, s.record(ctx, ev)
}

// accessRead finishes the event of a refused view: a console read, and for
// the account-wide reports which one.
func accessRead(report string) func(*store.Event) {
	return func(ev *store.Event) {
		ev.EventType, ev.EventRW = EventConsoleOperation, "Read"
		if report != "" {
			ev.AdditionalEventData["report"] = report
		}
	}
}

// accessNotFound is a lookup's error as the access pages answer it.
func (s *Service) accessNotFound(err error, code, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(code, what)
	}
	return err
}

// accessEntityCodes are the not-found codes of the viewed kinds.
var accessEntityCodes = map[string]string{AccessUser: "EntityNotExist.User", AccessGroup: "EntityNotExist.Group",
	AccessRole: "EntityNotExist.Role", "policy": "EntityNotExist.Policy"}

// authorizeView authorises a view of kind/name: on the stored entity's ARN
// (res) when the lookup found it (lookupErr nil), else on the name as
// spelled, so that a refusal never tells whether it exists. A view of one
// that does not exist, by a viewer who may look, is recorded and answered
// not found.
func (s *Service) authorizeView(ctx context.Context, a Actor, acct string, res Resource, lookupErr error, kind, name string) error {
	if lookupErr != nil && !errors.Is(lookupErr, store.ErrNotFound) {
		return lookupErr
	}
	if lookupErr != nil {
		res = unresolved(acct, kind, name)
	}
	if err := s.authorizeRead(ctx, a, ActionGetServiceLastAccessedDetails, EventGetServiceLastAccessedDetails, accessRead(""), res); err != nil {
		return err
	}
	if lookupErr == nil {
		return nil
	}
	e := notFound(accessEntityCodes[kind], kind)
	ev := s.event(ctx, a, acct, EventConsoleOperation, EventGetServiceLastAccessedDetails)
	ev.EventRW, ev.ResourceName = "Read", res.arn
	if err := s.record(ctx, failEvent(ev, e.Code, e.Message)); err != nil {
		return err
	}
	return e
}

// compileAttachments compiles a group's attachments (groups are not cached:
// their page is rare).
func (s *Service) compileAttachments(ctx context.Context, atts []store.Attachment) (*policy.Set, error) {
	compiled := make([]*policy.Compiled, 0, len(atts))
	for _, at := range atts {
		c, err := s.compiledPolicy(ctx, at.PolicyType, at.PolicyName)
		if err != nil {
			return nil, err
		}
		compiled = append(compiled, c)
	}
	return policy.NewSet(compiled...), nil
}

// knownActions are the actions the access pages list when granted (SPEC
// §16.2), by lower-case name: ramconsole's own, and every action the
// gateway's services name in their rules or resources.
func (s *Service) knownActions(ctx context.Context) (map[string]string, error) {
	out := make(map[string]string, len(knownActions)+32)
	for _, a := range knownActions {
		out[strings.ToLower(a)] = a
	}
	svs, err := s.st.ResourceServices(ctx, "", 1<<30)
	if err != nil {
		return nil, err
	}
	for i := range svs {
		rs, err := toResourceService(&svs[i])
		if err != nil || rs.ServiceDef == nil {
			continue
		}
		add := func(name string) {
			if name != "" && !strings.ContainsAny(name, "*?") {
				action := rs.ServiceDef.Code + ":" + name
				out[strings.ToLower(action)] = action
			}
		}
		for name := range rs.ServiceDef.Resources {
			add(name)
		}
		for _, r := range rs.ServiceDef.Rules {
			add(r.Action)
		}
	}
	return out, nil
}

// serviceOf is an action's service part.
func serviceOf(action string) string {
	svc, _, _ := strings.Cut(action, ":")
	return strings.ToLower(svc)
}

func laterTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// StatementPrincipal is a principal credited with a statement's use.
type StatementPrincipal struct {
	Principal string // ARN
	Type      string // user, role, root
	Name      string
	Count     int64
	LastUsed  time.Time
}

// StatementUse is one statement of a policy's access page.
type StatementUse struct {
	Statement  int
	Effect     string
	Count      int64
	LastUsed   time.Time
	Principals []StatementPrincipal // latest first
}

// PolicyAccess is a policy's access page: per statement of its default
// version, how often it decided a request in the window, and for whom.
type PolicyAccess struct {
	PolicyType, PolicyName, Version string
	Window                          AccessWindow
	Statements                      []StatementUse
}

// PolicyAccess reports the use of each statement of a policy's default
// version in the window. It needs ram:GetServiceLastAccessedDetails on the
// policy's ARN; every view is recorded.
func (s *Service) PolicyAccess(ctx context.Context, a Actor, policyType, name string, w AccessWindow) (*PolicyAccess, error) {
	acct := s.accountID(ctx)
	pv, err := s.accessPolicy(ctx, acct, policyType, name)
	var res Resource
	if err == nil {
		res = pv.res
	}
	lookupErr := err
	if e, ok := AsError(err); ok && e.Kind == ENOTFOUND {
		lookupErr = store.ErrNotFound
	}
	if err := s.authorizeView(ctx, a, acct, res, lookupErr, "policy", name); err != nil {
		return nil, err
	}
	out := &PolicyAccess{PolicyType: pv.policyType, PolicyName: pv.name, Version: pv.version, Window: w}
	for i, st := range pv.doc.Statements {
		out.Statements = append(out.Statements, StatementUse{Statement: i, Effect: st.Effect})
	}
	if err := s.st.Settle(ctx); err != nil { // calls answered still in the journal
		return nil, err
	}
	uses, err := s.st.AccessStatementUse(ctx, pv.key, pv.version, w.fromDay())
	if err != nil {
		return nil, err
	}
	for _, u := range uses {
		if u.Statement < 0 || u.Statement >= len(out.Statements) {
			continue
		}
		st := &out.Statements[u.Statement]
		st.Count += u.Count
		st.LastUsed = laterTime(st.LastUsed, u.LastUsed)
		if p, ok := accessPrincipalNamed(acct, u.Principal, u.Name); ok {
			p.Count, p.LastUsed = u.Count, u.LastUsed
			st.Principals = append(st.Principals, p)
		}
	}
	for i := range out.Statements {
		ps := out.Statements[i].Principals
		sort.Slice(ps, func(x, y int) bool {
			if !ps[x].LastUsed.Equal(ps[y].LastUsed) {
				return ps[x].LastUsed.After(ps[y].LastUsed)
			}
			return ps[x].Principal < ps[y].Principal
		})
	}
	ev := s.event(ctx, a, acct, EventConsoleOperation, EventGetServiceLastAccessedDetails)
	ev.EventRW, ev.ResourceName = "Read", pv.res.arn
	ev.RequestParameters = map[string]any{"days": w.Days, "PolicyType": pv.policyType, "PolicyName": pv.name}
	return out, s.record(ctx, ev)
}

// accessPolicyVersion is a policy's default version as the access review
// reads it.
type accessPolicyVersion struct {
	policyType, name, version string
	key                       string // the rollups' key
	res                       Resource
	doc                       *policy.Document
}

// accessPolicy reads a policy's default version.
func (s *Service) accessPolicy(ctx context.Context, acct, policyType, name string) (*accessPolicyVersion, error) {
	switch policyType {
	case PolicyTypeSystem:
		for _, sp := range policy.SystemPolicies() {
			if strings.EqualFold(sp.Name, name) {
				doc, err := policy.Parse(sp.Document)
				if err != nil {
					return nil, err
				}
				return &accessPolicyVersion{policyType: PolicyTypeSystem, name: sp.Name, version: systemPolicyVersion,
					key: store.PolicyKey(PolicyTypeSystem, sp.Name), res: systemPolicyResource(sp), doc: doc}, nil
			}
		}
	case PolicyTypeCustom:
		p, err := s.st.CustomPolicy(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		doc, err := s.defaultDocument(ctx, p)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			return &accessPolicyVersion{policyType: PolicyTypeCustom, name: p.PolicyName, version: p.DefaultVersion,
				key: store.PolicyKey(PolicyTypeCustom, p.UID), res: customPolicyResource(acct, p), doc: doc}, nil
		}
	}
	return nil, notFound("EntityNotExist.Policy", "policy")
}

// accessPrincipalNamed is a rollup key's principal, by the name it has
// today; false when it was deleted.
func accessPrincipalNamed(acct, key, name string) (StatementPrincipal, bool) {
	kind, _, _ := strings.Cut(key, "/")
	switch {
	case kind == "root":
		return StatementPrincipal{Principal: RootARN(acct), Type: "root", Name: "root"}, true
	case name == "":
		return StatementPrincipal{}, false
	case kind == AccessUser:
		return StatementPrincipal{Principal: UserARN(acct, name), Type: AccessUser, Name: name}, true
	case kind == AccessRole:
		return StatementPrincipal{Principal: RoleARN(acct, name), Type: AccessRole, Name: name}, true
	}
	return StatementPrincipal{}, false
}
