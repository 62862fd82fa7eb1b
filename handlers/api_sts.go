package handlers

import (
	"strconv"
	"strings"
	"time"

	"ramconsole/ram"
)

// The STS OpenAPI, version 2015-04-01, on the same listener as RAM's
// (SPEC §12): AssumeRole and GetCallerIdentity, and the anonymous
// AssumeRoleWithSAML and AssumeRoleWithOIDC of role-based SSO (SPEC §18.7).

// stsActions are the STS actions served.
var stsActions = map[string]apiAction{
	"AssumeRole":        writeAction(apiAssumeRole, "RoleArn", "RoleSessionName"),
	"GetCallerIdentity": readAction(apiGetCallerIdentity),
	// Anonymous (SPEC §18.7): the assertion or token is the credential.
	"AssumeRoleWithSAML": writeAction(apiAssumeRoleWithSAML),
	"AssumeRoleWithOIDC": writeAction(apiAssumeRoleWithOIDC),
}

// anonymousAction reports whether an action is served without a signature:
// a signature, AccessKeyId or Authorization it carries anyway is not
// checked and names no caller.
func anonymousAction(version, action string) bool {
	return version == STSVersion && (action == "AssumeRoleWithSAML" || action == "AssumeRoleWithOIDC")
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

// durationSeconds reads DurationSeconds (0 when absent).
func durationSeconds(p apiParams) (int, error) {
	v, ok := p["DurationSeconds"]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, apiError("InvalidParameter.DurationSeconds", "DurationSeconds must be a whole number of seconds.")
	}
	return n, nil
}

func apiAssumeRole(c *apiCall) (apiResponse, error) {
	in := ram.AssumeRoleInput{RoleArn: c.p["RoleArn"], RoleSessionName: c.p["RoleSessionName"], Policy: c.p["Policy"],
		ExternalID: c.p["ExternalId"]}
	var err error
	if in.DurationSeconds, err = durationSeconds(c.p); err != nil {
		return nil, err
	}
	r, err := c.svc.AssumeRole(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return &assumeRoleResponse{AssumedRoleUser: assumedRoleUser(r), Credentials: credentials(r)}, nil
}

func assumedRoleUser(r *ram.AssumedRole) apiAssumedRoleUser {
	return apiAssumedRoleUser{Arn: r.Arn, AssumedRoleID: r.AssumedRoleID}
}

func credentials(r *ram.AssumedRole) apiCredentials {
	return apiCredentials{AccessKeyID: r.AccessKeyID, AccessKeySecret: r.AccessKeySecret, SecurityToken: r.SecurityToken,
		Expiration: stsTime(r.Expiration)}
}

// stsTime is a time in an STS answer: yyyy-MM-ddTHH:mm:ssZ, UTC.
func stsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

type samlAssertionInfo struct {
	SubjectType, Subject, Recipient, Issuer string
}

type assumeRoleWithSAMLResponse struct {
	apiMeta
	AssumedRoleUser   apiAssumedRoleUser
	Credentials       apiCredentials
	SAMLAssertionInfo samlAssertionInfo
}

func apiAssumeRoleWithSAML(c *apiCall) (apiResponse, error) {
	in := ram.AssumeRoleWithSAMLInput{SAMLProviderArn: c.p["SAMLProviderArn"], RoleArn: c.p["RoleArn"], SAMLAssertion: c.p["SAMLAssertion"],
		Policy: c.p["Policy"]}
	var err error
	if in.DurationSeconds, err = durationSeconds(c.p); err != nil {
		return nil, err
	}
	r, err := c.svc.AssumeRoleWithSAML(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return &assumeRoleWithSAMLResponse{AssumedRoleUser: assumedRoleUser(&r.AssumedRole), Credentials: credentials(&r.AssumedRole),
		SAMLAssertionInfo: samlAssertionInfo{SubjectType: r.SubjectType, Subject: r.Subject, Recipient: r.Recipient, Issuer: r.Issuer}}, nil
}

type oidcTokenInfo struct {
	Subject, Issuer  string
	ClientIDs        string `json:"ClientIds" xml:"ClientIds"`
	ExpirationTime   string
	IssuanceTime     string
	VerificationInfo string
}

type assumeRoleWithOIDCResponse struct {
	apiMeta
	AssumedRoleUser apiAssumedRoleUser
	Credentials     apiCredentials
	OIDCTokenInfo   oidcTokenInfo
}

func apiAssumeRoleWithOIDC(c *apiCall) (apiResponse, error) {
	in := ram.AssumeRoleWithOIDCInput{OIDCProviderArn: c.p["OIDCProviderArn"], RoleArn: c.p["RoleArn"], OIDCToken: c.p["OIDCToken"],
		RoleSessionName: c.p["RoleSessionName"], Policy: c.p["Policy"]}
	var err error
	if in.DurationSeconds, err = durationSeconds(c.p); err != nil {
		return nil, err
	}
	r, err := c.svc.AssumeRoleWithOIDC(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return &assumeRoleWithOIDCResponse{AssumedRoleUser: assumedRoleUser(&r.AssumedRole), Credentials: credentials(&r.AssumedRole),
		OIDCTokenInfo: oidcTokenInfo{Subject: r.Subject, Issuer: r.Issuer, ClientIDs: strings.Join(r.ClientIDs, ","),
			ExpirationTime: stsTime(r.ExpirationTime), IssuanceTime: stsTime(r.IssuedTime), VerificationInfo: "Success"}}, nil
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
