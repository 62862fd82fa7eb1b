package web

import (
	"net/url"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// Every cache of the authorisation path (compiled custom policies, users'
// effective policy sets, AccessKeys) must never outlive what it was built
// from: create → use → delete → create again gives the new object's
// behaviour.
func TestCachesNeverOutliveTheirSource(t *testing.T) {
	env := newAPIEnv(t)
	h, owner := env.harness, env.owner
	listUsers := func(id, secret string) error {
		req := ramsdk.CreateListUsersRequest()
		h.at(req)
		_, err := h.sdkClient(id, secret).ListUsers(req)
		return err
	}
	createPolicy := func(name, doc string) {
		owner.get("/policies/new")
		expectRedirect(t, owner.post("/policies", url.Values{"name": {name}, "document": {doc}}), "/policies/Custom/"+name, "create "+name)
	}
	attach := func(user, policy string) {
		owner.get("/users/" + user)
		expectRedirect(t, owner.post("/users/"+user+"/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {policy}}), "/users/"+user, "attach "+policy)
	}
	deletePolicy := func(name string) {
		owner.get("/policies/Custom/" + name + "/delete")
		expectRedirect(t, owner.post("/policies/Custom/"+name+"/delete", url.Values{"cleanup": {"true"}, "confirm": {name}}), "/policies", "delete "+name)
	}
	allowAll := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	ecsOnly := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}`

	// Compiled custom policies: a new policy never inherits a deleted one's
	// document, whether it takes the same name or the same row.
	sandbox := h.createEmployee(owner, "sandbox")
	createPolicy("Wide", allowAll)
	attach("sandbox", "Wide")
	must(t, listUsers(sandbox.keyID, sandbox.secret), "with Wide")
	deletePolicy("Wide")
	expectCode(t, listUsers(sandbox.keyID, sandbox.secret), "NoPermission", 403, "Wide deleted")
	createPolicy("Narrow", ecsOnly)
	attach("sandbox", "Narrow")
	expectCode(t, listUsers(sandbox.keyID, sandbox.secret), "NoPermission", 403, "a new policy after Wide was deleted")
	deletePolicy("Narrow")
	createPolicy("Wide", ecsOnly)
	attach("sandbox", "Wide")
	expectCode(t, listUsers(sandbox.keyID, sandbox.secret), "NoPermission", 403, "Wide created again, narrower")

	// Effective policy sets and AccessKeys: a user deleted and created again
	// under its name is a new user, with nothing of the old one.
	temp := h.createEmployee(owner, "temp")
	grantAdmin(t, h, "temp")
	must(t, listUsers(temp.keyID, temp.secret), "temp as an administrator")
	owner.get("/users/temp/delete")
	expectRedirect(t, owner.post("/users/temp/delete", url.Values{"confirm": {"temp"}}), "/users", "delete temp")
	expectCode(t, listUsers(temp.keyID, temp.secret), "InvalidAccessKeyId.NotFound", 404, "the deleted user's key")
	again := h.createEmployee(owner, "temp")
	expectCode(t, listUsers(again.keyID, again.secret), "NoPermission", 403, "temp created again has no policies")

	// A key made Inactive stops at once; Active again, it works again.
	owner.get("/users/temp")
	expectRedirect(t, owner.post("/users/temp/accesskeys/"+again.keyID+"/status", url.Values{"status": {"Inactive"}}), "/users/temp", "disable")
	expectCode(t, listUsers(again.keyID, again.secret), "InvalidAccessKeyId.Inactive", 403, "an Inactive key")
}
