package policy

import (
	"reflect"
	"testing"
)

func TestCreditedAndGrants(t *testing.T) {
	mk := func(name, doc string) *Compiled {
		d, err := Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		return Compile(Source{Type: "Custom", Name: name, Version: "v1", ID: "id-" + name}, d)
	}
	a := mk("A", `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"ecs:Describe*","Resource":"acs:ecs:*:*:instance/i-1"},
		{"Effect":"Allow","Action":"ecs:*","Resource":"*"},
		{"Effect":"Deny","Action":"ecs:Delete*","Resource":"*"}]}`)
	b := mk("B", `{"Version":"1","Statement":[
		{"Effect":"Deny","Action":"ecs:DeleteInstance","Resource":"*"},
		{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}]}`)
	set := NewSet(a, b)
	req := &Request{Action: "ecs:DescribeInstances", Resources: []string{"acs:ecs:cn-hangzhou:1:instance/i-2", "acs:ecs:cn-hangzhou:1:instance/i-1"}}
	d := set.Evaluate(req)
	got := set.Credited(nil, req, d)
	want := []Credit{{Source: a.Source(), Statement: 0}}
	if d != Allow || !reflect.DeepEqual(got, want) {
		t.Fatalf("allow: %v %+v, want the first matching Allow %+v", d, got, want)
	}
	req.Action = "ecs:DeleteInstance"
	d = set.Evaluate(req)
	got = set.Credited(nil, req, d)
	want = []Credit{{Source: a.Source(), Statement: 2}, {Source: b.Source(), Statement: 0}}
	if d != ExplicitDeny || !reflect.DeepEqual(got, want) {
		t.Fatalf("deny: %v %+v, want every matching Deny %+v", d, got, want)
	}
	req.Action = "ram:GetUser"
	if d = set.Evaluate(req); d != ImplicitDeny || len(set.Credited(nil, req, d)) != 0 {
		t.Fatalf("implicit deny credits nothing: %v", d)
	}
	for action, want := range map[string]bool{"ecs:StopInstance": true, "ECS:describeInstances": true, "oss:GetObject": true, "ram:GetUser": false} {
		if set.Grants(action) != want {
			t.Errorf("Grants(%s) = %v, want %v", action, !want, want)
		}
	}
	if NewSet(mk("C", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)).Grants("ecs:StopInstance") {
		t.Error("a Deny grants nothing")
	}
}
