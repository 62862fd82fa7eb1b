package policy_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"ramconsole/policy"
)

// FuzzParse checks that Parse never panics, that every error is a *ValidationError with at least one problem, and
// that parse → marshal → parse is stable. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, p := range policy.SystemPolicies() {
		f.Add(p.Document)
	}
	f.Add(cond(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","::1"]},"DateLessThan":{"acs:CurrentTime":"2026-01-01T00:00:00+08:00"}}`))
	f.Add(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":["r?m:*","\u0041:b"],"Resource":"acs:ram::1:user/*"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := policy.Parse(text)
		if err != nil {
			var verr *policy.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("Parse(%q) error = %#v, want a *ValidationError with problems", text, err)
			}
			_ = err.Error()
			return
		}
		b, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON() = %v", err)
		}
		d2, err := policy.Parse(string(b))
		if err != nil {
			t.Fatalf("Parse(MarshalJSON(Parse(%q))) = %v\nmarshalled: %s", text, err, b)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("Parse(MarshalJSON(d)) = %+v, want %+v", d2, d)
		}
		b2, _ := d2.MarshalJSON()
		if string(b) != string(b2) {
			t.Fatalf("MarshalJSON not stable:\n%s\n%s", b, b2)
		}
		// Compiling and evaluating a valid document never panics either.
		set := policy.NewSet(policy.Compile(policy.Source{Type: "Custom", Name: "F"}, d))
		ctx := &policy.Context{}
		ctx.Set("acs:SourceIp", "10.0.0.1")
		set.Explain(&policy.Request{Action: "ram:GetUser", Resources: []string{"acs:ram:*:1:user/a", "*"}, Context: ctx})
	})
}

// FuzzParseTrust checks ParseTrust as FuzzParse checks Parse, and more: no text is both an identity policy and a
// trust policy; a trust policy allows nothing as an identity policy; EvaluateTrust and ExplainTrust agree for
// callers built from the document's own principals and for strangers. The seed corpus is in
// testdata/fuzz/FuzzParseTrust.
func FuzzParseTrust(f *testing.F) {
	f.Add(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::1234567890123456:root"}}]}`)
	f.Add(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"ram:*","Principal":{"Service":["ECS.aliyuncs.com"],"Federated":"idp"},` +
		`"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		_, identityErr := policy.Parse(text)
		d, err := policy.ParseTrust(text)
		if err != nil {
			var verr *policy.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("ParseTrust(%q) error = %#v, want a *ValidationError with problems", text, err)
			}
			_ = err.Error()
			return
		}
		if identityErr == nil {
			t.Fatalf("Parse and ParseTrust both accept %q", text)
		}
		b, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON() = %v", err)
		}
		d2, err := policy.ParseTrust(string(b))
		if err != nil {
			t.Fatalf("ParseTrust(MarshalJSON(ParseTrust(%q))) = %v\nmarshalled: %s", text, err, b)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("ParseTrust(MarshalJSON(d)) = %+v, want %+v", d2, d)
		}
		if b2, _ := d2.MarshalJSON(); string(b) != string(b2) {
			t.Fatalf("MarshalJSON not stable:\n%s\n%s", b, b2)
		}
		c := policy.Compile(policy.Source{Type: "Trust", Name: "F"}, d)
		if got := policy.NewSet(c).Evaluate(&policy.Request{Action: "sts:AssumeRole", Resources: []string{"*"}}); got != policy.ImplicitDeny {
			t.Fatalf("a trust policy as an identity policy: Evaluate = %v, want ImplicitDeny", got)
		}
		callers := []policy.Caller{
			{Kind: policy.CallerRAMUser, Account: "1234567890123456", ARN: "acs:ram::1234567890123456:user/alice"},
			{Kind: policy.CallerService, Service: "ecs.aliyuncs.com"},
		}
		for _, st := range d.Statements {
			for _, r := range st.Principal.RAM {
				account := strings.TrimPrefix(r, "acs:ram::")
				account, rel, _ := strings.Cut(account, ":")
				switch {
				case rel == "root":
					callers = append(callers, policy.Caller{Kind: policy.CallerRoleSession, Account: account, ARN: "acs:ram::" + account + ":role/r"})
				case strings.HasPrefix(rel, "role/"):
					callers = append(callers, policy.Caller{Kind: policy.CallerRoleSession, Account: account, ARN: r})
				default:
					callers = append(callers, policy.Caller{Kind: policy.CallerRAMUser, Account: account, ARN: r})
				}
			}
			for _, s := range st.Principal.Service {
				callers = append(callers, policy.Caller{Kind: policy.CallerService, Service: strings.ToUpper(s)})
			}
			for _, p := range st.Principal.Federated {
				callers = append(callers, policy.Caller{Kind: policy.CallerFederated, ARN: p})
			}
		}
		ctx := &policy.Context{}
		ctx.Set("sts:ExternalId", "x")
		for _, caller := range callers {
			req := &policy.TrustRequest{Caller: caller, Context: ctx}
			e, x := c.EvaluateTrust(req), c.ExplainTrust(req)
			if e != x.Decision {
				t.Fatalf("EvaluateTrust(%+v) = %v, ExplainTrust = %v", caller, e, x.Decision)
			}
			if (e == policy.ImplicitDeny) != (len(x.Matched) == 0) {
				t.Fatalf("ExplainTrust(%+v) = %v with reasons %v", caller, x.Decision, x.Matched)
			}
		}
	})
}
