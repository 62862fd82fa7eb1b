package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseValues: the OpenAPI's parameter parser reads what
// url.ParseQuery reads, refusing what it refuses and any name given twice.
func FuzzParseValues(f *testing.F) {
	f.Add("Action=GetUser&UserName=a%20b+c&Empty=")
	f.Add("a=1&a=2")
	f.Add("a=%zz")
	f.Add("a;b=1&&=x")
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.Count(raw, "&") >= maxAPIParams {
			return // refused before parsing
		}
		got := map[string]string{}
		err := parseValues(raw, got, "query string")
		vals, perr := url.ParseQuery(raw)
		dup := false
		for _, v := range vals {
			dup = dup || len(v) > 1
		}
		if (err != nil) != (perr != nil || dup) {
			t.Fatalf("parseValues(%q) error %v; url.ParseQuery error %v, duplicate %v", raw, err, perr, dup)
		}
		if err != nil {
			return
		}
		if len(got) != len(vals) {
			t.Fatalf("parseValues(%q) = %v, url.ParseQuery = %v", raw, got, vals)
		}
		for k, v := range vals {
			if got[k] != v[0] {
				t.Fatalf("parseValues(%q)[%q] = %q, want %q", raw, k, got[k], v[0])
			}
		}
	})
}

// FuzzHasAction: deciding that a request is an OpenAPI call reads the query
// as url.Query does (a value that does not decode is still a call: parsing
// refuses it with a clear error).
func FuzzHasAction(f *testing.F) {
	f.Add("Action=GetUser&a=b")
	f.Add("Act%69on=GetUser")
	f.Add("Action=&x=1")
	f.Add("Action=Get;User")
	f.Fuzz(func(t *testing.T, raw string) {
		vals, _ := url.ParseQuery(raw)
		if want := vals.Get("Action") != ""; want && !hasAction(raw) {
			t.Fatalf("hasAction(%q) = false, url.Query reads Action %q", raw, vals.Get("Action"))
		}
	})
}
