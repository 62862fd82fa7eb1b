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
	reqs := prepareSigned(b.N, prepare)
	b.ReportAllocs()
	b.ResetTimer()
	l := sendSigned(b, client, reqs)
	l.report(b, "")
	return l.rate()
}

// prepareSigned prepares n requests.
func prepareSigned(n int, prepare func(i int) *http.Request) []signedRequest {
	reqs := make([]signedRequest, n)
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
	return reqs
}

// load is what sending requests took: their number, the wall-clock and
// CPU time, and every request's latency.
type load struct {
	n         int
	wall, cpu time.Duration
	took      []time.Duration
}

func (l *load) add(m load) {
	l.n, l.wall, l.cpu = l.n+m.n, l.wall+m.wall, l.cpu+m.cpu
	l.took = append(l.took, m.took...)
}

func (l load) rate() float64 { return float64(l.n) / l.wall.Seconds() }

// report reports the rate, the CPU per request and the p50 and p99
// latency, their units prefixed with prefix.
func (l load) report(b *testing.B, prefix string) {
	b.ReportMetric(l.rate(), prefix+"req/s")
	b.ReportMetric(float64(l.cpu.Microseconds())/float64(l.n), prefix+"cpu-µs/op")
	if len(l.took) > 0 {
		slices.Sort(l.took)
		b.ReportMetric(float64(l.took[len(l.took)/2].Microseconds()), prefix+"p50-µs")
		b.ReportMetric(float64(l.took[len(l.took)*99/100].Microseconds()), prefix+"p99-µs")
	}
}

// benchClients is how many clients send at once (16, as the issues that
// name throughput figures ask).
const benchClients = 16

// sendSigned sends the requests from benchClients clients and expects 200
// to each.
func sendSigned(b *testing.B, client *http.Client, reqs []signedRequest) load {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	l := load{n: len(reqs), took: make([]time.Duration, 0, len(reqs))}
	start, cpu0 := time.Now(), cpuTime()
	for range benchClients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				l.took = append(l.took, mine...)
				mu.Unlock()
			}()
			for i := next.Add(1) - 1; i < int64(len(reqs)); i = next.Add(1) - 1 {
				sr := reqs[i]
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
	}
	wg.Wait()
	l.wall, l.cpu = time.Since(start), cpuTime()-cpu0
	return l
}

// sideBySide sends b.N requests to each of two targets in four alternating
// rounds, so that both see the same machine: on a shared host, the speed
// of a machine drifts from one second to the next. settle, timed with the
// second target's rounds, finishes the work its requests left behind (the
// audit journal's fold), so that none of it is done in the first's time.
// It reports the second target's figures, the first's prefixed with
// firstName, and their ratio (x-<firstName>).
func sideBySide(b *testing.B, client *http.Client, firstName string, first, second func(i int) *http.Request, settle func() error) {
	a, z := prepareSigned(b.N, first), prepareSigned(b.N, second)
	const rounds = 4
	b.ResetTimer()
	var la, lz load
	for r := range rounds {
		lo, hi := r*b.N/rounds, (r+1)*b.N/rounds
		la.add(sendSigned(b, client, a[lo:hi]))
		m := sendSigned(b, client, z[lo:hi])
		t0, cpu0 := time.Now(), cpuTime()
		if err := settle(); err != nil {
			b.Fatal(err)
		}
		m.wall, m.cpu = m.wall+time.Since(t0), m.cpu+cpuTime()-cpu0
		lz.add(m)
	}
	b.StopTimer()
	la.report(b, firstName+"-")
	lz.report(b, "")
	b.ReportMetric(lz.rate()/la.rate(), "x-"+firstName)
}
