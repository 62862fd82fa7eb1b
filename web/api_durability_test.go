package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
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

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/ram"
	"ramconsole/store"
)

// TestAPIDurabilityKill9: against the real binary, 8 clients create users
// and 4 read one through the API while the process is killed with SIGKILL;
// after a restart on the same data every user whose CreateUser was
// acknowledged exists, with its audit event (same RequestId), and every
// acknowledged read has its event too (read events reach the database
// through the journal, which a killed process leaves behind).
func TestAPIDurabilityKill9(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")

	srv := startBinary(t, bin, data)
	setupURL := srv.waitFor(t, regexp.MustCompile(`(http://\S+/setup\?token=[0-9a-f]+)`))
	admin := setupOverHTTP(t, srv.base, setupURL)

	var (
		mu    sync.Mutex
		acks  []ackedUser
		reads []string // RequestIds of acknowledged GetUser calls
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	host := strings.TrimPrefix(srv.base, "http://")
	for w := 0; w < 4; w++ {
		c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", admin.keyID, admin.secret)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				r := ramsdk.CreateGetUserRequest()
				r.SetDomain(host)
				r.SetScheme("HTTP")
				r.SetConnectTimeout(2 * time.Second)
				r.SetReadTimeout(5 * time.Second)
				r.UserName = admin.name
				resp, err := c.GetUser(r)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				reads = append(reads, resp.RequestId)
				mu.Unlock()
			}
		}()
	}
	for w := 0; w < 8; w++ {
		// Made here, one after the other: the SDK fills a package-level
		// endpoint table on creation without a lock.
		c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", admin.keyID, admin.secret)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				r := ramsdk.CreateCreateUserRequest()
				r.SetDomain(host)
				r.SetScheme("HTTP")
				r.SetConnectTimeout(2 * time.Second)
				r.SetReadTimeout(5 * time.Second)
				r.UserName = fmt.Sprintf("w%d-%04d", w, i)
				resp, err := c.CreateUser(r)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acks = append(acks, ackedUser{r.UserName, resp.RequestId})
				mu.Unlock()
			}
		}(w)
	}
	close(start)
	// Kill once a good number of creations were acknowledged (or after 3 s).
	waitFor(3*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acks) >= 150
	})
	srv.kill(t)
	wg.Wait()
	if len(acks) == 0 {
		t.Fatal("no CreateUser was acknowledged before the kill")
	}
	if len(reads) == 0 {
		t.Fatal("no GetUser was acknowledged before the kill")
	}
	t.Logf("%d CreateUser and %d GetUser calls acknowledged before SIGKILL", len(acks), len(reads))

	// Restart on the same data: it serves, and the first acknowledged user is there.
	srv2 := startBinary(t, bin, data)
	srv2.waitFor(t, regexp.MustCompile(`serving the console at`))
	c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", admin.keyID, admin.secret)
	if err != nil {
		t.Fatal(err)
	}
	g := ramsdk.CreateGetUserRequest()
	g.SetDomain(strings.TrimPrefix(srv2.base, "http://"))
	g.SetScheme("HTTP")
	g.UserName = acks[0].name
	if _, err := c.GetUser(g); err != nil {
		t.Fatalf("after restart, GetUser %s: %v", acks[0].name, err)
	}
	srv2.stop(t)

	st, err := store.Open(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkAcknowledged(t, st, acks, reads)
}

// buildBinary compiles ramconsole into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ramconsole")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type binary struct {
	cmd   *exec.Cmd
	base  string
	lines chan string
	done  chan struct{}
}

// startBinary runs "ramconsole serve" on a free loopback port, with extra
// flags.
func startBinary(t *testing.T, bin, data string, extra ...string) *binary {
	t.Helper()
	return startBinaryWith(t, bin, data, []string{"RAMCONSOLE_MASTER_KEY="}, extra...)
}

// startBinaryWith is startBinary with more environment (and so flags:
// RAMCONSOLE_DATABASE, RAMCONSOLE_MASTER_KEY).
func startBinaryWith(t *testing.T, bin, data string, env []string, extra ...string) *binary {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", data}, extra...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &binary{cmd: cmd, base: "http://" + addr, lines: make(chan string, 1024), done: make(chan struct{})}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Add(1)
		go func(r io.Reader) {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				select {
				case b.lines <- sc.Text():
				default: // nobody is waiting for log lines
				}
			}
		}(r)
	}
	go func() {
		readers.Wait()
		_ = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.done
	})
	return b
}

// waitFor returns the first submatch of re in the server's output, and
// waits until the server answers.
func (b *binary) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-b.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				for i := 0; i < 100; i++ {
					if resp, err := http.Get(b.base + "/healthz"); err == nil {
						resp.Body.Close()
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				return m[len(m)-1]
			}
		case <-b.done:
			t.Fatal("the server exited")
		case <-timeout:
			t.Fatalf("the server did not print %v", re)
		}
	}
}

func (b *binary) kill(t *testing.T) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-b.done
}

func (b *binary) stop(t *testing.T) {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop on SIGTERM")
	}
}

// setupOverHTTP does first-run setup, binds the owner's MFA with codes from
// the page's secret, creates a user with an AccessKey and attaches
// AdministratorAccess, all through the console; it returns the user.
func setupOverHTTP(t *testing.T, base, setupURL string) employee {
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
		target := path
		if !strings.HasPrefix(path, "http") {
			target = base + path
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if m := csrfRE.FindStringSubmatch(string(b)); m != nil {
			csrf = m[1]
		}
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	token := setupURL[strings.LastIndex(setupURL, "=")+1:]
	do("GET", setupURL, nil)
	if st, loc, body := do("POST", "/setup", url.Values{"token": {token}, "email": {testOwnerEmail}, "password": {testOwnerPW}, "confirm_password": {testOwnerPW}, "alias": {testAlias}}); st != 303 || loc != "/mfa/bind" {
		t.Fatalf("POST /setup: %d %q %.300s", st, loc, body)
	}
	_, _, page := do("GET", "/mfa/bind", nil)
	secret := find(t, secretRE, page, "MFA secret")
	seed, err := ram.DecodeTOTPSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	step := ram.TOTPStep(time.Now())
	if st, loc, body := do("POST", "/mfa/bind", url.Values{"code1": {ram.TOTPCode(seed, step-1)}, "code2": {ram.TOTPCode(seed, step)}}); st != 303 || loc != "/" {
		t.Fatalf("POST /mfa/bind: %d %q %.300s", st, loc, body)
	}
	do("GET", "/users/new", nil)
	st, loc, page := do("POST", "/users", url.Values{"name": {"writer"}, "display_name": {"Writer"}, "create_access_key": {"true"}})
	if st != 303 || !strings.HasPrefix(loc, "/handover/") {
		t.Fatalf("POST /users: %d %q %.300s", st, loc, page)
	}
	_, _, page = do("GET", loc, nil)
	e := employee{name: "writer", keyID: find(t, keyIDRE, page, "AccessKey ID"), secret: find(t, keySecretRE, page, "AccessKey secret")}
	do("GET", "/users/writer", nil)
	if st, _, body := do("POST", "/users/writer/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AdministratorAccess"}}); st != 303 {
		t.Fatalf("attach AdministratorAccess: %d %.300s", st, body)
	}
	return e
}

// waitFor polls done every 20 ms until it holds or d has passed.
func waitFor(d time.Duration, done func() bool) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline) && !done(); {
		time.Sleep(20 * time.Millisecond)
	}
}

// ackedUser is a CreateUser call the server acknowledged.
type ackedUser struct{ name, requestID string }

// checkAcknowledged checks that every acknowledged CreateUser left its user
// and its event (same RequestId), every acknowledged GetUser its event,
// and that the audit chain is intact.
func checkAcknowledged(t *testing.T, st *store.Store, acks []ackedUser, reads []string) {
	t.Helper()
	if rep, err := st.VerifyChain(context.Background()); err != nil || !rep.OK {
		t.Errorf("audit chain after SIGKILL: %+v %v", rep, err)
	}
	events, err := st.Events(context.Background(), 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]string{} // requestId → resourceName of successful CreateUser events
	read := map[string]bool{}      // requestIds of successful GetUser events
	for _, e := range events {
		if e.EventName == "CreateUser" && !e.IsError {
			created[e.RequestID] = e.ResourceName
		}
		if e.EventName == "GetUser" && !e.IsError {
			read[e.RequestID] = true
		}
	}
	for _, id := range reads {
		if !read[id] {
			t.Errorf("acknowledged GetUser %s has no audit event", id)
		}
	}
	for _, a := range acks {
		if _, err := st.UserByName(context.Background(), a.name); err != nil {
			t.Errorf("acknowledged user %s is missing: %v", a.name, err)
		}
		if created[a.requestID] != a.name {
			t.Errorf("acknowledged user %s has no CreateUser event with RequestId %s", a.name, a.requestID)
		}
	}
}
