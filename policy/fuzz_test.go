package policy_test

import (
	"errors"
	"reflect"
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
