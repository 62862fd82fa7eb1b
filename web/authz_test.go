package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const ramUserPW = "Plain-Console-Pass-77"

// ramUser creates a RAM user with console access (no forced steps), attaches
// the given system policies and custom policy documents, and signs it in.
func (h *harness) ramUser(owner *browser, name string, systemPolicies []string, custom map[string]string) *browser {
	h.t.Helper()
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {name}, "console_login": {"true"}, "password": {ramUserPW}})
	expectHandover(h.t, p, "create "+name)
	for _, sp := range systemPolicies {
		owner.get("/users/" + name)
		expectRedirect(h.t, owner.post("/users/"+name+"/policies", url.Values{"policy_type": {"System"}, "policy_name": {sp}}), "/users/"+name, "attach "+sp)
	}
	for pname, doc := range custom {
		owner.get("/policies/new")
		expectRedirect(h.t, owner.post("/policies", url.Values{"name": {pname}, "document": {doc}}), "/policies/Custom/"+pname, "create "+pname)
		owner.get("/users/" + name)
		expectRedirect(h.t, owner.post("/users/"+name+"/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {pname}}), "/users/"+name, "attach "+pname)
	}
	b := h.browser()
	b.get("/login")
	expectRedirect(h.t, b.post("/login", url.Values{"username": {name}, "password": {ramUserPW}}), "/", name+" signs in")
	b.get("/me")
	return b
}

func (h *harness) accountID() string { return h.svc.AccountID(context.Background()) }

// fill replaces a route's parameters with the matrix fixtures' names.
func fill(path string) string {
	r := strings.NewReplacer(":name/versions", "pol/versions", ":version", "v1", ":group", "team", ":user", "target",
		":type", "Custom", ":policy", "pol", ":token", "nope", ":id", "LTAInone")
	path = r.Replace(path)
	switch {
	case strings.HasPrefix(path, "/users/"):
		path = strings.Replace(path, ":name", "target", 1)
	case strings.HasPrefix(path, "/groups/"):
		path = strings.Replace(path, ":name", "team", 1)
	case strings.HasPrefix(path, "/policies/"):
		path = strings.Replace(path, ":name", "pol", 1)
	case strings.HasPrefix(path, "/roles/"):
		path = strings.Replace(path, ":name", "op", 1)
	case strings.HasPrefix(path, "/services/"):
		path = strings.Replace(path, ":code", "ecs", 1)
	}
	return path
}

// The authorisation matrix: every route × six identities, generated from the
// route table so a new route cannot be left out.
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	denyDelete := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:DeleteUser","Resource":"*"}]}`
	identities := map[string]*browser{
		"anonymous":          h.browser(),
		"owner":              owner,
		"admin":              h.ramUser(owner, "admin", []string{"AdministratorAccess"}, nil),
		"read-only":          h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil),
		"no policy":          h.ramUser(owner, "nobody", nil, nil),
		"admin minus delete": h.ramUser(owner, "almost", []string{"AdministratorAccess"}, map[string]string{"NoDeleteUser": denyDelete}),
	}
	// Fixtures the routes name.
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"target"}, "console_login": {"true"}, "password": {ramUserPW}, "create_access_key": {"true"}})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"team"}})
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"pol"}, "document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`}})
	owner.get("/roles/new")
	owner.post("/roles", url.Values{"name": {"op"}, "preset": {"account"}, "max_session_duration": {"3600"}})
	owner.get("/services/new")
	owner.post("/services", url.Values{"definition": {testECSDef}})
	_ = acct

	expect := func(identity, action string) bool { // true = allowed
		switch identity {
		case "owner", "admin":
			return true
		case "read-only":
			// AliyunRAMReadOnlyAccess also allows ram:GenerateCredentialReport, as Alibaba Cloud's does.
			return strings.HasPrefix(action, "ram:Get") || strings.HasPrefix(action, "ram:List") || action == "ram:GenerateCredentialReport"
		case "admin minus delete":
			return action != "ram:DeleteUser"
		}
		return false
	}
	// The owner goes last: its changes (deleting fixtures) must not hide another identity's 403.
	order := []string{"anonymous", "no policy", "read-only", "admin minus delete", "admin", "owner"}
	checked := 0
	for _, r := range h.app.Routes() {
		if r.Access != SignedIn || r.Action == "" {
			continue
		}
		path := fill(r.Path)
		form := url.Values{"group": {"team"}, "user": {"target"}, "policy_type": {"Custom"}, "policy_name": {"pol"}}
		for _, who := range order {
			b := identities[who]
			var p page
			if r.Method == http.MethodGet {
				p = b.get(path + "?user=target&action=ram:GetUser&resource=*")
			} else {
				b.get("/me")
				if who == "owner" {
					b.get("/")
				}
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				p = b.post(path, f)
			}
			if who == "anonymous" {
				// A post without a session is refused by the CSRF check before anything else.
				if r.Method == http.MethodPost && p.status == http.StatusForbidden {
					continue
				}
				if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
					t.Errorf("%s %s as anonymous: %d → %q, want a redirect to sign in", r.Method, r.Path, p.status, p.header.Get("Location"))
				}
				continue
			}
			denied := p.status == http.StatusForbidden
			if denied == expect(who, r.Action) {
				t.Errorf("%s %s (%s) as %s: status %d, want allowed=%v", r.Method, r.Path, r.Action, who, p.status, expect(who, r.Action))
			}
			if p.status >= 500 {
				t.Errorf("%s %s as %s: %d", r.Method, r.Path, who, p.status)
			}
		}
		checked++
	}
	if checked < 40 {
		t.Errorf("only %d routes checked", checked)
	}
}

func TestNoEscalation(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	self := "acs:ram:*:" + acct + ":user/eve"
	doc := `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["ram:AttachPolicyToUser","ram:AddUserToGroup","ram:GetUser","ram:ListPoliciesForUser","ram:CreateAccessKey","ram:ListAccessKeys","ram:DeleteAccessKey"],"Resource":"` + self + `"},
		{"Effect":"Allow","Action":["ram:GetPolicy","ram:ListPolicies"],"Resource":"*"}]}`
	eve := h.ramUser(owner, "eve", nil, map[string]string{"EveSelf": doc})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"admins"}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"victim"}, "create_access_key": {"true"}})

	eve.get("/users/eve")
	expectStatus(t, eve.post("/users/eve/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AdministratorAccess"}}), 403,
		"attach AdministratorAccess to oneself (policy ARN not allowed)")
	expectStatus(t, eve.post("/users/eve/groups", url.Values{"group": {"admins"}}), 403, "join a group without permission on the group")
	expectStatus(t, eve.post("/policies/Custom/EveSelf/versions", url.Values{"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, "set_as_default": {"true"}}),
		403, "new version of one's own policy without CreatePolicyVersion")
	expectStatus(t, eve.post("/users/victim/accesskeys", nil), 403, "create another user's AccessKey")
	expectStatus(t, eve.get("/users/victim"), 403, "view another user")
	expectStatus(t, eve.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"8"}}), 403, "change settings")
	expectStatus(t, eve.post("/settings/alias", url.Values{"alias": {"taken-over"}}), 403, "change the alias")
	victim, _ := h.st.UserByName(context.Background(), "victim")
	keys, _ := h.st.AccessKeys(context.Background(), victim.UserID)
	expectStatus(t, eve.post("/users/victim/accesskeys/"+keys[0].AccessKeyID+"/delete", nil), 403, "delete another user's AccessKey")
	// What eve may do on herself works.
	eve.get("/users/eve")
	expectHandover(t, eve.post("/users/eve/accesskeys", nil), "own AccessKey")
	// Nothing changed for the refused requests.
	atts, _ := h.st.UserAttachments(context.Background(), victim.UserID)
	if len(atts) != 0 {
		t.Errorf("the victim has attachments")
	}
	if k, _ := h.st.AccessKeys(context.Background(), victim.UserID); len(k) != 1 {
		t.Errorf("the victim has %d keys, want 1", len(k))
	}
	if n := h.countDenied(); n < 8 {
		t.Errorf("%d denied requests audited, want at least 8", n)
	}
}

func (h *harness) countDenied() int {
	n := 0
	for _, e := range h.events() {
		if e.ErrorCode == "NoPermission" {
			n++
		}
	}
	return n
}

func TestChangesTakeEffectOnTheNextRequest(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	b := h.ramUser(owner, "fay", nil, nil)
	expectStatus(t, b.get("/users"), 403, "before any policy")
	owner.get("/users/fay")
	owner.post("/users/fay/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	expectStatus(t, b.get("/users"), 200, "right after the attachment")
	owner.get("/users/fay")
	owner.post("/users/fay/policies/System/AliyunRAMReadOnlyAccess/detach", nil)
	expectStatus(t, b.get("/users"), 403, "right after the detachment")

	// Through a group: membership and the group's attachments.
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"readers"}})
	owner.get("/groups/readers")
	owner.post("/groups/readers/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	expectStatus(t, b.get("/users"), 403, "not yet a member")
	owner.post("/groups/readers/members", url.Values{"user": {"fay"}})
	expectStatus(t, b.get("/users"), 200, "right after joining")
	owner.get("/groups/readers")
	owner.post("/groups/readers/members/fay/remove", nil)
	expectStatus(t, b.get("/users"), 403, "right after leaving")

	// A new default version.
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"Flip"}, "document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*"}]}`}})
	owner.get("/users/fay")
	owner.post("/users/fay/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"Flip"}})
	expectStatus(t, b.get("/users"), 200, "v1 allows")
	owner.get("/policies/Custom/Flip")
	owner.post("/policies/Custom/Flip/versions", url.Values{"document": {`{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:ListUsers","Resource":"*"}]}`}, "set_as_default": {"true"}})
	expectStatus(t, b.get("/users"), 403, "v2 denies at once")
	owner.get("/policies/Custom/Flip")
	owner.post("/policies/Custom/Flip/versions/v1/default", nil)
	expectStatus(t, b.get("/users"), 200, "back to v1")
}

func TestAccessDeniedPage(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	secretDoc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"},{"Effect":"Deny","Action":"ram:GetUser","Resource":"acs:ram:*:*:user/boss"}]}`
	b := h.ramUser(owner, "gus", nil, map[string]string{"AllButBoss": secretDoc})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"boss"}})
	p := b.get("/users/boss")
	expectStatus(t, p, 403, "explicitly denied page")
	for _, want := range []string{"ram:GetUser", "acs:ram:*:" + h.accountID() + ":user/boss", "ExplicitDeny", "AllButBoss", "Statement[1]"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the denied page lacks %q", want)
		}
	}
	if strings.Contains(p.body, `"Effect"`) {
		t.Errorf("the denied page shows policy text")
	}
	rid := p.header.Get("X-Request-Id")
	for _, want := range []string{"no Allow can override a Deny", `data-testid="denial-diagnostic"`, "Request ID: " + rid, "Principal: gus", "Decision: ExplicitDeny"} {
		if rid == "" || !strings.Contains(p.body, want) {
			t.Errorf("the explicitly denied page lacks %q", want)
		}
	}
	c := h.ramUser(owner, "hal", nil, nil)
	p = c.get("/groups")
	expectStatus(t, p, 403, "implicitly denied page")
	if !strings.Contains(p.body, "ImplicitDeny") || !strings.Contains(p.body, "ram:ListGroups") {
		t.Errorf("the implicit denial is not explained")
	}
	if !strings.Contains(p.body, "to attach a policy that allows it") || strings.Contains(p.body, "no Allow can override") {
		t.Errorf("the implicit denial's advice does not fit it")
	}
	// Navigation shows only what the identity may use.
	p = b.get("/me")
	if !strings.Contains(p.body, `href="/users"`) {
		t.Errorf("gus (ram:*) does not see Users in the navigation")
	}
	p = c.get("/me")
	if strings.Contains(p.body, `href="/users"`) || strings.Contains(p.body, `href="/settings"`) {
		t.Errorf("hal (no policies) sees sections he may not use")
	}
}

func simulate(t *testing.T, b *browser, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("csrf_token", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+"/simulator", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("simulator answered %d %q", resp.StatusCode, body)
	}
	return resp.StatusCode, out
}

func TestSimulator(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"},
		{"Effect":"Deny","Action":"ram:DeleteUser","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`
	h.ramUser(owner, "ida", nil, map[string]string{"Office": doc})
	owner.get("/simulator")
	user := "acs:ram:*:" + acct + ":user/x"
	status, out := simulate(t, owner, url.Values{"user": {"ida"}, "action": {"ram:DeleteUser"}, "resource": {user}, "source_ip": {"192.0.2.1"}})
	if status != 200 || out["decision"] != "ExplicitDeny" {
		t.Fatalf("from outside the office: %d %v", status, out)
	}
	matched := out["matched"].([]any)
	if len(matched) != 2 || matched[1].(map[string]any)["statement"].(float64) != 1 || matched[1].(map[string]any)["policyName"] != "Office" {
		t.Errorf("matched = %v", matched)
	}
	_, out = simulate(t, owner, url.Values{"user": {"ida"}, "action": {"ram:DeleteUser"}, "resource": {user}, "source_ip": {"10.1.2.3"}})
	if out["decision"] != "Allow" {
		t.Errorf("from the office: %v", out["decision"])
	}
	// Several resources: ExplicitDeny if any is, Allow if all are, else ImplicitDeny.
	_, out = simulate(t, owner, url.Values{"user": {"ida"}, "action": {"ecs:StartInstance"}, "resource": {"acs:ecs:*:*:instance/i-1\nacs:ecs:*:*:instance/i-2"}})
	if out["decision"] != "ImplicitDeny" || len(out["resources"].([]any)) != 2 {
		t.Errorf("ecs: %v", out)
	}
	// A draft as if attached.
	draft := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"acs:ecs:*:*:instance/i-1"}]}`
	_, out = simulate(t, owner, url.Values{"user": {"ida"}, "action": {"ecs:StartInstance"}, "resource": {"acs:ecs:*:*:instance/i-1\nacs:ecs:*:*:instance/i-2"}, "document": {draft}})
	res := out["resources"].([]any)
	if out["decision"] != "ImplicitDeny" || res[0].(map[string]any)["decision"] != "Allow" || res[1].(map[string]any)["decision"] != "ImplicitDeny" {
		t.Errorf("draft: %v", out)
	}
	// Invalid input: 422 with messages.
	status, out = simulate(t, owner, url.Values{"user": {"ida"}, "action": {"nocolon"}, "resource": {""}, "document": {`{"Version":"2"`}})
	if status != 422 || len(out["errors"].([]any)) < 3 {
		t.Errorf("invalid input: %d %v", status, out)
	}
	// The HTML form shows the decision.
	owner.get("/simulator")
	p := owner.post("/simulator", url.Values{"user": {"ida"}, "action": {"ram:ListUsers"}, "resource": {"acs:ram:*:" + acct + ":user/*"}})
	if !strings.Contains(p.body, `data-testid="decision">Allow<`) {
		t.Errorf("the simulator page does not show Allow")
	}
	p = owner.get("/simulator?user=ida&action=ram:ListUsers&resource=*")
	if !strings.Contains(p.body, `data-testid="decision">Allow<`) {
		t.Errorf("the can-this-user box does not simulate")
	}
}

func TestPolicyLifecycle(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/policies/new")
	bad := "{\n  \"Version\": \"1\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"*\"}\n  ]\n}"
	p := owner.post("/policies", url.Values{"name": {"Ops"}, "document": {bad}})
	expectStatus(t, p, 422, "syntax error")
	if !strings.Contains(p.body, "line 4, column") {
		t.Errorf("no line and column in %q", find(t, regexpProblems, p.body, "problems"))
	}
	if !strings.Contains(p.body, "&#34;Effect&#34;: &#34;Allow&#34; &#34;Action&#34;") && !strings.Contains(p.body, `"Effect": "Allow" "Action"`) {
		t.Errorf("the typed document was not kept")
	}
	grammar := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"ecs:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}}]}`
	p = owner.post("/policies", url.Values{"name": {"Ops"}, "document": {grammar}})
	expectStatus(t, p, 422, "grammar error")
	if !strings.Contains(p.body, "Statement[1].Condition.IpAddress.acs:SourceIp") {
		t.Errorf("no path in the message")
	}
	good := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"Ops"}, "document": {good}, "description": {"ops"}}), "/policies/Custom/Ops", "create")
	expectStatus(t, owner.post("/policies", url.Values{"name": {"ops"}, "document": {good}}), 409, "duplicate name")
	expectStatus(t, owner.post("/policies", url.Values{"name": {"AdministratorAccess"}, "document": {good}}), 409, "a system policy's name")
	// Versions: up to 5; the sixth needs rotation.
	for i := 2; i <= 5; i++ {
		owner.get("/policies/Custom/Ops")
		expectRedirect(t, owner.post("/policies/Custom/Ops/versions", url.Values{"document": {good}}), "/policies/Custom/Ops", "version")
	}
	owner.get("/policies/Custom/Ops")
	expectStatus(t, owner.post("/policies/Custom/Ops/versions", url.Values{"document": {good}}), 409, "sixth version")
	expectRedirect(t, owner.post("/policies/Custom/Ops/versions", url.Values{"document": {good}, "rotate": {"true"}, "set_as_default": {"true"}}), "/policies/Custom/Ops", "sixth with rotation")
	p = owner.get("/policies/Custom/Ops")
	// v1 was the default, so the oldest non-default version, v2, was rotated out.
	if strings.Contains(p.body, `href="/policies/Custom/Ops/versions/v2"`) || !strings.Contains(p.body, `href="/policies/Custom/Ops/versions/v1"`) {
		t.Errorf("rotation did not remove the oldest non-default version")
	}
	if !strings.Contains(p.body, `data-testid="default-version">v6<`) {
		t.Errorf("v6 is not the default")
	}
	expectStatus(t, owner.post("/policies/Custom/Ops/versions/v6/delete", nil), 409, "delete the default version")
	expectRedirect(t, owner.post("/policies/Custom/Ops/versions/v3/delete", nil), "/policies/Custom/Ops", "delete v3")
	expectStatus(t, owner.post("/policies/Custom/Ops/versions/v3/delete", nil), 404, "delete v3 again")
	// References and delete with clean-up.
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"jo"}})
	owner.get("/users/jo")
	owner.post("/users/jo/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"Ops"}})
	p = owner.get("/policies/Custom/Ops")
	if !strings.Contains(p.body, `href="/users/jo"`) {
		t.Errorf("references do not list jo")
	}
	owner.get("/policies/Custom/Ops/delete")
	expectStatus(t, owner.post("/policies/Custom/Ops/delete", url.Values{"confirm": {"Ops"}}), 409, "delete while attached")
	expectRedirect(t, owner.post("/policies/Custom/Ops/delete", url.Values{"confirm": {"Ops"}, "cleanup": {"true"}}), "/policies", "delete with clean-up")
	p = owner.get("/policies?type=System")
	if n := strings.Count(p.body, `href="/policies/System/`); n != 24 {
		t.Errorf("%d system policies listed, want 24", n)
	}
	p = owner.get("/policies/System/AdministratorAccess")
	expectStatus(t, p, 200, "a system policy")
	if strings.Contains(p.body, "/versions\"") {
		t.Errorf("a system policy offers a new version")
	}
	for _, ev := range []string{"CreatePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "DeletePolicy", "AttachPolicyToUser"} {
		if !h.hasEvent(ev, "") {
			t.Errorf("no %s event", ev)
		}
	}
}

var regexpProblems = regexp.MustCompile(`(?s)data-testid="policy-problems">(.*?)</ul>`)

func TestAuditNeedsLookupEvents(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	auditor := h.ramUser(owner, "auditor", []string{"AliyunActionTrailReadOnlyAccess"}, nil)
	admin := h.ramUser(owner, "ramadmin", []string{"AliyunRAMFullAccess"}, nil)
	for _, path := range []string{"/audit", "/audit/export.csv", "/audit/export.ndjson"} {
		expectStatus(t, auditor.get(path), 200, "auditor on "+path)
		expectStatus(t, admin.get(path), 403, "a RAM admin without actiontrail:LookupEvents on "+path)
	}
	p := auditor.get("/me")
	if !strings.Contains(p.body, `href="/audit"`) {
		t.Errorf("the auditor's navigation lacks the audit log")
	}
}
