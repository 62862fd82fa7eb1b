package web

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// TestAPIV1ActionMustBeSigned: a V1 call's action and version come from its
// signed parameters only, never from the unsigned x-acs-action and
// x-acs-version headers.
func TestAPIV1ActionMustBeSigned(t *testing.T) {
	env := newAPIEnv(t)
	all := env.signedV1(env.admin.keyID, env.admin.secret, http.MethodPost, url.Values{"UserName": {"apiadmin"}})
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/?"+all.Encode(), nil)
	req.Header.Set("x-acs-action", "GetUser")
	req.Header.Set("x-acs-version", "2015-05-01")
	p := env.send(req)
	if p.status == http.StatusOK {
		t.Fatalf("V1 call with its action only in an unsigned header was served: %s", p.body)
	}
	expectAPIError(t, p, "MissingParameter", 400, "unsigned action")
}

// TestAPIChangePasswordFollowsSecurityPreference: ChangePassword is
// self-service (SPEC §4.3, docs/api.md): the security preference's
// AllowUserToChangePassword governs it, not policies, as on the console's
// /password/change. A user without any policy may change its password
// while the preference allows it, and nobody may while it does not.
func TestAPIChangePasswordFollowsSecurityPreference(t *testing.T) {
	env := newAPIEnv(t)
	env.owner.get("/users/new")
	p := env.owner.post("/users", url.Values{"name": {"pwuser"}, "console_login": {"true"}, "password": {ramUserPW}, "create_access_key": {"true"}})
	p = env.owner.follow(p)
	expectStatus(t, p, 200, "create pwuser")
	uc := env.sdkClient(find(t, keyIDRE, p.body, "AccessKey ID"), find(t, keySecretRE, p.body, "AccessKey secret"))
	setPref := func(allow string) {
		t.Helper()
		sp := ramsdk.CreateSetSecurityPreferenceRequest()
		env.at(sp)
		sp.AllowUserToChangePassword = requests.NewBoolean(allow == "true")
		_, err := env.client.SetSecurityPreference(sp)
		must(t, err, "SetSecurityPreference AllowUserToChangePassword="+allow)
	}
	cp := ramsdk.CreateChangePasswordRequest()
	env.at(cp)
	cp.OldPassword, cp.NewPassword = ramUserPW, "Zebra-Quartz-7741!x"

	setPref("false")
	_, err := uc.ChangePassword(cp)
	expectCode(t, err, "NoPermission", 403, "ChangePassword while the preference forbids it")

	setPref("true")
	_, err = uc.ChangePassword(cp)
	must(t, err, "ChangePassword by a user without policies while the preference allows it")
	b := env.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"pwuser"}, "password": {"Zebra-Quartz-7741!x"}}), "/", "sign-in with the new password")
}

// TestAPIAuditParamsAreBounded: a refused call's event does not record an
// unbounded number of parameters (an unsigned 1 MiB form would otherwise
// write a multi-megabyte event), and a call with more parameters than any
// action takes is refused before they are parsed.
func TestAPIAuditParamsAreBounded(t *testing.T) {
	env := newAPIEnv(t)
	var b strings.Builder
	b.WriteString("Action=GetUser&AccessKeyId=" + env.admin.keyID)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "&p%d=%s", i, strings.Repeat("v", 100))
	}
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e := expectAPIError(t, env.send(req), "InvalidParameter", 400, "unsigned call with 5,000 parameters")
	if !strings.Contains(e.Message, "more than 1000 parameters") {
		t.Errorf("message = %q", e.Message)
	}
	b.Reset()
	b.WriteString("Action=GetUser&AccessKeyId=" + env.admin.keyID)
	for i := 0; i < 900; i++ {
		fmt.Fprintf(&b, "&p%d=%s", i, strings.Repeat("v", 100))
	}
	req, _ = http.NewRequest(http.MethodPost, env.srv.URL+"/", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e = expectAPIError(t, env.send(req), "MissingParameter", 400, "unsigned call with 900 parameters")
	for _, ev := range env.events() {
		if ev.RequestID == e.RequestId {
			if n := len(ev.RequestParameters); n > 64 {
				t.Fatalf("the event records %d parameters", n)
			}
			return
		}
	}
	t.Fatal("the refused call is not audited")
}

// TestAPIXMLErrorWhenQueryUnparsable: Format=XML is honoured for the error
// of a query string that does not parse.
func TestAPIXMLErrorWhenQueryUnparsable(t *testing.T) {
	env := newAPIEnv(t)
	req, _ := http.NewRequest(http.MethodGet, env.srv.URL+"/?Action=GetUser&Format=XML&UserName=%zz", nil)
	p := env.send(req)
	var e struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
	}
	if err := xml.Unmarshal([]byte(p.body), &e); err != nil || p.status != 400 || e.Code != "InvalidParameter" {
		t.Fatalf("unparsable query with Format=XML: %d %v %s", p.status, err, p.body)
	}
}

// TestAPIAccessLog: every OpenAPI call has its access-log line (SPEC §9),
// with the AccessKey owner as principal.
func TestAPIAccessLog(t *testing.T) {
	env := newAPIEnv(t)
	p := env.rawV1(env.admin.keyID, env.admin.secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}}, nil)
	expectStatus(t, p, 200, "GetUser")
	var rid struct{ RequestId string }
	if err := json.Unmarshal([]byte(p.body), &rid); err != nil {
		t.Fatal(err)
	}
	env.logsMu.Lock()
	logs := env.logs.String()
	env.logsMu.Unlock()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "request_id="+rid.RequestId) {
			if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=200") ||
				!strings.Contains(line, "principal=user/") || !strings.Contains(line, "path=/") {
				t.Errorf("access log line = %q", line)
			}
			return
		}
	}
	t.Fatalf("no access log line for request %s", rid.RequestId)
}

// TestAPIAnswerSecurityHeaders: OpenAPI answers carry the headers of SPEC
// §8, with a policy under which nothing in them loads anything.
func TestAPIAnswerSecurityHeaders(t *testing.T) {
	env := newAPIEnv(t)
	p := env.rawV1(env.admin.keyID, env.admin.secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}}, nil)
	expectStatus(t, p, 200, "GetUser")
	for k, want := range map[string]string{
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
