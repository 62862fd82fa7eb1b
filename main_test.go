package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
)

// seedAccount creates an account with a few events in dir.
func seedAccount(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, sealer, err := openStore(ctx, dir, "", false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := ram.New(st, sealer)
	tok, err := svc.IssueSetupToken(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	a := ram.Actor{RequestID: "r1", SourceIP: "127.0.0.1"}
	if err := svc.Setup(ctx, a, ram.SetupInput{Token: tok, Email: "owner@example.com", Password: "Correct-Horse-Battery-42"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := svc.SignIn(ctx, a, "owner@example.com", "wrong", ""); !ram.ErrBadLogin(err) {
			t.Fatalf("SignIn = %v", err)
		}
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "verify", "--data", dir}, &out, &errOut); code != 0 {
		t.Fatalf("audit verify on an intact log = %d (%s%s), want 0", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "4 events verified") {
		t.Errorf("output %q", out.String())
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := db.QueryRow("SELECT event_id FROM events WHERE seq = 2").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET body = replace(body, 'wrong password', 'right password') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	if code := run([]string{"audit", "verify", "--data", dir}, &out, &errOut); code == 0 {
		t.Fatalf("audit verify on a tampered log exited 0: %s", out.String())
	}
	if !strings.Contains(out.String(), id) || !strings.Contains(out.String(), "seq 2") {
		t.Errorf("output %q does not name the broken event %s", out.String(), id)
	}
}

func TestBackupAndVersion(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	var out, errOut bytes.Buffer
	dst := filepath.Join(t.TempDir(), "copy.db")
	if code := run([]string{"backup", "--data", dir, dst}, &out, &errOut); code != 0 {
		t.Fatalf("backup = %d: %s", code, errOut.String())
	}
	copyDB, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var n int
	if err := copyDB.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != 4 {
		t.Errorf("backup holds %d events (%v), want 4", n, err)
	}
	if code := run([]string{"backup", "--data", dir, dst}, &out, &errOut); code == 0 {
		t.Errorf("backup over an existing file succeeded")
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "ramconsole ") {
		t.Errorf("version = %d %q", code, out.String())
	}
	if code := run([]string{"bogus"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command exit = %d, want 2", code)
	}
}

// Without a device, reset-mfa says there is nothing to remove and succeeds
// (it is what the owner needs: a state where a new device can be bound).
func TestOwnerResetMFACommandWithoutDevice(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"owner", "reset-mfa", "--data", dir}, &out, &errOut); code != 0 {
		t.Errorf("reset-mfa without a device = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "no MFA device") || !strings.Contains(out.String(), "nothing to remove") {
		t.Errorf("stdout %q", out.String())
	}
}

func TestPolicyCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"ram:*","Resource":"*"},
		{"Effect":"Deny","Action":"ram:DeleteUser","Resource":"acs:ram:*:*:user/admin"}]}`)
	bad := write("bad.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*",
		"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}}]}`)
	var out, errOut bytes.Buffer
	if code := run([]string{"policy", "validate", good}, &out, &errOut); code != 0 {
		t.Errorf("validate good = %d: %s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run([]string{"policy", "validate", bad}, &out, &errOut); code != 1 || !strings.Contains(out.String(), `Statement[0].Condition.IpAddress.acs:SourceIp`) {
		t.Errorf("validate bad = %d: %q", code, out.String())
	}
	out.Reset()
	code := run([]string{"policy", "eval", "--policy", good, "--action", "ram:DeleteUser", "--resource", "acs:ram:*:1234567890123456:user/admin"}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "ExplicitDeny") || !strings.Contains(out.String(), "Deny") {
		t.Errorf("eval deny = %d: %q", code, out.String())
	}
	out.Reset()
	code = run([]string{"policy", "eval", "--policy", good, "--action", "ram:ListUsers", "--resource", "acs:ram:*:1234567890123456:user/*", "--context", "acs:SourceIp=10.0.0.1"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "Allow") {
		t.Errorf("eval allow = %d: %q", code, out.String())
	}
	if code := run([]string{"policy", "eval", "--policy", good}, &out, &errOut); code != 2 {
		t.Errorf("eval without action = %d, want 2", code)
	}
}

func TestPolicyValidateTrust(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	trust := write("trust.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
		"Principal":{"RAM":["acs:ram::1234567890123456:root"]},"Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}`)
	noPrincipal := write("no-principal.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)
	identity := write("identity.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"}]}`)
	syntax := write("syntax.json", "{\"Version\":\"1\",\n\"Statement\" []}")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // each must appear
		stderr   string
		noStdout bool
	}{
		{"a valid trust policy", []string{"policy", "validate", "--trust", trust}, 0, []string{trust + ": valid\n"}, "", false},
		{"a trust policy is not a valid identity policy", []string{"policy", "validate", trust}, 1,
			[]string{trust + `: Statement[0].Principal: the Principal element is only allowed in a role's trust policy`}, "", false},
		{"a trust statement needs a Principal", []string{"policy", "validate", "--trust", noPrincipal}, 1,
			[]string{noPrincipal + ": Statement[0]: a trust policy statement needs a Principal\n"}, "", false},
		{"an identity policy is not a trust policy", []string{"policy", "validate", "--trust", identity}, 1,
			[]string{
				identity + `: Statement[0].Action: "ram:*" is not allowed in a trust policy: its only action is "sts:AssumeRole"` + "\n",
				identity + ": Statement[0].Resource: a trust policy has no Resource (the role it belongs to is the resource)\n",
				identity + ": Statement[0]: a trust policy statement needs a Principal\n",
			}, "", false},
		{"syntax errors carry line and column", []string{"policy", "validate", "--trust", syntax}, 1,
			[]string{syntax + `: line 2, column 13: unexpected character '[', expected ':' after key "Statement"` + "\n"}, "", false},
		{"the identity policy still validates", []string{"policy", "validate", identity}, 0, []string{identity + ": valid\n"}, "", false},
		{"a missing file", []string{"policy", "validate", "--trust", filepath.Join(dir, "nope.json")}, 2, nil, "nope.json", true},
		{"no file", []string{"policy", "validate", "--trust"}, 2, nil, "usage: ramconsole policy validate [--trust] FILE", true},
		{"two files", []string{"policy", "validate", trust, identity}, 2, nil, "usage: ramconsole policy validate [--trust] FILE", true},
		{"an unknown flag", []string{"policy", "validate", "--trusted", trust}, 2, nil, "flag provided but not defined: -trusted", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("run(%q) = %d (stdout %q, stderr %q), want %d", tc.args, code, out.String(), errOut.String(), tc.code)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("run(%q) stdout = %q, want it to contain %q", tc.args, out.String(), s)
				}
			}
			if tc.noStdout && out.Len() > 0 {
				t.Errorf("run(%q) stdout = %q, want nothing", tc.args, out.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tc.args, errOut.String(), tc.stderr)
			}
		})
	}
	var out, errOut bytes.Buffer
	run([]string{"help"}, &out, &errOut)
	if !strings.Contains(out.String(), "ramconsole policy validate [--trust] FILE") {
		t.Errorf("usage does not mention --trust:\n%s", out.String())
	}
}

// TestBackupFilePrivateAndNew: the copy is 0600 whatever the umask, an
// existing file (or a symlink, even a dangling one) is never written through.
func TestBackupFilePrivateAndNew(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	dst := filepath.Join(out, "copy.db")
	if code := run([]string{"backup", "--data", dir, dst}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup = %d: %s", code, stderr.String())
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("backup left %d entries in the directory, want only the copy", len(entries))
	}

	// An existing file is refused with a clear message and left as it was.
	existing := filepath.Join(out, "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"backup", "--data", dir, existing}, &stdout, &stderr); code == 0 {
		t.Fatal("backup over an existing file succeeded")
	}
	if !strings.Contains(stderr.String(), "already exists") {
		t.Errorf("stderr %q does not say the file exists", stderr.String())
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}

	// A dangling symlink is not followed to create its target.
	target := filepath.Join(t.TempDir(), "elsewhere.db")
	link := filepath.Join(out, "link.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"backup", "--data", dir, link}, &stdout, &stderr); code == 0 {
		t.Fatal("backup through a dangling symlink succeeded")
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("backup created the symlink's target: %v", err)
	}
}

// TestMasterKeyTightened: a master.key others may read is made 0600 at start,
// with a warning.
func TestMasterKeyTightened(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	keyPath := filepath.Join(dir, store.MasterKeyFile)
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st, _, err := openStore(context.Background(), dir, "", false, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode = %o after start, want 600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "master.key") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	// Private already: nothing to say.
	logs.Reset()
	st, _, err = openStore(context.Background(), dir, "", false, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if logs.Len() != 0 {
		t.Errorf("a private key logged %q", logs.String())
	}
}

// TestMasterKeyLooseRefused: a master.key others may read that cannot be
// made private stops the start.
//
// As root (CI), the key is made immutable with chattr (Debian's e2fsprogs):
// then not even root can chmod it. As another user, master.key is a link to
// a file others may read that belongs to someone else, which that user
// cannot chmod either. Neither way is skipped: a machine where the rule
// cannot be exercised fails, saying what to install.
func TestMasterKeyLooseRefused(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	keyPath := filepath.Join(dir, store.MasterKeyFile)
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	mode := "0644"
	if os.Geteuid() == 0 {
		chattr, err := exec.LookPath("chattr")
		if err != nil {
			t.Fatal("chattr is not installed: install Debian's e2fsprogs (root can chmod anything but an immutable file)")
		}
		if out, err := exec.Command(chattr, "+i", keyPath).CombinedOutput(); err != nil {
			t.Fatalf("cannot make %s immutable (chattr: %v %s): run the tests with TMPDIR on a filesystem that supports it (ext4, xfs, btrfs)",
				keyPath, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command(chattr, "-i", keyPath).CombinedOutput(); err != nil {
				t.Errorf("chattr -i %s: %v %s", keyPath, err, out)
			}
		})
		if err := os.Chmod(keyPath, 0o600); err == nil {
			t.Fatalf("root could chmod the immutable %s: the test would not exercise the rule", keyPath)
		}
	} else {
		foreign := foreignReadableFile(t)
		if err := os.Remove(keyPath); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(foreign, keyPath); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(foreign)
		mode = fmt.Sprintf("%04o", fi.Mode().Perm())
	}
	var logs bytes.Buffer
	st, _, err := openStore(context.Background(), dir, "", false, slog.New(slog.NewTextHandler(&logs, nil)))
	if err == nil {
		st.Close()
		t.Fatal("started with a master.key others may read")
	}
	if !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "mode "+mode) || !strings.Contains(err.Error(), "cannot be made 0600") {
		t.Errorf("error %q does not say that %s has mode %s and cannot be made 0600", err, keyPath, mode)
	}
}

// foreignReadableFile returns a file that others may read and that belongs
// to another user than the test's, so the test's user cannot chmod it.
func foreignReadableFile(t *testing.T) string {
	t.Helper()
	for _, path := range []string{"/etc/passwd", "/etc/hostname", "/etc/os-release", "/etc/hosts"} {
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return path
		}
	}
	t.Fatal("no file others may read that belongs to another user (as /etc/passwd does): run the test as root with Debian's e2fsprogs")
	return ""
}

// lockOwner fails the owner's password until the owner is locked (no MFA
// device is bound after seedAccount, so the password is the only factor and
// every failure counts).
func lockOwner(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, sealer, err := openStore(ctx, dir, "", false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := ram.New(st, sealer)
	a := ram.Actor{RequestID: "r2", SourceIP: "203.0.113.9"}
	for i := 0; i < 5; i++ {
		svc.SignIn(ctx, a, "owner@example.com", "wrong", "")
	}
	if _, err := svc.SignIn(ctx, a, "owner@example.com", "Correct-Horse-Battery-42", ""); !ram.ErrBadLogin(err) {
		t.Fatalf("the owner is not locked: SignIn = %v", err)
	}
}

// ownerSignIn tries the owner's password; it reports whether the password step passed.
func ownerSignIn(t *testing.T, dir, password string) bool {
	t.Helper()
	ctx := context.Background()
	st, sealer, err := openStore(ctx, dir, "", false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = ram.New(st, sealer).SignIn(ctx, ram.Actor{RequestID: "r3", SourceIP: "127.0.0.1"}, "owner@example.com", password, "")
	if err != nil && !ram.ErrBadLogin(err) {
		t.Fatal(err)
	}
	return err == nil
}

// hostEvent returns the last event named name, checking it is a host one.
func hostEvent(t *testing.T, st *store.Store, name string) *store.StoredEvent {
	t.Helper()
	evs, err := st.Events(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].EventName == name {
			if evs[i].EventSource != "host" || evs[i].SourceIPAddress != "host" || evs[i].UserIdentity.Type != "root-account" {
				t.Errorf("%s event: source %q ip %q identity %q; want a host event on the owner", name, evs[i].EventSource, evs[i].SourceIPAddress, evs[i].UserIdentity.Type)
			}
			return &evs[i]
		}
	}
	t.Fatalf("no %s event", name)
	return nil
}

// TestOwnerUnlockCommand: the host unlocks a locked owner, audited, also
// while the server holds the data directory.
func TestOwnerUnlockCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	lockOwner(t, dir)
	// A running server owns the journal; the command works next to it.
	srv, err := store.OpenServer(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out, errOut bytes.Buffer
	if code := run([]string{"owner", "unlock", "--data", dir}, &out, &errOut); code != 0 {
		t.Fatalf("owner unlock = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "unlocked") {
		t.Errorf("output %q", out.String())
	}
	o, err := srv.Owner(context.Background())
	if err != nil || !o.LockedUntil.IsZero() || o.FailedCount != 0 {
		t.Fatalf("owner after unlock: %+v, %v", o, err)
	}
	hostEvent(t, srv, "UnlockOwner")
	srv.Close()
	if !ownerSignIn(t, dir, "Correct-Horse-Battery-42") {
		t.Errorf("the owner cannot sign in after unlock")
	}
}

// TestOwnerResetPasswordCommand: the new password is read twice from
// standard input, checked by the owner's rules, set; sessions end and the
// lockout is cleared.
func TestOwnerResetPasswordCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	lockOwner(t, dir)
	ctx := context.Background()
	srv, err := store.OpenServer(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.CreateSession(ctx, store.Session{IDHash: "owner-session", Principal: string(ram.PrincipalRoot), Data: "{}", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	reset := func(input string) (int, string, string) {
		t.Helper()
		defer func(old io.Reader) { stdin = old }(stdin)
		stdin = strings.NewReader(input)
		var out, errOut bytes.Buffer
		code := run([]string{"owner", "reset-password", "--data", dir}, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	const newPW = "Staple-Lantern-Orbit-77"
	for _, c := range []struct{ input, want string }{
		{"short\nshort\n", "at least 12"},
		{"password1234\npassword1234\n", "common"},
		{"owner-Sunny-Day-2026\nowner-Sunny-Day-2026\n", "name"},
		{newPW + "\n" + newPW + "x\n", "differ"},
		{newPW + "\n", "twice"},
		{"", "twice"},
	} {
		code, _, errOut := reset(c.input)
		if code == 0 || !strings.Contains(strings.ToLower(errOut), c.want) {
			t.Errorf("reset-password with %q = %d %q; want a refusal saying %q", c.input, code, errOut, c.want)
		}
	}
	if _, err := srv.Session(ctx, "owner-session"); err != nil {
		t.Fatalf("a refused reset ended the owner's session: %v", err)
	}
	code, out, errOut := reset(newPW + "\r\n" + newPW + "\r\n")
	if code != 0 {
		t.Fatalf("reset-password = %d: %s", code, errOut)
	}
	if !strings.Contains(out, "password") {
		t.Errorf("output %q", out)
	}
	if _, err := srv.Session(ctx, "owner-session"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the owner's session survived the reset: %v", err)
	}
	ev := hostEvent(t, srv, "ResetOwnerPassword")
	if strings.Contains(fmt.Sprint(ev.RequestParameters, ev.AdditionalEventData), newPW) {
		t.Errorf("the event holds the password")
	}
	srv.Close()
	if ownerSignIn(t, dir, "Correct-Horse-Battery-42") {
		t.Errorf("the old password still works")
	}
	if !ownerSignIn(t, dir, newPW) {
		t.Errorf("the new password does not work (still locked?)")
	}
}

// `service import` creates a service, replaces it from a changed file, and
// refuses a bad file with its problems, changing nothing; each import is a
// host event.
func TestServiceImportCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	write := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	def := `{"code": "ecs", "name": "Instances", "hosts": ["ecs.internal.example"], "style": "rpc", "resources": {"*": "*"}}`
	var out, errOut bytes.Buffer
	if code := run([]string{"service", "import", "--data", dir, write("ecs.json", def)}, &out, &errOut); code != 0 {
		t.Fatalf("import = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "created service ecs") || !strings.Contains(out.String(), "ecs.internal.example") {
		t.Errorf("stdout %q", out.String())
	}
	out.Reset()
	changed := strings.Replace(def, "ecs.internal.example", "ecs2.internal.example", 1)
	if code := run([]string{"service", "import", "--data", dir, write("ecs.json", changed)}, &out, &errOut); code != 0 {
		t.Fatalf("re-import = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "replaced the definition of service ecs") {
		t.Errorf("stdout %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	bad := `{"code": "Ecs", "name": "", "hosts": ["ecs.internal.example"], "style": "rpc"}`
	if code := run([]string{"service", "import", "--data", dir, write("bad.json", bad)}, &out, &errOut); code != 1 {
		t.Errorf("bad import = %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), `code: "Ecs" must be`) || !strings.Contains(errOut.String(), "name: give a name") {
		t.Errorf("stderr %q", errOut.String())
	}
	errOut.Reset()
	clash := strings.NewReplacer(`"ecs"`, `"rds"`, "ecs.internal.example", "ecs2.internal.example").Replace(def)
	if code := run([]string{"service", "import", "--data", dir, write("rds.json", clash)}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `hosts[0]: "ecs2.internal.example" already belongs to service ecs`) {
		t.Errorf("host clash = %d: %q", code, errOut.String())
	}

	ctx := context.Background()
	st, sealer, err := openStore(ctx, dir, "", false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := ram.New(st, sealer).ServiceForHost(ctx, "ecs2.internal.example")
	if err != nil || d.Code != "ecs" {
		t.Errorf("ServiceForHost = %v %v", d, err)
	}
	evs, err := st.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		if e.EventSource == "host" {
			names = append(names, e.EventName)
		}
	}
	if strings.Join(names, ",") != "UpdateService,CreateService" {
		t.Errorf("host events %v", names)
	}
}

// ramconsole oidc rotate-key makes a new signing key the current one,
// next to the first, which stays published.
func TestOIDCRotateKeyCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	var kids []string
	for i := 0; i < 2; i++ {
		var out, errOut bytes.Buffer
		if code := run([]string{"oidc", "rotate-key", "--data", dir}, &out, &errOut); code != 0 {
			t.Fatalf("oidc rotate-key = %d: %s", code, errOut.String())
		}
		if !strings.HasPrefix(out.String(), "New signing key ") || !strings.Contains(out.String(), "24 hours") {
			t.Fatalf("stdout %q", out.String())
		}
		kids = append(kids, strings.Fields(out.String())[3])
	}
	if kids[0] == kids[1] {
		t.Errorf("two rotations gave the same key %s", kids[0])
	}
	var errOut bytes.Buffer
	if code := run([]string{"oidc", "rotate"}, io.Discard, &errOut); code != 2 {
		t.Errorf("an unknown oidc subcommand = %d, want 2 with the usage", code)
	}
}
