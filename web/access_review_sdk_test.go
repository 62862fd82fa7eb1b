package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// startNginxForHosts runs nginx as docs/gateway.md configures it, with the
// recipe's service server block repeated for each of hosts (the first is
// the recipe's own, ecs.internal.example), all in front of backend. It
// returns host:port.
func startNginxForHosts(t *testing.T, ramconsole, backend string, hosts []string) string {
	t.Helper()
	return runNginx(t, func(port int) string {
		recipe := nginxRecipe(t, ramconsole, backend, port)
		named := strings.Index(recipe, "server_name ecs.internal.example;")
		start := strings.LastIndex(recipe[:max(named, 0)], "server {")
		end := start + strings.Index(recipe[max(start, 0):], "\n}\n") + 3
		if named < 0 || start < 0 || end < start+3 {
			t.Fatalf("docs/gateway.md's nginx recipe has no server block for ecs.internal.example:\n%s", recipe)
		}
		block := recipe[start:end]
		for _, host := range hosts[1:] {
			recipe += strings.NewReplacer("ecs.internal.example", host, regexp.QuoteMeta("ecs.internal.example"), regexp.QuoteMeta(host)).Replace(block)
		}
		return recipe
	})
}

// accessJSON GETs an access review page as JSON into into; it returns the answer.
func accessJSON(b *browser, path string, into any) page {
	b.h.t.Helper()
	p := b.getJSON(path)
	if p.status == http.StatusOK {
		if err := json.Unmarshal([]byte(p.body), into); err != nil {
			b.h.t.Fatalf("GET %s: %v: %.500s", path, err, p.body)
		}
	}
	return p
}

// accessPageJSON is a principal's access page as JSON (SPEC §16.3).
type accessPageJSON struct {
	Principal     string              `json:"principal"`
	PrincipalType string              `json:"principalType"`
	Name          string              `json:"name"`
	Days          int                 `json:"days"`
	Actions       []accessActionEntry `json:"actions"`
}

type accessActionEntry struct {
	Action       string   `json:"action"`
	Service      string   `json:"service"`
	Granted      bool     `json:"granted"`
	AllowedCount int      `json:"allowedCount"`
	DeniedCount  int      `json:"deniedCount"`
	LastAllowed  *string  `json:"lastAllowed"`
	LastDenied   *string  `json:"lastDenied"`
	Resources    []string `json:"resources"`
}

// draftJSON is a generated policy as JSON (SPEC §16.6).
type draftJSON struct {
	Principal      string          `json:"principal"`
	Document       json.RawMessage `json:"document"`
	Observed       int             `json:"observed"`
	AllowedByDraft int             `json:"allowedByDraft"`
	Calls          []struct {
		Action         string   `json:"action"`
		Resources      []string `json:"resources"`
		Count          int      `json:"count"`
		AllowedByDraft bool     `json:"allowedByDraft"`
	} `json:"calls"`
	Denied []struct {
		Action string `json:"action"`
		Count  int    `json:"count"`
	} `json:"denied"`
}

// sdkCall is one call a user makes through an official SDK.
type sdkCall struct {
	action string
	times  int
	run    func(ram *ramsdk.Client, ecs *ecssdk.Client) error
}

// The access review with real clients: a user makes a dozen RAM calls
// through the classic Go SDK and ECS SDK calls through nginx to three
// gateway services. The user's access page shows exactly those actions as
// used, with their counts, and the rest of the user's grants as never
// used; the least-privilege draft replays every call, is created as is
// with CreatePolicy, and lets a fresh user make the same calls and nothing
// else.
func TestAccessReviewWithTheSDKs(t *testing.T) {
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	h.setClock(time.Now().UTC().Truncate(time.Second)) // the SDKs sign with the real time
	owner, _ := h.setupOwner()
	hosts := []string{"ecs.internal.example", "vpc.internal.example", "slb.internal.example"}
	for _, code := range []string{"ecs", "vpc", "slb"} {
		def := strings.NewReplacer(`"code": "ecs"`, `"code": "`+code+`"`, "ecs.internal.example", code+".internal.example").Replace(gwECS)
		owner.get("/services")
		expectStatus(t, owner.post("/services/import", url.Values{"definition": {def}}), 303, "import service "+code)
	}
	admin := h.createEmployee(owner, "apiadmin")
	grantAdmin(t, h, admin.name)
	adminSDK := h.sdkClient(admin.keyID, admin.secret)
	acct := h.accountID()

	newUser := func(name string) (*ramsdk.Client, string, string) {
		t.Helper()
		cu := ramsdk.CreateCreateUserRequest()
		h.at(cu)
		cu.UserName = name
		_, err := adminSDK.CreateUser(cu)
		must(t, err, "CreateUser "+name)
		ck := ramsdk.CreateCreateAccessKeyRequest()
		h.at(ck)
		ck.UserName = name
		key, err := adminSDK.CreateAccessKey(ck)
		must(t, err, "CreateAccessKey "+name)
		return h.sdkClient(key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret), key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret
	}
	attach := func(policyName, doc, user string) {
		t.Helper()
		if doc != "" {
			cp := ramsdk.CreateCreatePolicyRequest()
			h.at(cp)
			cp.PolicyName, cp.PolicyDocument = policyName, doc
			_, err := adminSDK.CreatePolicy(cp)
			must(t, err, "CreatePolicy "+policyName)
		}
		ap := ramsdk.CreateAttachPolicyToUserRequest()
		h.at(ap)
		ap.PolicyType, ap.PolicyName, ap.UserName = "Custom", policyName, user
		_, err := adminSDK.AttachPolicyToUser(ap)
		must(t, err, "AttachPolicyToUser "+policyName+" to "+user)
	}
	// Xavier: a custom policy granting more than he will use.
	xRAM, xKey, xSecret := newUser("xavier")
	attach("XavierTools", `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["ram:Get*","ram:List*"],"Resource":"*"},
		{"Effect":"Allow","Action":["ram:CreateGroup","ram:UpdateGroup","ram:DeleteGroup","ram:AddUserToGroup"],"Resource":"*"},
		{"Effect":"Allow","Action":["ecs:*","vpc:DescribeInstances","slb:DescribeInstances"],"Resource":"*"}]}`, "xavier")

	backend := newActingBackend(t)
	nginx := startNginxForHosts(t, strings.TrimPrefix(h.srv.URL, "http://"), backend.addr(), hosts)
	_, port, _ := net.SplitHostPort(nginx)
	ecsClient := func(key, secret string) *ecssdk.Client {
		c, err := ecssdk.NewClientWithAccessKey("cn-hangzhou", key, secret)
		must(t, err, "ECS client")
		c.SetTransport(loopbackTransport(nginx))
		return c
	}
	describe := func(host string) func(*ramsdk.Client, *ecssdk.Client) error {
		return func(_ *ramsdk.Client, c *ecssdk.Client) error {
			r := ecssdk.CreateDescribeInstancesRequest()
			r.Domain, r.Scheme = host+":"+port, "HTTP"
			_, err := c.DescribeInstances(r)
			return err
		}
	}
	calls := []sdkCall{
		{"ram:GetUser", 3, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateGetUserRequest()
			h.at(r)
			r.UserName = "xavier"
			_, err := c.GetUser(r)
			return err
		}},
		{"ram:ListUsers", 2, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListUsersRequest()
			h.at(r)
			_, err := c.ListUsers(r)
			return err
		}},
		{"ram:CreateGroup", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateCreateGroupRequest()
			h.at(r)
			r.GroupName = "night-shift"
			_, err := c.CreateGroup(r)
			return err
		}},
		{"ram:GetGroup", 2, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateGetGroupRequest()
			h.at(r)
			r.GroupName = "night-shift"
			_, err := c.GetGroup(r)
			return err
		}},
		{"ram:UpdateGroup", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateUpdateGroupRequest()
			h.at(r)
			r.GroupName, r.NewComments = "night-shift", "on call at night"
			_, err := c.UpdateGroup(r)
			return err
		}},
		{"ram:ListGroups", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListGroupsRequest()
			h.at(r)
			_, err := c.ListGroups(r)
			return err
		}},
		{"ram:DeleteGroup", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateDeleteGroupRequest()
			h.at(r)
			r.GroupName = "night-shift"
			_, err := c.DeleteGroup(r)
			return err
		}},
		{"ram:ListPolicies", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListPoliciesRequest()
			h.at(r)
			_, err := c.ListPolicies(r)
			return err
		}},
		{"ram:GetPolicy", 2, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateGetPolicyRequest()
			h.at(r)
			r.PolicyType, r.PolicyName = "System", "AdministratorAccess"
			_, err := c.GetPolicy(r)
			return err
		}},
		{"ram:ListPoliciesForUser", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListPoliciesForUserRequest()
			h.at(r)
			r.UserName = "xavier"
			_, err := c.ListPoliciesForUser(r)
			return err
		}},
		{"ram:ListGroupsForUser", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListGroupsForUserRequest()
			h.at(r)
			r.UserName = "xavier"
			_, err := c.ListGroupsForUser(r)
			return err
		}},
		{"ram:ListAccessKeys", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateListAccessKeysRequest()
			h.at(r)
			r.UserName = "xavier"
			_, err := c.ListAccessKeys(r)
			return err
		}},
		{"ram:GetAccountAlias", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateGetAccountAliasRequest()
			h.at(r)
			_, err := c.GetAccountAlias(r)
			return err
		}},
		{"ram:GetPasswordPolicy", 1, func(c *ramsdk.Client, _ *ecssdk.Client) error {
			r := ramsdk.CreateGetPasswordPolicyRequest()
			h.at(r)
			_, err := c.GetPasswordPolicy(r)
			return err
		}},
		{"ecs:DescribeInstances", 2, describe(hosts[0])},
		{"ecs:StartInstance", 1, func(_ *ramsdk.Client, c *ecssdk.Client) error {
			r := ecssdk.CreateStartInstanceRequest()
			r.Domain, r.Scheme, r.InstanceId = hosts[0]+":"+port, "HTTP", "i-1"
			_, err := c.StartInstance(r)
			return err
		}},
		{"vpc:DescribeInstances", 1, describe(hosts[1])},
		{"slb:DescribeInstances", 3, describe(hosts[2])},
	}
	runAll := func(who string, ram *ramsdk.Client, ecs *ecssdk.Client) {
		t.Helper()
		for _, c := range calls {
			for i := 0; i < c.times; i++ {
				must(t, c.run(ram, ecs), who+"'s "+c.action)
			}
		}
	}
	xECS := ecsClient(xKey, xSecret)
	runAll("xavier", xRAM, xECS)
	du := ramsdk.CreateDeleteUserRequest()
	h.at(du)
	du.UserName = "apiadmin"
	_, err := xRAM.DeleteUser(du)
	expectCode(t, err, "NoPermission", 403, "xavier deletes a user")
	if got := backend.take(); len(got) != 7 {
		t.Errorf("the backend ran %d requests, want xavier's 7 gateway calls: %+v", len(got), got)
	}

	// Xavier's page: exactly those actions used, with their counts; the rest
	// of the grants never used; the refused DeleteUser tried.
	want := map[string]int{}
	for _, c := range calls {
		want[c.action] = c.times
	}
	var pageX accessPageJSON
	expectStatus(t, accessJSON(owner, "/users/xavier/access", &pageX), 200, "xavier's access page")
	if pageX.Principal != "acs:ram::"+acct+":user/xavier" || pageX.PrincipalType != "user" || pageX.Name != "xavier" || pageX.Days != 90 {
		t.Errorf("the page's principal: %q %q %q %d", pageX.Principal, pageX.PrincipalType, pageX.Name, pageX.Days)
	}
	used := map[string]int{}
	unused := map[string]bool{}
	for _, a := range pageX.Actions {
		switch {
		case a.AllowedCount > 0:
			used[a.Action] = a.AllowedCount
			if !a.Granted || a.LastAllowed == nil || len(a.Resources) == 0 {
				t.Errorf("used %s: granted %v, lastAllowed %v, resources %v", a.Action, a.Granted, a.LastAllowed, a.Resources)
			}
		case a.Action == "ram:DeleteUser":
			if a.Granted || a.DeniedCount != 1 || a.LastDenied == nil || a.LastAllowed != nil {
				t.Errorf("the refused DeleteUser: %+v", a)
			}
		default:
			unused[a.Action] = true
			if !a.Granted || a.DeniedCount != 0 || a.LastAllowed != nil || len(a.Resources) != 0 {
				t.Errorf("an unused entry %s that is not a never-used grant: %+v", a.Action, a)
			}
		}
	}
	if fmt.Sprint(used) != fmt.Sprint(want) {
		t.Errorf("xavier's used actions and counts:\n%v\nwant:\n%v", used, want)
	}
	for action, res := range map[string]string{"ram:GetUser": "acs:ram:*:" + acct + ":user/xavier",
		"ram:UpdateGroup": "acs:ram:*:" + acct + ":group/night-shift", "ecs:StartInstance": "acs:ecs:cn-hangzhou:" + acct + ":instance/i-1"} {
		for _, a := range pageX.Actions {
			if a.Action == action && !slices.Equal(a.Resources, []string{res}) {
				t.Errorf("%s's resources: %v, want [%s]", action, a.Resources, res)
			}
		}
	}
	for _, a := range []string{"ram:AddUserToGroup", "ram:ListRoles", "ram:GetRole", "ram:GetServiceLastAccessedDetails", "ecs:StopInstance"} {
		if !unused[a] {
			t.Errorf("xavier's grant %s is not listed as never used", a)
		}
	}
	for a := range unused {
		if strings.HasPrefix(a, "ram:Create") || strings.HasPrefix(a, "ram:Delete") || strings.HasPrefix(a, "ram:Attach") || strings.HasPrefix(a, "sts:") {
			t.Errorf("%s is listed as granted to xavier", a)
		}
	}
	if !slices.IsSortedFunc(pageX.Actions, func(a, b accessActionEntry) int {
		return strings.Compare(strings.ToLower(a.Action), strings.ToLower(b.Action))
	}) {
		t.Errorf("the actions are not sorted by action")
	}

	// The draft: one call per distinct (action, resources), every one
	// replayed as allowed; the refused DeleteUser is not in it.
	var draft draftJSON
	expectStatus(t, accessJSON(owner, "/policies/generate?principal=user/xavier", &draft), 200, "xavier's draft")
	if draft.Observed == 0 || draft.AllowedByDraft != draft.Observed || len(draft.Calls) != draft.Observed {
		t.Fatalf("the draft's replay: observed %d, allowedByDraft %d, %d calls\n%s", draft.Observed, draft.AllowedByDraft, len(draft.Calls), draft.Document)
	}
	drafted := map[string]int{}
	for _, c := range draft.Calls {
		drafted[c.Action] += c.Count
		if !c.AllowedByDraft {
			t.Errorf("the draft does not allow %s on %v", c.Action, c.Resources)
		}
	}
	if fmt.Sprint(drafted) != fmt.Sprint(want) {
		t.Errorf("the draft's calls:\n%v\nwant:\n%v", drafted, want)
	}
	if len(draft.Denied) != 1 || draft.Denied[0].Action != "ram:DeleteUser" || draft.Denied[0].Count != 1 {
		t.Errorf("the draft's denied: %+v, want the one DeleteUser", draft.Denied)
	}
	if strings.Contains(string(draft.Document), "DeleteUser") {
		t.Errorf("the draft allows DeleteUser: %s", draft.Document)
	}

	// The draft, as is, for a fresh user: the same calls pass, a grant
	// xavier never used does not.
	yRAM, yKey, ySecret := newUser("yvonne")
	cp := ramsdk.CreateCreatePolicyRequest()
	h.at(cp)
	cp.PolicyName, cp.PolicyDocument = "XavierLeastPrivilege", string(draft.Document)
	_, err = adminSDK.CreatePolicy(cp)
	must(t, err, "CreatePolicy with the draft as is")
	attach("XavierLeastPrivilege", "", "yvonne")
	yECS := ecsClient(yKey, ySecret)
	runAll("yvonne", yRAM, yECS)
	lr := ramsdk.CreateListRolesRequest()
	h.at(lr)
	_, err = yRAM.ListRoles(lr)
	expectCode(t, err, "NoPermission", 403, "yvonne lists roles, which xavier never did")
	stop := ecssdk.CreateStopInstanceRequest()
	stop.Domain, stop.Scheme, stop.InstanceId = hosts[0]+":"+port, "HTTP", "i-1"
	_, err = yECS.StopInstance(stop)
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != 403 || se.ErrorCode() != "NoPermission" {
		t.Errorf("yvonne's StopInstance through nginx: %v, want 403 NoPermission", err)
	}
	ran := backend.take()
	if len(ran) != 7 {
		t.Errorf("the backend ran %d requests for yvonne, want her 7 gateway calls", len(ran))
	}
	var pageY accessPageJSON
	expectStatus(t, accessJSON(owner, "/users/yvonne/access", &pageY), 200, "yvonne's access page")
	var granted []string
	for _, a := range pageY.Actions {
		if a.Granted {
			granted = append(granted, a.Action)
		}
	}
	var wantGranted []string
	for a := range want {
		wantGranted = append(wantGranted, a)
	}
	sort.Slice(wantGranted, func(i, j int) bool { return strings.ToLower(wantGranted[i]) < strings.ToLower(wantGranted[j]) })
	if !slices.Equal(granted, wantGranted) {
		t.Errorf("yvonne's grants: %v, want exactly xavier's used actions %v", granted, wantGranted)
	}
}
