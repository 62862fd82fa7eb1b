package ram

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"ramconsole/store"
)

// The audit log's types, as the store keeps them.
type (
	// AuditEvent is an event with its place in the hash chain.
	AuditEvent = store.StoredEvent
	// EventFilter selects events for the audit page and its exports.
	EventFilter = store.EventFilter
	// EventPage is a page of events, newest first.
	EventPage = store.EventPage
	// RawEvent is an event as an export streams it.
	RawEvent = store.RawEvent
	// ChainReport says whether the hash chain verifies.
	ChainReport = store.ChainReport
	// Pruned describes a retention run.
	Pruned = store.Pruned
)

// Results an EventFilter selects, and the owner's userName in events.
const (
	ResultSuccess = store.ResultSuccess
	ResultFailure = store.ResultFailure
	RootUserName  = store.RootUserName
)

// Audit log names: the action that reads it, and its events.
const (
	ActionLookupEvents    = "actiontrail:LookupEvents"
	EventExportEvents     = "ExportEvents"
	EventPruneEvents      = store.PruneEventName
	EventVerifyAuditChain = "VerifyAuditChain"
)

// auditChain remembers how far the chain has verified, so the audit page
// checks only the events added since its last view. A long backlog (the
// first view after start on a big log) is verified in the background.
type auditChain struct {
	mu      sync.Mutex
	mark    store.ChainMark
	last    ChainReport
	known   bool // last holds a result
	running bool // a background verification is catching up

	// A full verification (every event again, from the checkpoint) runs
	// hourly and on request, one at a time: the incremental check above
	// cannot see an older event edited since it was verified.
	full        sync.Mutex // held while one runs
	fullAt      time.Time  // when the last one finished (under mu)
	fullRunning bool       // under mu
}

// FullVerifyEvery is how often the server verifies the whole chain again.
const FullVerifyEvery = time.Hour

// syncVerifyLimit is the most events a page view verifies itself; a longer
// backlog is left to a background verification.
const syncVerifyLimit = 100_000

// Integrity is the hash chain's state for the audit page.
type Integrity struct {
	ChainReport
	// Known is false until a first verification has finished.
	Known bool
	// Verifying is true while a background verification catches up.
	Verifying bool
	// FullAt is when the last full verification finished (zero: none yet);
	// FullRunning is true while one runs.
	FullAt      time.Time
	FullRunning bool
}

// LookupEvents returns a page of the events matching f, newest first.
// Reading the log is not itself recorded (SPEC §7); refusals are.
func (s *Service) LookupEvents(ctx context.Context, a Actor, f EventFilter, limit int) (EventPage, error) {
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return EventPage{}, err
	}
	return s.st.EventPage(ctx, f, limit)
}

// GetEvent returns the event with eventId id.
func (s *Service) GetEvent(ctx context.Context, a Actor, id string) (*AuditEvent, error) {
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return nil, err
	}
	ev, err := s.st.EventByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EntityNotExist.Event", "event")
	}
	return ev, err
}

// ExportEvents streams the events matching f, oldest first, to each. The
// export is recorded (with the filter as requestParameters) before the first
// event is read, and lists the events that existed at that moment.
func (s *Service) ExportEvents(ctx context.Context, a Actor, f EventFilter, format string, each func(e *RawEvent) error) error {
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return err
	}
	head, err := s.st.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	ev := s.event(ctx, a, s.accountID(ctx), s.opType(a), EventExportEvents)
	ev.EventSource = "actiontrail"
	ev.ServiceName = "ActionTrail"
	ev.RequestParameters = filterParams(f, format)
	if err := s.record(ctx, ev); err != nil {
		return err
	}
	if head == 0 {
		return nil
	}
	f.Through = head
	return s.st.EachEvent(ctx, f, each)
}

// filterParams is a filter as an event's requestParameters.
func filterParams(f EventFilter, format string) map[string]any {
	p := map[string]any{"Format": format}
	for k, v := range map[string]string{"UserName": f.UserName, "EventName": f.EventName, "Result": f.Result,
		"SourceIpAddress": f.SourceIP, "AccessKeyId": f.AccessKeyID} {
		if v != "" {
			p[k] = v
		}
	}
	if !f.From.IsZero() {
		p["StartTime"] = f.From.UTC().Format(time.RFC3339Nano)
	}
	if !f.To.IsZero() {
		p["EndTime"] = f.To.UTC().Format(time.RFC3339Nano)
	}
	return p
}

// AuditIntegrity verifies the hash chain for the audit page: the first call
// walks it from the latest checkpoint, later ones only the events added
// since (and the last one verified, again). A backlog of more than
// syncVerifyLimit events is verified in the background while the page shows
// the last result. A full check of every event is `ramconsole audit verify`.
func (s *Service) AuditIntegrity(ctx context.Context, a Actor) (Integrity, error) {
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return Integrity{}, err
	}
	c := &s.audit
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return Integrity{ChainReport: c.last, Known: c.known, Verifying: true, FullAt: c.fullAt, FullRunning: c.fullRunning}, nil
	}
	head, err := s.st.LastEventSeq(ctx)
	if err != nil {
		return Integrity{}, err
	}
	if head-c.mark.Seq > syncVerifyLimit {
		c.running = true
		go s.verifyInBackground(c.mark)
		return Integrity{ChainReport: c.last, Known: c.known, Verifying: true, FullAt: c.fullAt, FullRunning: c.fullRunning}, nil
	}
	rep, mark, err := s.st.VerifyChainFrom(ctx, c.mark)
	if err != nil {
		return Integrity{}, err
	}
	c.mark, c.last, c.known = mark, rep, true // a zero mark when broken: the next view starts over
	return Integrity{ChainReport: rep, Known: true, FullAt: c.fullAt, FullRunning: c.fullRunning}, nil
}

// VerifyAuditChainFully verifies every event again, from the latest
// retention checkpoint, and makes the result the audit page's. One runs at
// a time: a call while another runs returns at once (the running one
// reports). The server calls it every FullVerifyEvery.
func (s *Service) VerifyAuditChainFully(ctx context.Context) error {
	c := &s.audit
	if !c.full.TryLock() {
		return nil
	}
	defer c.full.Unlock()
	c.mu.Lock()
	c.fullRunning = true
	c.mu.Unlock()
	rep, mark, err := s.st.VerifyChainFrom(ctx, store.ChainMark{})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fullRunning = false
	if err != nil {
		return err
	}
	c.fullAt = s.Now()
	switch {
	case !rep.OK:
		c.mark, c.last, c.known = store.ChainMark{}, rep, true
	case mark.Seq >= c.mark.Seq || !c.last.OK:
		c.mark, c.last, c.known = mark, rep, true
	}
	return nil
}

// VerifyAuditNow is the audit page's "Verify now": a full verification,
// recorded as a VerifyAuditChain event. A log of up to syncVerifyLimit
// events is verified before this returns; a longer one in the background.
func (s *Service) VerifyAuditNow(ctx context.Context, a Actor) error {
	if err := s.authorize(ctx, a, ActionLookupEvents, anyResource); err != nil {
		return err
	}
	ev := s.event(ctx, a, s.accountID(ctx), s.opType(a), EventVerifyAuditChain)
	ev.EventSource = "actiontrail"
	ev.ServiceName = "ActionTrail"
	if err := s.record(ctx, ev); err != nil {
		return err
	}
	head, err := s.st.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	if head > syncVerifyLimit {
		go s.VerifyAuditChainFully(context.Background())
		return nil
	}
	return s.VerifyAuditChainFully(ctx)
}

func (s *Service) verifyInBackground(from store.ChainMark) {
	rep, mark, err := s.st.VerifyChainFrom(context.Background(), from)
	c := &s.audit
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
	if err == nil { // the store closed, say: the next view tries again
		c.mark, c.last, c.known = mark, rep, true
	}
}

// PruneAuditLog deletes the events older than days days, keeping the rest
// verifiable through a checkpoint, and records the pruning as a PruneEvents
// event (eventSource host). It does nothing when days is 0 or nothing is old
// enough.
func (s *Service) PruneAuditLog(ctx context.Context, a Actor, days int) (Pruned, error) {
	if days <= 0 {
		return Pruned{}, nil
	}
	acct := s.accountID(ctx)
	cutoff := s.Now().Add(-time.Duration(days) * 24 * time.Hour)
	return s.st.PruneEvents(ctx, cutoff, func(p Pruned) *store.Event {
		host := Actor{Principal: PrincipalRoot, RequestID: a.RequestID, SourceIP: a.SourceIP, UserAgent: a.UserAgent}
		ev := s.event(ctx, host, acct, EventConsoleOperation, EventPruneEvents)
		ev.EventSource = "host"
		ev.RequestParameters = map[string]any{"RetentionDays": days, "Cutoff": cutoff.UTC().Format(time.RFC3339Nano)}
		ev.AdditionalEventData = map[string]any{"count": p.Count}
		return ev
	})
}

// Subject is a user, group or policy an event concerns.
type Subject struct {
	Kind       string // user | group | policy
	Name       string
	PolicyType string // for a policy: System or Custom
	Exists     bool
}

// EventSubjects lists the users, groups and policies ev names (its
// requestParameters, its resource ARNs and the RAM user who acted) and
// whether each still exists.
func (s *Service) EventSubjects(ctx context.Context, ev *AuditEvent) []Subject {
	var out []Subject
	seen := map[string]bool{}
	add := func(kind, name, ptype string) {
		if name == "" || seen[kind+"/"+ptype+"/"+name] {
			return
		}
		seen[kind+"/"+ptype+"/"+name] = true
		out = append(out, Subject{Kind: kind, Name: name, PolicyType: ptype, Exists: s.subjectExists(ctx, kind, name, ptype)})
	}
	str := func(k string) string { v, _ := ev.RequestParameters[k].(string); return v }
	if ev.UserIdentity.Type == "ram-user" {
		add("user", ev.UserIdentity.UserName, "")
	}
	add("user", str("UserName"), "")
	add("user", str("NewUserName"), "")
	add("group", str("GroupName"), "")
	add("group", str("NewGroupName"), "")
	if name := str("PolicyName"); name != "" {
		ptype := str("PolicyType")
		if ptype == "" {
			ptype = PolicyTypeCustom
		}
		add("policy", name, ptype)
	}
	for _, arn := range strings.Split(ev.ResourceName, ",") {
		parts := strings.SplitN(arn, ":", 5)
		if len(parts) != 5 || parts[0] != "acs" || parts[1] != "ram" {
			continue
		}
		kind, name, ok := strings.Cut(parts[4], "/")
		if !ok || strings.ContainsAny(name, "*?") {
			continue
		}
		switch kind {
		case "user", "group":
			add(kind, name, "")
		case "policy":
			add("policy", name, PolicyTypeCustom)
		}
	}
	return out
}

func (s *Service) subjectExists(ctx context.Context, kind, name, ptype string) bool {
	switch kind {
	case "user":
		_, err := s.st.UserByName(ctx, name)
		return err == nil
	case "group":
		_, err := s.st.GroupByName(ctx, name)
		return err == nil
	case "policy":
		_, err := s.canonicalPolicy(ctx, s.st, ptype, name)
		return err == nil
	}
	return false
}
