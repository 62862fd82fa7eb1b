package ram

import (
	"net/url"
	"strings"
	"testing"
)

const ossDef = `{"code": "oss", "name": "Object storage", "hosts": ["oss.example"], "style": "rest", "rules": [
	{"methods": ["GET", "HEAD"], "path": "/{bucket}/{key...}", "action": "oss:GetObject", "resource": "{bucket}/{key}"},
	{"methods": ["PUT"], "path": "/{bucket}/{key...}", "action": "oss:PutObject", "resource": "{bucket}/{key}"},
	{"methods": ["GET"], "path": "/{bucket}", "action": "oss:ListObjects", "resource": "{bucket}"}]}`

const ecsDef = `{"code": "ecs", "name": "Instances", "hosts": ["ecs.example"], "region": "cn-hangzhou", "style": "rpc",
	"resources": {"StopInstance": "instance/{InstanceId}", "*": "*"}}`

func TestServiceDefMaps(t *testing.T) {
	oss, err := ParseServiceDef(ossDef)
	if err != nil {
		t.Fatal(err)
	}
	ecs, err := ParseServiceDef(ecsDef)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		d                *ServiceDef
		r                GatewayRequest
		action, resource string
		code             string
	}{
		{"rest object", oss, GatewayRequest{Method: "GET", Path: "/b1/dir/k1"}, "oss:GetObject", "acs:oss:*:123:b1/dir/k1", ""},
		{"rest first rule wins by method", oss, GatewayRequest{Method: "PUT", Path: "/b1/k1"}, "oss:PutObject", "acs:oss:*:123:b1/k1", ""},
		{"rest bucket", oss, GatewayRequest{Method: "GET", Path: "/b1"}, "oss:ListObjects", "acs:oss:*:123:b1", ""},
		{"rest no rule", oss, GatewayRequest{Method: "DELETE", Path: "/b1/k1"}, "", "", "NoMatchingRoute"},
		{"rest empty key", oss, GatewayRequest{Method: "PUT", Path: "/b1/"}, "", "", "NoMatchingRoute"},
		{"rpc mapped action", ecs, GatewayRequest{Method: "GET", Query: url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}}},
			"ecs:StopInstance", "acs:ecs:cn-hangzhou:123:instance/i-1", ""},
		{"rpc RegionId", ecs, GatewayRequest{Method: "GET", Query: url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}, "RegionId": {"cn-beijing"}}},
			"ecs:StopInstance", "acs:ecs:cn-beijing:123:instance/i-1", ""},
		{"rpc absent parameter", ecs, GatewayRequest{Method: "GET", Query: url.Values{"Action": {"StopInstance"}}},
			"ecs:StopInstance", "acs:ecs:cn-hangzhou:123:instance/*", ""},
		{"rpc default", ecs, GatewayRequest{Method: "GET", Query: url.Values{"Action": {"DescribeInstances"}}},
			"ecs:DescribeInstances", "acs:ecs:cn-hangzhou:123:*", ""},
		{"rpc action in a header", ecs, GatewayRequest{Method: "POST", Action: "DescribeInstances"}, "ecs:DescribeInstances", "acs:ecs:cn-hangzhou:123:*", ""},
		{"rpc no action", ecs, GatewayRequest{Method: "GET"}, "", "", "MissingParameter"},
		{"rpc wildcard action", ecs, GatewayRequest{Method: "GET", Query: url.Values{"Action": {"Stop*"}}}, "", "", "MissingParameter"},
	} {
		action, r, err := tc.d.Map("123", tc.r)
		res := r.ARN()
		if tc.code != "" {
			if e, ok := AsError(err); !ok || e.Code != tc.code {
				t.Errorf("%s: error %v, want %s", tc.name, err, tc.code)
			}
			continue
		}
		if err != nil || action != tc.action || res != tc.resource {
			t.Errorf("%s: Map = %q %q %v, want %q %q", tc.name, action, res, err, tc.action, tc.resource)
		}
	}
}

func TestServiceDefProblems(t *testing.T) {
	for _, tc := range []struct{ name, def, want string }{
		{"not JSON", `{"code":`, "not valid JSON"},
		{"unknown field", `{"code": "ecs", "bogus": 1}`, "unknown field"},
		{"bad code", `{"code": "ECS", "name": "x", "hosts": ["a.example"], "style": "rpc"}`, "code:"},
		{"no hosts", `{"code": "ecs", "name": "x", "hosts": [], "style": "rpc"}`, "hosts: name at least one host"},
		{"host with a port", `{"code": "ecs", "name": "x", "hosts": ["a.example:8080"], "style": "rpc"}`, "not a host name"},
		{"host twice", `{"code": "ecs", "name": "x", "hosts": ["a.example", "A.example"], "style": "rpc"}`, "named twice"},
		{"bad style", `{"code": "ecs", "name": "x", "hosts": ["a.example"], "style": "soap"}`, "style:"},
		{"unknown template variable", `{"code": "oss", "name": "x", "hosts": ["o.example"], "style": "rest", "rules": [
			{"methods": ["GET"], "path": "/{bucket}", "action": "oss:ListObjects", "resource": "{bucket}/{key}"}]}`, "uses {key}, which the path does not define"},
		{"rest variable not last", `{"code": "oss", "name": "x", "hosts": ["o.example"], "style": "rest", "rules": [
			{"methods": ["GET"], "path": "/{key...}/x", "action": "oss:GetObject", "resource": "{key}"}]}`, "must be the last segment"},
		{"rule that can never match", `{"code": "oss", "name": "x", "hosts": ["o.example"], "style": "rest", "rules": [
			{"methods": ["GET"], "path": "/{bucket}/{key...}", "action": "oss:GetObject", "resource": "{bucket}/{key}"},
			{"methods": ["GET"], "path": "/{bucket}/public/{key...}", "action": "oss:GetPublic", "resource": "{bucket}"}]}`, "rules[1] can never match"},
		{"action of another service", `{"code": "oss", "name": "x", "hosts": ["o.example"], "style": "rest", "rules": [
			{"methods": ["GET"], "path": "/{bucket}", "action": "ecs:ListObjects", "resource": "{bucket}"}]}`, "must be oss:<ActionName>"},
		{"bad method", `{"code": "oss", "name": "x", "hosts": ["o.example"], "style": "rest", "rules": [
			{"methods": ["FETCH"], "path": "/{bucket}", "action": "oss:ListObjects", "resource": "{bucket}"}]}`, "not an HTTP method"},
	} {
		_, err := ParseServiceDef(tc.def)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// FuzzServiceDef: any definition either parses or is refused, never a
// panic; a parsed one maps any request without one.
func FuzzServiceDef(f *testing.F) {
	f.Add(ossDef, "GET", "/b1/k1", "Action=StopInstance&InstanceId=i-1")
	f.Add(ecsDef, "POST", "/", "Action=StopInstance&RegionId=cn-beijing")
	f.Fuzz(func(t *testing.T, def, method, path, query string) {
		d, err := ParseServiceDef(def)
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(query)
		_, _, _ = d.Map("123", GatewayRequest{Method: method, Path: path, Query: q})
	})
}

// FuzzExpandResource: the template scanner expands exactly the variables
// templateVarRE (which validates definitions) finds, and matchPath's
// variables fill them as a split of the path would.
func FuzzExpandResource(f *testing.F) {
	f.Add("{bucket}/{key}", "/{bucket}/{key...}", "/b1/dir/k1")
	f.Add("a{{b}c}d{", "/x/{a}", "/x/1")
	f.Add("instance/{InstanceId}", "/{a}/{b}", "/1/")
	f.Fuzz(func(t *testing.T, tmpl, pattern, path string) {
		value := func(name string) string {
			if name == "" {
				return ""
			}
			return "<" + name + ">"
		}
		want := "acs:c:r:1:" + templateVarRE.ReplaceAllStringFunc(tmpl, func(m string) string {
			if v := value(m[1 : len(m)-1]); v != "" {
				return v
			}
			return "*"
		})
		if got := expandResource("c", "r", "1", tmpl, value); got != want {
			t.Fatalf("expandResource(%q) = %q, want %q", tmpl, got, want)
		}
		if !strings.HasPrefix(pattern, "/") {
			return
		}
		vals, ok := matchPath(pattern, path)
		wantVals, wantOK := splitMatch(pattern, path)
		if ok != wantOK || ok && len(vals) != len(wantVals) {
			t.Fatalf("matchPath(%q, %q) = %v %v, want %v %v", pattern, path, vals, ok, wantVals, wantOK)
		}
		for _, kv := range vals {
			if wantVals[kv.name] != kv.value && vals.get(kv.name) == kv.value {
				t.Fatalf("matchPath(%q, %q): %s = %q, want %q", pattern, path, kv.name, kv.value, wantVals[kv.name])
			}
		}
	})
}

// splitMatch is matchPath written the plain way, for FuzzExpandResource.
func splitMatch(pattern, path string) (map[string]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	ps, rest, vals := strings.Split(pattern[1:], "/"), path[1:], map[string]string{}
	for i, seg := range ps {
		if len(seg) >= 5 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}") {
			if rest == "" {
				return nil, false
			}
			vals[seg[1:len(seg)-4]] = rest
			return vals, true
		}
		part, after, more := strings.Cut(rest, "/")
		if i < len(ps)-1 && !more || i == len(ps)-1 && more {
			return nil, false
		}
		if len(seg) >= 2 && strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if part == "" {
				return nil, false
			}
			vals[seg[1:len(seg)-1]] = part
		} else if part != seg {
			return nil, false
		}
		rest = after
	}
	return vals, true
}
