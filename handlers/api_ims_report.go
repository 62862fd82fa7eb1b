package handlers

import (
	"encoding/base64"

	"ramconsole/ram"
)

// The IMS actions of the credential report (SPEC §16.7), with the names and
// shapes of the SDK's services/ims. Both are reads that the domain service
// authorises and records itself (eventSource ims, serviceName Ims), so they
// run as actions that record their own event.

// imsReportActions are merged into imsActions.
var imsReportActions = map[string]apiAction{
	"GenerateCredentialReport": writeAction(apiGenerateCredentialReport),
	"GetCredentialReport":      writeAction(apiGetCredentialReport),
}

func init() {
	for name, action := range imsReportActions {
		imsActions[name] = action
	}
}

type generateCredentialReportResponse struct {
	apiMeta
	State string
}

type getCredentialReportResponse struct {
	apiMeta
	GeneratedTime string
	Content       string
	IsTruncated   bool
	NextToken     string
}

func apiGenerateCredentialReport(c *apiCall) (apiResponse, error) {
	if _, err := c.svc.GenerateCredentialReport(c.ctx, c.actor); err != nil {
		return nil, err
	}
	return &generateCredentialReportResponse{State: "COMPLETE"}, nil
}

func apiGetCredentialReport(c *apiCall) (apiResponse, error) {
	page, err := c.svc.GetCredentialReport(c.ctx, c.actor, ram.CredentialReportQuery{MaxItems: c.p["MaxItems"], NextToken: c.p["NextToken"]})
	if err != nil {
		return nil, err
	}
	return &getCredentialReportResponse{GeneratedTime: apiDate(page.GeneratedAt), Content: base64.StdEncoding.EncodeToString(page.CSV),
		IsTruncated: page.NextToken != "", NextToken: page.NextToken}, nil
}
