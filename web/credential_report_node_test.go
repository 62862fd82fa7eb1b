package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
)

// imsNodeSDKVersion is the npm @alicloud/ims20190815 the Node credential
// report test runs.
const imsNodeSDKVersion = "2.3.2"

// imsReportNodeScript generates a credential report with the Node SDK (V3
// signatures with the AccessKey in ACCESS_KEY_ID/ACCESS_KEY_SECRET), then
// reads it a row at a time, following nextToken, and prints the answers'
// bodies. A refused call exits non-zero with the error code on the first
// line of stderr.
const imsReportNodeScript = `
const Ims = require('@alicloud/ims20190815');
const { $OpenApiUtil } = require('@alicloud/openapi-core');
(async () => {
  const client = new Ims.default(new $OpenApiUtil.Config({
    accessKeyId: process.env.ACCESS_KEY_ID, accessKeySecret: process.env.ACCESS_KEY_SECRET,
    endpoint: process.env.IMS_ENDPOINT, protocol: 'HTTP', regionId: 'cn-hangzhou' }));
  const generated = (await client.generateCredentialReport()).body;
  const pages = [];
  let nextToken;
  for (let i = 0; i < 100; i++) {
    const r = await client.getCredentialReport(new Ims.GetCredentialReportRequest({ maxItems: '1', nextToken }));
    pages.push(r.body);
    nextToken = r.body.nextToken;
    if (!nextToken) break;
  }
  process.stdout.write(JSON.stringify({ generated, pages }));
})().catch((e) => { console.error(e.code); console.error(e.message); process.exit(1); });
`

// imsNodeReport is what imsReportNodeScript prints.
type imsNodeReport struct {
	Generated struct{ RequestID, State string }
	Pages     []struct {
		RequestID, Content, GeneratedTime, NextToken string
		IsTruncated                                  any // the SDK's model says string, the wire has a boolean
	}
}

// The Node SDK (npm @alicloud/ims20190815) generates the credential report
// and reads it a row per page with an owner-created user's AccessKey; the
// pages put together are the report the classic Go SDK reads. A key whose
// user may generate the report but not read it is refused with NoPermission.
func TestCredentialReportFromNode(t *testing.T) {
	modules := nodeSDK(t, "@alicloud/ims20190815", imsNodeSDKVersion)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Node SDK test needs node on PATH: %v", err)
	}
	f := newCredentialReportFixture(t)
	env := f.env
	ctx := context.Background()
	root := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}

	// The auditor: a user the owner made, with an AccessKey and a policy
	// allowing just the two report actions.
	_, err = env.svc.CreateUser(ctx, root, ram.UserInput{UserName: "auditor"})
	must(t, err, "create auditor")
	key, err := env.svc.CreateAccessKey(ctx, root, "auditor")
	must(t, err, "auditor's key")
	imsGrant(t, env.harness, "auditor", "credential-report", `{"Version":"1","Statement":[{"Effect":"Allow",`+
		`"Action":["ram:GenerateCredentialReport","ram:GetCredentialReport"],"Resource":"*"}]}`)

	script := filepath.Join(t.TempDir(), "report.js")
	must(t, os.WriteFile(script, []byte(imsReportNodeScript), 0o600), "script")
	u, _ := url.Parse(env.srv.URL)
	run := func(keyID, secret string) (stdout, stderr []byte, err error) {
		t.Helper()
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(c, node, script)
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "IMS_ENDPOINT="+u.Host, "ACCESS_KEY_ID="+keyID, "ACCESS_KEY_SECRET="+secret)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.Bytes(), errOut.Bytes(), err
	}

	out, stderr, err := run(key.AccessKeyID, key.AccessKeySecret)
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr)
	}
	var got imsNodeReport
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	if got.Generated.State != "COMPLETE" {
		t.Errorf("generateCredentialReport = %+v", got.Generated)
	}
	ev := env.reportEvent(t, got.Generated.RequestID, "GenerateCredentialReport", ram.EventAPICall, "")
	if ev.UserIdentity.AccessKeyID != key.AccessKeyID {
		t.Errorf("GenerateCredentialReport event's AccessKeyId = %q, want the auditor's", ev.UserIdentity.AccessKeyID)
	}
	generated := reportTimeOf(env.clock.Now())

	// One row per page, each page a whole CSV with the header; nextToken
	// leads to the next row until the last page.
	var rows [][]string
	for i, p := range got.Pages {
		what := fmt.Sprintf("page %d", i+1)
		page := parseReport(t, what, p.Content)
		if strings.Join(page.header, ",") != credentialReportHeader || len(page.header) != 28 {
			t.Fatalf("%s: header = %q", what, page.header)
		}
		if len(page.rows) != 1 {
			t.Fatalf("%s: %d rows, want 1", what, len(page.rows))
		}
		if p.GeneratedTime != generated {
			t.Errorf("%s: generatedTime %q, want %q", what, p.GeneratedTime, generated)
		}
		last := i == len(got.Pages)-1
		if truncated := fmt.Sprint(p.IsTruncated); (truncated == "true") == last || (p.NextToken == "") != last {
			t.Errorf("%s of %d: isTruncated %v nextToken %q", what, len(got.Pages), p.IsTruncated, p.NextToken)
		}
		env.reportEvent(t, p.RequestID, "GetCredentialReport", ram.EventAPICall, "")
		rows = append(rows, page.rows[0])
	}
	rep := reportTable{header: strings.Split(credentialReportHeader, ","), rows: rows}
	wantUsers := []string{"<root>", "Zed@" + testAlias, "alice@" + testAlias, "apiadmin@" + testAlias, "auditor@" + testAlias,
		"bob@" + testAlias, "carol@" + testAlias}
	if !slices.Equal(rep.users(), wantUsers) {
		t.Fatalf("rows = %q, want %q", rep.users(), wantUsers)
	}

	// By position: <root> first, 28 cells; by name: the users' credentials.
	if r := rows[0]; r[0] != "<root>" || len(r) != 28 || r[3] != "TRUE" || r[7] != "TRUE" || r[8] != "FALSE" {
		t.Errorf("<root> row = %q", r)
	}
	for _, c := range []struct{ user, column, want string }{
		{"auditor", "access_key_1_exist", "TRUE"},
		{"auditor", "access_key_1_active", "TRUE"},
		{"auditor", "password_exist", "FALSE"},
		{"bob", "access_key_1_last_rotated", reportTimeOf(f.bobKey1Created)},
		{"bob", "access_key_2_active", "FALSE"},
		{"carol", "password_exist", "TRUE"},
		{"carol", "password_active", "FALSE"},
		{"alice", "mfa_active", "TRUE"},
		{"Zed", "user_last_logon", "-"},
	} {
		if v := rep.cell(t, c.user+"@"+testAlias, c.column); v != c.want {
			t.Errorf("%s's %s = %q, want %q", c.user, c.column, v, c.want)
		}
	}
	if r := rep.row(t, "bob@"+testAlias); r[12] != "TRUE" || r[13] != "FALSE" || r[14] != reportTimeOf(f.bobKey2Created) {
		t.Errorf("bob's second key by position = %q", r[12:16])
	}

	// The pages are the report the Go SDK reads whole.
	whole, err := f.get(env.imsClient(env.admin.keyID, env.admin.secret), "1000", "")
	must(t, err, "GetCredentialReport (Go SDK)")
	if all := parseReport(t, "whole", whole.Content); !slices.EqualFunc(all.rows, rows, slices.Equal) {
		t.Errorf("Node pages %q, Go SDK report %q", rows, all.rows)
	}

	// bob may generate the report but not read it: the script's
	// getCredentialReport is refused.
	imsGrant(t, env.harness, "bob", "report-generator",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GenerateCredentialReport","Resource":"*"}]}`)
	out, stderr, err = run(f.bobKey1.AccessKeyID, f.bobKey1.AccessKeySecret)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("node with bob's key: %v, want a non-zero exit\nstdout %s\nstderr %s", err, out, stderr)
	}
	if code, _, _ := strings.Cut(string(stderr), "\n"); code != "NoPermission" {
		t.Errorf("node with bob's key printed %q, want NoPermission", stderr)
	}
	var refused int
	for _, e := range env.events() {
		if e.EventName == "GetCredentialReport" && e.ErrorCode == "NoPermission" && e.UserIdentity.AccessKeyID == f.bobKey1.AccessKeyID {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("bob's refused GetCredentialReport left %d NoPermission events, want 1", refused)
	}
}
