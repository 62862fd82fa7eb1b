package web

import (
	"net/url"
	"strings"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"
)

// setKeyStatus sets one of user's AccessKeys Active or Inactive through the
// OpenAPI, as the administrator.
func (e *stsEnv) setKeyStatus(t *testing.T, user, keyID, status string) {
	t.Helper()
	req := ramsdk.CreateUpdateAccessKeyRequest()
	e.at(req)
	req.UserName, req.UserAccessKeyId, req.Status = user, keyID, status
	_, err := e.client.UpdateAccessKey(req)
	must(t, err, "UpdateAccessKey "+keyID+" "+status)
}

// Deactivating the AccessKey that assumed a role ends its sessions, and the
// sessions chained from them, for good: activating the key again does not
// bring them back (SPEC §12). A new AssumeRole with the re-activated key
// works.
func TestSTSSessionsEndForGoodWithTheirKey(t *testing.T) {
	e := newSTSEnv(t)
	// hop: a role whose sessions may assume ops in turn.
	e.createRole(t, "hop", trustAccount(e.acct), "AliyunRAMReadOnlyAccess")
	e.grant(t, "dev", "DevMayAssumeHop", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:`+e.acct+`:role/hop"}]}`)
	e.owner.get("/policies/new")
	expectRedirect(t, e.owner.post("/policies", url.Values{"name": {"HopMayAssumeOps"},
		"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:` + e.acct + `:role/ops"}]}`}}),
		"/policies/Custom/HopMayAssumeOps", "create HopMayAssumeOps")
	e.owner.get("/roles/hop")
	expectRedirect(t, e.owner.post("/roles/hop/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"HopMayAssumeOps"}}),
		"/roles/hop", "attach HopMayAssumeOps to hop")

	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	direct, err := e.assume(t, dev, "ops", "direct", nil)
	must(t, err, "AssumeRole ops with dev's key")
	first, err := e.assume(t, dev, "hop", "first", nil)
	must(t, err, "AssumeRole hop with dev's key")
	hopSTS, err := stssdk.NewClientWithStsToken("cn-hangzhou", first.Credentials.AccessKeyId, first.Credentials.AccessKeySecret, first.Credentials.SecurityToken)
	must(t, err, "sts client of the hop session")
	chained, err := e.assume(t, hopSTS, "ops", "chained", nil)
	must(t, err, "AssumeRole ops with the hop session")

	sessions := map[string]*ramsdk.Client{"direct": e.ramAs(t, direct.Credentials), "first": e.ramAs(t, first.Credentials),
		"chained": e.ramAs(t, chained.Credentials)}
	for name, c := range sessions {
		must(t, e.getUser(c, "dev"), "GetUser as the "+name+" session") // and so cached
	}

	e.setKeyStatus(t, "dev", e.dev.keyID, "Inactive")
	for name, c := range sessions {
		expectCode(t, e.getUser(c, "dev"), "InvalidSecurityToken.Expired", 400, "the "+name+" session after its key was deactivated")
	}
	if got := append(e.mustSessions(t, "ops"), e.mustSessions(t, "hop")...); len(got) != 0 {
		t.Errorf("sessions listed after their key was deactivated: %v", got)
	}
	var recorded bool
	for _, ev := range e.events() {
		if ev.EventName == "UpdateAccessKey" && ev.ErrorCode == "" && strings.Contains(ev.Body, `"endedSessions":3`) {
			recorded = true
		}
	}
	if !recorded {
		t.Errorf("the deactivation's UpdateAccessKey event does not say it ended 3 sessions")
	}

	e.setKeyStatus(t, "dev", e.dev.keyID, "Active")
	for name, c := range sessions {
		expectCode(t, e.getUser(c, "dev"), "InvalidSecurityToken.Expired", 400, "the "+name+" session after its key was activated again")
	}
	_, err = e.assume(t, hopSTS, "ops", "again", nil)
	expectCode(t, err, "InvalidSecurityToken.Expired", 400, "AssumeRole with the ended hop session")

	fresh, err := e.assume(t, dev, "ops", "fresh", nil)
	must(t, err, "AssumeRole with the re-activated key")
	must(t, e.getUser(e.ramAs(t, fresh.Credentials), "dev"), "GetUser as the fresh session")
	if got := e.mustSessions(t, "ops"); len(got) != 1 || got[0] != "fresh" {
		t.Errorf("ops's sessions after a fresh AssumeRole = %v, want [fresh]", got)
	}

	// The console's Disable ends them the same way.
	e.owner.get("/users/dev")
	expectRedirect(t, e.owner.post("/users/dev/accesskeys/"+e.dev.keyID+"/status", url.Values{"status": {"Inactive"}}),
		"/users/dev", "disable dev's key in the console")
	e.owner.get("/users/dev")
	expectRedirect(t, e.owner.post("/users/dev/accesskeys/"+e.dev.keyID+"/status", url.Values{"status": {"Active"}}),
		"/users/dev", "enable dev's key in the console")
	expectCode(t, e.getUser(e.ramAs(t, fresh.Credentials), "dev"), "InvalidSecurityToken.Expired", 400,
		"the fresh session after its key was disabled and enabled in the console")
}

// Deleting the AccessKey that assumed a role ends its sessions; the user's
// other key and the sessions it started are untouched.
func TestSTSSessionsEndWithTheirDeletedKey(t *testing.T) {
	e := newSTSEnv(t)
	ck := ramsdk.CreateCreateAccessKeyRequest()
	e.at(ck)
	ck.UserName = "dev"
	second, err := e.client.CreateAccessKey(ck)
	must(t, err, "a second key for dev")

	kept, err := e.assume(t, e.stsClient(t, e.dev.keyID, e.dev.secret), "ops", "kept", nil)
	must(t, err, "AssumeRole with dev's first key")
	doomed, err := e.assume(t, e.stsClient(t, second.AccessKey.AccessKeyId, second.AccessKey.AccessKeySecret), "ops", "doomed", nil)
	must(t, err, "AssumeRole with dev's second key")
	keptC, doomedC := e.ramAs(t, kept.Credentials), e.ramAs(t, doomed.Credentials)
	must(t, e.getUser(doomedC, "dev"), "GetUser as the second key's session")

	dk := ramsdk.CreateDeleteAccessKeyRequest()
	e.at(dk)
	dk.UserName, dk.UserAccessKeyId = "dev", second.AccessKey.AccessKeyId
	_, err = e.client.DeleteAccessKey(dk)
	must(t, err, "DeleteAccessKey")
	expectCode(t, e.getUser(doomedC, "dev"), "InvalidSecurityToken.Expired", 400, "the session of the deleted key")
	must(t, e.getUser(keptC, "dev"), "GetUser as the other key's session")
	if got := e.mustSessions(t, "ops"); len(got) != 1 || got[0] != "kept" {
		t.Errorf("ops's sessions after the key was deleted = %v, want [kept]", got)
	}
}
