package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"ramconsole/sign"
)

// Raw HTTP against the OpenAPI: the signature rules and their refusals,
// exactly (code and status), without an SDK in between.

func (h *harness) send(req *http.Request) page {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// signedV1 returns the parameters of a V1 call signed with secret; tweak,
// when set, changes them after signing.
func (h *harness) signedV1(keyID, secret, method string, params url.Values) url.Values {
	all := url.Values{"Format": {"JSON"}, "Version": {"2015-05-01"}, "AccessKeyId": {keyID}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"}, "SignatureNonce": {uuid.NewString()}, "Timestamp": {h.clock.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"SignatureType": {""}, "RegionId": {"cn-hangzhou"}}
	for k, v := range params {
		all[k] = v
	}
	flat := map[string]string{}
	for k, v := range all {
		flat[k] = v[0]
	}
	all.Set("Signature", sign.SignV1(secret, sign.StringToSignV1(method, flat)))
	return all
}

// rawV1 sends a signed V1 call with every parameter in the query string;
// tweak changes the parameters after signing.
func (h *harness) rawV1(keyID, secret, method string, params url.Values, tweak func(url.Values)) page {
	h.t.Helper()
	all := h.signedV1(keyID, secret, method, params)
	if tweak != nil {
		tweak(all)
	}
	req, _ := http.NewRequest(method, h.srv.URL+"/?"+all.Encode(), nil)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return h.send(req)
}

// v3Request builds a V3-signed call as the current SDKs do: the action and
// version in headers, parameters in the query, an optional form body.
func (h *harness) v3Request(keyID, secret, action string, query url.Values, body []byte) *http.Request {
	h.t.Helper()
	u := h.srv.URL + "/"
	if len(query) > 0 {
		u += "?" + strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	sum := sha256.Sum256(body)
	req.Header.Set("x-acs-action", action)
	req.Header.Set("x-acs-version", "2015-05-01")
	req.Header.Set("x-acs-date", h.clock.Now().UTC().Format("2006-01-02T15:04:05Z"))
	req.Header.Set("x-acs-signature-nonce", uuid.NewString())
	req.Header.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
	if len(body) > 0 {
		req.Header.Set("content-type", "application/x-www-form-urlencoded")
	}
	signV3(req, keyID, secret)
	return req
}

// signV3 (re)computes a request's Authorization over host, content-type and
// every x-acs-* header.
func signV3(req *http.Request, keyID, secret string) {
	names := []string{"host"}
	for k := range req.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	q := map[string]string{}
	for k, v := range req.URL.Query() {
		q[k] = v[0]
	}
	header := func(n string) string {
		if n == "host" {
			return req.URL.Host
		}
		return req.Header.Get(n)
	}
	cr := sign.CanonicalRequestV3(req.Method, req.URL.Path, q, names, header, req.Header.Get("x-acs-content-sha256"))
	req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+keyID+",SignedHeaders="+strings.Join(names, ";")+
		",Signature="+sign.SignV3(secret, sign.StringToSignV3(cr)))
}

// apiErr is the error body.
type apiErr struct {
	RequestId, HostId, Code, Message, Recommend string
}

func expectAPIError(t *testing.T, p page, code string, status int, what string) apiErr {
	t.Helper()
	var e apiErr
	if err := decodeJSON(p.body, &e); err != nil || p.status != status || e.Code != code {
		t.Fatalf("%s: %d %s, want %d %s", what, p.status, p.body, status, code)
	}
	if _, err := uuid.Parse(e.RequestId); err != nil {
		t.Errorf("%s: RequestId %q is not a UUID", what, e.RequestId)
	}
	return e
}

func TestAPIRawSignatures(t *testing.T) {
	env := newAPIEnv(t)
	id, secret := env.admin.keyID, env.admin.secret
	get := url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}}

	t.Run("V1 POST and GET are accepted", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodGet} {
			p := env.rawV1(id, secret, m, get, nil)
			expectStatus(t, p, 200, m+" GetUser")
			if !strings.Contains(p.body, `"UserName":"apiadmin"`) {
				t.Errorf("%s GetUser = %s", m, p.body)
			}
		}
	})
	t.Run("V1 parameters in a form body", func(t *testing.T) {
		all := env.signedV1(id, secret, http.MethodPost, get)
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/", strings.NewReader(all.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		expectStatus(t, env.send(req), 200, "form body")
	})
	t.Run("a tampered parameter", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, get, func(v url.Values) { v.Set("UserName", "someone-else") })
		e := expectAPIError(t, p, "SignatureDoesNotMatch", 400, "tampered UserName")
		if !strings.Contains(e.Message, "server string to sign is:POST&%2F&") {
			t.Errorf("Message = %q, want the server's string to sign", e.Message)
		}
	})
	t.Run("an added parameter, even an empty one", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, get, func(v url.Values) { v.Set("Extra", "") })
		expectAPIError(t, p, "SignatureDoesNotMatch", 400, "added parameter")
	})
	t.Run("a wrong secret", func(t *testing.T) {
		expectAPIError(t, env.rawV1(id, strings.Repeat("x", 30), http.MethodPost, get, nil), "SignatureDoesNotMatch", 400, "wrong secret")
	})
	t.Run("an unknown key", func(t *testing.T) {
		expectAPIError(t, env.rawV1("LTAI00000000000000000000", secret, http.MethodPost, get, nil), "InvalidAccessKeyId.NotFound", 404, "unknown key")
	})
	t.Run("a replayed nonce", func(t *testing.T) {
		all := env.signedV1(id, secret, http.MethodPost, get)
		for i, want := range []int{200, 400} {
			req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/?"+all.Encode(), nil)
			p := env.send(req)
			if i == 0 {
				expectStatus(t, p, want, "first use")
			} else {
				expectAPIError(t, p, "SignatureNonceUsed", want, "replay")
			}
		}
		// A write's nonce is recorded before the change runs.
		create := env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"CreateUser"}, "UserName": {"replayed"}})
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/?"+create.Encode(), nil)
		expectStatus(t, env.send(req), 200, "CreateUser")
		req, _ = http.NewRequest(http.MethodPost, env.srv.URL+"/?"+create.Encode(), nil)
		expectAPIError(t, env.send(req), "SignatureNonceUsed", 400, "CreateUser replayed")
		if !env.hasEvent("UnknownAction", "") && !env.hasEvent("CreateUser", "SignatureNonceUsed") {
			t.Errorf("the replay is not audited")
		}
	})
	t.Run("a 20-minute-old timestamp", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, get, nil)
		expectStatus(t, p, 200, "fresh")
		old := env.clock.Now().Add(-20 * time.Minute).Format("2006-01-02T15:04:05Z")
		all := env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}, "Timestamp": {old}})
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/?"+all.Encode(), nil)
		expectAPIError(t, env.send(req), "InvalidTimeStamp.Expired", 400, "old timestamp")
		future := env.clock.Now().Add(20 * time.Minute).Format("2006-01-02T15:04:05Z")
		all = env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}, "Timestamp": {future}})
		req, _ = http.NewRequest(http.MethodPost, env.srv.URL+"/?"+all.Encode(), nil)
		expectAPIError(t, env.send(req), "InvalidTimeStamp.Expired", 400, "future timestamp")
	})
	t.Run("a missing parameter", func(t *testing.T) {
		e := expectAPIError(t, env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}}, nil), "MissingParameter", 400, "no UserName")
		if !strings.Contains(e.Message, `"UserName"`) {
			t.Errorf("Message %q does not name UserName", e.Message)
		}
		p := env.rawV1(id, secret, http.MethodPost, get, func(v url.Values) { v.Del("Signature") })
		expectAPIError(t, p, "MissingParameter", 400, "no Signature")
	})
	t.Run("unknown actions, and actions of the other version", func(t *testing.T) {
		for _, tc := range []struct{ action, version string }{{"LaunchRocket", "2015-05-01"}, {"AssumeRole", "2015-05-01"},
			{"GetUser", "2015-04-01"}, {"LaunchRocket", "2015-04-01"}, {"GetUser", "2019-08-15"}} {
			p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {tc.action}, "Version": {tc.version}, "RoleName": {"r"}}, nil)
			expectAPIError(t, p, "InvalidAction.NotFound", 404, tc.action+" "+tc.version)
		}
	})
	t.Run("another version", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}, "Version": {"2019-08-16"}}, nil)
		expectAPIError(t, p, "InvalidParameter", 400, "version")
	})
	t.Run("a parameter given twice", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, get, func(v url.Values) { v.Add("UserName", "other") })
		expectAPIError(t, p, "InvalidParameter", 400, "duplicate")
	})

	t.Run("V3 is accepted", func(t *testing.T) {
		p := env.send(env.v3Request(id, secret, "GetUser", url.Values{"UserName": {"apiadmin"}}, nil))
		expectStatus(t, p, 200, "V3 GetUser")
		form := []byte(url.Values{"UserName": {"v3-form"}, "Comments": {"a*b c~"}}.Encode())
		p = env.send(env.v3Request(id, secret, "CreateUser", nil, form))
		expectStatus(t, p, 200, "V3 CreateUser with a form body")
		if !strings.Contains(p.body, `"Comments":"a*b c~"`) {
			t.Errorf("V3 CreateUser = %s", p.body)
		}
	})
	t.Run("V3 a tampered signed header", func(t *testing.T) {
		req := env.v3Request(id, secret, "GetUser", url.Values{"UserName": {"apiadmin"}}, nil)
		req.Header.Set("x-acs-action", "DeleteUser")
		expectAPIError(t, env.send(req), "SignatureDoesNotMatch", 400, "tampered x-acs-action")
	})
	t.Run("V3 a tampered query", func(t *testing.T) {
		req := env.v3Request(id, secret, "GetUser", url.Values{"UserName": {"apiadmin"}}, nil)
		req.URL.RawQuery = "UserName=other"
		expectAPIError(t, env.send(req), "SignatureDoesNotMatch", 400, "tampered query")
	})
	t.Run("V3 a body that does not match x-acs-content-sha256", func(t *testing.T) {
		req := env.v3Request(id, secret, "CreateUser", nil, []byte("UserName=mallory"))
		req.Body = io.NopCloser(strings.NewReader("UserName=eve"))
		req.ContentLength = int64(len("UserName=eve"))
		expectAPIError(t, env.send(req), "SignatureDoesNotMatch", 400, "body swapped")
	})
	t.Run("V3 an unsigned x-acs header", func(t *testing.T) {
		req := env.v3Request(id, secret, "GetUser", url.Values{"UserName": {"apiadmin"}}, nil)
		req.Header.Set("x-acs-extra", "1")
		expectAPIError(t, env.send(req), "IncompleteSignature", 400, "unsigned header")
	})
	t.Run("V3 a wrong secret, an unknown key, a replay, an old date", func(t *testing.T) {
		q := url.Values{"UserName": {"apiadmin"}}
		expectAPIError(t, env.send(env.v3Request(id, "bad-secret", "GetUser", q, nil)), "SignatureDoesNotMatch", 400, "wrong secret")
		expectAPIError(t, env.send(env.v3Request("LTAIunknown", secret, "GetUser", q, nil)), "InvalidAccessKeyId.NotFound", 404, "unknown key")
		req := env.v3Request(id, secret, "GetUser", q, nil)
		again := req.Clone(req.Context())
		expectStatus(t, env.send(req), 200, "first")
		expectAPIError(t, env.send(again), "SignatureNonceUsed", 400, "replay")
		old := env.v3Request(id, secret, "GetUser", q, nil)
		old.Header.Set("x-acs-date", env.clock.Now().Add(-20*time.Minute).Format("2006-01-02T15:04:05Z"))
		signV3(old, id, secret)
		expectAPIError(t, env.send(old), "InvalidTimeStamp.Expired", 400, "old date")
	})

	t.Run("XML", func(t *testing.T) {
		p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"ListUsers"}, "Format": {"XML"}}, nil)
		expectStatus(t, p, 200, "XML ListUsers")
		var r struct {
			XMLName     xml.Name `xml:"ListUsersResponse"`
			RequestId   string
			IsTruncated bool
			Users       struct {
				User []struct{ UserName string }
			}
		}
		if err := xml.Unmarshal([]byte(p.body), &r); err != nil || r.RequestId == "" || len(r.Users.User) == 0 {
			t.Fatalf("XML ListUsers = %v %s", err, p.body)
		}
		p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"nobody"}, "Format": {"XML"}}, nil)
		var e struct {
			XMLName xml.Name `xml:"Error"`
			Code    string
		}
		if err := xml.Unmarshal([]byte(p.body), &e); err != nil || p.status != 404 || e.Code != "EntityNotExist.User" {
			t.Fatalf("XML error = %d %v %s", p.status, err, p.body)
		}
	})

	t.Run("an inactive key", func(t *testing.T) {
		other := env.createEmployee(env.owner, "sleeper")
		up := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"UpdateAccessKey"}, "UserName": {"sleeper"},
			"UserAccessKeyId": {other.keyID}, "Status": {"Inactive"}}, nil)
		expectStatus(t, up, 200, "UpdateAccessKey")
		expectAPIError(t, env.rawV1(other.keyID, other.secret, http.MethodPost, get, nil), "InvalidAccessKeyId.Inactive", 403, "inactive key")
	})

	t.Run("the console is untouched", func(t *testing.T) {
		p := env.browser().get("/")
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
			t.Errorf("GET / without Action: %d %q, want the console's sign-in redirect", p.status, p.header.Get("Location"))
		}
	})
}

func decodeJSON(s string, v any) error {
	return jsonUnmarshal([]byte(s), v)
}

var jsonUnmarshal = json.Unmarshal
