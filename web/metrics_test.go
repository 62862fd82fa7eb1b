package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricValue reads one sample of the Prometheus text format (0 when it is
// absent).
func metricValue(t *testing.T, text, sample string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", sample, err)
	}
	return v
}

// /metrics: only the trusted proxies may read it on the main address; it
// counts requests by group and status, decisions by surface and result,
// sign-in failures and lockouts, and shows the journal and the pools.
func TestMetrics(t *testing.T) {
	e := newGatewayEnv(t)
	scrape := func() string {
		t.Helper()
		p := e.browser().get("/metrics")
		expectStatus(t, p, 200, "/metrics from a trusted proxy")
		return p.body
	}
	before := scrape()

	uri := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	expectStatus(t, e.ask("GET", "ecs.internal.example", uri, nil, ""), 200, "allowed")
	stop := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	expectStatus(t, e.ask("GET", "ecs.internal.example", stop, nil, ""), 403, "denied")
	b := e.browser()
	b.get("/login")
	for range 5 {
		b.post("/login", url.Values{"username": {e.emp.name + "@" + testAlias}, "password": {"wrong-password-1"}})
	}
	e.owner.get("/users")

	after := scrape()
	for sample, want := range map[string]float64{
		`ramconsole_decisions_total{result="allowed",surface="gateway"}`:  1,
		`ramconsole_decisions_total{result="denied",surface="gateway"}`:   1,
		`ramconsole_signin_failures_total{reason="InvalidCredentials"}`:   5,
		`ramconsole_lockouts_total`:                                       1,
		`ramconsole_http_requests_total{code="200",group="gateway"}`:      1,
		`ramconsole_http_requests_total{code="403",group="gateway"}`:      1,
		`ramconsole_http_request_duration_seconds_count{group="gateway"}`: 2,
		`ramconsole_decisions_total{result="allowed",surface="console"}`:  1,
		`ramconsole_http_requests_total{code="200",group="console"}`:      1,
	} {
		if got := metricValue(t, after, sample) - metricValue(t, before, sample); got < want {
			t.Errorf("%s moved by %v, want at least %v", sample, got, want)
		}
	}
	for _, name := range []string{"ramconsole_audit_journal_backlog", `ramconsole_db_connections_in_use{pool="write"}`, "ramconsole_audit_fold_duration_seconds_count", "go_goroutines"} {
		if !strings.Contains(after, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}

	// Anyone else is told nothing is there; the separate listener's handler
	// answers whoever reaches it.
	h2 := newHarness(t)
	expectStatus(t, h2.browser().get("/metrics"), 404, "/metrics from a peer that is not a trusted proxy")
	rec := httptest.NewRecorder()
	h2.app.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "ramconsole_http_requests_total") {
		t.Errorf("the --metrics-addr handler: %d", rec.Code)
	}
}
