package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// cpuTime is the CPU the process (clients and server) has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAPI measures, in one run over loopback HTTP, a signed GetUser
// through the whole stack (signature, AccessKey lookup, evaluator, SQLite
// read, audit event, JSON) against a bare Echo handler that returns the same
// JSON to the same signed requests, for V1 and V3 signatures (x-bare is the
// ratio to the bare handler's rate for the same requests); and CreateUser
// per second. Requests are signed before the timer starts (each with its
// own nonce), so the figures are the server's, not the client's signing;
// cpu-µs/op is the CPU of clients and server together per request.
//
//	go test -run '^$' -bench BenchmarkAPI -benchtime 3s ./web/
func BenchmarkAPI(b *testing.B) {
	env := newAPIEnv(b)
	id, secret := env.admin.keyID, env.admin.secret
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

	// The answer the bare handler returns: GetUser's, byte for byte.
	p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}}, nil)
	expectStatus(b, p, 200, "GetUser")
	answer := []byte(p.body)
	bare := echo.New()
	bare.HideBanner = true
	bare.POST("/", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/json;charset=utf-8", answer) })
	bareSrv := httptest.NewServer(bare)
	defer bareSrv.Close()

	run := func(b *testing.B, prepare func(i int) *http.Request) float64 { return runSigned(b, client, prepare) }
	getV1 := func(int) *http.Request {
		all := env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}})
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/?"+all.Encode(), nil)
		return req
	}
	getV3 := func(int) *http.Request {
		return env.v3Request(id, secret, "GetUser", url.Values{"UserName": {"apiadmin"}}, nil)
	}
	// The bare handler is sent the same signed requests as the stack, so
	// both sides parse and send the same bytes: the difference is the stack.
	toBare := func(get func(int) *http.Request) func(int) *http.Request {
		return func(i int) *http.Request {
			req := get(i)
			req.URL.Host = bareSrv.Listener.Addr().String()
			return req
		}
	}
	var bareV1, bareV3 float64
	b.Run("bare-echo-V1", func(b *testing.B) { bareV1 = run(b, toBare(getV1)) })
	b.Run("GetUser-V1", func(b *testing.B) {
		rate := run(b, getV1)
		b.ReportMetric(rate/bareV1, "x-bare")
	})
	b.Run("bare-echo-V3", func(b *testing.B) { bareV3 = run(b, toBare(getV3)) })
	b.Run("GetUser-V3", func(b *testing.B) {
		rate := run(b, getV3)
		b.ReportMetric(rate/bareV3, "x-bare")
	})
	var seq atomic.Int64
	cenv := env
	b.Run("CreateUser-V1", func(b *testing.B) {
		if b.N > 4900 {
			b.N = 4900 // an account holds at most 5000 users
		}
		if seq.Load()+int64(b.N) > 4900 {
			cenv, seq = newAPIEnv(b), atomic.Int64{} // a fresh account
		}
		cid, csecret := cenv.admin.keyID, cenv.admin.secret
		run(b, func(int) *http.Request {
			all := cenv.signedV1(cid, csecret, http.MethodPost, url.Values{"Action": {"CreateUser"},
				"UserName": {fmt.Sprintf("bench-%07d", seq.Add(1))}})
			req, _ := http.NewRequest(http.MethodPost, cenv.srv.URL+"/?"+all.Encode(), bytes.NewReader(nil))
			return req
		})
	})
}

// signedRequest is a prepared request kept as its URL and headers, built
// when sent: b.N *http.Request values would be a heap of pointers no server
// has, which every garbage collection would walk. Its headers are one
// string ("name\x00value\x00…") for the same reason.
type signedRequest struct {
	method, url, header string
}

// runSigned sends b.N prepared requests from parallel clients, expects 200
// to each, and reports req/s, the CPU per request and the p50 and p99
// latency.
func runSigned(b *testing.B, client *http.Client, prepare func(i int) *http.Request) float64 {
	reqs := make([]signedRequest, b.N)
	for i := range reqs {
		r := prepare(i)
		var hb strings.Builder
		for k, vs := range r.Header {
			for _, v := range vs {
				hb.WriteString(k + "\x00" + v + "\x00")
			}
		}
		reqs[i] = signedRequest{method: r.Method, url: r.URL.String(), header: hb.String()}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var took []time.Duration // every request's latency, for the percentiles
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() {
			mu.Lock()
			took = append(took, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			sr := reqs[next.Add(1)-1]
			req, _ := http.NewRequest(sr.method, sr.url, nil)
			for rest := sr.header; rest != ""; {
				var k, v string
				k, rest, _ = strings.Cut(rest, "\x00")
				v, rest, _ = strings.Cut(rest, "\x00")
				req.Header[k] = append(req.Header[k], v)
			}
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	}
	return rate
}
