package handlers

import (
	"strconv"
	"time"

	"ramconsole/ram"
)

// The STS OpenAPI, version 2015-04-01, on the same listener as RAM's
// (SPEC §12): AssumeRole and GetCallerIdentity.

// stsActions are the STS actions served.
var stsActions = map[string]apiAction{
	"AssumeRole":        writeAction(apiAssumeRole, "RoleArn", "RoleSessionName"),
	"GetCallerIdentity": readAction(apiGetCallerIdentity),
}

// actionsOf returns the actions of an API version.
func actionsOf(version string) (map[string]apiAction, bool) {
	switch version {
	case APIVersion:
		return apiActions, true
	case STSVersion:
		return stsActions, true
	case IMSVersion:
		return imsActions, true
	}
	return nil, false
}

type apiAssumedRoleUser struct {
	Arn           string
	AssumedRoleID string `json:"AssumedRoleId" xml:"AssumedRoleId"`
}

type apiCredentials struct {
	AccessKeyID     string `json:"AccessKeyId" xml:"AccessKeyId"`
	AccessKeySecret string
	SecurityToken   string
	Expiration      string
}

type assumeRoleResponse struct {
	apiMeta
	AssumedRoleUser apiAssumedRoleUser
	Credentials     apiCredentials
}

func apiAssumeRole(c *apiCall) (apiResponse, error) {
	in := ram.AssumeRoleInput{RoleArn: c.p["RoleArn"], RoleSessionName: c.p["RoleSessionName"], Policy: c.p["Policy"],
		ExternalID: c.p["ExternalId"]}
	if v, ok := c.p["DurationSeconds"]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, apiError("InvalidParameter.DurationSeconds", "DurationSeconds must be a whole number of seconds.")
		}
		in.DurationSeconds = n
	}
	r, err := c.svc.AssumeRole(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return &assumeRoleResponse{AssumedRoleUser: apiAssumedRoleUser{Arn: r.Arn, AssumedRoleID: r.AssumedRoleID},
		Credentials: apiCredentials{AccessKeyID: r.AccessKeyID, AccessKeySecret: r.AccessKeySecret, SecurityToken: r.SecurityToken,
			Expiration: r.Expiration.UTC().Format(time.RFC3339)}}, nil
}

type callerIdentityResponse struct {
	apiMeta
	AccountID    string `json:"AccountId" xml:"AccountId"`
	UserID       string `json:"UserId" xml:"UserId"`
	RoleID       string `json:"RoleId,omitempty" xml:"RoleId,omitempty"`
	Arn          string
	IdentityType string
	PrincipalID  string `json:"PrincipalId" xml:"PrincipalId"`
}

func apiGetCallerIdentity(c *apiCall) (apiResponse, error) {
	id, err := c.svc.GetCallerIdentity(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	return &callerIdentityResponse{AccountID: id.AccountID, UserID: id.UserID, RoleID: id.RoleID, Arn: id.Arn,
		IdentityType: id.IdentityType, PrincipalID: id.PrincipalID}, nil
}
