package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// BenchmarkGateway measures, over loopback HTTP with 16 clients,
// /gateway/auth deciding V3-signed requests to the OSS-shaped rest service
// (signature, nonce, mapping, evaluator, the decision's audit record in
// the journal and its fold) against a bare Echo handler answering 200 to
// the same requests, in alternating rounds (x-bare is the ratio of their
// rates; bare-* are the bare handler's figures).
//
//	go test -run '^$' -bench 'BenchmarkGateway$' -benchtime 3s ./web/
func BenchmarkGateway(b *testing.B) {
	h, emp := newGatewayBench(b, gwOSS, "AliyunOSSReadOnlyAccess")
	bare := echo.New()
	bare.HideBanner = true
	bare.GET("/gateway/auth", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	bareSrv := httptest.NewServer(bare)
	defer bareSrv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	if p := h.send(askAboutObject(h, emp, h.srv.URL)(0)); p.status != http.StatusOK {
		b.Fatalf("a signed question: %d %s", p.status, p.body)
	}
	b.Run("gateway-V3", func(b *testing.B) {
		sideBySide(b, client, "bare", askAboutObject(h, emp, bareSrv.URL), askAboutObject(h, emp, h.srv.URL), settleJournal(h))
	})
}

// askAboutObject is the proxy's question about a V3-signed GET of an
// object: the i-th request's question, to base.
func askAboutObject(h *harness, emp employee, base string) func(i int) *http.Request {
	return func(i int) *http.Request {
		orig, _ := http.NewRequest(http.MethodGet, "http://oss.internal.example/b1/k"+strconv.Itoa(i), nil)
		sum := sha256.Sum256(nil)
		orig.Header.Set("x-acs-date", h.clock.Now().UTC().Format("2006-01-02T15:04:05Z"))
		orig.Header.Set("x-acs-signature-nonce", uuid.NewString())
		orig.Header.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
		signV3(orig, emp.keyID, emp.secret)
		req, _ := http.NewRequest(http.MethodGet, base+"/gateway/auth", nil)
		for k, vs := range orig.Header {
			req.Header[k] = vs
		}
		req.Header.Set("X-Forwarded-Method", http.MethodGet)
		req.Header.Set("X-Forwarded-Uri", orig.URL.RequestURI())
		req.Header.Set("X-Forwarded-Host", "oss.internal.example")
		return req
	}
}

// BenchmarkGatewayDecision measures what one decision costs ramconsole
// alone, without HTTP: the app answers V3-signed questions one after the
// other, in process, and folds their audit records every 256 (as the
// flusher does under load). Single-threaded, so steadier than
// BenchmarkGateway; for comparing changes to the gateway's path.
//
//	go test -run '^$' -bench BenchmarkGatewayDecision -benchmem ./web/
func BenchmarkGatewayDecision(b *testing.B) {
	h, emp := newGatewayBench(b, gwOSS, "AliyunOSSReadOnlyAccess")
	ask := askAboutObject(h, emp, "http://ramconsole.internal")
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = ask(i)
		reqs[i].RemoteAddr = "127.0.0.1:40000"
		reqs[i].RequestURI = reqs[i].URL.RequestURI()
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i, req := range reqs {
		rec := httptest.NewRecorder()
		h.app.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if i%256 == 255 {
			if err := h.st.Settle(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := h.st.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkGatewayNginx measures, end to end over loopback with 16 clients,
// V1-signed ECS requests through nginx to a backend, with nginx asking the
// gateway about each (auth_request) against nginx and the backend alone,
// in alternating rounds (x-alone is the ratio of their rates; alone-* are
// the figures without the gateway). One nginx worker each.
//
//	go test -run '^$' -bench BenchmarkGatewayNginx -benchtime 3s ./web/
func BenchmarkGatewayNginx(b *testing.B) {
	h, emp := newGatewayBench(b, gwECS, "AliyunECSReadOnlyAccess")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"RequestId":"backend","TotalCount":0,"PageNumber":1,"PageSize":10,"Instances":{"Instance":[]}}`)
	}))
	defer backend.Close()
	backendAddr := strings.TrimPrefix(backend.URL, "http://")
	alone := startNginx(b, "", backendAddr)
	gated := startNginx(b, strings.TrimPrefix(h.srv.URL, "http://"), backendAddr)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	describe := func(proxy string) func(i int) *http.Request {
		_, port, _ := net.SplitHostPort(proxy)
		return func(i int) *http.Request {
			q := signV1Now(emp.keyID, emp.secret, url.Values{"Action": {"DescribeInstances"}, "PageNumber": {strconv.Itoa(i)}})
			req, _ := http.NewRequest(http.MethodGet, "http://"+proxy+"/?"+q.Encode(), nil)
			req.Host = "ecs.internal.example:" + port // the service's server block
			return req
		}
	}
	b.Run("nginx-gateway-backend", func(b *testing.B) {
		sideBySide(b, client, "alone", describe(alone), describe(gated), settleJournal(h))
	})
}

// settleJournal folds what the gateway's decisions left in the audit
// journal.
func settleJournal(h *harness) func() error {
	return func() error { return h.st.Settle(context.Background()) }
}

// newGatewayBench is an account behind a trusted proxy on loopback with the
// service def and an employee, "reader", granted the system policy.
func newGatewayBench(b *testing.B, def, policy string) (*harness, employee) {
	b.Helper()
	h := newHarnessConfig(b, Config{TrustedProxies: []string{"127.0.0.1"}})
	h.setClock(time.Now().UTC().Truncate(time.Second))
	owner, _ := h.setupOwner()
	owner.get("/services")
	if p := owner.post("/services/import", url.Values{"definition": {def}}); p.status != http.StatusSeeOther {
		b.Fatalf("import: %d %s", p.status, p.body)
	}
	emp := h.createEmployee(owner, "reader")
	owner.get("/users/reader")
	if p := owner.post("/users/reader/policies", url.Values{"policy_type": {"System"}, "policy_name": {policy}}); p.status != http.StatusSeeOther {
		b.Fatalf("attach %s: %d", policy, p.status)
	}
	return h, emp
}
