package ram

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// Every ready-to-import definition in docs/services parses, and maps a
// typical request as its comments promise.
func TestServiceDocsParse(t *testing.T) {
	files, err := filepath.Glob("../docs/services/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("docs/services has %d definitions, want ecs, oss, rds and slb", len(files))
	}
	defs := map[string]*ServiceDef{}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseServiceDef(string(text))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if want := filepath.Base(f); want != d.Code+".json" {
			t.Errorf("%s holds service %s", f, d.Code)
		}
		defs[d.Code] = d
	}
	for _, tc := range []struct {
		code             string
		r                GatewayRequest
		action, resource string
	}{
		{"ecs", GatewayRequest{Method: "GET", Query: url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}, "RegionId": {"cn-hangzhou"}}},
			"ecs:StopInstance", "acs:ecs:cn-hangzhou:1:instance/i-1"},
		{"ecs", GatewayRequest{Method: "GET", Query: url.Values{"Action": {"DescribeRegions"}}}, "ecs:DescribeRegions", "acs:ecs:*:1:*"},
		{"rds", GatewayRequest{Method: "POST", Query: url.Values{"Action": {"RestartDBInstance"}, "DBInstanceId": {"rm-1"}}},
			"rds:RestartDBInstance", "acs:rds:*:1:dbinstance/rm-1"},
		{"slb", GatewayRequest{Method: "GET", Query: url.Values{"Action": {"DeleteLoadBalancer"}, "LoadBalancerId": {"lb-1"}}},
			"slb:DeleteLoadBalancer", "acs:slb:*:1:loadbalancer/lb-1"},
		{"oss", GatewayRequest{Method: "HEAD", Path: "/b1/a/b.txt"}, "oss:HeadObject", "acs:oss:*:1:b1/a/b.txt"},
		{"oss", GatewayRequest{Method: "DELETE", Path: "/b1/k"}, "oss:DeleteObject", "acs:oss:*:1:b1/k"},
		{"oss", GatewayRequest{Method: "GET", Path: "/b1"}, "oss:ListObjects", "acs:oss:*:1:b1"},
	} {
		d := defs[tc.code]
		if d == nil {
			t.Errorf("no %s definition", tc.code)
			continue
		}
		action, r, err := d.Map("1", tc.r)
		res := r.ARN()
		if err != nil || action != tc.action || res != tc.resource {
			t.Errorf("%s %+v: %q %q %v, want %q %q", tc.code, tc.r, action, res, err, tc.action, tc.resource)
		}
	}
}
