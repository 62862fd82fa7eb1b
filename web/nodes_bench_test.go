package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"ramconsole/store/pgtest"
)

// BenchmarkNodes: signed GetUser and CreateUser on PostgreSQL through one
// node, then spread over two nodes on the same database (on the server
// RAMCONSOLE_TEST_DATABASE names, or a cluster started for it). On one
// machine the nodes and the database share its cores: read the figures as
// the per-request cost, not as a scaling curve.
//
//	go test -run '^$' -bench BenchmarkNodes -benchtime 3s ./web/
func BenchmarkNodes(b *testing.B) {
	env := newAPIEnvOn(b, newHarnessOn(b, Config{}, pgtest.NewDatabase(b, pgtest.Server(b))))
	second := env.node(Config{})
	id, secret := env.admin.keyID, env.admin.secret
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	for _, nodes := range []int{1, 2} {
		srvs := []*harness{env.harness, second}[:nodes]
		b.Run(fmt.Sprintf("GetUser-%dnodes", nodes), func(b *testing.B) {
			runSigned(b, client, func(i int) *http.Request {
				all := env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"GetUser"}, "UserName": {"apiadmin"}})
				req, _ := http.NewRequest(http.MethodPost, srvs[i%nodes].srv.URL+"/?"+all.Encode(), nil)
				return req
			})
		})
		b.Run(fmt.Sprintf("CreateUser-%dnodes", nodes), func(b *testing.B) {
			if b.N > 2000 {
				b.N = 2000 // an account holds at most 5000 users
			}
			runSigned(b, client, func(i int) *http.Request {
				all := env.signedV1(id, secret, http.MethodPost, url.Values{"Action": {"CreateUser"}, "UserName": {fmt.Sprintf("bench-%07d", seq.Add(1))}})
				req, _ := http.NewRequest(http.MethodPost, srvs[i%nodes].srv.URL+"/?"+all.Encode(), nil)
				return req
			})
		})
	}
}
