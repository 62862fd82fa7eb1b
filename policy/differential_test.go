package policy_test

import (
	"testing"

	"ramconsole/policy"
)

// FuzzEvaluateAgreesWithExplain checks that the indexed Evaluate and the full scan of Explain always reach the
// same decision, per resource too, for any valid policy and any request.
func FuzzEvaluateAgreesWithExplain(f *testing.F) {
	seeds := []struct{ text, action, res1, res2, key, value string }{
		{allow("r*:Get*", "*"), "ram:GetUser", userAlice, "", "", ""},
		{allow("?am:*", "*"), "RAM:ListUsers", userAlice, "*", "", ""},
		{deny("*:*", "acs:ram::1:user/*"), "ecs:x", "acs:ram:*:1:user/a", "", "", ""},
		{doc(stmt("Allow", "RAM:Get*|ecs:Describe*", "acs:ram:::user/*|*", ""), stmt("Deny", "NotAction:ram:Get?ser", "*", "")), "Ram:GetUser", userAlice, groupDev, "", ""},
		{doc(stmt("Allow", "*", "*", `{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","::1"]}}`)), "GetUser", "*", "", "ACS:sourceip", "10.1.2.3"},
		{doc(stmt("Allow", "ram:*", "acs:ram:*:*:*", `{"StringLike":{"x:k":"a*"},"DateLessThan":{"acs:CurrentTime":"2026-01-01"}}`)), "ram:", "acs:ram:*:1:", "", "x:K", "abc"},
	}
	for _, s := range seeds {
		f.Add(s.text, s.action, s.res1, s.res2, s.key, s.value)
	}
	f.Fuzz(func(t *testing.T, text, action, res1, res2, key, value string) {
		d, err := policy.Parse(text)
		if err != nil {
			return
		}
		set := policy.NewSet(policy.Compile(policy.Source{Type: "Custom", Name: "F"}, d))
		ctx := &policy.Context{}
		if key != "" {
			ctx.Set(key, value)
		}
		req := &policy.Request{Action: action, Resources: []string{res1}, Context: ctx}
		if res2 != "" {
			req.Resources = append(req.Resources, res2)
		}
		res := set.Explain(req)
		if got := set.Evaluate(req); got != res.Decision {
			t.Fatalf("Evaluate(%+v) = %v, Explain = %v\npolicy: %s", req, got, res.Decision, text)
		}
		for _, rr := range res.Resources {
			one := *req
			one.Resources = []string{rr.Resource}
			if got := set.Evaluate(&one); got != rr.Decision {
				t.Fatalf("Evaluate(%s on %s) = %v, Explain's resource decision %v\npolicy: %s", action, rr.Resource, got, rr.Decision, text)
			}
		}
	})
}
