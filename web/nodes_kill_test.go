package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/store"
	"ramconsole/store/pgtest"
)

// TestTwoNodesKill9: two real ramconsole processes on one PostgreSQL
// database; SDK clients create users and read one through both while node A
// is killed with SIGKILL. Node B never stops answering; afterwards every
// acknowledged change and every acknowledged read's audit event exists, and
// the chain verifies.
func TestTwoNodesKill9(t *testing.T) {
	bin := buildBinary(t)
	database := pgtest.NewDatabase(t, pgtest.Server(t))
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"RAMCONSOLE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "RAMCONSOLE_DATABASE=" + database}
	nodeA := startBinaryWith(t, bin, filepath.Join(t.TempDir(), "a"), env)
	setupURL := nodeA.waitFor(t, regexp.MustCompile(`(http://\S+/setup\?token=[0-9a-f]+)`))
	admin := setupOverHTTP(t, nodeA.base, setupURL)
	nodeB := startBinaryWith(t, bin, filepath.Join(t.TempDir(), "b"), env)
	nodeB.waitFor(t, regexp.MustCompile(`serving the console at`))

	var (
		mu        sync.Mutex
		acks      []ackedUser
		reads     []string
		bFailures []string
		bAcked    atomic.Int64 // calls node B acknowledged
		wg        sync.WaitGroup
		stop      atomic.Bool
		start     = make(chan struct{})
	)
	client := func() *ramsdk.Client {
		c, err := ramsdk.NewClientWithAccessKey("cn-hangzhou", admin.keyID, admin.secret)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for w := 0; w < 8; w++ {
		node := []*binary{nodeA, nodeB}[w%2]
		host := strings.TrimPrefix(node.base, "http://")
		c := client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; !stop.Load(); i++ {
				var err error
				if i%2 == 0 {
					r := ramsdk.CreateGetUserRequest()
					r.SetDomain(host)
					r.SetScheme("HTTP")
					r.SetConnectTimeout(2 * time.Second)
					r.SetReadTimeout(5 * time.Second)
					r.UserName = admin.name
					var resp *ramsdk.GetUserResponse
					if resp, err = c.GetUser(r); err == nil {
						mu.Lock()
						reads = append(reads, resp.RequestId)
						mu.Unlock()
					}
				} else {
					r := ramsdk.CreateCreateUserRequest()
					r.SetDomain(host)
					r.SetScheme("HTTP")
					r.SetConnectTimeout(2 * time.Second)
					r.SetReadTimeout(5 * time.Second)
					r.UserName = fmt.Sprintf("w%d-%04d", w, i)
					var resp *ramsdk.CreateUserResponse
					if resp, err = c.CreateUser(r); err == nil {
						mu.Lock()
						acks = append(acks, ackedUser{r.UserName, resp.RequestId})
						mu.Unlock()
					}
				}
				if err == nil && node == nodeB {
					bAcked.Add(1)
				}
				if err != nil {
					if node == nodeB {
						mu.Lock()
						bFailures = append(bFailures, err.Error())
						mu.Unlock()
					}
					return // node A is gone (or B failed: reported below)
				}
			}
		}()
	}
	close(start)
	// Conditions, not clocks: wait (generously, see nodeWait) for 100
	// acknowledged changes before the kill, and for node B to acknowledge
	// 50 more calls after it.
	const beforeKill, afterKill = 100, 50
	if !eventually(func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acks) >= beforeKill || len(bFailures) > 0
	}) {
		t.Fatalf("fewer than %d changes acknowledged through the two nodes in %v", beforeKill, nodeWait)
	}
	nodeA.kill(t)
	mu.Lock()
	atKill := len(acks) + len(reads)
	mu.Unlock()
	bAtKill := bAcked.Load()
	bServed := eventually(func() bool {
		mu.Lock()
		defer mu.Unlock()
		return bAcked.Load() >= bAtKill+afterKill || len(bFailures) > 0
	})
	stop.Store(true)
	wg.Wait()
	if len(bFailures) > 0 {
		t.Errorf("node B failed while node A died: %v", bFailures[0])
	} else if !bServed {
		t.Errorf("node B acknowledged %d calls in the %v after node A's death, want %d", bAcked.Load()-bAtKill, nodeWait, afterKill)
	}
	t.Logf("%d CreateUser and %d GetUser calls acknowledged through two nodes; node A killed after %d", len(acks), len(reads), atKill)
	nodeB.stop(t)

	st, err := store.Open(context.Background(), t.TempDir(), nil, store.WithDatabase(database), store.WithMasterKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkAcknowledged(t, st, acks, reads)
}
