package web

import (
	"bufio"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"ramconsole/ram/softkey"
)

// procStatusKiB reads a "Vm…:  N kB" line of /proc/self/status.
func procStatusKiB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return n
		}
	}
	return 0
}

// BenchmarkParallelKeySignIns: 60 browsers sign in at once with password +
// security key (each round: the password step, the MFA page with its
// challenge, the key's answer). It reports the process's peak RSS and its
// growth over the run, and how many of each round signed in or were turned
// away busy (503) by the argon2id gate that bounds the password step; a
// challenge lives in its session row, so memory stays flat however many
// rounds run.
func BenchmarkParallelKeySignIns(b *testing.B) {
	const parallel = 60
	// The per-address sign-in limit is lifted: every browser here is 127.0.0.1.
	h := newHarnessConfig(b, Config{SignInRate: 1e6, SignInBurst: 1e6})
	h.enableKeys()
	owner, _ := h.setupOwner()
	key := softkey.New(keyOrigin)
	zero := uint32(0) // no counter: answers may arrive in any order
	key.FixedCounter = &zero
	expectRedirect(b, registerKey(b, owner, key, "bench", ""), "/mfa/security-keys", "register")
	runtime.GC()
	startRSS := procStatusKiB("VmRSS")
	shed := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		failed := make(chan int, parallel)
		for j := 0; j < parallel; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				br := h.browser()
				br.get("/login")
				p := br.post("/login", map[string][]string{"username": {testOwnerEmail}, "password": {testOwnerPW}})
				if p.status != http.StatusSeeOther {
					failed <- p.status
					return
				}
				p = br.get("/login/mfa")
				answer, err := key.Get(ceremonyOptions(b, p, "security-key-login-form"))
				if err != nil {
					failed <- 0
					return
				}
				if p = br.post("/login/mfa/webauthn", map[string][]string{"credential": {string(answer)}}); p.status != http.StatusSeeOther {
					failed <- p.status
				}
			}()
		}
		wg.Wait()
		close(failed)
		for st := range failed {
			if st != http.StatusServiceUnavailable {
				b.Fatalf("a parallel key sign-in failed: status %d", st)
			}
			shed++ // the argon2id gate turned it away: the bound holding
		}
	}
	b.StopTimer()
	b.ReportMetric(procStatusKiB("VmHWM")/1024, "peakRSS-MiB")
	b.ReportMetric((procStatusKiB("VmRSS")-startRSS)/1024, "RSSgrowth-MiB")
	b.ReportMetric(float64(parallel*b.N-shed)/float64(b.N), "signedin/round")
	b.ReportMetric(float64(shed)/float64(b.N), "shed/round")
}
