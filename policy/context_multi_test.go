package policy_test

import (
	"testing"

	"ramconsole/policy"
)

// A key with several values (oidc:aud: every audience of a token): a
// positive operator holds when any value matches, a negated one when none
// does; Set replaces all the values.
func TestMultiValuedKey(t *testing.T) {
	const provider = "acs:ram::1234567890123456:oidc-provider/ci"
	trust := func(op string) *policy.Compiled {
		d, err := policy.ParseTrust(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",` +
			`"Principal":{"Federated":["` + provider + `"]},"Condition":{"` + op + `":{"oidc:aud":"sts.aliyuncs.com"}}}]}`)
		if err != nil {
			t.Fatal(err)
		}
		return policy.Compile(policy.Source{Type: "Trust", Name: "r"}, d)
	}
	caller := policy.Caller{Kind: policy.CallerFederated, ARN: provider}
	decide := func(op string, auds ...string) policy.Decision {
		pc := policy.NewContext(2)
		for _, a := range auds {
			pc.Add("oidc:aud", a)
		}
		return trust(op).EvaluateTrust(&policy.TrustRequest{Caller: caller, Context: pc})
	}
	for _, c := range []struct {
		op   string
		auds []string
		want policy.Decision
	}{
		{"StringEquals", []string{"other", "sts.aliyuncs.com"}, policy.Allow},
		{"StringEquals", []string{"sts.aliyuncs.com"}, policy.Allow},
		{"StringEquals", []string{"other", "more"}, policy.ImplicitDeny},
		{"StringEquals", nil, policy.ImplicitDeny},
		{"StringNotEquals", []string{"other", "sts.aliyuncs.com"}, policy.ImplicitDeny},
		{"StringNotEquals", []string{"other", "more"}, policy.Allow},
		{"StringNotEquals", nil, policy.Allow},
	} {
		if got := decide(c.op, c.auds...); got != c.want {
			t.Errorf("%s with %q: %v, want %v", c.op, c.auds, got, c.want)
		}
	}
	pc := policy.NewContext(2)
	pc.Add("oidc:aud", "sts.aliyuncs.com")
	pc.Add("OIDC:AUD", "other")
	pc.Set("oidc:aud", "third")
	if pc.Len() != 1 {
		t.Errorf("Set left %d values", pc.Len())
	}
	if v, _ := pc.Get("oidc:aud"); v != "third" {
		t.Errorf("Get = %q", v)
	}
}
