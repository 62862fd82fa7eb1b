package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/ram"
)

// The RAM OpenAPI driven by the official classic Go SDK (V1 signatures)
// against the real app on loopback.
//
// Clocks: the SDK signs with the real time and the server refuses
// timestamps more than 15 minutes off, so API tests set the harness clock
// to the real time once at the start and then move it only explicitly (TOTP
// steps). Every test finishes well inside the window, so the outcome does
// not depend on how long it runs.

// setClock sets the harness clock.
func (h *harness) setClock(t time.Time) {
	h.clock.mu.Lock()
	h.clock.t = t
	h.clock.mu.Unlock()
}

// apiEnv is a set-up account with a RAM administrator that has an
// AccessKey and AdministratorAccess.
type apiEnv struct {
	*harness
	owner  *browser
	admin  employee
	client *ramsdk.Client
}

// newAPIEnv sets the account up, creates the "apiadmin" employee through
// the console and attaches AdministratorAccess to it.
func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	return newAPIEnvOn(t, newHarness(t))
}

// newAPIEnvOn is newAPIEnv on a given harness.
func newAPIEnvOn(t testing.TB, h *harness) *apiEnv {
	t.Helper()
	h.setClock(time.Now().UTC().Truncate(time.Second))
	owner, _ := h.setupOwner()
	admin := h.createEmployee(owner, "apiadmin")
	grantAdmin(t, h, admin.name)
	return &apiEnv{harness: h, owner: owner, admin: admin, client: h.sdkClient(admin.keyID, admin.secret)}
}

// grantAdmin attaches AdministratorAccess to a user as the owner would.
func grantAdmin(t testing.TB, h *harness, user string) {
	t.Helper()
	err := h.svc.AttachPolicyToUser(context.Background(), ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail,
		RequestID: ram.NewRequestID()}, "System", "AdministratorAccess", user)
	if err != nil {
		t.Fatalf("attach AdministratorAccess to %s: %v", user, err)
	}
}

func (h *harness) sdkClient(id, secret string) *ramsdk.Client {
	h.t.Helper()
	c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", id, secret)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// at points an SDK request at the test server: Domain host:port, HTTP.
func (h *harness) at(r requests.AcsRequest) {
	u, _ := url.Parse(h.srv.URL)
	r.SetDomain(u.Host)
	r.SetScheme("HTTP")
}

// serverError returns the SDK's error of a refused call.
func serverError(t testing.TB, err error, what string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("%s: error = %v, want a server error", what, err)
	}
	return se
}

// expectCode checks a refused call's code and HTTP status.
func expectCode(t testing.TB, err error, code string, status int, what string) *sdkerrors.ServerError {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want %s (%d)", what, code, status)
	}
	se := serverError(t, err, what)
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("%s: %s (%d) %q, want %s (%d)", what, se.ErrorCode(), se.HttpStatus(), se.Message(), code, status)
	}
	if se.RequestId() == "" {
		t.Errorf("%s: the error has no RequestId", what)
	}
	return se
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// apiEvent returns the audit event of a request id.
func (h *harness) apiEvent(requestID string) (eventName, eventType, rw, errorCode, accessKeyID string, ok bool) {
	for _, e := range h.events() {
		if e.RequestID == requestID {
			return e.EventName, e.EventType, e.EventRW, e.ErrorCode, e.UserIdentity.AccessKeyID, true
		}
	}
	return "", "", "", "", "", false
}

func TestAPIUsersThroughClassicSDK(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client

	create := ramsdk.CreateCreateUserRequest()
	env.at(create)
	create.UserName, create.DisplayName, create.Email, create.Comments = "bob", "Bob Builder", "bob@example.com", "x*y z"
	resp, err := c.CreateUser(create)
	must(t, err, "CreateUser")
	if resp.User.UserName != "bob" || resp.User.DisplayName != "Bob Builder" || resp.User.Email != "bob@example.com" ||
		resp.User.Comments != "x*y z" || len(resp.User.UserId) != 16 {
		t.Errorf("CreateUser = %+v", resp.User)
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", resp.User.CreateDate); err != nil {
		t.Errorf("CreateDate %q: %v", resp.User.CreateDate, err)
	}
	name, typ, rw, code, keyID, ok := env.apiEvent(resp.RequestId)
	if !ok || name != "CreateUser" || typ != "ApiCall" || rw != "Write" || code != "" || keyID != env.admin.keyID {
		t.Errorf("CreateUser event = %v %q %q %q %q %q, want CreateUser ApiCall Write with the AccessKey", ok, name, typ, rw, code, keyID)
	}
	_, err = c.CreateUser(create)
	expectCode(t, err, "EntityAlreadyExists.User", 409, "CreateUser twice")
	bad := ramsdk.CreateCreateUserRequest()
	env.at(bad)
	bad.UserName = "no spaces allowed"
	_, err = c.CreateUser(bad)
	expectCode(t, err, "InvalidParameter.UserName.InvalidChars", 400, "CreateUser with a bad name")

	get := ramsdk.CreateGetUserRequest()
	env.at(get)
	get.UserName = "BOB"
	g, err := c.GetUser(get)
	must(t, err, "GetUser")
	if g.User.UserName != "bob" || g.User.UserId != resp.User.UserId || g.User.UpdateDate == "" {
		t.Errorf("GetUser = %+v", g.User)
	}
	name, _, rw, _, _, ok = env.apiEvent(g.RequestId)
	if !ok || name != "GetUser" || rw != "Read" {
		t.Errorf("a read is audited: event %v %q %q", ok, name, rw)
	}
	get.UserName = "nobody"
	_, err = c.GetUser(get)
	se := expectCode(t, err, "EntityNotExist.User", 404, "GetUser unknown")
	if _, _, _, code, _, ok := env.apiEvent(se.RequestId()); !ok || code != "EntityNotExist.User" {
		t.Errorf("the refused read is audited with its code: %v %q", ok, code)
	}

	up := ramsdk.CreateUpdateUserRequest()
	env.at(up)
	up.UserName, up.NewUserName, up.NewDisplayName = "bob", "robert", "Robert"
	u, err := c.UpdateUser(up)
	must(t, err, "UpdateUser")
	if u.User.UserName != "robert" || u.User.DisplayName != "Robert" {
		t.Errorf("UpdateUser = %+v", u.User)
	}
	up.UserName, up.NewUserName, up.NewDisplayName = "robert", "apiadmin", ""
	_, err = c.UpdateUser(up)
	expectCode(t, err, "EntityAlreadyExists.User", 409, "UpdateUser to a taken name")

	// Paging over several pages with Marker.
	for i := 0; i < 7; i++ {
		r := ramsdk.CreateCreateUserRequest()
		env.at(r)
		r.UserName = fmt.Sprintf("page-%02d", i)
		_, err := c.CreateUser(r)
		must(t, err, "CreateUser "+r.UserName)
	}
	var names []string
	marker, pages := "", 0
	for {
		l := ramsdk.CreateListUsersRequest()
		env.at(l)
		l.MaxItems = requests.NewInteger(3)
		l.Marker = marker
		page, err := c.ListUsers(l)
		must(t, err, "ListUsers")
		pages++
		for _, u := range page.Users.User {
			names = append(names, u.UserName)
		}
		if !page.IsTruncated {
			if page.Marker != "" {
				t.Errorf("last page has a Marker %q", page.Marker)
			}
			break
		}
		if len(page.Users.User) != 3 || page.Marker == "" {
			t.Fatalf("a truncated page: %d users, Marker %q", len(page.Users.User), page.Marker)
		}
		marker = page.Marker
	}
	// apiadmin, page-00..06, robert
	if pages != 3 || len(names) != 9 || names[0] != "apiadmin" || names[8] != "robert" {
		t.Errorf("ListUsers paged %d pages: %v", pages, names)
	}
	l := ramsdk.CreateListUsersRequest()
	env.at(l)
	l.Marker = "not a marker!"
	_, err = c.ListUsers(l)
	expectCode(t, err, "InvalidParameter.Marker", 400, "ListUsers with a foreign marker")

	// Through the API a user with things attached is not deleted (no cascade).
	del := ramsdk.CreateDeleteUserRequest()
	env.at(del)
	del.UserName = "apiadmin"
	_, err = c.DeleteUser(del)
	expectCode(t, err, "DeleteConflict.User.AccessKey", 409, "DeleteUser with keys")
	del.UserName = "robert"
	_, err = c.DeleteUser(del)
	must(t, err, "DeleteUser")
	_, err = c.DeleteUser(del)
	expectCode(t, err, "EntityNotExist.User", 404, "DeleteUser twice")
}

func TestAPILoginProfilesAndPasswords(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "carol"
	_, err := c.CreateUser(cu)
	must(t, err, "CreateUser")

	create := ramsdk.CreateCreateLoginProfileRequest()
	env.at(create)
	create.UserName, create.Password = "carol", "short"
	_, err = c.CreateLoginProfile(create)
	expectCode(t, err, "InvalidParameter.Password.TooWeak", 400, "CreateLoginProfile with a weak password")
	create.Password = "Quartz-Lantern-Meadow-71"
	create.PasswordResetRequired = requests.NewBoolean(true)
	lp, err := c.CreateLoginProfile(create)
	must(t, err, "CreateLoginProfile")
	if lp.LoginProfile.UserName != "carol" || !lp.LoginProfile.PasswordResetRequired || lp.LoginProfile.MFABindRequired {
		t.Errorf("CreateLoginProfile = %+v", lp.LoginProfile)
	}
	_, err = c.CreateLoginProfile(create)
	expectCode(t, err, "EntityAlreadyExists.User.LoginProfile", 409, "CreateLoginProfile twice")

	get := ramsdk.CreateGetLoginProfileRequest()
	env.at(get)
	get.UserName = "carol"
	g, err := c.GetLoginProfile(get)
	must(t, err, "GetLoginProfile")
	if !g.LoginProfile.PasswordResetRequired || g.LoginProfile.CreateDate == "" {
		t.Errorf("GetLoginProfile = %+v", g.LoginProfile)
	}
	get.UserName = "apiadmin-none"
	_, err = c.GetLoginProfile(get)
	expectCode(t, err, "EntityNotExist.User", 404, "GetLoginProfile of an unknown user")

	up := ramsdk.CreateUpdateLoginProfileRequest()
	env.at(up)
	up.UserName = "carol"
	up.PasswordResetRequired = requests.NewBoolean(false)
	up.MFABindRequired = requests.NewBoolean(true)
	_, err = c.UpdateLoginProfile(up)
	must(t, err, "UpdateLoginProfile")
	g2, err := c.GetLoginProfile(func() *ramsdk.GetLoginProfileRequest { get.UserName = "carol"; return get }())
	must(t, err, "GetLoginProfile after update")
	if g2.LoginProfile.PasswordResetRequired || !g2.LoginProfile.MFABindRequired {
		t.Errorf("after UpdateLoginProfile: %+v", g2.LoginProfile)
	}
	up.Password = "123"
	_, err = c.UpdateLoginProfile(up)
	expectCode(t, err, "InvalidParameter.Password.TooWeak", 400, "UpdateLoginProfile with a weak password")

	del := ramsdk.CreateDeleteLoginProfileRequest()
	env.at(del)
	del.UserName = "carol"
	_, err = c.DeleteLoginProfile(del)
	must(t, err, "DeleteLoginProfile")
	_, err = c.DeleteLoginProfile(del)
	expectCode(t, err, "EntityNotExist.User.LoginProfile", 404, "DeleteLoginProfile twice")

	// ChangePassword acts on the caller: apiadmin's console password.
	cp := ramsdk.CreateChangePasswordRequest()
	env.at(cp)
	cp.OldPassword, cp.NewPassword = "wrong-old-password", "Another-Strong-Secret-58"
	_, err = c.ChangePassword(cp)
	expectCode(t, err, "InvalidParameter.OldPassword.Incorrect", 400, "ChangePassword with a wrong old password")
	cp.OldPassword = env.admin.password
	resp, err := c.ChangePassword(cp)
	must(t, err, "ChangePassword")
	for _, e := range env.events() {
		if e.RequestID == resp.RequestId && strings.Contains(e.Body, "Another-Strong-Secret-58") {
			t.Errorf("the new password is in the audit log")
		}
	}
}

func TestAPIAccessKeys(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "dan"
	_, err := c.CreateUser(cu)
	must(t, err, "CreateUser")

	ck := ramsdk.CreateCreateAccessKeyRequest()
	env.at(ck)
	ck.UserName = "dan"
	k1, err := c.CreateAccessKey(ck)
	must(t, err, "CreateAccessKey")
	if !strings.HasPrefix(k1.AccessKey.AccessKeyId, "LTAI") || len(k1.AccessKey.AccessKeySecret) != 30 || k1.AccessKey.Status != "Active" {
		t.Errorf("CreateAccessKey = %+v", k1.AccessKey)
	}
	_, err = c.CreateAccessKey(ck)
	must(t, err, "second key")
	_, err = c.CreateAccessKey(ck)
	expectCode(t, err, "LimitExceeded.User.AccessKey", 409, "a third key")

	lk := ramsdk.CreateListAccessKeysRequest()
	env.at(lk)
	lk.UserName = "dan"
	keys, err := c.ListAccessKeys(lk)
	must(t, err, "ListAccessKeys")
	if len(keys.AccessKeys.AccessKey) != 2 {
		t.Fatalf("ListAccessKeys = %+v", keys.AccessKeys)
	}
	for _, k := range keys.AccessKeys.AccessKey {
		if k.AccessKeySecret != "" {
			t.Errorf("ListAccessKeys shows a secret")
		}
	}
	// Without UserName: the caller's own keys.
	own := ramsdk.CreateListAccessKeysRequest()
	env.at(own)
	mine, err := c.ListAccessKeys(own)
	must(t, err, "ListAccessKeys of the caller")
	if len(mine.AccessKeys.AccessKey) != 1 || mine.AccessKeys.AccessKey[0].AccessKeyId != env.admin.keyID {
		t.Errorf("own keys = %+v", mine.AccessKeys)
	}
	lk.UserName = "nobody"
	_, err = c.ListAccessKeys(lk)
	expectCode(t, err, "EntityNotExist.User", 404, "ListAccessKeys of an unknown user")

	// The new key works, and its last use is recorded.
	dan := env.sdkClient(k1.AccessKey.AccessKeyId, k1.AccessKey.AccessKeySecret)
	gu := ramsdk.CreateGetUserRequest()
	env.at(gu)
	gu.UserName = "dan"
	_, err = dan.GetUser(gu)
	expectCode(t, err, "NoPermission", 403, "dan has no policies")
	lu := ramsdk.CreateGetAccessKeyLastUsedRequest()
	env.at(lu)
	lu.UserName, lu.UserAccessKeyId = "dan", k1.AccessKey.AccessKeyId
	last, err := c.GetAccessKeyLastUsed(lu)
	must(t, err, "GetAccessKeyLastUsed")
	if last.AccessKeyLastUsed.LastUsedDate == "" {
		t.Errorf("LastUsedDate is empty after a use")
	}
	lu.UserAccessKeyId = env.admin.keyID
	_, err = c.GetAccessKeyLastUsed(lu)
	expectCode(t, err, "EntityNotExist.User.AccessKey", 404, "another user's key")

	uk := ramsdk.CreateUpdateAccessKeyRequest()
	env.at(uk)
	uk.UserName, uk.UserAccessKeyId, uk.Status = "dan", k1.AccessKey.AccessKeyId, "Inactive"
	_, err = c.UpdateAccessKey(uk)
	must(t, err, "UpdateAccessKey")
	_, err = dan.GetUser(gu)
	expectCode(t, err, "InvalidAccessKeyId.Inactive", 403, "an inactive key")
	uk.Status = "Sleeping"
	_, err = c.UpdateAccessKey(uk)
	expectCode(t, err, "InvalidParameter.Status", 400, "UpdateAccessKey to a bad status")

	dk := ramsdk.CreateDeleteAccessKeyRequest()
	env.at(dk)
	dk.UserName, dk.UserAccessKeyId = "dan", k1.AccessKey.AccessKeyId
	_, err = c.DeleteAccessKey(dk)
	must(t, err, "DeleteAccessKey")
	_, err = c.DeleteAccessKey(dk)
	expectCode(t, err, "EntityNotExist.User.AccessKey", 404, "DeleteAccessKey twice")
	_, err = dan.GetUser(gu)
	expectCode(t, err, "InvalidAccessKeyId.NotFound", 404, "a deleted key")
}

func TestAPIVirtualMFADevices(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "erin"
	_, err := c.CreateUser(cu)
	must(t, err, "CreateUser")

	cd := ramsdk.CreateCreateVirtualMFADeviceRequest()
	env.at(cd)
	cd.VirtualMFADeviceName = "erin-phone"
	dev, err := c.CreateVirtualMFADevice(cd)
	must(t, err, "CreateVirtualMFADevice")
	acct := env.svc.AccountID(context.Background())
	if dev.VirtualMFADevice.SerialNumber != "acs:ram::"+acct+":mfa/erin-phone" || dev.VirtualMFADevice.Base32StringSeed == "" ||
		dev.VirtualMFADevice.QRCodePNG == "" {
		t.Fatalf("CreateVirtualMFADevice = %+v", dev.VirtualMFADevice)
	}
	_, err = c.CreateVirtualMFADevice(cd)
	expectCode(t, err, "EntityAlreadyExists.VirtualMFADevice", 409, "the same device twice")
	serial, seed := dev.VirtualMFADevice.SerialNumber, dev.VirtualMFADevice.Base32StringSeed
	for _, e := range env.events() {
		if strings.Contains(e.Body, seed) {
			t.Fatalf("the seed is in the audit log")
		}
	}

	ld := ramsdk.CreateListVirtualMFADevicesRequest()
	env.at(ld)
	list, err := c.ListVirtualMFADevices(ld)
	must(t, err, "ListVirtualMFADevices")
	if len(list.VirtualMFADevices.VirtualMFADevice) != 1 || list.VirtualMFADevices.VirtualMFADevice[0].Base32StringSeed != "" {
		t.Errorf("ListVirtualMFADevices = %+v", list.VirtualMFADevices)
	}

	bind := ramsdk.CreateBindMFADeviceRequest()
	env.at(bind)
	bind.SerialNumber, bind.UserName = serial, "erin"
	bind.AuthenticationCode1, bind.AuthenticationCode2 = "12345", "123456"
	_, err = c.BindMFADevice(bind)
	expectCode(t, err, "InvalidParameter.AuthenticationCode.Format", 400, "a 5-digit code")
	bind.AuthenticationCode1, bind.AuthenticationCode2 = env.code(seed, 0), env.code(seed, 0)
	_, err = c.BindMFADevice(bind)
	expectCode(t, err, "CheckAuthenticationCodeFail", 403, "the same code twice")
	bind.AuthenticationCode1, bind.AuthenticationCode2 = env.code(seed, -1), env.code(seed, 0)
	_, err = c.BindMFADevice(bind)
	must(t, err, "BindMFADevice")
	_, err = c.BindMFADevice(bind)
	expectCode(t, err, "EntityAlreadyExists.VirtualMFADevice.User", 409, "binding a bound device")

	list, err = c.ListVirtualMFADevices(ld)
	must(t, err, "ListVirtualMFADevices")
	if d := list.VirtualMFADevices.VirtualMFADevice; len(d) != 1 || d[0].User.UserName != "erin" || d[0].ActivateDate == "" {
		t.Errorf("a bound device in the list: %+v", d)
	}

	info := ramsdk.CreateGetUserMFAInfoRequest()
	env.at(info)
	info.UserName = "erin"
	mi, err := c.GetUserMFAInfo(info)
	must(t, err, "GetUserMFAInfo")
	if mi.MFADevice.SerialNumber != serial || mi.MFADevice.Type != "VMFA" {
		t.Errorf("GetUserMFAInfo = %+v", mi.MFADevice)
	}
	info.UserName = "apiadmin"
	_, err = c.GetUserMFAInfo(info)
	expectCode(t, err, "EntityNotExist.User.MFADevice", 404, "a user without a device")

	dd := ramsdk.CreateDeleteVirtualMFADeviceRequest()
	env.at(dd)
	dd.SerialNumber = serial
	_, err = c.DeleteVirtualMFADevice(dd)
	expectCode(t, err, "DeleteConflict.VirtualMFADevice.User", 409, "deleting a bound device")

	ub := ramsdk.CreateUnbindMFADeviceRequest()
	env.at(ub)
	ub.UserName = "erin"
	unbound, err := c.UnbindMFADevice(ub)
	must(t, err, "UnbindMFADevice")
	if unbound.MFADevice.SerialNumber != serial {
		t.Errorf("UnbindMFADevice = %+v", unbound.MFADevice)
	}
	_, err = c.UnbindMFADevice(ub)
	expectCode(t, err, "EntityNotExist.User.MFADevice", 404, "unbinding twice")
	// As in RAM, the unbound device stays until it is deleted.
	list, err = c.ListVirtualMFADevices(ld)
	must(t, err, "ListVirtualMFADevices after unbinding")
	if d := list.VirtualMFADevices.VirtualMFADevice; len(d) != 1 || d[0].SerialNumber != serial || d[0].User.UserName != "" {
		t.Errorf("the unbound device in the list: %+v", d)
	}
	dd.SerialNumber = serial
	_, err = c.DeleteVirtualMFADevice(dd)
	must(t, err, "DeleteVirtualMFADevice of the unbound device")

	cd.VirtualMFADeviceName = "spare"
	spare, err := c.CreateVirtualMFADevice(cd)
	must(t, err, "CreateVirtualMFADevice spare")
	dd.SerialNumber = spare.VirtualMFADevice.SerialNumber
	_, err = c.DeleteVirtualMFADevice(dd)
	must(t, err, "DeleteVirtualMFADevice")
	_, err = c.DeleteVirtualMFADevice(dd)
	expectCode(t, err, "EntityNotExist.VirtualMFADevice", 404, "deleting twice")
}

func TestAPIGroups(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	for _, n := range []string{"frank", "gina"} {
		cu := ramsdk.CreateCreateUserRequest()
		env.at(cu)
		cu.UserName = n
		_, err := c.CreateUser(cu)
		must(t, err, "CreateUser "+n)
	}
	cg := ramsdk.CreateCreateGroupRequest()
	env.at(cg)
	cg.GroupName, cg.Comments = "dev", "developers"
	g, err := c.CreateGroup(cg)
	must(t, err, "CreateGroup")
	if g.Group.GroupName != "dev" || g.Group.Comments != "developers" || !strings.HasPrefix(g.Group.GroupId, "g-") {
		t.Errorf("CreateGroup = %+v", g.Group)
	}
	_, err = c.CreateGroup(cg)
	expectCode(t, err, "EntityAlreadyExists.Group", 409, "CreateGroup twice")

	gg := ramsdk.CreateGetGroupRequest()
	env.at(gg)
	gg.GroupName = "dev"
	got, err := c.GetGroup(gg)
	must(t, err, "GetGroup")
	if got.Group.GroupId != g.Group.GroupId {
		t.Errorf("GetGroup = %+v", got.Group)
	}
	gg.GroupName = "nope"
	_, err = c.GetGroup(gg)
	expectCode(t, err, "EntityNotExist.Group", 404, "GetGroup unknown")

	ug := ramsdk.CreateUpdateGroupRequest()
	env.at(ug)
	ug.GroupName, ug.NewGroupName, ug.NewComments = "dev", "developers", "all developers"
	upd, err := c.UpdateGroup(ug)
	must(t, err, "UpdateGroup")
	if upd.Group.GroupName != "developers" || upd.Group.Comments != "all developers" {
		t.Errorf("UpdateGroup = %+v", upd.Group)
	}
	ug.GroupName, ug.NewGroupName = "developers", "bad name"
	_, err = c.UpdateGroup(ug)
	expectCode(t, err, "InvalidParameter.NewGroupName.InvalidChars", 400, "UpdateGroup to a bad name")

	add := ramsdk.CreateAddUserToGroupRequest()
	env.at(add)
	add.GroupName = "developers"
	for _, n := range []string{"frank", "gina"} {
		add.UserName = n
		_, err = c.AddUserToGroup(add)
		must(t, err, "AddUserToGroup "+n)
	}
	_, err = c.AddUserToGroup(add)
	expectCode(t, err, "EntityAlreadyExists.User.Group", 409, "AddUserToGroup twice")

	lg := ramsdk.CreateListGroupsForUserRequest()
	env.at(lg)
	lg.UserName = "frank"
	groups, err := c.ListGroupsForUser(lg)
	must(t, err, "ListGroupsForUser")
	if len(groups.Groups.Group) != 1 || groups.Groups.Group[0].GroupName != "developers" || groups.Groups.Group[0].JoinDate == "" {
		t.Errorf("ListGroupsForUser = %+v", groups.Groups)
	}
	lg.UserName = "nobody"
	_, err = c.ListGroupsForUser(lg)
	expectCode(t, err, "EntityNotExist.User", 404, "ListGroupsForUser unknown")

	lu := ramsdk.CreateListUsersForGroupRequest()
	env.at(lu)
	lu.GroupName, lu.MaxItems = "developers", requests.NewInteger(1)
	first, err := c.ListUsersForGroup(lu)
	must(t, err, "ListUsersForGroup")
	if !first.IsTruncated || len(first.Users.User) != 1 || first.Users.User[0].UserName != "frank" {
		t.Fatalf("ListUsersForGroup page 1 = %+v", first)
	}
	lu.Marker = first.Marker
	second, err := c.ListUsersForGroup(lu)
	must(t, err, "ListUsersForGroup page 2")
	if second.IsTruncated || len(second.Users.User) != 1 || second.Users.User[0].UserName != "gina" {
		t.Errorf("ListUsersForGroup page 2 = %+v", second)
	}
	lu.GroupName, lu.Marker = "nope", ""
	_, err = c.ListUsersForGroup(lu)
	expectCode(t, err, "EntityNotExist.Group", 404, "ListUsersForGroup unknown")

	dg := ramsdk.CreateDeleteGroupRequest()
	env.at(dg)
	dg.GroupName = "developers"
	_, err = c.DeleteGroup(dg)
	expectCode(t, err, "DeleteConflict.Group.User", 409, "DeleteGroup with members")

	rm := ramsdk.CreateRemoveUserFromGroupRequest()
	env.at(rm)
	rm.GroupName = "developers"
	for _, n := range []string{"frank", "gina"} {
		rm.UserName = n
		_, err = c.RemoveUserFromGroup(rm)
		must(t, err, "RemoveUserFromGroup "+n)
	}
	_, err = c.RemoveUserFromGroup(rm)
	expectCode(t, err, "EntityNotExist.User.Group", 404, "RemoveUserFromGroup twice")
	_, err = c.DeleteGroup(dg)
	must(t, err, "DeleteGroup")

	// ListGroups over several pages.
	for i := 0; i < 5; i++ {
		cg.GroupName, cg.Comments = fmt.Sprintf("team-%d", i), ""
		_, err := c.CreateGroup(cg)
		must(t, err, "CreateGroup "+cg.GroupName)
	}
	var names []string
	marker := ""
	for pages := 0; ; pages++ {
		l := ramsdk.CreateListGroupsRequest()
		env.at(l)
		l.MaxItems, l.Marker = requests.NewInteger(2), marker
		page, err := c.ListGroups(l)
		must(t, err, "ListGroups")
		for _, g := range page.Groups.Group {
			names = append(names, g.GroupName)
		}
		if !page.IsTruncated {
			if pages != 2 {
				t.Errorf("ListGroups took %d pages", pages+1)
			}
			break
		}
		marker = page.Marker
	}
	if strings.Join(names, ",") != "team-0,team-1,team-2,team-3,team-4" {
		t.Errorf("ListGroups = %v", names)
	}
}

const readOnlyDoc = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:Get*","ram:List*"],"Resource":"*"}]}`

func TestAPIPolicies(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	cp := ramsdk.CreateCreatePolicyRequest()
	env.at(cp)
	cp.PolicyName, cp.PolicyDocument, cp.Description = "ReadOnlyRAM", readOnlyDoc, "read RAM"
	p, err := c.CreatePolicy(cp)
	must(t, err, "CreatePolicy")
	if p.Policy.PolicyName != "ReadOnlyRAM" || p.Policy.PolicyType != "Custom" || p.Policy.DefaultVersion != "v1" {
		t.Errorf("CreatePolicy = %+v", p.Policy)
	}
	_, err = c.CreatePolicy(cp)
	expectCode(t, err, "EntityAlreadyExists.Policy", 409, "CreatePolicy twice")
	cp.PolicyName, cp.PolicyDocument = "Broken", `{"Version":"1","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`
	_, err = c.CreatePolicy(cp)
	expectCode(t, err, "MalformedPolicyDocument", 400, "CreatePolicy with a bad document")

	gp := ramsdk.CreateGetPolicyRequest()
	env.at(gp)
	gp.PolicyType, gp.PolicyName = "Custom", "ReadOnlyRAM"
	got, err := c.GetPolicy(gp)
	must(t, err, "GetPolicy")
	if got.DefaultPolicyVersion.VersionId != "v1" || !got.DefaultPolicyVersion.IsDefaultVersion || !strings.Contains(got.DefaultPolicyVersion.PolicyDocument, "ram:Get*") {
		t.Errorf("GetPolicy = %+v", got)
	}
	gp.PolicyType, gp.PolicyName = "System", "AdministratorAccess"
	sys, err := c.GetPolicy(gp)
	must(t, err, "GetPolicy System")
	if sys.Policy.PolicyType != "System" || sys.Policy.AttachmentCount != 1 {
		t.Errorf("GetPolicy AdministratorAccess = %+v", sys.Policy)
	}
	gp.PolicyType = "Other"
	_, err = c.GetPolicy(gp)
	expectCode(t, err, "InvalidParameter.PolicyType", 400, "GetPolicy with a bad type")
	gp.PolicyType, gp.PolicyName = "Custom", "Nope"
	_, err = c.GetPolicy(gp)
	expectCode(t, err, "EntityNotExist.Policy", 404, "GetPolicy unknown")

	ud := ramsdk.CreateUpdatePolicyDescriptionRequest()
	env.at(ud)
	ud.PolicyName, ud.NewDescription = "ReadOnlyRAM", "read all of RAM"
	upd, err := c.UpdatePolicyDescription(ud)
	must(t, err, "UpdatePolicyDescription")
	if upd.Policy.Description != "read all of RAM" {
		t.Errorf("UpdatePolicyDescription = %+v", upd.Policy)
	}
	ud.PolicyName = "Nope"
	_, err = c.UpdatePolicyDescription(ud)
	expectCode(t, err, "EntityNotExist.Policy", 404, "UpdatePolicyDescription unknown")

	cv := ramsdk.CreateCreatePolicyVersionRequest()
	env.at(cv)
	cv.PolicyName, cv.PolicyDocument, cv.SetAsDefault = "ReadOnlyRAM", strings.Replace(readOnlyDoc, `"ram:List*"`, `"ram:List*","ram:Check*"`, 1), "true"
	v2, err := c.CreatePolicyVersion(cv)
	must(t, err, "CreatePolicyVersion")
	if v2.PolicyVersion.VersionId != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Errorf("CreatePolicyVersion = %+v", v2.PolicyVersion)
	}
	cv.PolicyDocument = "not json"
	_, err = c.CreatePolicyVersion(cv)
	expectCode(t, err, "MalformedPolicyDocument", 400, "CreatePolicyVersion with a bad document")

	gv := ramsdk.CreateGetPolicyVersionRequest()
	env.at(gv)
	gv.PolicyType, gv.PolicyName, gv.VersionId = "Custom", "ReadOnlyRAM", "v1"
	v1, err := c.GetPolicyVersion(gv)
	must(t, err, "GetPolicyVersion")
	if v1.PolicyVersion.IsDefaultVersion || v1.PolicyVersion.PolicyDocument == "" {
		t.Errorf("GetPolicyVersion v1 = %+v", v1.PolicyVersion)
	}
	gv.VersionId = "v9"
	_, err = c.GetPolicyVersion(gv)
	expectCode(t, err, "EntityNotExist.Policy.Version", 404, "GetPolicyVersion unknown")

	lv := ramsdk.CreateListPolicyVersionsRequest()
	env.at(lv)
	lv.PolicyType, lv.PolicyName = "Custom", "ReadOnlyRAM"
	vs, err := c.ListPolicyVersions(lv)
	must(t, err, "ListPolicyVersions")
	if len(vs.PolicyVersions.PolicyVersion) != 2 {
		t.Errorf("ListPolicyVersions = %+v", vs.PolicyVersions)
	}
	lv.PolicyName = "Nope"
	_, err = c.ListPolicyVersions(lv)
	expectCode(t, err, "EntityNotExist.Policy", 404, "ListPolicyVersions unknown")

	sd := ramsdk.CreateSetDefaultPolicyVersionRequest()
	env.at(sd)
	sd.PolicyName, sd.VersionId = "ReadOnlyRAM", "v1"
	_, err = c.SetDefaultPolicyVersion(sd)
	must(t, err, "SetDefaultPolicyVersion")
	sd.VersionId = "v7"
	_, err = c.SetDefaultPolicyVersion(sd)
	expectCode(t, err, "EntityNotExist.Policy.Version", 404, "SetDefaultPolicyVersion unknown")

	dv := ramsdk.CreateDeletePolicyVersionRequest()
	env.at(dv)
	dv.PolicyName, dv.VersionId = "ReadOnlyRAM", "v1"
	_, err = c.DeletePolicyVersion(dv)
	expectCode(t, err, "DeleteConflict.Policy.Version.Default", 409, "deleting the default version")

	// Attachments.
	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "hank"
	_, err = c.CreateUser(cu)
	must(t, err, "CreateUser")
	cg := ramsdk.CreateCreateGroupRequest()
	env.at(cg)
	cg.GroupName = "auditors"
	_, err = c.CreateGroup(cg)
	must(t, err, "CreateGroup")

	au := ramsdk.CreateAttachPolicyToUserRequest()
	env.at(au)
	au.PolicyType, au.PolicyName, au.UserName = "Custom", "ReadOnlyRAM", "hank"
	_, err = c.AttachPolicyToUser(au)
	must(t, err, "AttachPolicyToUser")
	_, err = c.AttachPolicyToUser(au)
	expectCode(t, err, "EntityAlreadyExists.User.Policy", 409, "AttachPolicyToUser twice")
	ag := ramsdk.CreateAttachPolicyToGroupRequest()
	env.at(ag)
	ag.PolicyType, ag.PolicyName, ag.GroupName = "Custom", "ReadOnlyRAM", "auditors"
	_, err = c.AttachPolicyToGroup(ag)
	must(t, err, "AttachPolicyToGroup")
	ag.GroupName = "nobody"
	_, err = c.AttachPolicyToGroup(ag)
	expectCode(t, err, "EntityNotExist.Group", 404, "AttachPolicyToGroup unknown group")

	lpu := ramsdk.CreateListPoliciesForUserRequest()
	env.at(lpu)
	lpu.UserName = "hank"
	pu, err := c.ListPoliciesForUser(lpu)
	must(t, err, "ListPoliciesForUser")
	if len(pu.Policies.Policy) != 1 || pu.Policies.Policy[0].PolicyName != "ReadOnlyRAM" || pu.Policies.Policy[0].AttachDate == "" {
		t.Errorf("ListPoliciesForUser = %+v", pu.Policies)
	}
	lpu.UserName = "nobody"
	_, err = c.ListPoliciesForUser(lpu)
	expectCode(t, err, "EntityNotExist.User", 404, "ListPoliciesForUser unknown")
	lpg := ramsdk.CreateListPoliciesForGroupRequest()
	env.at(lpg)
	lpg.GroupName = "auditors"
	pg, err := c.ListPoliciesForGroup(lpg)
	must(t, err, "ListPoliciesForGroup")
	if len(pg.Policies.Policy) != 1 {
		t.Errorf("ListPoliciesForGroup = %+v", pg.Policies)
	}
	lpg.GroupName = "nobody"
	_, err = c.ListPoliciesForGroup(lpg)
	expectCode(t, err, "EntityNotExist.Group", 404, "ListPoliciesForGroup unknown")

	le := ramsdk.CreateListEntitiesForPolicyRequest()
	env.at(le)
	le.PolicyType, le.PolicyName = "Custom", "ReadOnlyRAM"
	ents, err := c.ListEntitiesForPolicy(le)
	must(t, err, "ListEntitiesForPolicy")
	if len(ents.Users.User) != 1 || ents.Users.User[0].UserName != "hank" || len(ents.Groups.Group) != 1 || ents.Groups.Group[0].GroupName != "auditors" {
		t.Errorf("ListEntitiesForPolicy = %+v", ents)
	}
	le.PolicyName = "Nope"
	_, err = c.ListEntitiesForPolicy(le)
	expectCode(t, err, "EntityNotExist.Policy", 404, "ListEntitiesForPolicy unknown")

	// The API does not cascade: an attached policy is not deleted.
	dp := ramsdk.CreateDeletePolicyRequest()
	env.at(dp)
	dp.PolicyName = "ReadOnlyRAM"
	_, err = c.DeletePolicy(dp)
	expectCode(t, err, "DeleteConflict.Policy.User", 409, "DeletePolicy while attached")

	du := ramsdk.CreateDetachPolicyFromUserRequest()
	env.at(du)
	du.PolicyType, du.PolicyName, du.UserName = "Custom", "ReadOnlyRAM", "hank"
	_, err = c.DetachPolicyFromUser(du)
	must(t, err, "DetachPolicyFromUser")
	_, err = c.DetachPolicyFromUser(du)
	expectCode(t, err, "EntityNotExist.User.Policy", 404, "DetachPolicyFromUser twice")
	dg := ramsdk.CreateDetachPolicyFromGroupRequest()
	env.at(dg)
	dg.PolicyType, dg.PolicyName, dg.GroupName = "Custom", "ReadOnlyRAM", "auditors"
	_, err = c.DetachPolicyFromGroup(dg)
	must(t, err, "DetachPolicyFromGroup")
	_, err = c.DetachPolicyFromGroup(dg)
	expectCode(t, err, "EntityNotExist.Group.Policy", 404, "DetachPolicyFromGroup twice")

	_, err = c.DeletePolicy(dp)
	expectCode(t, err, "DeleteConflict.Policy.Version", 409, "DeletePolicy with another version")
	dv.VersionId = "v2"
	_, err = c.DeletePolicyVersion(dv)
	must(t, err, "DeletePolicyVersion")
	_, err = c.DeletePolicy(dp)
	must(t, err, "DeletePolicy")
	_, err = c.DeletePolicy(dp)
	expectCode(t, err, "EntityNotExist.Policy", 404, "DeletePolicy twice")

	// ListPolicies over several pages.
	for i := 0; i < 5; i++ {
		cp.PolicyName, cp.PolicyDocument, cp.Description = fmt.Sprintf("Custom-%d", i), readOnlyDoc, ""
		_, err := c.CreatePolicy(cp)
		must(t, err, "CreatePolicy "+cp.PolicyName)
	}
	var names []string
	marker, pages := "", 0
	for {
		l := ramsdk.CreateListPoliciesRequest()
		env.at(l)
		l.PolicyType, l.MaxItems, l.Marker = "Custom", requests.NewInteger(2), marker
		page, err := c.ListPolicies(l)
		must(t, err, "ListPolicies")
		pages++
		for _, p := range page.Policies.Policy {
			names = append(names, p.PolicyName)
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	if pages != 3 || strings.Join(names, ",") != "Custom-0,Custom-1,Custom-2,Custom-3,Custom-4" {
		t.Errorf("ListPolicies in %d pages = %v", pages, names)
	}
	l := ramsdk.CreateListPoliciesRequest()
	env.at(l)
	l.PolicyType = "Neither"
	_, err = c.ListPolicies(l)
	expectCode(t, err, "InvalidParameter.PolicyType", 400, "ListPolicies with a bad type")
}

func TestAPIAccountSettings(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	ga := ramsdk.CreateGetAccountAliasRequest()
	env.at(ga)
	alias, err := c.GetAccountAlias(ga)
	must(t, err, "GetAccountAlias")
	if alias.AccountAlias != testAlias {
		t.Errorf("GetAccountAlias = %q, want %q", alias.AccountAlias, testAlias)
	}
	sa := ramsdk.CreateSetAccountAliasRequest()
	env.at(sa)
	sa.AccountAlias = "Not-Valid"
	_, err = c.SetAccountAlias(sa)
	expectCode(t, err, "InvalidParameter.AccountAlias.Format", 400, "SetAccountAlias invalid")
	sa.AccountAlias = "new-alias"
	_, err = c.SetAccountAlias(sa)
	must(t, err, "SetAccountAlias")
	alias, err = c.GetAccountAlias(ga)
	must(t, err, "GetAccountAlias")
	if alias.AccountAlias != "new-alias" {
		t.Errorf("after SetAccountAlias: %q", alias.AccountAlias)
	}
	ca := ramsdk.CreateClearAccountAliasRequest()
	env.at(ca)
	_, err = c.ClearAccountAlias(ca)
	must(t, err, "ClearAccountAlias")
	alias, err = c.GetAccountAlias(ga)
	must(t, err, "GetAccountAlias")
	// Cleared, the alias is the AccountId again (SPEC §1).
	if acct := env.svc.AccountID(context.Background()); alias.AccountAlias != acct {
		t.Errorf("after ClearAccountAlias: GetAccountAlias = %q, want the AccountId %q", alias.AccountAlias, acct)
	}
	sa = ramsdk.CreateSetAccountAliasRequest() // a reused request keeps its old parameters
	env.at(sa)
	_, err = c.SetAccountAlias(sa)
	expectCode(t, err, "MissingParameter", 400, "SetAccountAlias without an alias")

	sp := ramsdk.CreateSetPasswordPolicyRequest()
	env.at(sp)
	sp.MinimumPasswordLength = requests.NewInteger(14)
	sp.RequireSymbols = requests.NewBoolean(true)
	pp, err := c.SetPasswordPolicy(sp)
	must(t, err, "SetPasswordPolicy")
	if pp.PasswordPolicy.MinimumPasswordLength != 14 || !pp.PasswordPolicy.RequireSymbols || pp.PasswordPolicy.MaxLoginAttemps != 5 {
		t.Errorf("SetPasswordPolicy = %+v (fields not named keep their values)", pp.PasswordPolicy)
	}
	sp.MinimumPasswordLength = requests.NewInteger(4)
	_, err = c.SetPasswordPolicy(sp)
	expectCode(t, err, "InvalidParameter.MinimumPasswordLength.Range", 400, "SetPasswordPolicy too short")
	gp := ramsdk.CreateGetPasswordPolicyRequest()
	env.at(gp)
	got, err := c.GetPasswordPolicy(gp)
	must(t, err, "GetPasswordPolicy")
	if got.PasswordPolicy.MinimumPasswordLength != 14 {
		t.Errorf("GetPasswordPolicy = %+v", got.PasswordPolicy)
	}

	ss := ramsdk.CreateSetSecurityPreferenceRequest()
	env.at(ss)
	ss.AllowUserToManageAccessKeys = requests.NewBoolean(true)
	ss.LoginSessionDuration = requests.NewInteger(8)
	ss.LoginNetworkMasks = "10.0.0.0/8;192.168.1.7"
	pref, err := c.SetSecurityPreference(ss)
	must(t, err, "SetSecurityPreference")
	lpp := pref.SecurityPreference.LoginProfilePreference
	if !pref.SecurityPreference.AccessKeyPreference.AllowUserToManageAccessKeys || lpp.LoginSessionDuration != 8 ||
		lpp.LoginNetworkMasks != "10.0.0.0/8;192.168.1.7/32" || !lpp.AllowUserToChangePassword {
		t.Errorf("SetSecurityPreference = %+v", pref.SecurityPreference)
	}
	ss.LoginSessionDuration = requests.NewInteger(48)
	_, err = c.SetSecurityPreference(ss)
	expectCode(t, err, "InvalidParameter.LoginSessionDuration", 400, "SetSecurityPreference too long")
	gs := ramsdk.CreateGetSecurityPreferenceRequest()
	env.at(gs)
	gotPref, err := c.GetSecurityPreference(gs)
	must(t, err, "GetSecurityPreference")
	if gotPref.SecurityPreference.LoginProfilePreference.LoginSessionDuration != 8 {
		t.Errorf("GetSecurityPreference = %+v", gotPref.SecurityPreference)
	}
}

// TestAPIAuthorization: the API is authorised by the same evaluator as the
// console, with Alibaba's AccessDeniedDetail on refusals.
func TestAPIAuthorization(t *testing.T) {
	env := newAPIEnv(t)
	c := env.client
	reader := env.createEmployee(env.owner, "reader")
	cp := ramsdk.CreateCreatePolicyRequest()
	env.at(cp)
	cp.PolicyName, cp.PolicyDocument = "ReadOnlyRAM", readOnlyDoc
	_, err := c.CreatePolicy(cp)
	must(t, err, "CreatePolicy")
	au := ramsdk.CreateAttachPolicyToUserRequest()
	env.at(au)
	au.PolicyType, au.PolicyName, au.UserName = "Custom", "ReadOnlyRAM", "reader"
	_, err = c.AttachPolicyToUser(au)
	must(t, err, "AttachPolicyToUser")

	rc := env.sdkClient(reader.keyID, reader.secret)
	lu := ramsdk.CreateListUsersRequest()
	env.at(lu)
	_, err = rc.ListUsers(lu)
	must(t, err, "a reader lists users")
	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "intruder"
	_, err = rc.CreateUser(cu)
	se := expectCode(t, err, "NoPermission", 403, "a reader creates a user")
	d := se.AccessDeniedDetail()
	want := map[string]any{"AuthAction": "ram:CreateUser", "AuthPrincipalType": "SubUser", "AuthPrincipalDisplayName": "reader",
		"AuthPrincipalOwnerId": env.svc.AccountID(context.Background()), "NoPermissionType": "ImplicitDeny",
		"PolicyType": "AccountLevelIdentityBasedPolicy"}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("AccessDeniedDetail[%s] = %v, want %v (all: %v)", k, d[k], v, d)
		}
	}
	if _, _, _, code, _, ok := env.apiEvent(se.RequestId()); !ok || code != "NoPermission" {
		t.Errorf("the refusal's event: %v %q", ok, code)
	}
	// No escalation: the reader cannot attach AdministratorAccess to itself.
	au.PolicyType, au.PolicyName = "System", "AdministratorAccess"
	_, err = rc.AttachPolicyToUser(au)
	expectCode(t, err, "NoPermission", 403, "a reader escalates")

	// An explicit deny names itself.
	cp.PolicyName, cp.PolicyDocument = "NoUserReads", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:GetUser","Resource":"*"}]}`
	_, err = c.CreatePolicy(cp)
	must(t, err, "CreatePolicy deny")
	au.PolicyType, au.PolicyName = "Custom", "NoUserReads"
	_, err = c.AttachPolicyToUser(au)
	must(t, err, "attach deny")
	gu := ramsdk.CreateGetUserRequest()
	env.at(gu)
	gu.UserName = "apiadmin"
	_, err = rc.GetUser(gu)
	se = expectCode(t, err, "NoPermission", 403, "an explicitly denied read")
	if se.AccessDeniedDetail()["NoPermissionType"] != "ExplicitDeny" {
		t.Errorf("AccessDeniedDetail = %v", se.AccessDeniedDetail())
	}
}

// TestAPIErrorBodyTypes: every error field is a JSON string, so the SDK's
// type assertions never panic.
func TestAPIErrorBodyTypes(t *testing.T) {
	env := newAPIEnv(t)
	resp := env.rawV1(env.admin.keyID, env.admin.secret, "POST", url.Values{"Action": {"GetUser"}, "UserName": {"nobody"}}, nil)
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.body), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
		if _, ok := body[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, body[k])
		}
	}
	if resp.header.Get("X-Request-Id") != body["RequestId"] {
		t.Errorf("RequestId %v differs from X-Request-Id %q", body["RequestId"], resp.header.Get("X-Request-Id"))
	}
}
