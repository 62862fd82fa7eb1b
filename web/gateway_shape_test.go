package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
)

// The request decided is the request the backend runs (SPEC §13): every
// question whose shape lets a backend run another request than the one
// decided is refused with its code, recorded with that code, and never
// charged as a bad signature — even when it is validly signed.
func TestGatewayRefusesAmbiguousQuestions(t *testing.T) {
	e := newGatewayEnv(t)
	// ops may read everything under public/ of OSS, and describe ECS.
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	_, err := e.svc.CreatePolicy(ctx, a, "PublicReads", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"acs:oss:*:*:b1/public/*"}]}`, "")
	must(t, err, "create the policy")
	must(t, e.svc.AttachPolicyToUser(ctx, a, "Custom", "PublicReads", "ops"), "attach")
	eb, _, _ := e.signInEmployee(e.emp.name, e.emp.password)
	expectStatus(t, e.ask("GET", "oss.internal.example", "/b1/public/x", nil, eb.cookie()), 200, "a public object")
	expectStatus(t, e.ask("GET", "oss.internal.example", "/b1/public/%41%20b", nil, eb.cookie()), 200, "a public object, its name encoded")
	expectStatus(t, e.ask("GET", "oss.internal.example", "/b1/public/dir/", nil, eb.cookie()), 200, "a trailing slash")

	for _, tc := range []struct{ what, uri string }{
		{"a dot-dot segment", "/b1/public/../secret/x"},
		{"an encoded dot-dot segment", "/b1/public/%2e%2e/secret/x"},
		{"a mixed-case encoded dot-dot segment", "/b1/public/%2E%2e/secret/x"},
		{"a dot segment", "/b1/public/./x"},
		{"an encoded slash", "/b1/public%2F..%2Fsecret/x"},
		{"an encoded backslash", "/b1/public/..%5Csecret"},
		{"a backslash", "/b1/public/..\\secret"},
		{"a path parameter", "/b1/public/..;/secret/x"},
		{"an encoded semicolon", "/b1/public/x%3Bjsessionid=1"},
		{"an empty segment", "/b1/public//x"},
		{"a leading empty segment", "//b1/public/x"},
		{"a NUL", "/b1/public/x%00.txt"},
		{"a control character", "/b1/public/x%0d%0aSet-Cookie:%20a=b"},
		{"a malformed escape", "/b1/public/%zz"},
		{"an absolute URI", "http://oss.internal.example/b1/public/x"},
	} {
		p := e.ask("GET", "oss.internal.example", tc.uri, nil, eb.cookie())
		expectAPIError(t, p, "InvalidPath", 403, tc.what)
	}

	// One header family per question: the client's X-Forwarded-* beside
	// nginx's X-Original-* is refused, whichever is the harmless one.
	stop := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	describe := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	p := e.ask("GET", "ecs.internal.example", stop, http.Header{"X-Forwarded-Uri": {describe}, "X-Forwarded-Method": {"GET"}}, "")
	expectAPIError(t, p, "AmbiguousForwardedRequest", 403, "X-Forwarded-Uri beside X-Original-URI")
	p = e.ask("DELETE", "oss.internal.example", "/b1/secret/x", http.Header{"X-Forwarded-Method": {"GET"}}, e.owner.cookie())
	expectAPIError(t, p, "AmbiguousForwardedRequest", 403, "X-Forwarded-Method beside X-Original-Method")
	for _, h := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
		p = e.ask("GET", "oss.internal.example", "/b1/public/x", http.Header{h: {"DELETE"}}, eb.cookie())
		expectAPIError(t, p, "AmbiguousForwardedRequest", 403, h)
	}

	// rpc parameters come only from what was signed and seen.
	body := e.signedRPC(e.emp.keyID, e.emp.secret, "POST", url.Values{"Action": {"DescribeInstances"}})
	for _, tc := range []struct {
		what   string
		method string
		header http.Header
	}{
		{"a POST with a body", "POST", http.Header{"X-Original-Content-Length": {"27"}}},
		{"a chunked POST", "POST", http.Header{"X-Original-Transfer-Encoding": {"chunked"}}},
		{"a GET with a body", "GET", http.Header{"X-Original-Content-Length": {"12"}}},
		{"a POST that says nothing of its body", "POST", nil},
		{"a malformed length", "POST", http.Header{"X-Original-Content-Length": {"-1"}}},
		{"a POST whose length is empty (Caddy's placeholder)", "POST", http.Header{"X-Original-Content-Length": {""}}},
	} {
		expectAPIError(t, e.ask(tc.method, "ecs.internal.example", body, tc.header, ""), "UnsupportedRequestBody", 403, tc.what)
	}
	// The question's own body (a proxy that forwards it) is a body too.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/gateway/auth", strings.NewReader("Action=StopInstance&InstanceId=i-1"))
	req.Header = http.Header{"X-Original-Method": {"POST"}, "X-Original-Uri": {body}, "X-Forwarded-Host": {"ecs.internal.example"},
		"Content-Type": {"application/x-www-form-urlencoded"}}
	expectAPIError(t, e.send(req), "UnsupportedRequestBody", 403, "a question that carries the body")
	// A GET whose length Caddy's placeholder left empty is decided.
	emptyLength := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	expectStatus(t, e.ask("GET", "ecs.internal.example", emptyLength, http.Header{"X-Original-Content-Length": {""}}, ""), 200, "a GET with an empty length")
	// A POST without a body, as the recipes say it, is decided.
	expectStatus(t, e.ask("POST", "ecs.internal.example", body, http.Header{"X-Original-Content-Length": {"0"}}, ""), 200, "a POST with no body")

	p = e.ask("GET", "ecs.internal.example", e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}}),
		http.Header{"X-Acs-Action": {"StopInstance"}}, "")
	expectAPIError(t, p, "AmbiguousAction", 403, "Action and x-acs-action differ")
	// Refusals before an identity are throttled in the audit log: start a
	// fresh window to find this one's event.
	e.clock.Advance(2 * time.Minute)
	must(t, e.svc.FlushThrottledCalls(ctx), "flush")
	signed := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	p = e.ask("GET", "ecs.internal.example", signed+"&Action=StopInstance", nil, "")
	expectAPIError(t, p, "AmbiguousParameter", 403, "Action given twice")
	ev := e.eventOf(t, p.header.Get("X-Ram-Request-Id"))
	if ev.ErrorCode != "AmbiguousParameter" {
		t.Errorf("a duplicated parameter is recorded as %q", ev.ErrorCode)
	}
	// Refused for its shape before its signature was checked: the nonce is
	// not spent, so the request as signed still passes.
	expectStatus(t, e.ask("GET", "ecs.internal.example", signed, nil, ""), 200, "the same signed request without the duplicate")
	semi := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}}) + ";Action=StopInstance"
	expectAPIError(t, e.ask("GET", "ecs.internal.example", semi, nil, ""), "AmbiguousParameter", 403, "a ; separator")
	// "+" is a space to the gateway as to a form-reading backend: a
	// parameter spelt with it is decided as the backend reads it.
	plus := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}, "InstanceId": {"i 1"}})
	if !strings.Contains(plus, "InstanceId=i+1") {
		t.Fatalf("the signed query spells the space %q", plus)
	}
	expectStatus(t, e.ask("GET", "ecs.internal.example", plus, nil, ""), 200, "a space spelt +")

	// A shape refusal of a validly signed request is not a bad signature.
	for _, ev := range e.events() {
		if ev.ServiceName == "ecs" && ev.ErrorCode == "SignatureDoesNotMatch" {
			t.Errorf("a shape refusal was recorded as a bad signature: %s", ev.Body)
		}
	}
	// Unsigned and without a session: MissingAuthorization, not a key error.
	expectAPIError(t, e.ask("GET", "ecs.internal.example", "/?Action=DescribeInstances", nil, ""), "MissingAuthorization", 401, "unsigned")
	expectAPIError(t, e.ask("GET", "oss.internal.example", "/b1/public/x", http.Header{"Accept": {"application/json"}}, ""),
		"MissingAuthorization", 401, "no session")
}

// A change authorised by the console's session cookie must come from a
// page of the same site: the cookie reaches the gateway from any page the
// browser opens.
func TestGatewaySessionIsNoCSRFChannel(t *testing.T) {
	e := newGatewayEnv(t)
	put := func(h http.Header) page { return e.ask("PUT", "oss.internal.example", "/b1/k1", h, e.owner.cookie()) }
	expectAPIError(t, put(nil), "CrossSiteRequest", 403, "a PUT with neither Sec-Fetch-Site nor Origin")
	expectAPIError(t, put(http.Header{"Sec-Fetch-Site": {"cross-site"}}), "CrossSiteRequest", 403, "a cross-site PUT")
	expectAPIError(t, put(http.Header{"Sec-Fetch-Site": {"same-site"}}), "CrossSiteRequest", 403, "a same-site PUT without --cookie-domain")
	expectAPIError(t, put(http.Header{"Origin": {"http://evil.example"}}), "CrossSiteRequest", 403, "a PUT from another origin")
	expectAPIError(t, put(http.Header{"Origin": {"null"}}), "CrossSiteRequest", 403, "a PUT from an opaque origin")
	expectAPIError(t, put(http.Header{"Origin": {"http://oss.internal.example.evil.example"}}), "CrossSiteRequest", 403, "a look-alike origin")
	expectStatus(t, put(http.Header{"Sec-Fetch-Site": {"same-origin"}}), 200, "a same-origin PUT")
	expectStatus(t, put(http.Header{"Origin": {"http://oss.internal.example"}}), 200, "a PUT whose Origin is the service's host")
	// Reads need nothing more; a signed request is no browser's.
	expectStatus(t, e.ask("GET", "oss.internal.example", "/b1/k1", http.Header{"Sec-Fetch-Site": {"cross-site"}}, e.owner.cookie()), 200, "a cross-site read")
}

// Refusals of a bad signature with a known AccessKeyId are throttled in
// the audit log as the OpenAPI's are (SPEC §7, §13).
func TestGatewayBadSignaturesAreThrottled(t *testing.T) {
	e := newGatewayEnv(t)
	before := len(e.events())
	const n = 150
	for i := range n {
		uri := e.signedRPC(e.emp.keyID, "not-the-secret", "GET", url.Values{"Action": {"DescribeInstances"}})
		p := e.ask("GET", "ecs.internal.example", uri, nil, "")
		if p.status != 401 || !strings.Contains(p.body, "SignatureDoesNotMatch") {
			t.Fatalf("bad signature %d: %d %s", i, p.status, p.body)
		}
	}
	written := len(e.events()) - before
	if written > ram.UnauthenticatedEventsPerMinute {
		t.Fatalf("%d refused signatures of a known key wrote %d events; want at most %d", n, written, ram.UnauthenticatedEventsPerMinute)
	}
	e.clock.Advance(2 * time.Minute)
	must(t, e.svc.FlushThrottledCalls(context.Background()), "flush")
	ev := e.events()[0]
	if ev.EventName != ram.EventThrottledUnauthenticatedCalls || ev.AdditionalEventData["count"] != float64(n-written) {
		t.Errorf("summary event = %s; want %s with count %d", ev.Body, ram.EventThrottledUnauthenticatedCalls, n-written)
	}
}
