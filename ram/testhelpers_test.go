package ram

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/store"
)

// The direct tests of the domain files share these helpers: actors with
// chosen permissions, the audit events an operation writes, and a snapshot
// of everything an operation may change, to show that a refused one
// changed nothing.

// part is a group of rules of a domain file, run on an account that the
// other parts share: each part names its own users, groups, policies and
// roles.
type part struct {
	name string
	run  func(t *testing.T, e *testEnv)
}

// onOneAccount runs the parts in order on one new account (its setup,
// with two password hashes, is most of a part's cost), in parallel with
// the package's other tests.
func onOneAccount(t *testing.T, parts ...part) {
	t.Parallel()
	e := newTestEnv(t)
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) { p.run(t, e) })
	}
}

// ignore drops an operation's result and keeps its error.
func ignore[T any](_ T, err error) error { return err }

// ignore2 is ignore for operations with two results.
func ignore2[T, U any](_ T, _ U, err error) error { return err }

// ptr points at a copy of v, for the optional fields of updates.
func ptr[T any](v T) *T { return &v }

// actorOf is a RAM user acting in the console.
func actorOf(u *User) Actor {
	return Actor{Principal: UserPrincipal(u.UserID), Name: u.UserName, RequestID: NewRequestID(), SourceIP: "192.0.2.20"}
}

// newUser creates a RAM user (no AccessKey) with the given system policies.
func (e *testEnv) newUser(t *testing.T, name string, systemPolicies ...string) *User {
	t.Helper()
	u, err := e.svc.CreateUser(e.ctx, e.owner, UserInput{UserName: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range systemPolicies {
		if err := e.svc.AttachPolicyToUser(e.ctx, e.owner, PolicyTypeSystem, p, name); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// keyedUser is newUser with an AccessKey.
func (e *testEnv) keyedUser(t *testing.T, name string, systemPolicies ...string) (*User, *NewAccessKey) {
	t.Helper()
	u := e.newUser(t, name, systemPolicies...)
	k, err := e.svc.CreateAccessKey(e.ctx, e.owner, name)
	if err != nil {
		t.Fatal(err)
	}
	return u, k
}

// member is a new RAM user with the given system policies, acting in the
// console.
func (e *testEnv) member(t *testing.T, name string, systemPolicies ...string) Actor {
	t.Helper()
	return actorOf(e.newUser(t, name, systemPolicies...))
}

// granted is a new RAM user acting in the console, allowed exactly what
// doc allows (a custom policy of its own, <name>-grants).
func (e *testEnv) granted(t *testing.T, name, doc string) Actor {
	t.Helper()
	u := e.newUser(t, name)
	if _, err := e.svc.CreatePolicy(e.ctx, e.owner, name+"-grants", doc, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AttachPolicyToUser(e.ctx, e.owner, PolicyTypeCustom, name+"-grants", name); err != nil {
		t.Fatal(err)
	}
	return actorOf(u)
}

// statement is one statement of a policy document.
type statement struct {
	Effect   string
	Action   []string
	Resource []string
}

func allow(resources []string, actions ...string) statement {
	return statement{Effect: "Allow", Action: actions, Resource: resources}
}

func deny(resources []string, actions ...string) statement {
	return statement{Effect: "Deny", Action: actions, Resource: resources}
}

// doc is a policy document of the statements.
func doc(statements ...statement) string {
	b, err := json.Marshal(map[string]any{"Version": "1", "Statement": statements})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// arn is the ARN authorisation names a RAM resource by: kind/name in the
// account (a system policy's is in the account "system").
func (e *testEnv) arn(kind, name string) string {
	return "acs:ram:*:" + e.svc.AccountID(e.ctx) + ":" + kind + "/" + name
}

func systemPolicyARN(name string) string { return "acs:ram:*:system:policy/" + name }

// lastSeq is the sequence number of the newest audit event.
func (e *testEnv) lastSeq(t *testing.T) int64 {
	t.Helper()
	evs, err := e.st.Events(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return 0
	}
	return evs[0].Seq
}

// eventsSince are the events written after the one numbered seq, oldest
// first.
func (e *testEnv) eventsSince(t *testing.T, seq int64) []store.StoredEvent {
	t.Helper()
	evs, err := e.st.Events(e.ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.StoredEvent
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Seq > seq {
			out = append(out, evs[i])
		}
	}
	return out
}

// eventNames names events as "EventName", or "EventName/ErrorCode" for a
// failure.
func eventNames(evs []store.StoredEvent) []string {
	out := []string{}
	for _, ev := range evs {
		if ev.ErrorCode != "" || ev.IsError {
			out = append(out, ev.EventName+"/"+ev.ErrorCode)
		} else {
			out = append(out, ev.EventName)
		}
	}
	return out
}

// domainTables hold everything an operation may change; the audit log and
// its bookkeeping (events, checkpoints, nonces, the generation) are left out.
var domainTables = []string{
	"account", "owner", "settings", "users", "login_profiles", "password_history", "access_keys", "groups", "group_members",
	"mfa_devices", "mfa_tickets", "policies", "policy_versions", "roles", "policy_attachments", "role_sessions", "services",
	"service_hosts", "sessions", "key_downloads",
}

// state is every row of the domain tables, sorted, one table after another.
func (e *testEnv) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	// A write transaction is the one way in for a test's own SELECTs; it
	// writes nothing, so it moves no generation.
	err := e.st.Update(e.ctx, func(tx *store.Tx) error {
		for _, table := range domainTables {
			rows, err := tx.QueryContext(e.ctx, "SELECT * FROM "+table)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			cols, err := rows.Columns()
			if err != nil {
				rows.Close()
				return err
			}
			vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			var lines []string
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				cells := make([]string, len(vals))
				for i, v := range vals {
					if bs, ok := v.([]byte); ok {
						v = string(bs)
					}
					cells[i] = fmt.Sprintf("%s=%v", cols[i], v)
				}
				lines = append(lines, table+": "+strings.Join(cells, " "))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			sort.Strings(lines)
			for _, l := range lines {
				b.WriteString(l + "\n")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// changes lists the rows that differ between two states.
func changes(before, after string) string {
	was, is := strings.Split(before, "\n"), strings.Split(after, "\n")
	in := func(lines []string) map[string]bool {
		m := make(map[string]bool, len(lines))
		for _, l := range lines {
			m[l] = true
		}
		return m
	}
	inWas, inIs := in(was), in(is)
	var out []string
	for _, l := range was {
		if !inIs[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range is {
		if !inWas[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// expect runs op and checks its outcome: the error code it fails with
// ("" when it must succeed) and the events it writes, in order, each
// "EventName" or "EventName/ErrorCode". A refused operation must change
// nothing but the audit log. It returns the events.
func (e *testEnv) expect(t *testing.T, op func() error, code string, events ...string) []store.StoredEvent {
	t.Helper()
	if code == "" {
		return e.outcome(t, op, code, events...)
	}
	before := e.state(t)
	evs := e.outcome(t, op, code, events...)
	if d := changes(before, e.state(t)); d != "" {
		t.Errorf("the refused operation changed:\n%s", d)
	}
	return evs
}

// only is the one event of evs; any other count (which expect has
// reported) ends the test.
func only(t *testing.T, evs []store.StoredEvent) store.StoredEvent {
	t.Helper()
	if len(evs) != 1 {
		t.FailNow()
	}
	return evs[0]
}

// rule is a row of a table of operations: the rule it shows, the
// operation, and the error code and events expect wants of it.
type rule struct {
	name   string
	op     func() error
	code   string
	events []string
}

// check runs each rule as a subtest, with expect.
func (e *testEnv) check(t *testing.T, rules []rule) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) { e.expect(t, r.op, r.code, r.events...) })
	}
}

// outcome is expect without the check that a refusal changed nothing, for
// refusals that count (wrong passwords and codes).
func (e *testEnv) outcome(t *testing.T, op func() error, code string, events ...string) []store.StoredEvent {
	t.Helper()
	seq := e.lastSeq(t)
	err := op()
	if got := errCode(err); got != code {
		t.Errorf("error %v (code %q), want code %q", err, got, code)
	}
	evs := e.eventsSince(t, seq)
	if events == nil {
		events = []string{}
	}
	if got := eventNames(evs); !slices.Equal(got, events) {
		t.Errorf("events %q, want %q", got, events)
	}
	return evs
}

// meanwhile has f run once, at the next authorisation decision: after an
// operation has looked up what it acts on and before its write
// transaction, as a concurrent request could.
func (e *testEnv) meanwhile(t *testing.T, f func()) {
	var done atomic.Bool
	e.svc.SetObserver(Observer{Decision: func(string, bool) {
		if done.CompareAndSwap(false, true) {
			f()
		}
	}})
	t.Cleanup(func() { e.svc.SetObserver(Observer{}) })
}

// attach attaches a system or custom policy to a user, group or role as
// the owner.
func (e *testEnv) attach(t *testing.T, kind principalKind, policyType, policyName, principalName string) {
	t.Helper()
	if err := e.svc.attachTo(e.ctx, e.owner, true, policyType, policyName, kind, principalName); err != nil {
		t.Fatal(err)
	}
}

// bindMFA binds a new TOTP device to the actor (its owner or RAM user)
// with the codes of the current and the next step, then moves the clock
// two steps on, past both. It returns the device's seed.
func (e *testEnv) bindMFA(t *testing.T, a Actor) []byte {
	t.Helper()
	p, err := e.svc.NewPendingMFA(e.ctx, a.Principal, a.Name)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := DecodeTOTPSecret(p.Enrollment.Secret)
	if err != nil {
		t.Fatal(err)
	}
	step := TOTPStep(e.clock.Now())
	if _, err := e.svc.BindMFA(e.ctx, a, p.Sealed, TOTPCode(seed, step), TOTPCode(seed, step+1), ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * totpPeriod * time.Second)
	return seed
}

// totp is seed's code of the current step.
func (e *testEnv) totp(seed []byte) string { return TOTPCode(seed, TOTPStep(e.clock.Now())) }

// trustAccount is a trust policy that lets the account's RAM users assume
// a role (as their own policies allow).
func (e *testEnv) trustAccount() string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["` +
		RootARN(e.svc.AccountID(e.ctx)) + `"]}}]}`
}

// createRole creates a role this account's users may assume.
func (e *testEnv) createRole(t *testing.T, name string) {
	t.Helper()
	if _, err := e.svc.CreateRole(e.ctx, e.owner, RoleInput{RoleName: name, AssumeRolePolicy: e.trustAccount()}); err != nil {
		t.Fatal(err)
	}
}

// assume starts a session of the role for the user, signed with its
// AccessKey k, as the OpenAPI would.
func (e *testEnv) assume(t *testing.T, u *User, k *NewAccessKey, role string) *AssumedRole {
	t.Helper()
	a := Actor{Principal: UserPrincipal(u.UserID), Name: u.UserName, API: true, AccessKeyID: k.AccessKeyID, RequestID: NewRequestID()}
	creds, err := e.svc.AssumeRole(e.ctx, a, AssumeRoleInput{RoleArn: RoleARN(e.svc.AccountID(e.ctx), role), RoleSessionName: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// sessionLive reports whether the role session of creds still
// authenticates.
func (e *testEnv) sessionLive(t *testing.T, creds *AssumedRole) bool {
	t.Helper()
	req := e.signedV1(creds.AccessKeyID, creds.AccessKeySecret, map[string]string{"Action": "GetCallerIdentity"})
	req.Token = creds.SecurityToken
	err := e.svc.Authenticate(e.ctx, Actor{RequestID: NewRequestID()}, req).Err()
	switch code := errCode(err); code {
	case "":
		return true
	case "InvalidSecurityToken.Expired":
		return false
	default:
		t.Fatalf("authenticating with a role session: %v", err)
		return false
	}
}

// fillTime is the creation time of the rows fillRows adds.
const fillTime = "2026-01-01T00:00:00.000Z"

// fillRows inserts n rows into table in one statement, straight into the
// store, to bring the account to a limit quickly. Each column's value is
// an SQL expression over i, from 1 to n; args fill its ? placeholders.
func (e *testEnv) fillRows(t *testing.T, n int, table string, columns []string, values []string, args ...any) {
	t.Helper()
	if n <= 0 {
		return
	}
	q := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < " + strconv.Itoa(n) + ") INSERT INTO " + table +
		"(" + strings.Join(columns, ", ") + ") SELECT " + strings.Join(values, ", ") + " FROM n"
	if err := e.st.Update(e.ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(e.ctx, q, args...); return err }); err != nil {
		t.Fatal(err)
	}
}
