package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ramconsole/ram"
	"ramconsole/store"
)

// seedAccount creates an account with a few events in dir.
func seedAccount(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, sealer, err := openStore(ctx, dir, false)
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

func TestOwnerResetMFACommandWithoutDevice(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"owner", "reset-mfa", "--data", dir}, &out, &errOut); code == 0 {
		t.Errorf("reset-mfa without a device exited 0")
	}
	if !strings.Contains(errOut.String(), "no MFA device") {
		t.Errorf("stderr %q", errOut.String())
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
