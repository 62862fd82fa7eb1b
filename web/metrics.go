package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ramconsole/ram"
	"ramconsole/store"
)

// metrics are what the operators of ramconsole watch, in the Prometheus
// text format (/metrics): requests by route group and status, their
// latency, decisions, sign-in failures and lockouts, the audit journal and
// the database pools. Each App has its own registry.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	failures  *prometheus.CounterVec
	lockouts  prometheus.Counter
	folds     prometheus.Histogram
	foldErrs  prometheus.Counter
	// The series of the gateway's allowing answers, resolved once: they
	// are counted on its hot path.
	gatewayOK      prometheus.Counter
	gatewayLatency prometheus.Observer
}

func newMetrics(st *store.Store, svc *ram.Service) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ramconsole_http_requests_total",
		Help: "HTTP requests answered, by route group (console, api, gateway, static, ops) and status code."}, []string{"group", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ramconsole_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route group.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"group"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ramconsole_decisions_total",
		Help: "Authorisation decisions, by surface (console, api, gateway) and result (allowed, denied)."}, []string{"surface", "result"})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ramconsole_signin_failures_total",
		Help: "Refused console sign-ins and MFA codes, by reason (the audit event's error code)."}, []string{"reason"})
	m.lockouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "ramconsole_lockouts_total",
		Help: "Identities locked by too many failed attempts."})
	m.folds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ramconsole_audit_fold_duration_seconds",
		Help:    "Time to fold the audit journal's records into the events table.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}})
	m.foldErrs = prometheus.NewCounter(prometheus.CounterOpts{Name: "ramconsole_audit_fold_errors_total",
		Help: "Folds of the audit journal that failed (their records stay in the journal and are tried again)."})
	health := func(f func(h store.Health) float64) func() float64 {
		return func() float64 { return f(st.Health()) }
	}
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.failures, m.lockouts, m.folds, m.foldErrs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ramconsole_audit_journal_backlog",
			Help: "Audit records answered and durable in the journal, not yet folded into the events table."},
			health(func(h store.Health) float64 { return float64(h.JournalBacklog) })))
	for _, pool := range []struct {
		name string
		get  func(h store.Health) (inUse, idle, waits float64)
	}{
		{"read", func(h store.Health) (float64, float64, float64) {
			return float64(h.Read.InUse), float64(h.Read.Idle), float64(h.Read.WaitCount)
		}},
		{"write", func(h store.Health) (float64, float64, float64) {
			return float64(h.Write.InUse), float64(h.Write.Idle), float64(h.Write.WaitCount)
		}},
	} {
		labels := prometheus.Labels{"pool": pool.name}
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ramconsole_db_connections_in_use", ConstLabels: labels,
				Help: "Database connections in use, by pool."}, health(func(h store.Health) float64 { v, _, _ := pool.get(h); return v })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ramconsole_db_connections_idle", ConstLabels: labels,
				Help: "Idle database connections, by pool."}, health(func(h store.Health) float64 { _, v, _ := pool.get(h); return v })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ramconsole_db_waits_total", ConstLabels: labels,
				Help: "Times a request waited for a database connection, by pool."}, health(func(h store.Health) float64 { _, _, v := pool.get(h); return v })),
		)
	}
	m.gatewayOK, m.gatewayLatency = m.requests.WithLabelValues("gateway", "200"), m.latency.WithLabelValues("gateway")
	decided := map[string][2]prometheus.Counter{}
	for _, surface := range []string{"console", "api", "gateway"} {
		decided[surface] = [2]prometheus.Counter{m.decisions.WithLabelValues(surface, "denied"), m.decisions.WithLabelValues(surface, "allowed")}
	}
	svc.SetObserver(ram.Observer{
		Decision: func(surface string, allowed bool) {
			i := 0
			if allowed {
				i = 1
			}
			if c, ok := decided[surface]; ok {
				c[i].Inc()
				return
			}
			m.decisions.WithLabelValues(surface, [2]string{"denied", "allowed"}[i]).Inc()
		},
		SignInFailure: func(reason string) { m.failures.WithLabelValues(reason).Inc() },
		Lockout:       m.lockouts.Inc,
	})
	st.SetFoldObserver(func(d time.Duration, err error) {
		m.folds.Observe(d.Seconds())
		if err != nil {
			m.foldErrs.Inc()
		}
	})
	return m
}

// observe counts an answered request.
func (m *metrics) observe(c echo.Context, status int, took time.Duration) {
	if m == nil {
		return
	}
	group := routeGroup(c)
	if group == "gateway" && status == http.StatusOK {
		m.gatewayOK.Inc()
		m.gatewayLatency.Observe(took.Seconds())
		return
	}
	m.requests.WithLabelValues(group, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(group).Observe(took.Seconds())
}

// routeGroup is the kind of request: the OpenAPI, the gateway's
// decisions, static files, the operators' endpoints or the console.
func routeGroup(c echo.Context) string {
	p := c.Request().URL.Path
	switch {
	case c.Get(keyAPIBody) != nil:
		return "api"
	case p == gatewayPath:
		return "gateway"
	case strings.HasPrefix(p, "/static/"):
		return "static"
	case p == "/healthz" || p == "/metrics":
		return "ops"
	}
	return "console"
}

// Handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// MetricsHandler serves /metrics to anyone who can reach it: for the
// separate --metrics-addr listener.
func (a *App) MetricsHandler() http.Handler { return a.metrics.handler() }
