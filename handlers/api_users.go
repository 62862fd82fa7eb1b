package handlers

import (
	"ramconsole/ram"
)

// OpenAPI actions on users, their login profiles, passwords and AccessKeys.

// apiUser is RAM's User; each action fills the fields its answer carries.
type apiUser struct {
	UserID        string `json:"UserId,omitempty" xml:"UserId,omitempty"`
	UserName      string `json:",omitempty" xml:",omitempty"`
	DisplayName   string `json:",omitempty" xml:",omitempty"`
	MobilePhone   string `json:",omitempty" xml:",omitempty"`
	Email         string `json:",omitempty" xml:",omitempty"`
	Comments      string `json:",omitempty" xml:",omitempty"`
	CreateDate    string `json:",omitempty" xml:",omitempty"`
	UpdateDate    string `json:",omitempty" xml:",omitempty"`
	LastLoginDate string `json:",omitempty" xml:",omitempty"`
	AttachDate    string `json:",omitempty" xml:",omitempty"`
	JoinDate      string `json:",omitempty" xml:",omitempty"`
}

func toAPIUser(u *ram.User) apiUser {
	return apiUser{UserID: u.UserID, UserName: u.UserName, DisplayName: u.DisplayName, MobilePhone: u.MobilePhone,
		Email: u.Email, Comments: u.Comments, CreateDate: apiDate(u.CreatedAt), UpdateDate: apiDate(u.UpdatedAt)}
}

type apiUsers struct {
	User []apiUser
}

type userResponse struct {
	apiMeta
	User apiUser
}

type listUsersResponse struct {
	apiMeta
	IsTruncated bool
	Marker      string `json:",omitempty" xml:",omitempty"`
	Users       apiUsers
}

func apiCreateUser(c *apiCall) (apiResponse, error) {
	u, err := c.svc.CreateUser(c.ctx, c.actor, ram.UserInput{UserName: c.p["UserName"], DisplayName: c.p["DisplayName"],
		Email: c.p["Email"], MobilePhone: c.p["MobilePhone"], Comments: c.p["Comments"]})
	if err != nil {
		return nil, err
	}
	out := toAPIUser(u)
	out.UpdateDate = ""
	return &userResponse{User: out}, nil
}

func apiGetUser(c *apiCall) (apiResponse, error) {
	u, err := c.svc.GetUser(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	out := toAPIUser(u)
	out.LastLoginDate = apiDate(u.LastLoginAt)
	return &userResponse{User: out}, nil
}

func apiUpdateUser(c *apiCall) (apiResponse, error) {
	u, err := c.svc.UpdateUser(c.ctx, c.actor, c.p["UserName"], ram.UserUpdate{NewUserName: c.p.opt("NewUserName"),
		NewDisplayName: c.p.opt("NewDisplayName"), NewEmail: c.p.opt("NewEmail"), NewMobilePhone: c.p.opt("NewMobilePhone"),
		NewComments: c.p.opt("NewComments")})
	if err != nil {
		return nil, err
	}
	return &userResponse{User: toAPIUser(u)}, nil
}

// apiDeleteUser does not cascade: unlike the console, which removes the
// user's keys, login profile, MFA device, memberships and attachments after
// a confirmation, the API refuses with DeleteConflict.User.* while any
// remain, as Alibaba Cloud RAM does.
func apiDeleteUser(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteUser(c.ctx, c.actor, c.p["UserName"], false))
}

func apiListUsers(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	page, err := c.svc.ListUsers(c.ctx, c.actor, ram.ListUsersInput{Marker: c.p["Marker"], MaxItems: n})
	if err != nil {
		return nil, err
	}
	out := &listUsersResponse{IsTruncated: page.IsTruncated, Marker: page.Marker, Users: apiUsers{User: make([]apiUser, 0, len(page.Users))}}
	for i := range page.Users {
		out.Users.User = append(out.Users.User, toAPIUser(&page.Users[i]))
	}
	return out, nil
}

// apiLoginProfile is RAM's LoginProfile.
type apiLoginProfile struct {
	UserName              string
	PasswordResetRequired bool
	MFABindRequired       bool
	CreateDate            string `json:",omitempty" xml:",omitempty"`
}

type loginProfileResponse struct {
	apiMeta
	LoginProfile apiLoginProfile
}

func apiCreateLoginProfile(c *apiCall) (apiResponse, error) {
	reset, err := c.p.boolOpt("PasswordResetRequired")
	if err != nil {
		return nil, err
	}
	mfa, err := c.p.boolOpt("MFABindRequired")
	if err != nil {
		return nil, err
	}
	in := ram.LoginProfileInput{Password: c.p["Password"], PasswordResetRequired: reset != nil && *reset, MFABindRequired: mfa != nil && *mfa}
	lp, _, err := c.svc.CreateLoginProfile(c.ctx, c.actor, c.p["UserName"], in)
	if err != nil {
		return nil, err
	}
	return &loginProfileResponse{LoginProfile: apiLoginProfile{UserName: c.p["UserName"], PasswordResetRequired: lp.PasswordResetRequired,
		MFABindRequired: lp.MFABindRequired, CreateDate: apiDate(lp.CreatedAt)}}, nil
}

func apiGetLoginProfile(c *apiCall) (apiResponse, error) {
	lp, err := c.svc.GetLoginProfile(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	return &loginProfileResponse{LoginProfile: apiLoginProfile{UserName: c.p["UserName"], PasswordResetRequired: lp.PasswordResetRequired,
		MFABindRequired: lp.MFABindRequired, CreateDate: apiDate(lp.CreatedAt)}}, nil
}

func apiUpdateLoginProfile(c *apiCall) (apiResponse, error) {
	reset, err := c.p.boolOpt("PasswordResetRequired")
	if err != nil {
		return nil, err
	}
	mfa, err := c.p.boolOpt("MFABindRequired")
	if err != nil {
		return nil, err
	}
	up := ram.LoginProfileUpdate{PasswordResetRequired: reset, MFABindRequired: mfa}
	if pw := c.p["Password"]; pw != "" {
		up.Password = &pw
	}
	_, err = c.svc.UpdateLoginProfile(c.ctx, c.actor, c.p["UserName"], up)
	return empty(err)
}

func apiDeleteLoginProfile(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteLoginProfile(c.ctx, c.actor, c.p["UserName"]))
}

func apiChangePassword(c *apiCall) (apiResponse, error) {
	return empty(c.svc.ChangeOwnPassword(c.ctx, c.actor, c.p["OldPassword"], c.p["NewPassword"]))
}

// apiAccessKey is RAM's AccessKey; the secret only in CreateAccessKey's answer.
type apiAccessKey struct {
	AccessKeyID     string `json:"AccessKeyId" xml:"AccessKeyId"`
	AccessKeySecret string `json:",omitempty" xml:",omitempty"`
	Status          string
	CreateDate      string
}

type accessKeyResponse struct {
	apiMeta
	AccessKey apiAccessKey
}

type listAccessKeysResponse struct {
	apiMeta
	AccessKeys struct {
		AccessKey []apiAccessKey
	}
}

type accessKeyLastUsedResponse struct {
	apiMeta
	AccessKeyLastUsed struct {
		LastUsedDate string
	}
}

// apiCreateAccessKey is the one answer that carries an AccessKeySecret.
func apiCreateAccessKey(c *apiCall) (apiResponse, error) {
	k, err := c.svc.CreateAccessKey(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	return &accessKeyResponse{AccessKey: apiAccessKey{AccessKeyID: k.AccessKeyID, AccessKeySecret: k.AccessKeySecret,
		Status: k.Status, CreateDate: apiDate(k.CreateDate)}}, nil
}

func apiUpdateAccessKey(c *apiCall) (apiResponse, error) {
	return empty(c.svc.UpdateAccessKey(c.ctx, c.actor, c.p["UserName"], c.p["UserAccessKeyId"], c.p["Status"]))
}

func apiDeleteAccessKey(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteAccessKey(c.ctx, c.actor, c.p["UserName"], c.p["UserAccessKeyId"]))
}

func apiListAccessKeys(c *apiCall) (apiResponse, error) {
	keys, err := c.svc.ListAccessKeys(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysResponse{}
	out.AccessKeys.AccessKey = make([]apiAccessKey, 0, len(keys))
	for _, k := range keys {
		out.AccessKeys.AccessKey = append(out.AccessKeys.AccessKey, apiAccessKey{AccessKeyID: k.AccessKeyID, Status: k.Status,
			CreateDate: apiDate(k.CreatedAt)})
	}
	return out, nil
}

func apiGetAccessKeyLastUsed(c *apiCall) (apiResponse, error) {
	t, err := c.svc.GetAccessKeyLastUsed(c.ctx, c.actor, c.p["UserName"], c.p["UserAccessKeyId"])
	if err != nil {
		return nil, err
	}
	out := &accessKeyLastUsedResponse{}
	out.AccessKeyLastUsed.LastUsedDate = apiDate(t)
	return out, nil
}
