package policy_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ramconsole/policy"
)

// st0 wraps statement members into a document with one statement.
func st0(members string) string {
	return `{"Version":"1","Statement":[{` + members + `}]}`
}

const okStmt = `"Effect":"Allow","Action":"ram:GetUser","Resource":"*"`

func cond(c string) string { return st0(okStmt + `,"Condition":` + c) }

func TestParseValid(t *testing.T) {
	tests := []struct{ name, text string }{
		{"minimal document", st0(okStmt)},
		{"arrays of actions and resources", st0(`"Effect":"Deny","Action":["ram:Get*","ecs:*"],"Resource":["*","acs:ram:*:1:user/*"]`)},
		{"NotAction instead of Action", st0(`"Effect":"Allow","NotAction":"ram:*","Resource":"*"`)},
		{"star action", st0(`"Effect":"Allow","Action":"*","Resource":"*"`)},
		{"wildcards in the service of an action", st0(`"Effect":"Allow","Action":"*:Describe*","Resource":"*"`)},
		{"question marks in an action", st0(`"Effect":"Allow","Action":"r?m:?etUser","Resource":"*"`)},
		{"empty region and account in a resource", st0(`"Effect":"Allow","Action":"*","Resource":"acs:ram:::user/*"`)},
		{"colons in the relative id", st0(`"Effect":"Allow","Action":"*","Resource":"acs:oss:*:*:bucket/a:b:c"`)},
		{"spaces in the relative id", st0(`"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:bucket/My Documents/*"`)},
		{"element order does not matter", `{"Statement":[{"Resource":"*","Action":"*","Effect":"Allow"}],"Version":"1"}`},
		{"white space everywhere", "\n\t{ \"Version\" : \"1\" ,\r\n \"Statement\" : [ { " + okStmt + " } ] }\n"},
		{"every operator with valid values", cond(`{
			"StringEquals":{"a":"x"},"StringNotEquals":{"a":["x","y"]},"StringEqualsIgnoreCase":{"a":"x"},
			"StringNotEqualsIgnoreCase":{"a":"x"},"StringLike":{"a":"x*?"},"StringNotLike":{"a":"*"},
			"NumericEquals":{"n":1},"NumericNotEquals":{"n":"-1.5"},"NumericLessThan":{"n":"1e3"},
			"NumericLessThanEquals":{"n":0},"NumericGreaterThan":{"n":"+2"},"NumericGreaterThanEquals":{"n":[1,2.5]},
			"DateEquals":{"acs:CurrentTime":"2026-01-01"},"DateNotEquals":{"acs:CurrentTime":"2026-01-01T10:00:00Z"},
			"DateLessThan":{"acs:CurrentTime":"2019-08-11T23:59:59+08:00"},"DateLessThanEquals":{"acs:CurrentTime":"2026-01-01T10:00Z"},
			"DateGreaterThan":{"acs:CurrentTime":"2026-01-01T10:00:00.123456789-0530"},"DateGreaterThanEquals":{"acs:CurrentTime":"2024-02-29T00:00:00+01"},
			"Bool":{"acs:SecureTransport":"true","acs:MFAPresent":false},
			"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.1.1","2001:db8::/32","::1"]},"NotIpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`)},
		{"a string operator takes numbers and booleans as text", cond(`{"StringEquals":{"a":[1,true]}}`)},
		{"any condition key name", cond(`{"StringEquals":{"oss:Prefix":"x","ecs:tag/env":"prod","my key":"v"}}`)},
		{"exactly the maximum length", st0(okStmt) + strings.Repeat(" ", policy.MaxDocumentLength-len(st0(okStmt)))},
		{"non-ASCII characters count once", st0(okStmt + `,"Condition":{"StringEquals":{"k":"` + strings.Repeat("é", 6000) + `"}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := policy.Parse(tc.text); err != nil {
				t.Errorf("Parse(%s) = %v, want no error", tc.text, err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // Problem.String() of every problem, in order
	}{
		// JSON syntax: line and column.
		{"syntax error carries line and column", "{\n  \"Version\": \"1\",\n  \"Statement\" []\n}",
			[]string{`line 3, column 15: unexpected character '[', expected ':' after key "Statement"`}},
		{"column counts characters, not bytes", "{\"Versión\" 1}", []string{`line 1, column 12: unexpected character '1', expected ':' after key "Versión"`}},
		{"unexpected end of input", `{"Version":"1",`, []string{"line 1, column 16: unexpected end of input, expected a string key"}},
		{"trailing comma", `{"Version":"1",}`, []string{"line 1, column 16: unexpected character '}', expected a string key"}},
		{"data after the document", `{"Version":"1"} x`, []string{"line 1, column 17: unexpected character 'x' after the end of the document"}},
		{"empty document", "", []string{"line 1, column 1: empty document, expected a JSON object"}},
		{"bad literal", `{"Version":tru}`, []string{"line 1, column 12: unexpected character 't', expected a value"}},
		{"bad number", `{"Version":01}`, []string{"line 1, column 13: unexpected character '1', expected ',' or '}'"}},
		{"control character in a string", "{\"Version\":\"1\n\"}", []string{"line 1, column 14: unexpected control character U+000A in string"}},
		{"bad escape", `{"Version":"\x"}`, []string{`line 1, column 14: invalid escape character 'x' in string`}},
		{"invalid UTF-8", "{\n\"Version\":\"\xff\"}", []string{"line 2, column 12: invalid UTF-8"}},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), []string{"line 1, column 66: nesting too deep"}},

		// Document level.
		{"document must be an object", `["Version"]`, []string{"a policy document must be a JSON object"}},
		{"missing Version and Statement", `{}`, []string{`missing "Version"`, `missing "Statement"`}},
		{"Version must be 1", `{"Version":"2012-10-17","Statement":[{` + okStmt + `}]}`, []string{`Version: must be "1", got "2012-10-17"`}},
		{"Version must be a string", `{"Version":1,"Statement":[{` + okStmt + `}]}`, []string{`Version: must be the string "1"`}},
		{"element names are case-sensitive", `{"version":"1","Statement":[{` + okStmt + `}]}`, []string{`unknown element "version"`, `missing "Version"`}},
		{"unknown element", `{"Version":"1","Id":"x","Statement":[{` + okStmt + `}]}`, []string{`unknown element "Id"`}},
		{"duplicate element", `{"Version":"1","Version":"1","Statement":[{` + okStmt + `}]}`, []string{`duplicate element "Version"`}},
		{"Statement must be an array", `{"Version":"1","Statement":{` + okStmt + `}}`, []string{"Statement: must be an array of statements"}},
		{"Statement must not be empty", `{"Version":"1","Statement":[]}`, []string{"Statement: must not be empty"}},
		{"a statement must be an object", `{"Version":"1","Statement":["x"]}`, []string{"Statement[0]: must be an object"}},

		// Statement elements.
		{"missing Effect", st0(`"Action":"*","Resource":"*"`), []string{`Statement[0]: missing "Effect"`}},
		{"Effect is case-sensitive", st0(`"Effect":"allow","Action":"*","Resource":"*"`), []string{`Statement[0].Effect: must be "Allow" or "Deny", got "allow"`}},
		{"Effect must be a string", st0(`"Effect":true,"Action":"*","Resource":"*"`), []string{`Statement[0].Effect: must be "Allow" or "Deny"`}},
		{"both Action and NotAction", st0(`"Effect":"Allow","Action":"*","NotAction":"ram:*","Resource":"*"`), []string{`Statement[0]: has both "Action" and "NotAction" (use one)`}},
		{"neither Action nor NotAction", st0(`"Effect":"Allow","Resource":"*"`), []string{`Statement[0]: missing "Action" (or "NotAction")`}},
		{"missing Resource", st0(`"Effect":"Allow","Action":"*"`), []string{`Statement[0]: missing "Resource"`}},
		{"unknown statement element", st0(okStmt + `,"Sid":"x"`), []string{`Statement[0]: unknown element "Sid"`}},
		{"statement element names are case-sensitive", st0(`"Effect":"Allow","action":"*","Resource":"*"`),
			[]string{`Statement[0]: unknown element "action"`, `Statement[0]: missing "Action" (or "NotAction")`}},
		{"duplicate statement element", st0(okStmt + `,"Effect":"Deny"`), []string{`Statement[0]: duplicate element "Effect"`}},
		{"empty Action array", st0(`"Effect":"Allow","Action":[],"Resource":"*"`), []string{"Statement[0].Action: must not be empty"}},
		{"empty Resource array", st0(`"Effect":"Allow","Action":"*","Resource":[]`), []string{"Statement[0].Resource: must not be empty"}},
		{"Action of the wrong type", st0(`"Effect":"Allow","Action":{"a":1},"Resource":"*"`), []string{"Statement[0].Action: must be a string or a non-empty array of strings"}},
		{"Action element of the wrong type", st0(`"Effect":"Allow","Action":["ram:GetUser",3],"Resource":"*"`), []string{"Statement[0].Action[1]: must be a string"}},
		{"action without a colon", st0(`"Effect":"Allow","Action":"ecs","Resource":"*"`), []string{`Statement[0].Action: "ecs" is not an action ("*" or "service:Name")`}},
		{"action with an empty name", st0(`"Effect":"Allow","Action":["ecs:"],"Resource":"*"`), []string{`Statement[0].Action[0]: "ecs:" is not an action ("*" or "service:Name")`}},
		{"action with an empty service", st0(`"Effect":"Allow","NotAction":":Get","Resource":"*"`), []string{`Statement[0].NotAction: ":Get" is not an action ("*" or "service:Name")`}},
		{"action with two colons", st0(`"Effect":"Allow","Action":"ecs:a:b","Resource":"*"`), []string{`Statement[0].Action: "ecs:a:b" is not an action ("*" or "service:Name")`}},
		{"action with a space", st0(`"Effect":"Allow","Action":"ecs: Get","Resource":"*"`), []string{`Statement[0].Action: "ecs: Get" is not an action ("*" or "service:Name")`}},
		{"resource without acs", st0(`"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"`), []string{`Statement[0].Resource: "arn:aws:s3:::b" is not a resource ("*" or "acs:service:region:account:relative-id")`}},
		{"resource with too few segments", st0(`"Effect":"Allow","Action":"*","Resource":["*","acs:ram:*:user"]`), []string{`Statement[0].Resource[1]: "acs:ram:*:user" is not a resource ("*" or "acs:service:region:account:relative-id")`}},
		{"resource with an empty service", st0(`"Effect":"Allow","Action":"*","Resource":"acs::*:1:x"`), []string{`Statement[0].Resource: "acs::*:1:x" is not a resource ("*" or "acs:service:region:account:relative-id")`}},
		{"resource with an empty relative id", st0(`"Effect":"Allow","Action":"*","Resource":"acs:ram:*:1:"`), []string{`Statement[0].Resource: "acs:ram:*:1:" is not a resource ("*" or "acs:service:region:account:relative-id")`}},
		{"resource with a space outside the relative id", st0(`"Effect":"Allow","Action":"*","Resource":"acs:oss:* :*:b"`), []string{`Statement[0].Resource: "acs:oss:* :*:b" is not a resource ("*" or "acs:service:region:account:relative-id")`}},
		{"resource with a control character in the relative id", st0(`"Effect":"Allow","Action":"*","Resource":"acs:oss:*:*:b/\t"`), []string{`Statement[0].Resource: "acs:oss:*:*:b/\t" is not a resource ("*" or "acs:service:region:account:relative-id")`}},

		// Conditions.
		{"Condition must be an object", cond(`[]`), []string{"Statement[0].Condition: must be an object mapping operators to keys and values"}},
		{"Condition must not be empty", cond(`{}`), []string{"Statement[0].Condition: must not be empty"}},
		{"unknown operator", cond(`{"StringEqual":{"a":"b"}}`), []string{`Statement[0].Condition: unknown operator "StringEqual"`}},
		{"operator names are case-sensitive", cond(`{"stringequals":{"a":"b"}}`), []string{`Statement[0].Condition: unknown operator "stringequals"`}},
		{"operator qualifiers are not supported", cond(`{"ForAnyValue:StringEquals":{"a":"b"}}`), []string{`Statement[0].Condition: unknown operator "ForAnyValue:StringEquals"`}},
		{"operator block must be an object", cond(`{"StringEquals":"a"}`), []string{"Statement[0].Condition.StringEquals: must be an object mapping condition keys to values"}},
		{"operator block must not be empty", cond(`{"StringEquals":{}}`), []string{"Statement[0].Condition.StringEquals: must not be empty"}},
		{"empty value array", cond(`{"StringEquals":{"a":[]}}`), []string{"Statement[0].Condition.StringEquals.a: must not be empty"}},
		{"null value", cond(`{"StringEquals":{"a":null}}`), []string{"Statement[0].Condition.StringEquals.a: must be a string, number or boolean, or a non-empty array of them"}},
		{"object value", cond(`{"StringEquals":{"a":["x",{}]}}`), []string{"Statement[0].Condition.StringEquals.a: must be a string, number or boolean, or a non-empty array of them"}},
		{"empty condition key", cond(`{"StringEquals":{"":"x"}}`), []string{"Statement[0].Condition.StringEquals: condition key must not be empty"}},
		{"condition keys differing only in case", cond(`{"StringEquals":{"acs:UserAgent":"x","ACS:useragent":"y"}}`),
			[]string{`Statement[0].Condition.StringEquals: duplicate condition key "ACS:useragent" (same as "acs:UserAgent": keys are case-insensitive)`}},
		{"duplicate operator", cond(`{"Bool":{"a":"true"},"Bool":{"b":"true"}}`), []string{`Statement[0].Condition: duplicate element "Bool"`}},
		{"bad IP", `{"Version":"1","Statement":[{` + okStmt + `},{` + okStmt + `},{` + okStmt + `,"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}}]}`,
			[]string{`Statement[2].Condition.IpAddress.acs:SourceIp: "10.0.0.300" is not an IP or CIDR`}},
		{"bad CIDR", cond(`{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`), []string{`Statement[0].Condition.NotIpAddress.acs:SourceIp: "10.0.0.0/33" is not an IP or CIDR`}},
		{"IP with a zone", cond(`{"IpAddress":{"acs:SourceIp":"fe80::1%eth0"}}`), []string{`Statement[0].Condition.IpAddress.acs:SourceIp: "fe80::1%eth0" is not an IP or CIDR`}},
		{"bad number", cond(`{"NumericLessThan":{"n":"ten"}}`), []string{`Statement[0].Condition.NumericLessThan.n: "ten" is not a number`}},
		{"hexadecimal is not a number", cond(`{"NumericEquals":{"n":"0x10"}}`), []string{`Statement[0].Condition.NumericEquals.n: "0x10" is not a number`}},
		{"infinity is not a number", cond(`{"NumericEquals":{"n":"Inf"}}`), []string{`Statement[0].Condition.NumericEquals.n: "Inf" is not a number`}},
		{"number out of range", cond(`{"NumericEquals":{"n":1e999}}`), []string{`Statement[0].Condition.NumericEquals.n: "1e999" is not a number`}},
		{"bad date", cond(`{"DateLessThan":{"acs:CurrentTime":"2026/01/01"}}`), []string{`Statement[0].Condition.DateLessThan.acs:CurrentTime: "2026/01/01" is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z)`}},
		{"impossible date", cond(`{"DateEquals":{"acs:CurrentTime":"2025-02-29"}}`), []string{`Statement[0].Condition.DateEquals.acs:CurrentTime: "2025-02-29" is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z)`}},
		{"impossible time", cond(`{"DateEquals":{"acs:CurrentTime":"2025-01-01T24:00:00Z"}}`), []string{`Statement[0].Condition.DateEquals.acs:CurrentTime: "2025-01-01T24:00:00Z" is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z)`}},
		{"Unix time is not a date", cond(`{"DateEquals":{"acs:CurrentTime":1700000000}}`), []string{`Statement[0].Condition.DateEquals.acs:CurrentTime: "1700000000" is not an ISO 8601 date (2006-01-02 or 2006-01-02T15:04:05Z)`}},
		{"bad bool", cond(`{"Bool":{"acs:MFAPresent":"yes"}}`), []string{`Statement[0].Condition.Bool.acs:MFAPresent: "yes" is not "true" or "false"`}},
		{"bool values are case-sensitive in a policy", cond(`{"Bool":{"acs:MFAPresent":"True"}}`), []string{`Statement[0].Condition.Bool.acs:MFAPresent: "True" is not "true" or "false"`}},

		// Length.
		{"longer than the limit", st0(okStmt) + strings.Repeat(" ", policy.MaxDocumentLength-len(st0(okStmt))+1),
			[]string{"document is 6145 characters long, longer than the limit of 6144"}},
		{"the length problem comes first, then the others", `{"Version":"2","Statement":[{` + okStmt + `}]}` + strings.Repeat(" ", policy.MaxDocumentLength),
			[]string{fmt.Sprintf("document is %d characters long, longer than the limit of 6144", 86+policy.MaxDocumentLength), `Version: must be "1", got "2"`}},

		// Several problems, in document order.
		{"every problem in document order", `{"Statement":[
			{"Effect":"Permit","Action":"ecs","Resource":"acs:ram:user"},
			{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"},"Foo":{"a":"b"}}},
			{"Effect":"Deny"}],
			"Extra":1,"Version":"2"}`,
			[]string{
				`Statement[0].Effect: must be "Allow" or "Deny", got "Permit"`,
				`Statement[0].Action: "ecs" is not an action ("*" or "service:Name")`,
				`Statement[0].Resource: "acs:ram:user" is not a resource ("*" or "acs:service:region:account:relative-id")`,
				`Statement[1].Condition.IpAddress.acs:SourceIp: "10.0.0.300" is not an IP or CIDR`,
				`Statement[1].Condition: unknown operator "Foo"`,
				`Statement[2]: missing "Action" (or "NotAction")`,
				`Statement[2]: missing "Resource"`,
				`unknown element "Extra"`,
				`Version: must be "1", got "2"`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.Parse(tc.text)
			var verr *policy.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse(%s) = %v, %v, want a *ValidationError", tc.text, d, err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%s) problems =\n  %s\nwant\n  %s", tc.text, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if err.Error() != strings.Join(tc.want, "; ") {
				t.Errorf("Error() = %q, want %q", err.Error(), strings.Join(tc.want, "; "))
			}
		})
	}
}

func TestProblemFields(t *testing.T) {
	_, err := policy.Parse("{\n  \"Version\" 1}")
	var verr *policy.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Fatalf("Parse = %v, want one problem", err)
	}
	if p := verr.Problems[0]; p.Line != 2 || p.Column != 13 || p.Path != "" {
		t.Errorf("syntax problem = %+v, want Line 2, Column 13, no Path", p)
	}
	_, err = policy.Parse(cond(`{"IpAddress":{"acs:SourceIp":"x"}}`))
	if !errors.As(err, &verr) || len(verr.Problems) != 1 {
		t.Fatalf("Parse = %v, want one problem", err)
	}
	want := policy.Problem{Path: "Statement[0].Condition.IpAddress.acs:SourceIp", Message: `"x" is not an IP or CIDR`}
	if p := verr.Problems[0]; p != want {
		t.Errorf("grammar problem = %+v, want %+v", p, want)
	}
}

func TestMarshalJSONCanonical(t *testing.T) {
	text := `{"Statement":[{"Resource":["acs:ram:*:1:user/*"],"Condition":{"Bool":{"acs:MFAPresent":true},
		"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.1"]},"NumericLessThan":{"n":10}},
		"Action":["ram:Get*"],"Effect":"Allow"},{"Effect":"Deny","NotAction":["a:b","c:d"],"Resource":"*"}],"Version":"1"}`
	d, err := policy.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"acs:ram:*:1:user/*",` +
		`"Condition":{"Bool":{"acs:MFAPresent":"true"},"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.1"]},` +
		`"NumericLessThan":{"n":"10"}}},{"Effect":"Deny","NotAction":["a:b","c:d"],"Resource":"*"}]}`
	if string(got) != want {
		t.Errorf("MarshalJSON() =\n%s\nwant\n%s", got, want)
	}
	d2, err := policy.Parse(string(got))
	if err != nil {
		t.Fatalf("Parse(MarshalJSON()) = %v", err)
	}
	if !reflect.DeepEqual(d, d2) {
		t.Errorf("Parse(MarshalJSON(d)) = %+v, want %+v", d2, d)
	}
}

func TestSystemPolicies(t *testing.T) {
	ps := policy.SystemPolicies()
	if len(ps) != 24 {
		t.Errorf("len(SystemPolicies()) = %d, want 24", len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] {
			t.Errorf("system policy %q twice", p.Name)
		}
		seen[p.Name] = true
		if p.Description == "" {
			t.Errorf("system policy %q has no description", p.Name)
		}
		if _, err := policy.Parse(p.Document); err != nil {
			t.Errorf("Parse(system policy %q) = %v", p.Name, err)
		}
	}
	if p, ok := policy.LookupSystemPolicy("AdministratorAccess"); !ok || p.Name != "AdministratorAccess" {
		t.Errorf("LookupSystemPolicy(AdministratorAccess) = %v, %v", p, ok)
	}
	if _, ok := policy.LookupSystemPolicy("NoSuchPolicy"); ok {
		t.Errorf("LookupSystemPolicy(NoSuchPolicy) found a policy")
	}
}

func TestSystemPolicyDecisions(t *testing.T) {
	set := func(names ...string) *policy.Set {
		var cs []*policy.Compiled
		for _, n := range names {
			p, ok := policy.LookupSystemPolicy(n)
			if !ok {
				t.Fatalf("no system policy %q", n)
			}
			cs = append(cs, compile(t, policy.Source{Type: "System", Name: n, Version: "v1"}, p.Document))
		}
		return policy.NewSet(cs...)
	}
	tests := []struct {
		name     string
		policies []string
		action   string
		resource string
		want     policy.Decision
	}{
		{"AdministratorAccess allows everything", []string{"AdministratorAccess"}, "ram:DeleteUser", userAlice, A},
		{"ReadOnlyAccess allows List", []string{"ReadOnlyAccess"}, "ram:ListUsers", "acs:ram:*:" + acct + ":user/*", A},
		{"ReadOnlyAccess does not allow Create", []string{"ReadOnlyAccess"}, "ram:CreateUser", "acs:ram:*:" + acct + ":user/*", I},
		{"PowerUserAccess allows ECS", []string{"PowerUserAccess"}, "ecs:DeleteInstance", ecsInst, A},
		{"PowerUserAccess does not allow RAM", []string{"PowerUserAccess"}, "ram:CreateUser", userAlice, I},
		{"AliyunRAMReadOnlyAccess allows GetUser", []string{"AliyunRAMReadOnlyAccess"}, "ram:GetUser", userAlice, A},
		{"AliyunRAMReadOnlyAccess does not allow UpdateUser", []string{"AliyunRAMReadOnlyAccess"}, "ram:UpdateUser", userAlice, I},
		{"AliyunActionTrailReadOnlyAccess allows LookupEvents on star", []string{"AliyunActionTrailReadOnlyAccess"}, "actiontrail:LookupEvents", "*", A},
		{"AliyunRDSReadOnlyAccess scopes dbs to RDS ARNs", []string{"AliyunRDSReadOnlyAccess"}, "dbs:DescribeBackupPlan", "acs:dbs:cn-hangzhou:1:backupplan/x", I},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &policy.Request{Action: tc.action, Resources: []string{tc.resource}}
			if got := set(tc.policies...).Evaluate(req); got != tc.want {
				t.Errorf("Evaluate(%s on %s) = %v, want %v", tc.action, tc.resource, got, tc.want)
			}
		})
	}
}

// TestExamplePolicies parses the example policies of Alibaba Cloud's RAM documentation kept in testdata/examples.
func TestExamplePolicies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := policy.Parse(string(text)); err != nil {
				t.Errorf("Parse(%s) = %v", f, err)
			}
		})
	}
}
