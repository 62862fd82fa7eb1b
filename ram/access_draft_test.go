package ram

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"ramconsole/policy"
)

// The draft's shape (SPEC §16.6): one Allow per service and resource set,
// actions sorted, "*" for an action seen on more than 10 resources,
// statements by service then first action, and resources collapsed action
// by action, most first, while the document is over 6,144 characters.
func TestDraftDocument(t *testing.T) {
	inst := func(i int) string { return fmt.Sprintf("acs:ecs:cn-hangzhou:1:instance/i-%03d", i) }
	var calls []DraftCall
	for i := range 11 { // more than 10 resources: "*"
		calls = append(calls, DraftCall{Action: "ecs:StopInstance", Resources: []string{inst(i)}})
	}
	calls = append(calls,
		DraftCall{Action: "ram:ListUsers", Resources: []string{"acs:ram:*:1:user/*"}},
		DraftCall{Action: "ram:GetUser", Resources: []string{"acs:ram:*:1:user/alice"}},
		DraftCall{Action: "ram:UpdateUser", Resources: []string{"acs:ram:*:1:user/alice"}},
		DraftCall{Action: "ecs:DescribeInstances", Resources: []string{inst(1), inst(2)}},
		DraftCall{Action: "ecs:StartInstance", Resources: []string{inst(2), inst(1)}},
	)
	want := `{"Version":"1","Statement":[` +
		`{"Effect":"Allow","Action":["ecs:DescribeInstances","ecs:StartInstance"],"Resource":["` + inst(1) + `","` + inst(2) + `"]},` +
		`{"Effect":"Allow","Action":["ecs:StopInstance"],"Resource":["*"]},` +
		`{"Effect":"Allow","Action":["ram:GetUser","ram:UpdateUser"],"Resource":["acs:ram:*:1:user/alice"]},` +
		`{"Effect":"Allow","Action":["ram:ListUsers"],"Resource":["acs:ram:*:1:user/*"]}]}`
	if got := draftDocument(calls); got != want {
		t.Errorf("draft =\n%s\nwant\n%s", got, want)
	}

	// Too long: the action with the most resources becomes "*" first.
	long := func(action string, n int) []DraftCall {
		var out []DraftCall
		for i := range n {
			out = append(out, DraftCall{Action: action, Resources: []string{fmt.Sprintf("acs:oss:*:1:bucket/%s-%s-%03d", action[4:], strings.Repeat("x", 60), i)}})
		}
		return out
	}
	calls = append(long("oss:GetObject", 10), long("oss:PutObject", 9)...)
	for i := range 35 {
		calls = append(calls, DraftCall{Action: fmt.Sprintf("oss:Action%02d", i), Resources: []string{fmt.Sprintf("acs:oss:*:1:bucket/%s-%02d", strings.Repeat("y", 40), i)}})
	}
	doc := draftDocument(calls)
	if n := utf8.RuneCountInString(doc); n > policy.MaxDocumentLength {
		t.Fatalf("the draft has %d characters", n)
	}
	if !strings.Contains(doc, `"Action":["oss:GetObject"],"Resource":["*"]`) || strings.Contains(doc, `"oss:PutObject"],"Resource":["*"]`) {
		t.Errorf("the collapse did not start with the action of most resources:\n%s", doc)
	}
	if _, err := policy.Parse(doc); err != nil {
		t.Errorf("the draft does not parse: %v", err)
	}
}
