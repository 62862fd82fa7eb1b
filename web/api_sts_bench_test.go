package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/ram"
)

// BenchmarkSTS measures, in one run over loopback HTTP with 16 clients, a
// signed GetUser with temporary (STS) credentials against the same call
// with a permanent AccessKey of a user with the same policy (x-permanent is
// the ratio), and AssumeRole end to end (req/s, and the server-side p50 and
// p99 in µs).
//
//	go test -run '^$' -bench BenchmarkSTS -benchtime 3s ./web/
func BenchmarkSTS(b *testing.B) {
	e := newSTSEnv(b)
	owner := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	if err := e.svc.AttachPolicyToUser(context.Background(), owner, "System", "AliyunRAMReadOnlyAccess", "dev"); err != nil {
		b.Fatal(err)
	}
	dev := e.stsClient(b, e.dev.keyID, e.dev.secret)
	resp, err := e.assume(b, dev, "ops", "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	cr := resp.Credentials
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	get := func(id, secret, token string) func(int) *http.Request {
		return func(int) *http.Request {
			params := url.Values{"Action": {"GetUser"}, "UserName": {"dev"}}
			if token != "" {
				params.Set("SecurityToken", token)
			}
			all := e.signedV1(id, secret, http.MethodPost, params)
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/?"+all.Encode(), nil)
			return req
		}
	}
	var permanent float64
	b.Run("GetUser-permanent-key", func(b *testing.B) { permanent = runSigned(b, client, get(e.dev.keyID, e.dev.secret, "")) })
	b.Run("GetUser-STS", func(b *testing.B) {
		rate := runSigned(b, client, get(cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken))
		b.ReportMetric(rate/permanent, "x-permanent")
	})

	// AssumeRole through a server that times each request it serves.
	var mu sync.Mutex
	var took []time.Duration
	timed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e.app.ServeHTTP(w, r)
		d := time.Since(start)
		mu.Lock()
		took = append(took, d)
		mu.Unlock()
	}))
	defer timed.Close()
	var seq atomic.Int64
	b.Run("AssumeRole", func(b *testing.B) {
		mu.Lock()
		took = took[:0]
		mu.Unlock()
		runSigned(b, client, func(int) *http.Request {
			params := url.Values{"Action": {"AssumeRole"}, "Version": {"2015-04-01"}, "RoleArn": {"acs:ram::" + e.acct + ":role/ops"},
				"RoleSessionName": {"bench-" + strconv.FormatInt(seq.Add(1), 10)}}
			all := e.signedV1(e.dev.keyID, e.dev.secret, http.MethodPost, params)
			req, _ := http.NewRequest(http.MethodPost, timed.URL+"/?"+all.Encode(), nil)
			return req
		})
		mu.Lock()
		slices.Sort(took)
		if n := len(took); n > 0 {
			b.ReportMetric(float64(took[n/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[n*99/100].Microseconds()), "p99-µs")
		}
		mu.Unlock()
	})
}
