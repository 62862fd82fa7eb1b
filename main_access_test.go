package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/store/pgtest"
)

const (
	accessOwnerEmail = "owner@example.com"
	accessOwnerPW    = "Correct-Horse-Battery-42"
)

// groupEditor is the editor's policy: groups may be made and read, never
// deleted, and the editor may read itself.
const groupEditor = `{"Version":"1","Statement":[
	{"Effect":"Allow","Action":["ram:CreateGroup","ram:GetGroup","ram:ListGroups"],"Resource":"*"},
	{"Effect":"Deny","Action":"ram:DeleteGroup","Resource":"*"},
	{"Effect":"Allow","Action":"ram:GetUser","Resource":"acs:ram:*:*:user/editor"}]}`

// accessAccount is an account set up in a data directory with three users
// and their AccessKeys: admin (AdministratorAccess), reader
// (AliyunRAMReadOnlyAccess) and editor (the custom GroupEditor).
type accessAccount struct {
	dir, database string
	keys          map[string]*ram.NewAccessKey
}

// accessPolicies are the policies of accessAccount, as TYPE/NAME.
var accessPolicies = []string{"System/AdministratorAccess", "System/AliyunRAMReadOnlyAccess", "Custom/GroupEditor"}

func newAccessAccount(t *testing.T) *accessAccount {
	t.Helper()
	acc := &accessAccount{dir: t.TempDir(), database: pgtest.Database(t), keys: map[string]*ram.NewAccessKey{}}
	svc, done := acc.service(t)
	defer done()
	ctx := context.Background()
	tok, err := svc.IssueSetupToken(ctx, acc.dir)
	if err != nil {
		t.Fatal(err)
	}
	owner := ram.Actor{Principal: ram.PrincipalRoot, Name: accessOwnerEmail, RequestID: ram.NewRequestID(), SourceIP: "127.0.0.1"}
	if err := svc.Setup(ctx, owner, ram.SetupInput{Token: tok, Email: accessOwnerEmail, Password: accessOwnerPW}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreatePolicy(ctx, owner, "GroupEditor", groupEditor, ""); err != nil {
		t.Fatal(err)
	}
	for name, pol := range map[string]string{"admin": accessPolicies[0], "reader": accessPolicies[1], "editor": accessPolicies[2]} {
		if _, err := svc.CreateUser(ctx, owner, ram.UserInput{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if acc.keys[name], err = svc.CreateAccessKey(ctx, owner, name); err != nil {
			t.Fatal(err)
		}
		typ, pname, _ := strings.Cut(pol, "/")
		if err := svc.AttachPolicyToUser(ctx, owner, typ, pname, name); err != nil {
			t.Fatal(err)
		}
	}
	return acc
}

// service opens the account's store as a host command does.
func (acc *accessAccount) service(t *testing.T) (*ram.Service, func()) {
	t.Helper()
	st, sealer, err := openStore(context.Background(), acc.dir, acc.database, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return ram.New(st, sealer), func() { st.Close() }
}

// args adds --data and, on PostgreSQL, --database to a command's arguments.
func (acc *accessAccount) args(args ...string) []string {
	args = append(args, "--data", acc.dir)
	if acc.database != "" {
		args = append(args, "--database", acc.database)
	}
	return args
}

// rollups is every row of the access review's tables, in a fixed order.
func (acc *accessAccount) rollups(t *testing.T) string {
	t.Helper()
	db, err := store.OpenSQL(acc.dir, acc.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT principal, action_key, resources, day, action, allowed, denied, last_allowed, last_denied, last_at, last_ip, mfa, secure
			FROM access_calls ORDER BY principal, action_key, resources, day`,
		"SELECT policy_key, version, statement, principal, day, count, last_used FROM access_statements ORDER BY policy_key, version, statement, principal, day",
		"SELECT subject, last_at FROM access_latest ORDER BY subject",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// ramconsole access rebuild recomputes the rollups the requests kept: the
// same rows, on either engine, also next to a running server; a bad
// --since changes nothing.
func TestAccessRebuildCommand(t *testing.T) {
	acc := newAccessAccount(t)
	ctx := context.Background()
	st, sealer, err := openStore(ctx, acc.dir, acc.database, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	svc := ram.New(st, sealer)
	as := func(name string) ram.Actor {
		u, err := st.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return ram.Actor{Principal: ram.UserPrincipal(u.UserID), Name: name, RequestID: ram.NewRequestID(), SourceIP: "192.0.2.7"}
	}
	// Each call as a request: with its event mark, so its decision is kept.
	call := func(op func(ctx context.Context) error) {
		mctx, _ := ram.WithEventMark(ctx)
		_ = op(mctx)
	}
	for i := 0; i < 3; i++ {
		call(func(c context.Context) error { _, err := svc.GetUser(c, as("reader"), "admin"); return err })
		call(func(c context.Context) error {
			_, err := svc.CreateGroup(c, as("editor"), fmt.Sprintf("team-%d", i), "")
			return err
		})
	}
	call(func(c context.Context) error {
		_, err := svc.CreateUser(c, as("reader"), ram.UserInput{UserName: "nope"})
		return err
	})
	call(func(c context.Context) error { return svc.DeleteGroup(c, as("editor"), "team-0", false) })
	call(func(c context.Context) error { _, err := svc.GetUser(c, as("editor"), "admin"); return err })
	st.Close()

	incremental := acc.rollups(t)
	for _, want := range []string{"ram:getuser", "ram:creategroup", "ram:createuser", "ram:deletegroup", "Custom/"} {
		if !strings.Contains(incremental, want) {
			t.Fatalf("the rollups have no %s:\n%s", want, incremental)
		}
	}
	db, err := store.OpenSQL(acc.dir, acc.database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events int
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&events); err != nil {
		t.Fatal(err)
	}

	rebuild := func(extra ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(acc.args(append([]string{"access", "rebuild"}, extra...)...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := rebuild()
	if code != 0 || !regexp.MustCompile(fmt.Sprintf(`^access rebuild: %d events read in \S+\n$`, events)).MatchString(out) {
		t.Fatalf("access rebuild = %d, stdout %q, stderr %q; want 0 and %d events read", code, out, errOut, events)
	}
	if got := acc.rollups(t); got != incremental {
		t.Fatalf("the rebuilt rollups differ from the incremental ones:\n%s\nwant:\n%s", got, incremental)
	}

	// Lost rollups: a bad --since refuses and leaves them as they are; a
	// good one (today, when every event was written) brings them back.
	if _, err := db.Exec("DELETE FROM access_calls"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM access_statements"); err != nil {
		t.Fatal(err)
	}
	lost := acc.rollups(t)
	for _, bad := range []string{"yesterday", "2026-13-01", "2026-02-30", "20260101", "2026-01-01T00:00:00Z", " "} {
		code, out, errOut := rebuild("--since", bad)
		if code == 0 || out != "" || !strings.Contains(errOut, "--since") || !strings.Contains(errOut, "YYYY-MM-DD") {
			t.Errorf("--since %q: exit %d, stdout %q, stderr %q; want a refusal naming --since", bad, code, out, errOut)
		}
		if got := acc.rollups(t); got != lost {
			t.Fatalf("a refused --since %q changed the rollups", bad)
		}
	}
	for _, args := range [][]string{{"extra"}, {"--bogus"}} {
		if code, _, _ := rebuild(args...); code != 2 {
			t.Errorf("access rebuild %q = %d, want 2", args, code)
		}
	}
	var errBuf bytes.Buffer
	if code := run([]string{"access"}, io.Discard, &errBuf); code != 2 || !strings.Contains(errBuf.String(), "access rebuild") {
		t.Errorf("access without a subcommand = %d %q, want 2 and the usage", code, errBuf.String())
	}

	// Next to a running server, which owns the audit journal.
	srv, _, err := openStore(ctx, acc.dir, acc.database, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	today := time.Now().UTC().Format(time.DateOnly)
	if code, out, errOut := rebuild("--since", today); code != 0 || !strings.HasPrefix(out, "access rebuild: ") {
		t.Fatalf("access rebuild --since %s next to the server = %d %q %q", today, code, out, errOut)
	}
	if got := acc.rollups(t); got != incremental {
		t.Errorf("rebuilt since today, the rollups differ from the incremental ones:\n%s\nwant:\n%s", got, incremental)
	}
	var help bytes.Buffer
	run([]string{"help"}, &help, io.Discard)
	if !strings.Contains(help.String(), "ramconsole access rebuild [--data DIR] [--since YYYY-MM-DD]") {
		t.Errorf("the usage does not mention access rebuild:\n%s", help.String())
	}
}

// serverProcess is the built ramconsole serving a data directory.
type serverProcess struct {
	cmd  *exec.Cmd
	base string
	log  string
	done chan struct{}
}

// buildRamconsole compiles the command into a temporary directory.
func buildRamconsole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ramconsole")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serve starts the binary on addr and waits until it answers.
func (acc *accessAccount) serve(t *testing.T, bin, addr string) *serverProcess {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "server.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, acc.args("serve", "--addr", addr)...)
	cmd.Env = append(os.Environ(), "RAMCONSOLE_MASTER_KEY=")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, base: "http://" + addr, log: logFile, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.done:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("the server exited:\n%s", b)
		default:
		}
		if resp, err := http.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("the server did not answer:\n%s", b)
	return nil
}

func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

var (
	accessCSRFRE   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	accessSecretRE = regexp.MustCompile(`data-testid="mfa-secret">([A-Z2-7]+)<`)
)

// ownerConsole signs the owner in to the console at base, binding an MFA
// device (the owner has none yet); the client keeps the session.
func ownerConsole(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := ""
	do := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			form.Set("csrf_token", csrf)
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if m := accessCSRFRE.FindSubmatch(b); m != nil {
			csrf = string(m[1])
		}
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	do("GET", "/login", nil)
	if st, loc, body := do("POST", "/login", url.Values{"username": {accessOwnerEmail}, "password": {accessOwnerPW}}); st != 303 || loc != "/mfa/bind" {
		t.Fatalf("the owner's sign-in: %d %q %.300s", st, loc, body)
	}
	_, _, page := do("GET", "/mfa/bind", nil)
	m := accessSecretRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no MFA secret on the binding page: %.500s", page)
	}
	seed, err := ram.DecodeTOTPSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	step := ram.TOTPStep(time.Now())
	if st, loc, body := do("POST", "/mfa/bind", url.Values{"code1": {ram.TOTPCode(seed, step-1)}, "code2": {ram.TOTPCode(seed, step)}}); st != 303 || loc != "/" {
		t.Fatalf("binding the owner's MFA device: %d %q %.300s", st, loc, body)
	}
	return hc
}

// accessJSON GETs an access page as JSON; its window ("from", "to": now)
// is left out, so two answers compare by what the rollups gave.
func accessJSON(t *testing.T, hc *http.Client, base, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s %.500s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("GET %s: %v: %.500s", path, err, b)
	}
	delete(doc, "from")
	delete(doc, "to")
	return doc
}

// accessPages is every page of the account's users and policies.
func accessPages(t *testing.T, hc *http.Client, base string) map[string]map[string]any {
	t.Helper()
	pages := map[string]map[string]any{}
	for _, u := range []string{"admin", "reader", "editor"} {
		pages[u] = accessJSON(t, hc, base, "/users/"+u+"/access")
	}
	for _, p := range accessPolicies {
		pages[p] = accessJSON(t, hc, base, "/policies/"+p+"/access")
	}
	return pages
}

// loadCall is one kind of call a client makes in a loop.
type loadCall struct {
	user, action string
	call         func(c *ramsdk.Client, host string, i int) error
}

// answered counts the calls the server answered: allowed (any answer but
// NoPermission) or denied, per user and action.
type answered struct {
	mu    sync.Mutex
	n     map[string]int // "user action allowed|denied"
	total int
}

func (a *answered) add(key string) {
	a.mu.Lock()
	a.n[key]++
	a.total++
	a.mu.Unlock()
}

// busy reports whether a good number of calls, writes among them, were answered.
func (a *answered) busy() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total >= 600 && a.n["admin ram:CreateUser allowed"]+a.n["editor ram:CreateGroup allowed"] >= 40
}

// pageAction is an action's entry on a user's page.
func pageAction(page map[string]any, action string) map[string]any {
	list, _ := page["actions"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["action"] == action {
			return m
		}
	}
	return nil
}

// TestAccessRollupsAfterKill9: signed OpenAPI calls of three users, allowed
// and refused, while the server is killed with SIGKILL; after a restart
// every answered call is counted, and `access rebuild` (next to the
// running server) gives the same pages.
func TestAccessRollupsAfterKill9(t *testing.T) {
	bin := buildRamconsole(t)
	acc := newAccessAccount(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := acc.serve(t, bin, addr)
	owner := ownerConsole(t, srv.base)

	at := func(r interface {
		SetDomain(string)
		SetScheme(string)
		SetConnectTimeout(time.Duration)
		SetReadTimeout(time.Duration)
	}, host string) {
		r.SetDomain(host)
		r.SetScheme("HTTP")
		r.SetConnectTimeout(2 * time.Second)
		r.SetReadTimeout(5 * time.Second)
	}
	calls := []loadCall{
		{"admin", "ram:CreateUser", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateCreateUserRequest()
			at(r, host)
			r.UserName = fmt.Sprintf("made-%d", i)
			_, err := c.CreateUser(r)
			return err
		}},
		{"admin", "ram:GetUser", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateGetUserRequest()
			at(r, host)
			r.UserName = "reader"
			_, err := c.GetUser(r)
			return err
		}},
		{"reader", "ram:ListUsers", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateListUsersRequest()
			at(r, host)
			_, err := c.ListUsers(r)
			return err
		}},
		{"reader", "ram:CreateUser", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateCreateUserRequest()
			at(r, host)
			r.UserName = fmt.Sprintf("never-%d", i)
			_, err := c.CreateUser(r)
			return err
		}},
		{"editor", "ram:CreateGroup", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateCreateGroupRequest()
			at(r, host)
			r.GroupName = fmt.Sprintf("team-%d", i)
			_, err := c.CreateGroup(r)
			return err
		}},
		{"editor", "ram:DeleteGroup", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateDeleteGroupRequest()
			at(r, host)
			r.GroupName = "team-0"
			_, err := c.DeleteGroup(r)
			return err
		}},
		{"editor", "ram:GetUser", func(c *ramsdk.Client, host string, i int) error {
			r := ramsdk.CreateGetUserRequest()
			at(r, host)
			r.UserName = []string{"editor", "admin"}[i%2]
			_, err := c.GetUser(r)
			return err
		}},
	}
	acks := &answered{n: map[string]int{}}
	host := strings.TrimPrefix(srv.base, "http://")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, lc := range calls {
		// Made here, one after the other: the SDK fills a package-level
		// endpoint table on creation without a lock.
		key := acc.keys[lc.user]
		c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", key.AccessKeyID, key.AccessKeySecret)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 5000; i++ {
				err := lc.call(c, host, i)
				var se *sdkerrors.ServerError
				switch {
				case err == nil:
					acks.add(lc.user + " " + lc.action + " allowed")
				case errors.As(err, &se) && se.ErrorCode() == "NoPermission":
					acks.add(lc.user + " " + lc.action + " denied")
				case errors.As(err, &se):
					acks.add(lc.user + " " + lc.action + " allowed") // allowed, then refused for another reason
				default:
					return // the server is gone
				}
			}
		}()
	}
	close(start)
	// Killed mid-load: once reads and writes were answered (or after 8 s).
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline) && !acks.busy(); {
		time.Sleep(20 * time.Millisecond)
	}
	srv.kill(t)
	wg.Wait()
	t.Logf("%d calls answered before SIGKILL: %v", acks.total, acks.n)

	srv = acc.serve(t, bin, addr)
	before := accessPages(t, owner, srv.base)
	for key, n := range acks.n {
		f := strings.Fields(key)
		e := pageAction(before[f[0]], f[1])
		if e == nil {
			t.Errorf("%s's page has no %s (%d calls answered)", f[0], f[1], n)
			continue
		}
		count := e[f[2]+"Count"].(float64)
		if int(count) < n {
			t.Errorf("%s %s: %sCount %v, but %d such calls were answered before SIGKILL", f[0], f[1], f[2], count, n)
		}
	}
	for _, want := range []string{"admin ram:CreateUser allowed", "reader ram:CreateUser denied", "editor ram:DeleteGroup denied", "editor ram:GetUser denied"} {
		if acks.n[want] == 0 {
			t.Errorf("no %q call was answered before SIGKILL", want)
		}
	}
	// The editor's policy: its first Allow counted each group made, its
	// Deny each refused deletion.
	stmts, _ := before["Custom/GroupEditor"]["statements"].([]any)
	if len(stmts) != 3 {
		t.Fatalf("GroupEditor's statements: %v", before["Custom/GroupEditor"])
	}
	for i, want := range map[int]int{0: acks.n["editor ram:CreateGroup allowed"], 1: acks.n["editor ram:DeleteGroup denied"]} {
		if got := stmts[i].(map[string]any)["count"].(float64); int(got) < want {
			t.Errorf("GroupEditor statement %d: count %v, want at least %d", i, got, want)
		}
	}

	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, acc.args("access", "rebuild")...)
	cmd.Env = append(os.Environ(), "RAMCONSOLE_MASTER_KEY=")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil || !regexp.MustCompile(`^access rebuild: [1-9][0-9]* events read in \S+\n$`).MatchString(out.String()) {
		t.Fatalf("access rebuild next to the running server: %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
	after := accessPages(t, owner, srv.base)
	for name, page := range before {
		b, _ := json.Marshal(page)
		a, _ := json.Marshal(after[name])
		if !bytes.Equal(a, b) {
			t.Errorf("%s's page after access rebuild differs:\n%s\nwant (incremental):\n%s", name, a, b)
		}
	}
}
