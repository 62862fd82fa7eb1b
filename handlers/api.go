package handlers

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/sign"
)

// The RAM OpenAPI (SPEC §6): RPC-style calls at "/" that carry an Action
// (query string or form body) or an x-acs-action header, signed with V1 or
// V3, answered in JSON or XML with Alibaba Cloud's shapes and error codes.
// Every call — read or write, allowed or refused — leaves one audit event
// whose requestId is the RequestId of the answer.

// APIVersion is the RAM API version served; STSVersion the STS one, on the
// same listener and path (SPEC §12).
const (
	APIVersion = "2015-05-01"
	STSVersion = "2015-04-01"
)

// MaxAPIBody is the largest request body the OpenAPI reads.
const MaxAPIBody = 1 << 20

// timestampLayout is the format of Timestamp, x-acs-date and every date in
// answers.
const timestampLayout = sign.TimestampLayout

// API serves the RAM OpenAPI.
type API struct {
	RAM *ram.Service
	Log *slog.Logger
}

// NewAPI returns the OpenAPI handler.
func NewAPI(svc *ram.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{RAM: svc, Log: log}
}

// ErrAPIBodyTooLarge is returned by ReadAPIRequest for bodies over MaxAPIBody.
var ErrAPIBodyTooLarge = errors.New("handlers: api request body too large")

// ReadAPIRequest reports whether a request to "/" is an OpenAPI call — an
// Action in the query string or a form body, or an x-acs-action header —
// and returns the body it had to read to know. A request that is not a call
// gets its body back to read again.
func ReadAPIRequest(r *http.Request) (body []byte, isAPI bool, err error) {
	isAPI = r.Header.Get("X-Acs-Action") != "" || hasAction(r.URL.RawQuery)
	if !isAPI && (r.Method != http.MethodPost || !isForm(r)) {
		return nil, false, nil
	}
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > MaxAPIBody {
			return nil, isAPI || isForm(r), ErrAPIBodyTooLarge
		}
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxAPIBody+1))
		r.Body.Close()
		if err != nil {
			return nil, isAPI, err
		}
		if len(body) > MaxAPIBody {
			return nil, true, ErrAPIBodyTooLarge
		}
	}
	if !isAPI && isForm(r) {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			isAPI = true
		}
	}
	if !isAPI {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return body, isAPI, nil
}

// hasAction reports whether a query string has a non-empty Action
// parameter, as url.Query would read it, without parsing the rest.
func hasAction(raw string) bool {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if v == "" || strings.Contains(part, ";") {
			continue
		}
		if k == "Action" {
			return true
		}
		if strings.ContainsAny(k, "%+") {
			if uk, err := url.QueryUnescape(k); err == nil && uk == "Action" {
				return true
			}
		}
	}
	return false
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// apiRequest is a parsed call: its parameters and how it is signed.
type apiRequest struct {
	ram.SignedRequest
	params  apiParams // every parameter: the query's and a form body's (SignedRequest.Params)
	c       echo.Context
	action  string
	version string
	xml     bool
	assumed bool // the caller is a role session
	// principalName is the authenticated caller's UserName.
	principalName string
	// ctx is the call's context; recorded tells whether an operation run
	// with it wrote the call's audit event.
	ctx      context.Context
	recorded interface{ Recorded() bool }
}

// apiError is an error answer that is not a domain error: signature,
// parameters, action.
func apiError(code, format string, args ...any) *ram.Error {
	return &ram.Error{Kind: ram.EINVALID, Code: code, Message: fmt.Sprintf(format, args...)}
}

func missing(name string) *ram.Error {
	return apiError("MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

// parseValues decodes a query string or form body as url.ParseQuery does
// (a ';' is refused, '+' is a space); a name given twice is refused, so
// what is signed and what is acted on cannot differ.
func parseValues(s string, into map[string]string, what string) error {
	if strings.Count(s, "&") >= maxAPIParams {
		return apiError("InvalidParameter", "The %s has more than %d parameters.", what, maxAPIParams)
	}
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if strings.Contains(part, ";") {
			return apiError("InvalidParameter", "The %s cannot be parsed.", what)
		}
		k, err1 := unescapeQuery(k)
		v, err2 := unescapeQuery(v)
		if err1 != nil || err2 != nil {
			return apiError("InvalidParameter", "The %s cannot be parsed.", what)
		}
		if _, dup := into[k]; dup {
			return apiError("InvalidParameter", "The parameter %q is given more than once.", k)
		}
		into[k] = v
	}
	return nil
}

// maxAPIParams bounds the parameters of a call (no RAM action takes more
// than a few dozen), so a large body cannot cost much before its signature
// is checked.
const maxAPIParams = 1000

// unescapeQuery is url.QueryUnescape without its copy when nothing is
// escaped.
func unescapeQuery(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

func (h *API) parse(c echo.Context, body []byte) (*apiRequest, error) {
	r := c.Request()
	req := &apiRequest{c: c, SignedRequest: ram.SignedRequest{Method: r.Method, Path: "/", Host: r.Host, Header: r.Header, Body: body,
		BodySeen: true, Query: make(map[string]string, 12)}}
	req.params = req.Query
	if err := parseValues(r.URL.RawQuery, req.Query, "query string"); err != nil {
		// Answer in the format asked for even when the parameters do not parse.
		req.xml = strings.EqualFold(r.URL.Query().Get("Format"), "XML")
		return req, err
	}
	if len(body) > 0 && isForm(r) {
		req.params = make(apiParams, len(req.Query)+8)
		for k, v := range req.Query {
			req.params[k] = v
		}
		if err := parseValues(string(body), req.params, "form body"); err != nil {
			req.xml = strings.EqualFold(req.Query["Format"], "XML")
			return req, err
		}
	}
	req.Params = req.params
	req.xml = strings.EqualFold(req.params["Format"], "XML")
	req.action, req.version = req.params["Action"], req.params["Version"]
	act, ver := cmp.Or(req.action, r.Header.Get("X-Acs-Action")), cmp.Or(req.version, r.Header.Get("X-Acs-Version"))
	if anonymousAction(ver, act) {
		// Anonymous (SPEC §18.7): whatever signs the request, V1 or V3, is
		// neither read nor checked; the V3 SDKs name the action in headers.
		req.action, req.version = act, ver
		return req, nil
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		a, err := sign.ParseAuthorization(auth)
		if err != nil {
			return req, apiError("IncompleteSignature", "The Authorization header is not a valid ACS3-HMAC-SHA256 authorization.")
		}
		req.V3, req.KeyID = &a, a.Credential
		if act := r.Header.Get("X-Acs-Action"); act != "" {
			if req.action != "" && req.action != act {
				return req, apiError("InvalidParameter", "The Action parameter and the x-acs-action header differ.")
			}
			req.action = act
		}
		if ver := r.Header.Get("X-Acs-Version"); ver != "" {
			if req.version != "" && req.version != ver {
				return req, apiError("InvalidParameter", "The Version parameter and the x-acs-version header differ.")
			}
			req.version = ver
		}
	} else {
		// V1 signs the parameters only: the x-acs-action and x-acs-version
		// headers the classic SDK also sends are not signed and not read.
		req.KeyID = req.params["AccessKeyId"]
		req.Token = req.params["SecurityToken"]
	}
	return req, nil
}

// Serve answers an OpenAPI call whose body was read already. It always
// writes the answer itself.
func (h *API) Serve(c echo.Context, body []byte) error {
	ctx, mark := ram.WithEventMark(c.Request().Context())
	rid := RequestID(c)
	req, err := h.parse(c, body)
	req.ctx, req.recorded = ctx, mark
	who := ram.Actor{RequestID: rid, SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: secureTransport(c)}
	if err != nil {
		return h.refuse(req, h.RAM.Anonymous(who), err)
	}
	var call *ram.Call
	if anonymousAction(req.version, req.action) {
		// No caller: the assertion or token is the credential, and a
		// signature or key the request carries is neither checked nor used.
		call = h.RAM.Anonymous(who)
	} else {
		call = h.RAM.Authenticate(ctx, who, &req.SignedRequest)
		if err := call.Err(); err != nil {
			return h.refuse(req, call, err)
		}
		req.principalName, req.assumed = call.Caller.Name(), call.Caller.Session != nil
		c.Set(KeyAPIPrincipal, call.Actor.Principal)
	}
	if req.action == "" {
		return h.refuse(req, call, missing("Action"))
	}
	if req.version == "" {
		return h.refuse(req, call, missing("Version"))
	}
	actions, ok := actionsOf(req.version)
	if !ok {
		return h.refuse(req, call, apiError("InvalidParameter",
			"Specified Version %q is not valid; RAM serves %s, STS %s and IMS %s.", truncate(req.version, 32), APIVersion, STSVersion, IMSVersion))
	}
	def, ok := actions[req.action]
	if !ok {
		return h.refuse(req, call, apiError("InvalidAction.NotFound",
			"Specified api is not found, please check your url and method."))
	}
	for _, name := range def.required {
		if req.params[name] == "" {
			return h.refuse(req, call, missing(name))
		}
	}
	if def.write {
		// A change runs only once its nonce is on record.
		if err := call.SpendNonce(ctx, req.action); err != nil {
			return h.answerError(req, err) // audited already
		}
	}
	resp, err := def.call(&apiCall{ctx: ctx, svc: h.RAM, actor: call.Actor, p: req.params})
	if err != nil {
		return h.refuse(req, call, err)
	}
	if !def.write {
		if err := call.Record(ctx, ram.APICall{Action: req.action, Resource: req.params.resource(), Params: req.params.audit()}); err != nil {
			return h.answerError(req, err)
		}
	}
	return h.answer(req, resp)
}

// ServeError answers a call that could not be read or failed unexpectedly.
func (h *API) ServeError(c echo.Context, err error) error {
	req := &apiRequest{c: c, params: apiParams{}}
	req.xml = strings.EqualFold(c.QueryParam("Format"), "XML")
	return h.answerError(req, err)
}

// refuse records a refused call (unless the operation recorded it) and
// answers the error.
func (h *API) refuse(req *apiRequest, call *ram.Call, cause error) error {
	rec := ram.APICall{Action: req.action, Resource: req.params.resource(), Params: req.params.audit(), Recorded: req.recorded.Recorded()}
	if !actionName(rec.Action) {
		rec.Action = "UnknownAction"
	}
	if err := call.Refuse(req.ctx, rec, cause); err != cause {
		return h.answerError(req, err)
	}
	return h.answerError(req, cause)
}

// actionName reports whether s can name an action in the audit log: 1–64
// ASCII letters and digits (anything else a caller sends is recorded as
// UnknownAction).
func actionName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// secureTransport is acs:SecureTransport: TLS on this connection, or
// X-Forwarded-Proto https from a trusted proxy (one whose X-Forwarded-For
// the IP extractor believed, so the client IP differs from the peer's).
func secureTransport(c echo.Context) bool {
	r := c.Request()
	if r.TLS != nil {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" {
		return false
	}
	peer := r.RemoteAddr
	if i := strings.LastIndexByte(peer, ':'); i >= 0 {
		peer = peer[:i]
	}
	peer = strings.Trim(peer, "[]")
	return c.RealIP() != peer
}

// apiMeta is what every answer carries.
type apiMeta struct {
	RequestID string `json:"RequestId" xml:"RequestId"`
}

func (m *apiMeta) setRequestID(id string) { m.RequestID = id }

type apiResponse interface{ setRequestID(string) }

// answer writes a successful call's answer in JSON or XML.
func (h *API) answer(req *apiRequest, resp apiResponse) error {
	resp.setRequestID(RequestID(req.c))
	root := ""
	if req.xml {
		root = req.action + "Response"
	}
	return h.write(req, http.StatusOK, root, resp)
}

func (h *API) write(req *apiRequest, status int, root string, v any) error {
	c := req.c
	if req.xml {
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		if err := xml.NewEncoder(&buf).EncodeElement(v, xml.StartElement{Name: xml.Name{Local: root}}); err != nil {
			h.Log.Error("api: encode xml", "request_id", RequestID(c), "error", err)
			return c.Blob(http.StatusInternalServerError, "text/xml;charset=utf-8",
				[]byte(xml.Header+"<Error><RequestId>"+RequestID(c)+"</RequestId><Code>InternalError</Code></Error>"))
		}
		return c.Blob(status, "text/xml;charset=utf-8", buf.Bytes())
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.Log.Error("api: encode json", "request_id", RequestID(c), "error", err)
		return c.Blob(http.StatusInternalServerError, "application/json;charset=utf-8",
			[]byte(`{"RequestId":"`+RequestID(c)+`","HostId":"","Code":"InternalError","Message":"Internal error","Recommend":""}`))
	}
	return c.Blob(status, "application/json;charset=utf-8", b)
}

// apiErrorBody is Alibaba Cloud's error answer; every field a string but
// AccessDeniedDetail, an object.
type apiErrorBody struct {
	RequestID          string `json:"RequestId" xml:"RequestId"`
	HostID             string `json:"HostId" xml:"HostId"`
	Code               string
	Message            string
	Recommend          string
	AccessDeniedDetail *accessDeniedDetail `json:",omitempty" xml:",omitempty"`
}

type accessDeniedDetail struct {
	AuthAction               string
	AuthPrincipalType        string
	AuthPrincipalDisplayName string
	AuthPrincipalOwnerID     string `json:"AuthPrincipalOwnerId" xml:"AuthPrincipalOwnerId"`
	NoPermissionType         string
	PolicyType               string
}

// answerError writes an error answer. Anything but a domain error is an
// InternalError whose cause is logged, never shown.
func (h *API) answerError(req *apiRequest, err error) error {
	c := req.c
	body := apiErrorBody{RequestID: RequestID(c), HostID: c.Request().Host}
	status := http.StatusInternalServerError
	if ram.Unavailable(err) { // nothing was decided: the caller may retry
		body.Code, body.Message = "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
		c.Response().Header().Set("Retry-After", "5")
		status = http.StatusServiceUnavailable
	} else if e, ok := ram.AsError(err); ok {
		body.Code, body.Message = e.Code, apiMessage(e)
		status = apiStatus(e)
		if e.Kind == ram.EBUSY {
			c.Response().Header().Set("Retry-After", strconv.Itoa(ram.HashRetryAfter))
		}
		if d, ok := ram.DenialOf(err); ok && e.Code == "NoPermission" {
			body.AccessDeniedDetail = &accessDeniedDetail{AuthAction: d.Action, AuthPrincipalType: "SubUser",
				AuthPrincipalOwnerID: h.RAM.AccountID(c.Request().Context()), NoPermissionType: d.Type,
				PolicyType: "AccountLevelIdentityBasedPolicy"}
			body.AccessDeniedDetail.AuthPrincipalDisplayName = req.principalName
			if req.assumed {
				body.AccessDeniedDetail.AuthPrincipalType = "AssumedRoleUser"
			}
			if d.PolicyType == "AssumeRolePolicy" { // a federated caller refused by the role's trust policy
				body.AccessDeniedDetail.AuthPrincipalType, body.AccessDeniedDetail.PolicyType = "Federated", d.PolicyType
			}
		}
	} else if errors.Is(err, ErrAPIBodyTooLarge) {
		status, body.Code, body.Message = http.StatusRequestEntityTooLarge, "InvalidParameter.RequestBody", "The request body is larger than 1 MiB."
	} else {
		h.Log.Error("api call failed", "request_id", RequestID(c), "action", req.action, "error", err)
		body.Code, body.Message = "InternalError", "The request processing has failed due to some unknown error."
	}
	if status >= 500 && status != http.StatusServiceUnavailable && body.Code != "InternalError" {
		body.Code = "InternalError"
	}
	return h.write(req, status, "Error", body)
}

// apiMessage is a domain error's message for the API: the field messages
// when the console's form would have shown them beside fields.
func apiMessage(e *ram.Error) string { return e.Detail() }

// apiStatus is the HTTP status of a RAM error code (ram-actions.md, "Error codes").
func apiStatus(e *ram.Error) int {
	code := e.Code
	switch {
	case strings.HasPrefix(code, "AuthenticationFail."):
		return http.StatusUnauthorized
	case code == "InvalidAccessKeyId.NotFound", code == "InvalidAction.NotFound", strings.HasPrefix(code, "EntityNotExist"):
		return http.StatusNotFound
	case code == "InvalidAccessKeyId.Inactive", code == "NoPermission", code == "CheckAuthenticationCodeFail", code == "Inactive":
		return http.StatusForbidden
	case strings.HasPrefix(code, "EntityAlreadyExists"), strings.HasPrefix(code, "DeleteConflict"), strings.HasPrefix(code, "LimitExceeded"):
		return http.StatusConflict
	case code == "MissingParameter", strings.HasPrefix(code, "InvalidParameter"), code == "MalformedPolicyDocument",
		strings.HasPrefix(code, "Signature"), strings.HasPrefix(code, "InvalidTimeStamp"), code == "IncompleteSignature",
		strings.HasPrefix(code, "NotSupport"):
		return http.StatusBadRequest
	}
	switch e.Kind {
	case ram.EINVALID:
		return http.StatusBadRequest
	case ram.ENOTFOUND:
		return http.StatusNotFound
	case ram.EFORBIDDEN, ram.EAUTH:
		return http.StatusForbidden
	case ram.ECONFLICT, ram.ELIMIT:
		return http.StatusConflict
	case ram.EBUSY:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// apiParams are a call's parameters by name.
type apiParams map[string]string

// opt returns a parameter's value when it was sent.
func (p apiParams) opt(name string) *string {
	if v, ok := p[name]; ok {
		return &v
	}
	return nil
}

// boolOpt parses an optional true/false parameter.
func (p apiParams) boolOpt(name string) (*bool, error) {
	v, ok := p[name]
	if !ok || v == "" {
		return nil, nil
	}
	switch strings.ToLower(v) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, apiError("InvalidParameter."+name, "%s must be true or false.", name)
}

// intOpt parses an optional decimal parameter.
func (p apiParams) intOpt(name string) (*int, error) {
	v, ok := p[name]
	if !ok || v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1<<30 {
		return nil, apiError("InvalidParameter."+name, "%s must be a non-negative whole number.", name)
	}
	return &n, nil
}

// commonParams are the protocol's own parameters, not the action's.
var commonParams = map[string]bool{"AccessKeyId": true, "Action": true, "Format": true, "RegionId": true, "Signature": true,
	"SignatureMethod": true, "SignatureNonce": true, "SignatureType": true, "SignatureVersion": true, "Timestamp": true,
	"Version": true, "SecurityToken": true}

// secretParams are never recorded.
var secretParams = map[string]bool{"Password": true, "OldPassword": true, "NewPassword": true,
	"AuthenticationCode1": true, "AuthenticationCode2": true, "SAMLAssertion": true, "OIDCToken": true}

// documentParams are recorded by their SHA-256 only: an identity provider's
// metadata is long and says nothing an auditor reads (SPEC §18.9).
var documentParams = map[string]bool{"MetadataDocument": true, "EncodedSAMLMetadataDocument": true, "SAMLMetadataDocument": true,
	"NewEncodedSAMLMetadataDocument": true, "NewSAMLMetadataDocument": true}

// maxAuditParams bounds the parameters an event records (no action has
// more than a dozen; a caller, signed or not, may send thousands).
const maxAuditParams = 32

// audit is requestParameters for an event: the action's parameters,
// secrets left out, values cut to 1024 characters, at most maxAuditParams
// of them (the first by name).
func (p apiParams) audit() map[string]any {
	var arr [24]string
	keys := arr[:0]
	for k := range p {
		if !commonParams[k] && len(k) <= 64 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > maxAuditParams {
		keys = keys[:maxAuditParams]
	}
	var out map[string]any
	for _, k := range keys {
		v := p[k]
		if out == nil {
			out = map[string]any{}
		}
		if secretParams[k] {
			out[k] = "(not recorded)"
			continue
		}
		if documentParams[k] {
			sum := sha256.Sum256([]byte(v))
			out[k] = "sha256:" + hex.EncodeToString(sum[:])
			continue
		}
		if len(v) > 1024 {
			v = v[:1024]
		}
		out[k] = v
	}
	return out
}

// resource is the resourceName of a call's event.
func (p apiParams) resource() string {
	for _, k := range []string{"UserName", "GroupName", "PolicyName", "SerialNumber", "VirtualMFADeviceName"} {
		if v := p[k]; v != "" {
			return truncate(v, 256)
		}
	}
	return ""
}

// apiDate formats a date as the API does; "" for never.
func apiDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timestampLayout)
}
