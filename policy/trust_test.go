package policy_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"ramconsole/policy"
)

const otherAcct = "6543210987654321"

// trustStmt renders one trust statement: effect, action (or "NotAction:..."; "" for none), the JSON text of a
// Principal ("" for none) and of a Condition block ("" for none).
func trustStmt(effect, action, principal, cond string) string {
	parts := []string{`"Effect":"` + effect + `"`}
	if action != "" {
		elem := "Action"
		if rest, ok := strings.CutPrefix(action, "NotAction:"); ok {
			elem, action = "NotAction", rest
		}
		parts = append(parts, `"`+elem+`":`+list(action))
	}
	if principal != "" {
		parts = append(parts, `"Principal":`+principal)
	}
	if cond != "" {
		parts = append(parts, `"Condition":`+cond)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// trust0 is a trust policy of one Allow statement of sts:AssumeRole for principal.
func trust0(principal string) string { return doc(trustStmt("Allow", "sts:AssumeRole", principal, "")) }

const (
	rootPrincipal  = `{"RAM":"acs:ram::` + acct + `:root"}`
	alicePrincipal = `{"RAM":["acs:ram::` + acct + `:user/alice"]}`
	ecsPrincipal   = `{"Service":"ecs.aliyuncs.com"}`
)

func TestParseTrustValid(t *testing.T) {
	tests := []struct{ name, text string }{
		{"this account's root", trust0(rootPrincipal)},
		{"a RAM user", trust0(alicePrincipal)},
		{"a RAM role", trust0(`{"RAM":"acs:ram::` + acct + `:role/ops.admin-1"}`)},
		{"another account's root and one of its users", trust0(`{"RAM":["acs:ram::` + otherAcct + `:root","acs:ram::` + otherAcct + `:user/bob_1.x-y"]}`)},
		{"a service", trust0(ecsPrincipal)},
		{"a service in capitals", trust0(`{"Service":["ECS.AliyunCS.com","actiontrail.aliyuncs.com"]}`)},
		{"an identity provider", trust0(`{"Federated":"acs:ram::` + acct + `:saml-provider/idp"}`)},
		{"several kinds of principal in one statement", trust0(`{"RAM":"acs:ram::` + acct + `:root","Service":"ecs.aliyuncs.com","Federated":["x"]}`)},
		{"the action as a pattern", doc(trustStmt("Allow", "sts:*", rootPrincipal, ""))},
		{"the action in another letter case", doc(trustStmt("Allow", "STS:assumerole", rootPrincipal, ""))},
		{"the star action", doc(trustStmt("Allow", "*", rootPrincipal, ""))},
		{"NotAction that leaves sts:AssumeRole", doc(trustStmt("Allow", "NotAction:ram:*", rootPrincipal, ""))},
		{"ExternalId condition", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, `{"StringEquals":{"sts:ExternalId":"abcd1234"}}`))},
		{"a Deny statement", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, ""), trustStmt("Deny", "sts:AssumeRole", alicePrincipal, ""))},
		{"Alibaba's documented example", `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + acct + `:root"]}}],"Version":"1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := policy.ParseTrust(tc.text); err != nil {
				t.Errorf("ParseTrust(%s) = %v, want no error", tc.text, err)
			}
		})
	}
}

func TestParseTrustInvalid(t *testing.T) {
	const sts = "sts:AssumeRole"
	notRAM := `is not a RAM principal ("acs:ram::<AccountId>:root", "acs:ram::<AccountId>:user/<UserName>" or "acs:ram::<AccountId>:role/<RoleName>")`
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"syntax error carries line and column", "{\n\"Version\":\"1\",\n\"Statement\":[{\"Principal\" {}}]}",
			[]string{`line 3, column 27: unexpected character '{', expected ':' after key "Principal"`}},
		{"a statement without a Principal", doc(trustStmt("Allow", sts, rootPrincipal, ""), trustStmt("Allow", sts, "", "")),
			[]string{"Statement[1]: a trust policy statement needs a Principal"}},
		{"a Resource", doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Principal":` + rootPrincipal + `,"Resource":"*"}`),
			[]string{"Statement[0].Resource: a trust policy has no Resource (the role it belongs to is the resource)"}},
		{"an action of another service", doc(trustStmt("Allow", "ecs:StartInstance", rootPrincipal, "")),
			[]string{`Statement[0].Action: "ecs:StartInstance" is not allowed in a trust policy: its only action is "sts:AssumeRole"`}},
		{"another STS action", doc(trustStmt("Allow", "sts:AssumeRole|sts:GetCallerIdentity", rootPrincipal, "")),
			[]string{`Statement[0].Action[1]: "sts:GetCallerIdentity" is not allowed in a trust policy: its only action is "sts:AssumeRole"`}},
		{"an action pattern that cannot match", doc(trustStmt("Allow", "sts:Get*", rootPrincipal, "")),
			[]string{`Statement[0].Action: "sts:Get*" is not allowed in a trust policy: its only action is "sts:AssumeRole"`}},
		{"an invalid action keeps its message", doc(trustStmt("Allow", "sts", rootPrincipal, "")),
			[]string{`Statement[0].Action: "sts" is not an action ("*" or "service:Name")`}},
		{"NotAction that excludes sts:AssumeRole", doc(trustStmt("Deny", "NotAction:ram:*|sts:*", rootPrincipal, "")),
			[]string{`Statement[0].NotAction[1]: "sts:*" excludes "sts:AssumeRole", the only action of a trust policy, so the statement never applies`}},
		{"no action", doc(trustStmt("Allow", "", rootPrincipal, "")),
			[]string{`Statement[0]: missing "Action" (or "NotAction")`}},
		{"Principal must be an object", doc(trustStmt("Allow", sts, `"*"`, "")),
			[]string{`Statement[0].Principal: must be an object naming "RAM", "Service" or "Federated" principals`}},
		{"Principal must not be empty", doc(trustStmt("Allow", sts, `{}`, "")),
			[]string{`Statement[0].Principal: must not be empty`}},
		{"unknown principal type", doc(trustStmt("Allow", sts, `{"AWS":"arn:aws:iam::123456789012:root"}`, "")),
			[]string{`Statement[0].Principal: unknown principal type "AWS" (use "RAM", "Service" or "Federated")`}},
		{"principal types are case-sensitive", doc(trustStmt("Allow", sts, `{"ram":"acs:ram::`+acct+`:root"}`, "")),
			[]string{`Statement[0].Principal: unknown principal type "ram" (use "RAM", "Service" or "Federated")`}},
		{"duplicate principal type", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:root","RAM":"acs:ram::`+acct+`:root"}`, "")),
			[]string{`Statement[0].Principal: duplicate element "RAM"`}},
		{"empty list of principals", doc(trustStmt("Allow", sts, `{"RAM":[]}`, "")),
			[]string{`Statement[0].Principal.RAM: must not be empty`}},
		{"principal of the wrong type", doc(trustStmt("Allow", sts, `{"Service":{"a":1}}`, "")),
			[]string{`Statement[0].Principal.Service: must be a string or a non-empty array of strings`}},
		{"principal list element of the wrong type", doc(trustStmt("Allow", sts, `{"RAM":["acs:ram::`+acct+`:root",1]}`, "")),
			[]string{`Statement[0].Principal.RAM[1]: must be a string`}},
		{"a bare account id", doc(trustStmt("Allow", sts, `{"RAM":["`+acct+`"]}`, "")),
			[]string{`Statement[0].Principal.RAM[0]: "` + acct + `" is not a RAM principal: write "acs:ram::` + acct + `:root" to trust the RAM users and roles of that account`}},
		{"a resource-style ARN", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram:*:`+acct+`:user/alice"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram:*:` + acct + `:user/alice" ` + notRAM}},
		{"a group", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:group/dev"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:group/dev" ` + notRAM}},
		{"an account id that is not 16 digits", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::12345:root"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::12345:root" is not a RAM principal: the account id must be 16 digits`}},
		{"a masked account id", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::123456789012****:root"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::123456789012****:root" is not a RAM principal: the account id must be 16 digits`}},
		{"a wildcard user name", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:user/*"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:user/*" is not a RAM principal: a user name is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-" (no wildcards)`}},
		{"an empty role name", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:role/"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:role/" is not a RAM principal: a role name is 1 to 64 characters of A-Z, a-z, 0-9, "." and "-" (no wildcards)`}},
		{"an underscore in a role name", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:role/a_b"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:role/a_b" is not a RAM principal: a role name is 1 to 64 characters of A-Z, a-z, 0-9, "." and "-" (no wildcards)`}},
		{"a user name too long", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:user/`+strings.Repeat("a", 65)+`"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:user/` + strings.Repeat("a", 65) + `" is not a RAM principal: a user name is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-" (no wildcards)`}},
		{"root with a suffix", doc(trustStmt("Allow", sts, `{"RAM":"acs:ram::`+acct+`:root/x"}`, "")),
			[]string{`Statement[0].Principal.RAM: "acs:ram::` + acct + `:root/x" ` + notRAM}},
		{"a service without the domain", doc(trustStmt("Allow", sts, `{"Service":"ecs"}`, "")),
			[]string{`Statement[0].Principal.Service: "ecs" is not a service principal ("<service>.aliyuncs.com", such as "ecs.aliyuncs.com")`}},
		{"a service with an empty code", doc(trustStmt("Allow", sts, `{"Service":[".aliyuncs.com"]}`, "")),
			[]string{`Statement[0].Principal.Service[0]: ".aliyuncs.com" is not a service principal ("<service>.aliyuncs.com", such as "ecs.aliyuncs.com")`}},
		{"a service wildcard", doc(trustStmt("Allow", sts, `{"Service":"*.aliyuncs.com"}`, "")),
			[]string{`Statement[0].Principal.Service: "*.aliyuncs.com" is not a service principal ("<service>.aliyuncs.com", such as "ecs.aliyuncs.com")`}},
		{"an empty identity provider", doc(trustStmt("Allow", sts, `{"Federated":""}`, "")),
			[]string{`Statement[0].Principal.Federated: "" is not an identity provider (a non-empty name without spaces)`}},
		{"an identity provider with a space", doc(trustStmt("Allow", sts, `{"Federated":"a b"}`, "")),
			[]string{`Statement[0].Principal.Federated: "a b" is not an identity provider (a non-empty name without spaces)`}},
		{"conditions are checked as in identity policies", doc(trustStmt("Allow", sts, rootPrincipal, `{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}`)),
			[]string{`Statement[0].Condition.IpAddress.acs:SourceIp: "10.0.0.300" is not an IP or CIDR`}},
		{"every problem in document order", `{"Version":"2","Statement":[
			{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"},
			{"Effect":"Permit","Action":"sts:AssumeRole","Principal":{"RAM":"alice","Foo":[]}}]}`,
			[]string{
				`Version: must be "1", got "2"`,
				`Statement[0].Action: "ram:GetUser" is not allowed in a trust policy: its only action is "sts:AssumeRole"`,
				"Statement[0].Resource: a trust policy has no Resource (the role it belongs to is the resource)",
				"Statement[0]: a trust policy statement needs a Principal",
				`Statement[1].Effect: must be "Allow" or "Deny", got "Permit"`,
				`Statement[1].Principal.RAM: "alice" ` + notRAM,
				`Statement[1].Principal: unknown principal type "Foo" (use "RAM", "Service" or "Federated")`,
			}},
		{"the length limit applies", trust0(rootPrincipal) + strings.Repeat(" ", policy.MaxDocumentLength),
			[]string{"document is 6271 characters long, longer than the limit of 6144"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.ParseTrust(tc.text)
			var verr *policy.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ParseTrust(%s) = %v, %v, want a *ValidationError", tc.text, d, err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseTrust(%s) problems =\n  %s\nwant\n  %s", tc.text, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// The Principal element belongs to trust policies only: an identity policy naming one is refused, and a trust policy
// is not an identity policy.
func TestParseRefusesPrincipal(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"Principal in an identity policy", st0(okStmt + `,"Principal":` + rootPrincipal),
			[]string{"Statement[0].Principal: the Principal element is only allowed in a role's trust policy"}},
		{"Principal of any shape", `{"Version":"1","Statement":[{` + okStmt + `},{` + okStmt + `,"Principal":"*"}]}`,
			[]string{"Statement[1].Principal: the Principal element is only allowed in a role's trust policy"}},
		{"a trust policy is not an identity policy", trust0(rootPrincipal),
			[]string{`Statement[0].Principal: the Principal element is only allowed in a role's trust policy`, `Statement[0]: missing "Resource"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse(tc.text)
			var verr *policy.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse(%s) = %v, want a *ValidationError", tc.text, err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%s) problems =\n  %s\nwant\n  %s", tc.text, strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestTrustMarshalJSONCanonical(t *testing.T) {
	text := `{"Statement":[{"Condition":{"StringEquals":{"sts:ExternalId":"x"}},"Principal":{"Federated":"idp",
		"Service":["ecs.aliyuncs.com","fc.aliyuncs.com"],"RAM":["acs:ram::` + acct + `:root"]},"Action":["sts:AssumeRole"],"Effect":"Allow"},
		{"Effect":"Deny","NotAction":"ram:*","Principal":{"RAM":"acs:ram::` + acct + `:user/bob"}}],"Version":"1"}`
	d, err := policy.ParseTrust(text)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::` + acct +
		`:root","Service":["ecs.aliyuncs.com","fc.aliyuncs.com"],"Federated":"idp"},"Condition":{"StringEquals":{"sts:ExternalId":"x"}}},` +
		`{"Effect":"Deny","NotAction":"ram:*","Principal":{"RAM":"acs:ram::` + acct + `:user/bob"}}]}`
	if string(got) != want {
		t.Errorf("MarshalJSON() =\n%s\nwant\n%s", got, want)
	}
	d2, err := policy.ParseTrust(string(got))
	if err != nil {
		t.Fatalf("ParseTrust(MarshalJSON()) = %v", err)
	}
	if !reflect.DeepEqual(d, d2) {
		t.Errorf("ParseTrust(MarshalJSON(d)) = %+v, want %+v", d2, d)
	}
	wantSt := policy.Statement{Effect: "Deny", NotAction: []string{"ram:*"}, Principal: policy.Principal{RAM: []string{"acs:ram::" + acct + ":user/bob"}}}
	if !reflect.DeepEqual(d.Statements[1], wantSt) {
		t.Errorf("Statements[1] = %+v, want %+v", d.Statements[1], wantSt)
	}
}

func mustTrust(t testing.TB, text string) *policy.Compiled {
	t.Helper()
	d, err := policy.ParseTrust(text)
	if err != nil {
		t.Fatalf("ParseTrust(%s) = %v", text, err)
	}
	return policy.Compile(policy.Source{Type: "Trust", Name: "ops"}, d)
}

func user(account, name string) policy.Caller {
	return policy.Caller{Kind: policy.CallerRAMUser, Account: account, ARN: "acs:ram::" + account + ":user/" + name}
}

func roleSession(account, name string) policy.Caller {
	return policy.Caller{Kind: policy.CallerRoleSession, Account: account, ARN: "acs:ram::" + account + ":role/" + name}
}

func service(code string) policy.Caller {
	return policy.Caller{Kind: policy.CallerService, Service: code}
}

func TestEvaluateTrust(t *testing.T) {
	externalID := func(ids ...string) string {
		return doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, `{"StringEquals":{"sts:ExternalId":`+list(strings.Join(ids, "|"))+`}}`))
	}
	tests := []struct {
		name    string
		policy  string
		caller  policy.Caller
		ctx     map[string]string
		want    policy.Decision
		matched []int // statement indexes of the reasons
	}{
		// RAM root: every RAM user and role of that account.
		{"root trusts a user of the account", trust0(rootPrincipal), user(acct, "alice"), nil, A, []int{0}},
		{"root trusts a role session of the account", trust0(rootPrincipal), roleSession(acct, "ci"), nil, A, []int{0}},
		{"root does not trust a user of another account", trust0(rootPrincipal), user(otherAcct, "alice"), nil, I, nil},
		{"root of another account trusts its users", trust0(`{"RAM":"acs:ram::` + otherAcct + `:root"}`), user(otherAcct, "bob"), nil, A, []int{0}},
		{"root does not trust a service", trust0(rootPrincipal), service("ecs.aliyuncs.com"), nil, I, nil},

		// Exact user and role ARNs.
		{"a user ARN trusts that user", trust0(alicePrincipal), user(acct, "alice"), nil, A, []int{0}},
		{"a user ARN does not trust another user", trust0(alicePrincipal), user(acct, "bob"), nil, I, nil},
		{"a user ARN is case-sensitive", trust0(alicePrincipal), user(acct, "Alice"), nil, I, nil},
		{"a user ARN is not a prefix", trust0(alicePrincipal), user(acct, "alice2"), nil, I, nil},
		{"a user ARN does not trust the namesake in another account", trust0(alicePrincipal), user(otherAcct, "alice"), nil, I, nil},
		{"a user ARN does not trust a role of that name", trust0(alicePrincipal), roleSession(acct, "alice"), nil, I, nil},
		{"a role ARN trusts that role's sessions", trust0(`{"RAM":"acs:ram::` + acct + `:role/ci"}`), roleSession(acct, "ci"), nil, A, []int{0}},
		{"a role ARN does not trust a user of that name", trust0(`{"RAM":"acs:ram::` + acct + `:role/ci"}`), user(acct, "ci"), nil, I, nil},
		{"any of several principals", trust0(`{"RAM":["acs:ram::` + acct + `:user/bob","acs:ram::` + acct + `:user/alice"]}`), user(acct, "alice"), nil, A, []int{0}},

		// Callers that do not hold together match nothing.
		{"a user whose ARN names another account", trust0(rootPrincipal),
			policy.Caller{Kind: policy.CallerRAMUser, Account: acct, ARN: "acs:ram::" + otherAcct + ":user/alice"}, nil, I, nil},
		{"a user whose ARN is a role's", trust0(rootPrincipal),
			policy.Caller{Kind: policy.CallerRAMUser, Account: acct, ARN: "acs:ram::" + acct + ":role/ci"}, nil, I, nil},
		{"a user without a name", trust0(rootPrincipal),
			policy.Caller{Kind: policy.CallerRAMUser, Account: acct, ARN: "acs:ram::" + acct + ":user/"}, nil, I, nil},
		{"a caller of no kind", trust0(rootPrincipal), policy.Caller{Account: acct, ARN: "acs:ram::" + acct + ":user/alice"}, nil, I, nil},
		{"a caller without an account", trust0(`{"RAM":"acs:ram::` + acct + `:user/alice"}`),
			policy.Caller{Kind: policy.CallerRAMUser, ARN: "acs:ram::" + acct + ":user/alice"}, nil, I, nil},

		// Services, case-insensitively.
		{"a service trusts that service", trust0(ecsPrincipal), service("ecs.aliyuncs.com"), nil, A, []int{0}},
		{"a service in another letter case", trust0(ecsPrincipal), service("ECS.aliyuncs.COM"), nil, A, []int{0}},
		{"a service does not trust another service", trust0(ecsPrincipal), service("fc.aliyuncs.com"), nil, I, nil},
		{"a service does not trust a RAM user", trust0(ecsPrincipal), user(acct, "ecs.aliyuncs.com"), nil, I, nil},

		// Identity providers: matched as given.
		{"a federated principal as given", trust0(`{"Federated":"acs:ram::` + acct + `:saml-provider/idp"}`),
			policy.Caller{Kind: policy.CallerFederated, ARN: "acs:ram::" + acct + ":saml-provider/idp"}, nil, A, []int{0}},
		{"a federated principal is case-sensitive", trust0(`{"Federated":"acs:ram::` + acct + `:saml-provider/idp"}`),
			policy.Caller{Kind: policy.CallerFederated, ARN: "acs:ram::" + acct + ":saml-provider/IdP"}, nil, I, nil},

		// Deny wins.
		{"Deny of the user beats Allow of the account", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, ""), trustStmt("Deny", "sts:AssumeRole", alicePrincipal, "")),
			user(acct, "alice"), nil, D, []int{0, 1}},
		{"Deny of one user leaves the others", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, ""), trustStmt("Deny", "sts:AssumeRole", alicePrincipal, "")),
			user(acct, "bob"), nil, A, []int{0}},
		{"Deny without an Allow", doc(trustStmt("Deny", "sts:*", rootPrincipal, "")), user(acct, "bob"), nil, D, []int{0}},

		// Actions.
		{"star action", doc(trustStmt("Allow", "*", rootPrincipal, "")), user(acct, "alice"), nil, A, []int{0}},
		{"action pattern", doc(trustStmt("Allow", "sts:Assume*", rootPrincipal, "")), user(acct, "alice"), nil, A, []int{0}},
		{"NotAction that leaves sts:AssumeRole", doc(trustStmt("Allow", "NotAction:ram:*", rootPrincipal, "")), user(acct, "alice"), nil, A, []int{0}},

		// sts:ExternalId and other conditions.
		{"ExternalId present and equal", externalID("abcd1234"), user(acct, "alice"), map[string]string{"sts:ExternalId": "abcd1234"}, A, []int{0}},
		{"ExternalId key named in another letter case", externalID("abcd1234"), user(acct, "alice"), map[string]string{"STS:externalid": "abcd1234"}, A, []int{0}},
		{"ExternalId absent", externalID("abcd1234"), user(acct, "alice"), nil, I, nil},
		{"ExternalId wrong", externalID("abcd1234"), user(acct, "alice"), map[string]string{"sts:ExternalId": "abcd"}, I, nil},
		{"ExternalId compared case-sensitively", externalID("abcd1234"), user(acct, "alice"), map[string]string{"sts:ExternalId": "ABCD1234"}, I, nil},
		{"ExternalId any of several", externalID("x", "abcd1234"), user(acct, "alice"), map[string]string{"sts:ExternalId": "abcd1234"}, A, []int{0}},
		{"Deny without MFA", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, ""), trustStmt("Deny", "sts:AssumeRole", rootPrincipal, `{"Bool":{"acs:MFAPresent":"false"}}`)),
			user(acct, "alice"), map[string]string{"acs:MFAPresent": "false"}, D, []int{0, 1}},
		{"source network", doc(trustStmt("Allow", "sts:AssumeRole", rootPrincipal, `{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`)),
			user(acct, "alice"), map[string]string{"acs:SourceIp": "192.168.0.1"}, I, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustTrust(t, tc.policy)
			req := &policy.TrustRequest{Caller: tc.caller, Context: context(tc.ctx)}
			if got := c.EvaluateTrust(req); got != tc.want {
				t.Errorf("EvaluateTrust(%+v) = %v, want %v", tc.caller, got, tc.want)
			}
			res := c.ExplainTrust(req)
			if res.Decision != tc.want {
				t.Errorf("ExplainTrust(%+v).Decision = %v, want %v", tc.caller, res.Decision, tc.want)
			}
			var got []int
			for _, r := range res.Matched {
				got = append(got, r.Statement)
			}
			if !reflect.DeepEqual(got, tc.matched) {
				t.Errorf("ExplainTrust(%+v) matched statements %v, want %v", tc.caller, got, tc.matched)
			}
		})
	}
}

func TestExplainTrustReasons(t *testing.T) {
	text := doc(trustStmt("Allow", "sts:AssumeRole", ecsPrincipal, ""), trustStmt("Allow", "sts:AssumeRole", rootPrincipal, ""),
		trustStmt("Deny", "sts:AssumeRole", alicePrincipal, ""))
	d, err := policy.ParseTrust(text)
	if err != nil {
		t.Fatal(err)
	}
	c := policy.Compile(policy.Source{Type: "Trust", Name: "ops"}, d)
	res := c.ExplainTrust(&policy.TrustRequest{Caller: user(acct, "alice")})
	want := policy.Result{Decision: D, Matched: []policy.Reason{
		{PolicyType: "Trust", PolicyName: "ops", Statement: 1, Effect: "Allow"},
		{PolicyType: "Trust", PolicyName: "ops", Statement: 2, Effect: "Deny"},
	}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("ExplainTrust = %+v, want %+v", res, want)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Decision: ExplicitDeny\n  Allow: Trust policy ops, Statement[1]\n  Deny: Trust policy ops, Statement[2]\n"; got != want {
		t.Errorf("WriteText() =\n%s\nwant\n%s", got, want)
	}
	b.Reset()
	if err := c.ExplainTrust(&policy.TrustRequest{Caller: service("fc.aliyuncs.com")}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Decision: ImplicitDeny\n  no statement matches\n"; got != want {
		t.Errorf("WriteText() = %q, want %q", got, want)
	}
}

// A trust policy decides who may assume a role, nothing else: compiled into a Set of identity policies it allows
// nothing, and an identity policy allows no one to assume a role.
func TestTrustAndIdentityStatementsStayApart(t *testing.T) {
	trust := mustTrust(t, doc(trustStmt("Allow", "*", rootPrincipal, "")))
	set := policy.NewSet(trust)
	for _, res := range []string{"*", "acs:ram:*:" + acct + ":role/ops", userAlice} {
		req := &policy.Request{Action: "sts:AssumeRole", Resources: []string{res}}
		if got := set.Evaluate(req); got != I {
			t.Errorf("Evaluate(sts:AssumeRole on %s) with a trust policy = %v, want %v", res, got, I)
		}
		if got := set.Explain(req); got.Decision != I || len(got.Matched) != 0 {
			t.Errorf("Explain(sts:AssumeRole on %s) with a trust policy = %+v, want ImplicitDeny without reasons", res, got)
		}
	}
	identity := compile(t, policy.Source{Type: "Custom", Name: "All"}, allow("*", "*"))
	if got := identity.EvaluateTrust(&policy.TrustRequest{Caller: user(acct, "alice")}); got != I {
		t.Errorf("EvaluateTrust with an identity policy = %v, want %v", got, I)
	}
	var nilPolicy *policy.Compiled
	if got := nilPolicy.EvaluateTrust(&policy.TrustRequest{Caller: user(acct, "alice")}); got != I {
		t.Errorf("nil Compiled: EvaluateTrust = %v, want %v", got, I)
	}
	if got := trust.EvaluateTrust(nil); got != I {
		t.Errorf("EvaluateTrust(nil) = %v, want %v", got, I)
	}
	if got := trust.ExplainTrust(nil).Decision; got != I {
		t.Errorf("ExplainTrust(nil) = %v, want %v", got, I)
	}
}

// Compile trusts ParseTrust; a trust statement built by hand with an element ParseTrust would refuse never matches.
func TestCompileHandBuiltInvalidTrustStatementNeverMatches(t *testing.T) {
	root := policy.Principal{RAM: []string{"acs:ram::" + acct + ":root"}}
	tests := []struct {
		name string
		st   policy.Statement
	}{
		{"a bare account id", policy.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Principal: policy.Principal{RAM: []string{acct}}}},
		{"an invalid principal beside a valid one", policy.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"},
			Principal: policy.Principal{RAM: []string{"acs:ram::" + acct + ":root"}, Service: []string{"ecs"}}}},
		{"a Resource", policy.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: []string{"*"}, Principal: root}},
		{"an invalid action", policy.Statement{Effect: "Allow", Action: []string{"sts"}, Principal: root}},
		{"an invalid effect", policy.Statement{Effect: "allow", Action: []string{"sts:AssumeRole"}, Principal: root}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &policy.Document{Version: "1", Statements: []policy.Statement{tc.st}}
			c := policy.Compile(policy.Source{Type: "Trust", Name: "Hand"}, d)
			req := &policy.TrustRequest{Caller: user(acct, "alice")}
			if got := c.EvaluateTrust(req); got != I {
				t.Errorf("EvaluateTrust = %v, want %v", got, I)
			}
			if got := c.ExplainTrust(req).Decision; got != I {
				t.Errorf("ExplainTrust = %v, want %v", got, I)
			}
		})
	}
}

func TestEvaluateTrustDoesNotAllocate(t *testing.T) {
	c := mustTrust(t, doc(
		trustStmt("Allow", "sts:AssumeRole", `{"RAM":["acs:ram::`+otherAcct+`:root","acs:ram::`+acct+`:user/alice"],"Service":"ecs.aliyuncs.com"}`,
			`{"StringEquals":{"sts:ExternalId":"abcd1234"},"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`),
		trustStmt("Deny", "sts:*", `{"RAM":"acs:ram::`+acct+`:user/mallory"}`, ""),
	))
	ctx := context(map[string]string{"sts:ExternalId": "abcd1234", "acs:SourceIp": "10.0.0.1"})
	for _, caller := range []policy.Caller{user(acct, "alice"), user(otherAcct, "bob"), user(acct, "mallory"), service("ECS.aliyuncs.com"), roleSession(acct, "x")} {
		req := &policy.TrustRequest{Caller: caller, Context: ctx}
		if allocs := testing.AllocsPerRun(100, func() { c.EvaluateTrust(req) }); allocs != 0 {
			t.Errorf("EvaluateTrust(%+v) allocates %v times, want 0", caller, allocs)
		}
	}
}
