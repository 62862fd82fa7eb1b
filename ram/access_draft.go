package ram

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"ramconsole/policy"
)

// The least-privilege draft (SPEC §16.6): a policy built from what a
// principal was allowed to do, then proven by replaying every observed call
// through the enforcing evaluator against the draft alone.

// draftResourceLimit is how many distinct resources an action may be seen
// on before its statement names "*" instead.
const draftResourceLimit = 10

// DraftCall is one distinct observed (action, resource set).
type DraftCall struct {
	Action         string
	Resources      []string
	Count          int64
	AllowedByDraft bool
}

// PolicyDraft is a generated policy and its replay.
type PolicyDraft struct {
	Principal      string // ARN
	PrincipalName  string // user/<name> or role/<name>
	From, To       time.Time
	Document       string // the draft, compact JSON (what CreatePolicy takes)
	Pretty         string // the same, indented for people
	Observed       int
	AllowedByDraft int
	Calls          []DraftCall
	Denied         []DraftCall
}

// Proven reports whether the draft allows every call it was drafted from
// (a draft of no call is no policy: it has no statement).
func (d *PolicyDraft) Proven() bool { return d.Observed > 0 && d.AllowedByDraft == d.Observed }

// errDraft is a bad draft parameter, named.
func errDraft(field, msg string) *Error {
	return &Error{Kind: EINVALID, Code: "InvalidParameter." + strings.ToUpper(field[:1]) + field[1:], Message: msg,
		Fields: map[string]string{field: msg}}
}

// parseDraftTime reads from/to: RFC 3339, or a date (UTC midnight; for to,
// the end of that day).
func parseDraftTime(field, v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, nil
	}
	return time.Time{}, errDraft(field, field+" must be a time (RFC 3339) or a date (YYYY-MM-DD)")
}

// GeneratePolicy drafts a least-privilege policy from a user's or role's
// allowed requests between from and to, and replays them against it. It
// needs ram:GenerateServiceLastAccessedDetails on "*"; every draft is
// recorded. Nothing is created or attached.
func (s *Service) GeneratePolicy(ctx context.Context, a Actor, principal, from, to string) (*PolicyDraft, error) {
	if err := s.authorizeRead(ctx, a, ActionGenerateServiceLastAccessedDetails, EventGenerateServiceLastAccessedDetails, accessRead("policy"), anyResource); err != nil {
		return nil, err
	}
	acct := s.accountID(ctx)
	d := &PolicyDraft{PrincipalName: principal}
	kind, name, _ := strings.Cut(principal, "/")
	var key string
	switch {
	case kind == AccessUser && name != "":
		u, err := s.st.UserByName(ctx, name)
		if err != nil {
			return nil, s.accessNotFound(err, "EntityNotExist.User", "user")
		}
		key, d.Principal, d.PrincipalName = "user/"+u.UserID, UserARN(acct, u.UserName), "user/"+u.UserName
	case kind == AccessRole && name != "":
		r, err := s.st.RoleByName(ctx, name)
		if err != nil {
			return nil, s.accessNotFound(err, "EntityNotExist.Role", "role")
		}
		key, d.Principal, d.PrincipalName = "role/"+r.RoleID, RoleARN(acct, r.RoleName), "role/"+r.RoleName
	default:
		return nil, errDraft("principal", "principal must be user/<name> or role/<name>")
	}
	var err error
	d.To = s.Now().UTC().Truncate(time.Second)
	if to != "" {
		if d.To, err = parseDraftTime("to", to, true); err != nil {
			return nil, err
		}
	}
	var kept time.Time // the oldest time the audit retention keeps (zero: all)
	if r := int(s.auditRetention.Load()); r > 0 {
		kept = s.Now().UTC().Truncate(time.Second).AddDate(0, 0, -r)
	}
	if d.From = d.To.AddDate(0, 0, -AccessDaysDefault); d.From.Before(kept) {
		d.From = kept // the default period is what is kept
	}
	if from != "" {
		if d.From, err = parseDraftTime("from", from, false); err != nil {
			return nil, err
		}
	}
	switch {
	case d.From.After(d.To):
		return nil, errDraft("from", "from must not be after to")
	case d.To.Sub(d.From) > AccessDaysMax*24*time.Hour:
		return nil, errDraft("from", "the window from from to to must not exceed 400 days")
	}
	if d.From.Before(kept) {
		return nil, errDraft("from", "from must not be before the audit retention's start")
	}
	if err := s.st.Settle(ctx); err != nil { // calls answered still in the journal
		return nil, err
	}
	rows, err := s.st.AccessCalls(ctx, []string{key}, d.From.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	known, err := s.knownActions(ctx)
	if err != nil {
		return nil, err
	}
	toDay := d.To.Format(time.DateOnly)
	type observed struct {
		call               DraftCall
		ip                 string
		mfa, secure        bool
		at                 time.Time
		allowed, denied    int64
		firstSeen, spelled string
	}
	calls := map[string]*observed{}
	var order []string
	for _, r := range rows {
		if r.Day > toDay {
			continue
		}
		k := strings.ToLower(r.Action) + "\x00" + strings.Join(r.Resources, "\x00")
		o := calls[k]
		if o == nil {
			spelled := r.Action
			if cat, ok := known[strings.ToLower(r.Action)]; ok {
				spelled = cat
			}
			o = &observed{call: DraftCall{Action: spelled, Resources: r.Resources}}
			calls[k] = o
			order = append(order, k)
		}
		o.allowed += r.Allowed
		o.denied += r.Denied
		if at := laterTime(r.LastAllowed, r.LastDenied); !at.Before(o.at) {
			o.at, o.ip, o.mfa, o.secure = at, r.LastIP, r.MFAPresent, r.Secure
		}
	}
	sort.Strings(order)
	var allowed []*observed
	for _, k := range order {
		o := calls[k]
		if o.allowed > 0 {
			c := o.call
			c.Count = o.allowed
			o.call = c
			allowed = append(allowed, o)
		}
		if o.denied > 0 {
			c := o.call
			c.Count = o.denied
			d.Denied = append(d.Denied, c)
		}
	}
	observedCalls := make([]DraftCall, len(allowed))
	for i, o := range allowed {
		observedCalls[i] = o.call
	}
	doc := draftDocument(observedCalls)
	d.Document = doc
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(doc), "", "  "); err == nil {
		d.Pretty = pretty.String()
	}
	// The replay: each observed call, with its recorded context, against
	// the draft alone.
	parsed, perr := policy.Parse(doc)
	var set *policy.Set
	if perr == nil {
		set = policy.NewSet(policy.Compile(policy.Source{Type: "Draft", Name: "draft", Version: "-"}, parsed))
	}
	pc := policy.NewContext(6)
	for _, o := range allowed {
		pc.Reset()
		replayActor := Actor{SourceIP: o.ip, MFAPresent: o.mfa, SecureTransport: o.secure}
		s.fillContext(pc, replayActor, acct)
		c := o.call
		c.AllowedByDraft = set != nil && set.Evaluate(&policy.Request{Action: c.Action, Resources: c.Resources, Context: pc}) == policy.Allow
		d.Calls = append(d.Calls, c)
		if c.AllowedByDraft {
			d.AllowedByDraft++
		}
	}
	d.Observed = len(d.Calls)
	ev := s.event(ctx, a, acct, EventConsoleOperation, EventGenerateServiceLastAccessedDetails)
	ev.EventRW, ev.ResourceName = "Read", anyResource.arn
	ev.RequestParameters = map[string]any{"principal": d.PrincipalName, "from": d.From.Format(time.RFC3339), "to": d.To.Format(time.RFC3339)}
	ev.AdditionalEventData = map[string]any{"report": "policy", "observed": d.Observed, "allowedByDraft": d.AllowedByDraft}
	return d, s.record(ctx, ev)
}

// draftStatement is a statement of a draft, in the document's key order.
type draftStatement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

type draftDoc struct {
	Version   string           `json:"Version"`
	Statement []draftStatement `json:"Statement"`
}

// draftDocument builds the draft from the allowed calls: one Allow per
// service and resource set, "*" for an action seen on more than
// draftResourceLimit resources, and, while the document is too long, "*"
// action by action, most resources first.
func draftDocument(calls []DraftCall) string {
	type actionUse struct {
		action    string
		resources map[string]bool
		any       bool
	}
	uses := map[string]*actionUse{}
	for _, c := range calls {
		k := strings.ToLower(c.Action)
		u := uses[k]
		if u == nil {
			u = &actionUse{action: c.Action, resources: map[string]bool{}}
			uses[k] = u
		}
		for _, r := range c.Resources {
			u.resources[r] = true
		}
	}
	list := make([]*actionUse, 0, len(uses))
	for _, u := range uses {
		u.any = len(u.resources) > draftResourceLimit || u.resources["*"]
		list = append(list, u)
	}
	build := func() string {
		type group struct {
			service   string
			resources []string
			actions   []string
		}
		groups := map[string]*group{}
		for _, u := range list {
			rs := []string{"*"}
			if !u.any {
				rs = rs[:0]
				for r := range u.resources {
					rs = append(rs, r)
				}
				sort.Strings(rs)
			}
			svc := serviceOf(u.action)
			k := svc + "\x00" + strings.Join(rs, "\x00")
			g := groups[k]
			if g == nil {
				g = &group{service: svc, resources: rs}
				groups[k] = g
			}
			g.actions = append(g.actions, u.action)
		}
		gs := make([]*group, 0, len(groups))
		for _, g := range groups {
			sort.Slice(g.actions, func(i, j int) bool { return strings.ToLower(g.actions[i]) < strings.ToLower(g.actions[j]) })
			gs = append(gs, g)
		}
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].service != gs[j].service {
				return gs[i].service < gs[j].service
			}
			return strings.ToLower(gs[i].actions[0]) < strings.ToLower(gs[j].actions[0])
		})
		doc := draftDoc{Version: "1", Statement: []draftStatement{}}
		for _, g := range gs {
			doc.Statement = append(doc.Statement, draftStatement{Effect: "Allow", Action: g.actions, Resource: g.resources})
		}
		b, _ := json.Marshal(doc)
		return string(b)
	}
	doc := build()
	for utf8.RuneCountInString(doc) > policy.MaxDocumentLength {
		var widest *actionUse
		for _, u := range list {
			if !u.any && (widest == nil || len(u.resources) > len(widest.resources) ||
				len(u.resources) == len(widest.resources) && strings.ToLower(u.action) < strings.ToLower(widest.action)) {
				widest = u
			}
		}
		if widest == nil {
			break // every action is "*" already: the actions alone are too many
		}
		widest.any = true
		doc = build()
	}
	return doc
}

// MayDraft checks that the viewer of the empty draft form may draft
// policies; a refusal is recorded as a refused draft.
func (s *Service) MayDraft(ctx context.Context, a Actor) error {
	return s.authorizeRead(ctx, a, ActionGenerateServiceLastAccessedDetails, EventGenerateServiceLastAccessedDetails, accessRead("policy"), anyResource)
}
