package web

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// The current-generation Go client (darabonba-openapi/v2, CallApi in RPC
// style), which signs with V3, for a representative set of actions.

type v3Client struct {
	t *testing.T
	c *openapi.Client
}

func (h *harness) v3Client(t *testing.T, id, secret string) *v3Client {
	t.Helper()
	u, _ := url.Parse(h.srv.URL)
	c, err := openapi.NewClient(&openapi.Config{AccessKeyId: dara.String(id), AccessKeySecret: dara.String(secret),
		Endpoint: dara.String(u.Host), Protocol: dara.String("HTTP")})
	if err != nil {
		t.Fatal(err)
	}
	return &v3Client{t: t, c: c}
}

// call runs an action with its parameters in the query string and returns
// the decoded JSON body.
func (v *v3Client) call(action string, query map[string]string) (map[string]any, error) {
	params := &openapi.Params{Action: dara.String(action), Version: dara.String("2015-05-01"), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"), Style: dara.String("RPC"),
		ReqBodyType: dara.String("formData"), BodyType: dara.String("json")}
	q := map[string]*string{}
	for k, val := range query {
		q[k] = dara.String(val)
	}
	max := 0
	resp, err := v.c.CallApi(params, &openapi.OpenApiRequest{Query: q}, &dara.RuntimeOptions{MaxAttempts: &max})
	if err != nil {
		return nil, err
	}
	body, _ := resp["body"].(map[string]any)
	return body, nil
}

func (v *v3Client) must(action string, query map[string]string) map[string]any {
	v.t.Helper()
	body, err := v.call(action, query)
	if err != nil {
		v.t.Fatalf("%s: %v", action, err)
	}
	return body
}

// v3Code returns the code and status of a refused V3 call.
func v3Code(err error) (string, int) {
	var ce *openapi.ClientError
	if errors.As(err, &ce) {
		return dara.StringValue(ce.Code), dara.IntValue(ce.StatusCode)
	}
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.StringValue(se.Code), tea.IntValue(se.StatusCode)
	}
	return fmt.Sprintf("%T %v", err, err), 0
}

func TestAPIThroughV3Client(t *testing.T) {
	env := newAPIEnv(t)
	v := env.v3Client(t, env.admin.keyID, env.admin.secret)

	created := v.must("CreateUser", map[string]string{"UserName": "v3-alice", "DisplayName": "Alice Smith", "Comments": "x*y z"})
	user, _ := created["User"].(map[string]any)
	if user["UserName"] != "v3-alice" || user["DisplayName"] != "Alice Smith" || user["Comments"] != "x*y z" {
		t.Errorf("CreateUser = %v", created)
	}
	got := v.must("GetUser", map[string]string{"UserName": "v3-alice"})
	if u, _ := got["User"].(map[string]any); u["UserId"] != user["UserId"] {
		t.Errorf("GetUser = %v", got)
	}

	for i := 0; i < 4; i++ {
		v.must("CreateUser", map[string]string{"UserName": fmt.Sprintf("v3-page-%d", i)})
	}
	var names []any
	marker := ""
	for pages := 1; ; pages++ {
		q := map[string]string{"MaxItems": "2"}
		if marker != "" {
			q["Marker"] = marker
		}
		page := v.must("ListUsers", q)
		users, _ := page["Users"].(map[string]any)
		list, _ := users["User"].([]any)
		for _, u := range list {
			names = append(names, u.(map[string]any)["UserName"])
		}
		if page["IsTruncated"] != true {
			if pages != 3 { // apiadmin, v3-alice, v3-page-0..3
				t.Errorf("ListUsers took %d pages of 2 for %d users", pages, len(names))
			}
			break
		}
		marker, _ = page["Marker"].(string)
	}
	if len(names) != 6 {
		t.Errorf("ListUsers = %v", names)
	}

	v.must("CreateGroup", map[string]string{"GroupName": "v3-team"})
	v.must("AddUserToGroup", map[string]string{"GroupName": "v3-team", "UserName": "v3-alice"})
	v.must("AttachPolicyToUser", map[string]string{"PolicyType": "System", "PolicyName": "ReadOnlyAccess", "UserName": "v3-alice"})
	pol := v.must("ListPoliciesForUser", map[string]string{"UserName": "v3-alice"})
	if ps, _ := pol["Policies"].(map[string]any); len(ps["Policy"].([]any)) != 1 {
		t.Errorf("ListPoliciesForUser = %v", pol)
	}

	_, err := v.call("GetUser", map[string]string{"UserName": "nobody"})
	if code, status := v3Code(err); code != "EntityNotExist.User" || status != 404 {
		t.Errorf("GetUser unknown: %s %d", code, status)
	}
	_, err = v.call("CreateUser", map[string]string{"UserName": "v3-alice"})
	if code, status := v3Code(err); code != "EntityAlreadyExists.User" || status != 409 {
		t.Errorf("CreateUser twice: %s %d", code, status)
	}
	bad := env.v3Client(t, env.admin.keyID, "not-the-secret")
	_, err = bad.call("GetUser", map[string]string{"UserName": "v3-alice"})
	if code, status := v3Code(err); code != "SignatureDoesNotMatch" || status != 400 {
		t.Errorf("a wrong secret: %s %d", code, status)
	}
}
