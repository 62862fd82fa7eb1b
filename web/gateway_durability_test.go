package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"ramconsole/sign"
	"ramconsole/store"
)

// TestGatewayDurabilityKill9: against the real binary, 6 clients ask the
// gateway about signed ECS requests and unsigned ones while the process is
// killed with SIGKILL; after a restart on the same data every decision that
// was answered has its audit event (same RequestId, same outcome) — the
// unsigned refusals as far as the per-address limit of unauthenticated
// events records them one by one (20 a minute) — and `ramconsole audit
// verify` passes.
func TestGatewayDurabilityKill9(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := startBinary(t, bin, data, "--trusted-proxies", "127.0.0.1")
	setupURL := srv.waitFor(t, regexp.MustCompile(`(http://\S+/setup\?token=[0-9a-f]+)`))
	admin := setupOverHTTP(t, srv.base, setupURL)
	def := filepath.Join(t.TempDir(), "ecs.json")
	if err := os.WriteFile(def, []byte(gwECS), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "service", "import", "--data", data, def).CombinedOutput(); err != nil {
		t.Fatalf("service import next to the running server: %v\n%s", err, out)
	}

	type answer struct {
		requestID string
		status    int
	}
	var (
		mu      sync.Mutex
		answers []answer
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				params := url.Values{"Action": {"DescribeInstances"}}
				switch i % 3 {
				case 1:
					params = url.Values{"Action": {"StopInstance"}, "InstanceId": {fmt.Sprintf("i-%d-%d", w, i)}}
				case 2:
					params = nil // unsigned: nobody identified
				}
				uri := "/?Action=DescribeInstances"
				if params != nil {
					uri = "/?" + signV1Now(admin.keyID, admin.secret, params).Encode()
				}
				req, _ := http.NewRequest(http.MethodGet, srv.base+"/gateway/auth", nil)
				req.Header.Set("X-Original-Method", "GET")
				req.Header.Set("X-Original-URI", uri)
				req.Header.Set("X-Forwarded-Host", "ecs.internal.example")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				mu.Lock()
				answers = append(answers, answer{resp.Header.Get("X-Ram-Request-Id"), resp.StatusCode})
				mu.Unlock()
			}
		}(w)
	}
	close(start)
	waitFor(3*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(answers) >= 300
	})
	srv.kill(t)
	wg.Wait()
	if len(answers) == 0 {
		t.Fatal("no decision was answered before the kill")
	}
	t.Logf("%d gateway decisions answered before SIGKILL", len(answers))

	// Restart: the journal left behind is folded into the log.
	srv2 := startBinary(t, bin, data, "--trusted-proxies", "127.0.0.1")
	srv2.waitFor(t, regexp.MustCompile(`serving the console at`))
	srv2.stop(t)

	st, err := store.Open(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.Events(context.Background(), 1_000_000)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]store.StoredEvent{}
	for _, e := range events {
		if e.ServiceName == "ecs" {
			recorded[e.RequestID] = e
		}
	}
	statuses := map[int]int{}
	unidentified := 0
	for _, a := range answers {
		statuses[a.status]++
		ev, ok := recorded[a.requestID]
		switch {
		case a.status == http.StatusUnauthorized && a.requestID != "":
			if ok {
				unidentified++
			}
		case a.requestID == "" || !ok:
			t.Errorf("answered decision %q (%d) has no audit event after SIGKILL", a.requestID, a.status)
		case ev.IsError != (a.status != http.StatusOK):
			t.Errorf("decision %s answered %d but recorded isError=%v", a.requestID, a.status, ev.IsError)
		}
	}
	if statuses[200] == 0 || statuses[401] == 0 {
		t.Errorf("the load did not mix allowed and refused decisions: %v", statuses)
	}
	if want := min(statuses[401], 20); unidentified < want {
		t.Errorf("%d unsigned refusals recorded one by one, want at least %d", unidentified, want)
	}
	out, err := exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit chain intact") {
		t.Errorf("audit verify after SIGKILL: %v\n%s", err, out)
	}
}

// signV1Now signs RPC parameters with V1 at the current time, as an SDK
// does.
func signV1Now(keyID, secret string, params url.Values) url.Values {
	all := url.Values{"Format": {"JSON"}, "Version": {"2014-05-26"}, "AccessKeyId": {keyID}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"}, "SignatureNonce": {uuid.NewString()}, "Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"RegionId": {"cn-hangzhou"}}
	for k, v := range params {
		all[k] = v
	}
	flat := map[string]string{}
	for k, v := range all {
		flat[k] = v[0]
	}
	all.Set("Signature", sign.SignV1(secret, sign.StringToSignV1("GET", flat)))
	return all
}
