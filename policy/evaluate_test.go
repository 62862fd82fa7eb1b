package policy_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"ramconsole/policy"
)

const acct = "1234567890123456"

// stmt renders one statement. action may be "NotAction:..." to use NotAction; several actions or resources are
// separated by "|". cond is the JSON text of a Condition block or "".
func stmt(effect, action, resource, cond string) string {
	elem := "Action"
	if rest, ok := strings.CutPrefix(action, "NotAction:"); ok {
		elem, action = "NotAction", rest
	}
	s := fmt.Sprintf(`{"Effect":%q,%q:%s,"Resource":%s`, effect, elem, list(action), list(resource))
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

func list(s string) string {
	parts := strings.Split(s, "|")
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = fmt.Sprintf("%q", p)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "[" + strings.Join(q, ",") + "]"
}

func doc(stmts ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func allow(action, resource string) string { return doc(stmt("Allow", action, resource, "")) }
func deny(action, resource string) string  { return doc(stmt("Deny", action, resource, "")) }

// condAllow allows everything under one condition operator on one key.
func condAllow(op, key string, values ...string) string {
	return doc(stmt("Allow", "*", "*", fmt.Sprintf(`{%q:{%q:%s}}`, op, key, list(strings.Join(values, "|")))))
}

// mustSet parses and compiles documents as Custom policies P0, P1, ….
func mustSet(t testing.TB, docs ...string) *policy.Set {
	t.Helper()
	var compiled []*policy.Compiled
	for i, text := range docs {
		d, err := policy.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", text, err)
		}
		compiled = append(compiled, policy.Compile(policy.Source{Type: "Custom", Name: fmt.Sprintf("P%d", i), Version: "v1"}, d))
	}
	return policy.NewSet(compiled...)
}

func context(kv map[string]string) *policy.Context {
	c := &policy.Context{}
	for k, v := range kv {
		c.Set(k, v)
	}
	return c
}

type evalCase struct {
	name      string
	policies  []string
	action    string
	resources []string
	ctx       map[string]string
	want      policy.Decision
}

const (
	userAlice = "acs:ram:*:" + acct + ":user/alice"
	userBob   = "acs:ram:*:" + acct + ":user/bob"
	groupDev  = "acs:ram:*:" + acct + ":group/dev"
	ecsInst   = "acs:ecs:cn-hangzhou:" + acct + ":instance/i-prod-001"
)

var (
	A, D, I = policy.Allow, policy.ExplicitDeny, policy.ImplicitDeny
)

func evalCases() []evalCase {
	one := func(r string) []string { return []string{r} }
	cases := []evalCase{
		// Actions: exact names and wildcards.
		{"exact action matches", []string{allow("ram:GetUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"different action does not match", []string{allow("ram:GetUser", "*")}, "ram:ListUsers", one(userAlice), nil, I},
		{"action is not a prefix match", []string{allow("ram:GetUser", "*")}, "ram:GetUsers", one(userAlice), nil, I},
		{"service star matches every action of the service", []string{allow("ram:*", "*")}, "ram:DeleteUser", one(userAlice), nil, A},
		{"service star does not match another service", []string{allow("ram:*", "*")}, "ecs:DescribeInstances", one(ecsInst), nil, I},
		{"trailing star matches a prefix", []string{allow("ram:Get*", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"trailing star does not match other prefixes", []string{allow("ram:Get*", "*")}, "ram:ListUsers", one(userAlice), nil, I},
		{"star matches the empty string", []string{allow("ram:GetUser*", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"leading star matches a suffix", []string{allow("ram:*User", "*")}, "ram:DeleteUser", one(userAlice), nil, A},
		{"leading star requires the suffix", []string{allow("ram:*User", "*")}, "ram:ListUsers", one(userAlice), nil, I},
		{"star in the middle", []string{allow("ram:Get*Policy", "*")}, "ram:GetPolicy", one(userAlice), nil, A},
		{"several stars", []string{allow("ram:*Policy*To*", "*")}, "ram:AttachPolicyToUser", one(userAlice), nil, A},
		{"several stars in order only", []string{allow("ram:*To*Policy", "*")}, "ram:AttachPolicyToUser", one(userAlice), nil, I},
		{"question mark matches one character", []string{allow("ram:?etUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"question mark does not match zero characters", []string{allow("ram:G?etUser", "*")}, "ram:GetUser", one(userAlice), nil, I},
		{"question mark does not match two characters", []string{allow("ram:?tUser", "*")}, "ram:GetUser", one(userAlice), nil, I},
		{"question mark in the service", []string{allow("r?m:GetUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"star alone matches every action", []string{allow("*", "*")}, "ecs:DeleteInstance", one(ecsInst), nil, A},
		{"star service with a name pattern", []string{allow("*:Describe*", "*")}, "ecs:DescribeInstances", one(ecsInst), nil, A},
		{"star service with a name pattern needs the name", []string{allow("*:Describe*", "*")}, "ecs:DeleteInstance", one(ecsInst), nil, I},
		{"any action of a list matches", []string{allow("ecs:Start*|ram:GetUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"statement with two services is found under both", []string{allow("ecs:Start*|ram:GetUser", "*")}, "ecs:StartInstance", one(ecsInst), nil, A},
		{"statement with two services keeps their names apart", []string{allow("ecs:Start*|ram:GetUser", "*")}, "ecs:GetUser", one(ecsInst), nil, I},
		{"request action without a colon only matches star", []string{allow("ram:*", "*")}, "GetUser", one(userAlice), nil, I},
		{"request action without a colon matches star alone", []string{allow("*", "*")}, "GetUser", one(userAlice), nil, A},

		// Actions are case-insensitive.
		{"action case: lower-case policy, mixed-case request", []string{allow("ram:getuser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"action case: upper-case request", []string{allow("ram:GetUser", "*")}, "RAM:GETUSER", one(userAlice), nil, A},
		{"action case: service of the request in capitals", []string{allow("ram:List*", "*")}, "Ram:ListUsers", one(userAlice), nil, A},
		{"action case: wildcard prefix", []string{allow("RAM:get*", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"action case: star service", []string{allow("*:describe*", "*")}, "ECS:DescribeInstances", one(ecsInst), nil, A},
		{"action case: question mark pattern", []string{allow("ram:?ETUSER", "*")}, "ram:getuser", one(userAlice), nil, A},

		// Resources.
		{"resource star matches anything", []string{allow("ram:GetUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"resource star matches a non-ARN resource", []string{allow("actiontrail:LookupEvents", "*")}, "actiontrail:LookupEvents", one("*"), nil, A},
		{"exact resource matches", []string{allow("ram:GetUser", userAlice)}, "ram:GetUser", one(userAlice), nil, A},
		{"exact resource does not match another", []string{allow("ram:GetUser", userAlice)}, "ram:GetUser", one(userBob), nil, I},
		{"resource trailing star", []string{allow("ram:GetUser", "acs:ram:*:"+acct+":user/*")}, "ram:GetUser", one(userAlice), nil, A},
		{"resource trailing star keeps the type", []string{allow("ram:GetGroup", "acs:ram:*:"+acct+":user/*")}, "ram:GetGroup", one(groupDev), nil, I},
		{"resource is case-sensitive in the relative id", []string{allow("ram:GetUser", "acs:ram:*:"+acct+":user/Alice")}, "ram:GetUser", one(userAlice), nil, I},
		{"resource is case-sensitive in the service", []string{allow("ram:GetUser", "acs:RAM:*:"+acct+":user/alice")}, "ram:GetUser", one(userAlice), nil, I},
		{"resource question mark", []string{allow("ram:GetUser", "acs:ram:*:"+acct+":user/b?b")}, "ram:GetUser", one(userBob), nil, A},
		{"resource question mark needs one character", []string{allow("ram:GetUser", "acs:ram:*:"+acct+":user/bo?b")}, "ram:GetUser", one(userBob), nil, I},
		{"resource star region matches a concrete region", []string{allow("ecs:*", "acs:ecs:*:"+acct+":instance/*")}, "ecs:StopInstance", one(ecsInst), nil, A},
		{"resource concrete region does not match another", []string{allow("ecs:*", "acs:ecs:cn-beijing:"+acct+":instance/*")}, "ecs:StopInstance", one(ecsInst), nil, I},
		{"resource star account matches any account", []string{allow("ecs:*", "acs:ecs:*:*:instance/*")}, "ecs:StopInstance", one(ecsInst), nil, A},
		{"resource other account does not match", []string{allow("ecs:*", "acs:ecs:*:999:instance/*")}, "ecs:StopInstance", one(ecsInst), nil, I},
		{"resource relative id may contain colons", []string{allow("oss:GetObject", "acs:oss:*:*:bucket/a:b*")}, "oss:GetObject", one("acs:oss:*:" + acct + ":bucket/a:b/c.txt"), nil, A},
		{"resource relative id may contain spaces", []string{allow("oss:GetObject", "acs:oss:*:*:bucket/My Documents/*")}, "oss:GetObject", one("acs:oss:*:" + acct + ":bucket/My Documents/a b.txt"), nil, A},
		{"resource star in the relative id crosses slashes", []string{allow("oss:GetObject", "acs:oss:*:*:bucket/*")}, "oss:GetObject", one("acs:oss:*:" + acct + ":bucket/x/y/z"), nil, A},
		{"resource star in the service does not cross a colon", []string{allow("*", "acs:*:"+acct+":user/alice:x")}, "ram:GetUser", one(userAlice), nil, I},
		{"any resource of a list matches", []string{allow("ram:GetUser", userBob+"|"+userAlice)}, "ram:GetUser", one(userAlice), nil, A},
		{"non-ARN request resource is matched by star only", []string{allow("ram:GetUser", "acs:*:*:*:*")}, "ram:GetUser", one("user/alice"), nil, I},
		{"ARN star pattern matches every ARN", []string{allow("ram:GetUser", "acs:*:*:*:*")}, "ram:GetUser", one(userAlice), nil, A},

		// Empty region or account in a policy pattern matches any value.
		{"empty region matches the star region of a request", []string{allow("ram:GetUser", "acs:ram::"+acct+":user/alice")}, "ram:GetUser", one(userAlice), nil, A},
		{"empty region matches a concrete region", []string{allow("ecs:*", "acs:ecs::"+acct+":instance/*")}, "ecs:StopInstance", one(ecsInst), nil, A},
		{"empty region matches an empty region", []string{allow("ram:DeleteVirtualMFADevice", "acs:ram::"+acct+":mfa/*")}, "ram:DeleteVirtualMFADevice", one("acs:ram::" + acct + ":mfa/dev1"), nil, A},
		{"empty account matches any account", []string{allow("ram:GetUser", "acs:ram:*::user/alice")}, "ram:GetUser", one(userAlice), nil, A},
		{"empty region and account", []string{allow("ram:GetUser", "acs:ram:::user/*")}, "ram:GetUser", one(userAlice), nil, A},
		{"empty region still requires the account", []string{allow("ram:GetUser", "acs:ram::999:user/alice")}, "ram:GetUser", one(userAlice), nil, I},
		{"a concrete region in the policy does not match an empty request region", []string{allow("ram:*", "acs:ram:cn-hangzhou:"+acct+":mfa/*")}, "ram:DeleteVirtualMFADevice", one("acs:ram::" + acct + ":mfa/dev1"), nil, I},

		// NotAction.
		{"NotAction allows what is not listed", []string{allow("NotAction:ram:*", "*")}, "ecs:StopInstance", one(ecsInst), nil, A},
		{"NotAction does not allow what is listed", []string{allow("NotAction:ram:*", "*")}, "ram:GetUser", one(userAlice), nil, I},
		{"NotAction is case-insensitive", []string{allow("NotAction:RAM:GETUSER", "*")}, "ram:GetUser", one(userAlice), nil, I},
		{"NotAction list excludes every entry", []string{allow("NotAction:ram:*|ims:*", "*")}, "ims:GetUser", one(userAlice), nil, I},
		{"NotAction Deny denies what is not listed", []string{allow("*", "*"), deny("NotAction:ecs:Describe*", "*")}, "ecs:StopInstance", one(ecsInst), nil, D},
		{"NotAction Deny leaves what is listed", []string{allow("*", "*"), deny("NotAction:ecs:Describe*", "*")}, "ecs:DescribeInstances", one(ecsInst), nil, A},
		{"NotAction still needs the resource", []string{allow("NotAction:ram:*", "acs:ecs:*:*:disk/*")}, "ecs:StopInstance", one(ecsInst), nil, I},

		// Deny beats Allow.
		{"deny beats allow in the same policy", []string{doc(stmt("Allow", "ram:*", "*", ""), stmt("Deny", "ram:DeleteUser", "*", ""))}, "ram:DeleteUser", one(userAlice), nil, D},
		{"deny before allow in the same policy", []string{doc(stmt("Deny", "ram:DeleteUser", "*", ""), stmt("Allow", "ram:*", "*", ""))}, "ram:DeleteUser", one(userAlice), nil, D},
		{"deny beats allow across policies", []string{allow("*", "*"), deny("ram:Delete*", "*")}, "ram:DeleteUser", one(userAlice), nil, D},
		{"deny in the first policy beats a later allow", []string{deny("ram:Delete*", "*"), allow("*", "*")}, "ram:DeleteUser", one(userAlice), nil, D},
		{"deny alone is an explicit deny", []string{deny("ram:*", "*")}, "ram:GetUser", one(userAlice), nil, D},
		{"deny on another resource does not deny", []string{allow("*", "*"), deny("ram:*", userBob)}, "ram:GetUser", one(userAlice), nil, A},
		{"deny of another action does not deny", []string{allow("*", "*"), deny("ram:DeleteUser", "*")}, "ram:GetUser", one(userAlice), nil, A},
		{"deny with a star service", []string{allow("ram:*", "*"), deny("*:Delete*", "*")}, "ram:DeleteUser", one(userAlice), nil, D},
		{"no statement is an implicit deny", []string{allow("ecs:*", "*")}, "ram:GetUser", one(userAlice), nil, I},
		{"no policy is an implicit deny", nil, "ram:GetUser", one(userAlice), nil, I},

		// Multi-resource requests.
		{"two resources both allowed", []string{allow("ram:AddUserToGroup", "*")}, "ram:AddUserToGroup", []string{userAlice, groupDev}, nil, A},
		{"two resources, one not allowed", []string{allow("ram:AddUserToGroup", "acs:ram:*:*:user/*")}, "ram:AddUserToGroup", []string{userAlice, groupDev}, nil, I},
		{"two resources allowed by different statements", []string{allow("ram:AddUserToGroup", "acs:ram:*:*:user/*"), allow("ram:AddUserToGroup", "acs:ram:*:*:group/*")}, "ram:AddUserToGroup", []string{userAlice, groupDev}, nil, A},
		{"two resources, one denied", []string{allow("*", "*"), deny("ram:*", groupDev)}, "ram:AddUserToGroup", []string{userAlice, groupDev}, nil, D},
		{"deny on the second resource beats an implicit deny on the first", []string{allow("ram:*", groupDev), deny("ram:*", "acs:ram:*:*:group/*")}, "ram:AddUserToGroup", []string{userAlice, groupDev}, nil, D},
		{"no resources is an implicit deny", []string{allow("*", "*")}, "ram:ListUsers", nil, nil, I},

		// Condition logic.
		{"OR within values: first value", []string{condAllow("StringEquals", "acs:UserAgent", "cli", "console")}, "ram:GetUser", one(userAlice), map[string]string{"acs:UserAgent": "cli"}, A},
		{"OR within values: second value", []string{condAllow("StringEquals", "acs:UserAgent", "cli", "console")}, "ram:GetUser", one(userAlice), map[string]string{"acs:UserAgent": "console"}, A},
		{"OR within values: none", []string{condAllow("IpAddress", "acs:SourceIp", "10.0.0.0/8", "192.168.0.0/16")}, "ram:GetUser", one(userAlice), map[string]string{"acs:SourceIp": "172.16.0.1"}, I},
		{"negated operator with several values needs none to match", []string{condAllow("StringNotEquals", "acs:UserAgent", "cli", "console")}, "ram:GetUser", one(userAlice), map[string]string{"acs:UserAgent": "console"}, I},
		{"AND across keys: both hold", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:SecureTransport":"true","acs:MFAPresent":"true"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SecureTransport": "true", "acs:MFAPresent": "true"}, A},
		{"AND across keys: one fails", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:SecureTransport":"true","acs:MFAPresent":"true"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SecureTransport": "true", "acs:MFAPresent": "false"}, I},
		{"AND across keys: one absent", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:SecureTransport":"true","acs:MFAPresent":"true"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SecureTransport": "true"}, I},
		{"AND across operators: both hold", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:SecureTransport":"true"},"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SecureTransport": "true", "acs:SourceIp": "10.1.1.1"}, A},
		{"AND across operators: one fails", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:SecureTransport":"true"},"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SecureTransport": "true", "acs:SourceIp": "11.1.1.1"}, I},
		{"condition key is case-insensitive in the policy", []string{condAllow("StringEquals", "ACS:USERAGENT", "cli")}, "ram:GetUser", one(userAlice), map[string]string{"acs:UserAgent": "cli"}, A},
		{"condition key is case-insensitive in the request", []string{condAllow("StringEquals", "acs:UserAgent", "cli")}, "ram:GetUser", one(userAlice), map[string]string{"Acs:useragent": "cli"}, A},
		{"any key name may be used", []string{condAllow("StringEquals", "ecs:tag/env", "prod")}, "ecs:StopInstance", one(ecsInst), map[string]string{"ecs:tag/env": "prod"}, A},
		{"a conditional deny applies when its condition holds", []string{allow("*", "*"), doc(stmt("Deny", "*", "*", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SourceIp": "8.8.8.8"}, D},
		{"a conditional deny does not apply when its condition fails", []string{allow("*", "*"), doc(stmt("Deny", "*", "*", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:SourceIp": "10.0.0.8"}, A},
		{"a conditional deny applies when its negated key is absent", []string{allow("*", "*"), doc(stmt("Deny", "*", "*", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`))}, "ram:GetUser", one(userAlice), nil, D},
		{"unquoted JSON numbers are numeric values", []string{doc(stmt("Allow", "*", "*", `{"NumericLessThan":{"x:count":10}}`))}, "ram:GetUser", one(userAlice), map[string]string{"x:count": "9"}, A},
		{"unquoted JSON booleans are bool values", []string{doc(stmt("Allow", "*", "*", `{"Bool":{"acs:MFAPresent":true}}`))}, "ram:GetUser", one(userAlice), map[string]string{"acs:MFAPresent": "true"}, A},
		{"dates in January and February of year 0000 keep their order", []string{condAllow("DateLessThan", "acs:CurrentTime", "0000-03-01")}, "ram:GetUser", one(userAlice), map[string]string{"acs:CurrentTime": "0000-02-29"}, A},
		{"year 0000 dates a day apart are not equal", []string{condAllow("DateEquals", "acs:CurrentTime", "0000-03-01")}, "ram:GetUser", one(userAlice), map[string]string{"acs:CurrentTime": "0000-02-29T00:00:00Z"}, I},
	}
	return append(cases, operatorCases()...)
}

// operatorCases: every operator with a matching, a non-matching and an absent key, plus unparseable request
// values for the typed families.
func operatorCases() []evalCase {
	type opCase struct {
		op, key string
		values  []string
		match   string // a request value for which the operator holds
		miss    string // one for which it does not
		absent  policy.Decision
		bad     string // a request value that does not parse ("" = not a typed operator)
	}
	t0 := "2026-01-01T00:00:00Z"
	ops := []opCase{
		{"StringEquals", "acs:UserAgent", []string{"prod"}, "prod", "Prod", I, ""},
		{"StringNotEquals", "acs:UserAgent", []string{"prod"}, "dev", "prod", A, ""},
		{"StringEqualsIgnoreCase", "acs:UserAgent", []string{"Prod"}, "PROD", "dev", I, ""},
		{"StringNotEqualsIgnoreCase", "acs:UserAgent", []string{"Prod"}, "dev", "pROD", A, ""},
		{"StringLike", "acs:PrincipalArn", []string{"acs:ram::*:user/dev-*"}, "acs:ram::1:user/dev-ann", "acs:ram::1:user/ops-ann", I, ""},
		{"StringLike", "acs:UserAgent", []string{"curl/?.0"}, "curl/8.0", "curl/10.0", I, ""},
		{"StringNotLike", "acs:PrincipalArn", []string{"acs:ram::*:user/dev-*"}, "acs:ram::1:user/ops-ann", "acs:ram::1:user/dev-ann", A, ""},
		{"NumericEquals", "x:n", []string{"10"}, "10.0", "11", I, "ten"},
		{"NumericNotEquals", "x:n", []string{"10"}, "11", "1e1", A, "ten"},
		{"NumericLessThan", "x:n", []string{"10"}, "9.5", "10", I, "0x9"},
		{"NumericLessThanEquals", "x:n", []string{"10"}, "10", "10.01", I, ""},
		{"NumericGreaterThan", "x:n", []string{"-1.5"}, "0", "-1.5", I, "-"},
		{"NumericGreaterThanEquals", "x:n", []string{"10"}, "10", "9", I, "NaN"},
		{"DateEquals", "acs:CurrentTime", []string{t0}, "2026-01-01T08:00:00+08:00", "2026-01-01T00:00:01Z", I, "yesterday"},
		{"DateNotEquals", "acs:CurrentTime", []string{t0}, "2026-01-02T00:00:00Z", "2026-01-01", A, "2026-13-01T00:00:00Z"},
		{"DateLessThan", "acs:CurrentTime", []string{t0}, "2025-12-31T23:59:59Z", t0, I, "1735689600"},
		{"DateLessThanEquals", "acs:CurrentTime", []string{t0}, t0, "2026-01-01T00:00:00.5Z", I, ""},
		{"DateGreaterThan", "acs:CurrentTime", []string{t0}, "2026-01-01T00:00:00.001Z", t0, I, "2026-02-30T00:00:00Z"},
		{"DateGreaterThanEquals", "acs:CurrentTime", []string{t0}, "2025-12-31T20:00:00-04:00", "2025-12-31T23:59:59Z", I, ""},
		{"Bool", "acs:SecureTransport", []string{"true"}, "true", "false", I, "yes"},
		{"Bool", "acs:MFAPresent", []string{"false"}, "FALSE", "true", I, "1"},
		{"IpAddress", "acs:SourceIp", []string{"10.0.0.0/8"}, "10.20.30.40", "11.0.0.1", I, "10.0.0.300"},
		{"IpAddress", "acs:SourceIp", []string{"192.168.1.1"}, "192.168.1.1", "192.168.1.2", I, ""},
		{"IpAddress", "acs:SourceIp", []string{"2001:db8::/32"}, "2001:db8::1", "2001:db9::1", I, ""},
		{"IpAddress", "acs:SourceIp", []string{"10.0.0.0/24"}, "::ffff:10.0.0.1", "::1", I, ""},
		{"NotIpAddress", "acs:SourceIp", []string{"10.0.0.0/8", "172.16.0.0/12"}, "8.8.8.8", "172.16.3.4", A, "localhost"},
	}
	var out []evalCase
	for _, o := range ops {
		p := []string{condAllow(o.op, o.key, o.values...)}
		label := fmt.Sprintf("%s %v", o.op, o.values)
		out = append(out,
			evalCase{label + ": matching value " + o.match, p, "ram:GetUser", []string{userAlice}, map[string]string{o.key: o.match}, A},
			evalCase{label + ": non-matching value " + o.miss, p, "ram:GetUser", []string{userAlice}, map[string]string{o.key: o.miss}, I},
			evalCase{label + ": absent key", p, "ram:GetUser", []string{userAlice}, map[string]string{"other:key": o.match}, o.absent},
		)
		if o.bad != "" {
			out = append(out, evalCase{label + ": unparseable request value " + o.bad + " is false", p, "ram:GetUser",
				[]string{userAlice}, map[string]string{o.key: o.bad}, I})
		}
	}
	return out
}

func TestEvaluate(t *testing.T) {
	cases := evalCases()
	if len(cases) < 100 {
		t.Errorf("only %d evaluator cases, want at least 100", len(cases))
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			set := mustSet(t, tc.policies...)
			req := &policy.Request{Action: tc.action, Resources: tc.resources, Context: context(tc.ctx)}
			if got := set.Evaluate(req); got != tc.want {
				t.Errorf("Evaluate(%s on %v, %v) = %v, want %v", tc.action, tc.resources, tc.ctx, got, tc.want)
			}
			if got := set.Explain(req).Decision; got != tc.want {
				t.Errorf("Explain(%s on %v, %v).Decision = %v, want %v", tc.action, tc.resources, tc.ctx, got, tc.want)
			}
		})
	}
}

func TestEvaluateNilContextAndSet(t *testing.T) {
	var nilSet *policy.Set
	if got := nilSet.Evaluate(&policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}); got != I {
		t.Errorf("nil Set: Evaluate = %v, want %v", got, I)
	}
	set := mustSet(t, condAllow("NotIpAddress", "acs:SourceIp", "10.0.0.0/8"))
	if got := set.Evaluate(&policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}); got != A {
		t.Errorf("nil Context, negated operator: Evaluate = %v, want %v", got, A)
	}
}

func TestExplainReasons(t *testing.T) {
	set := policy.NewSet(
		compile(t, policy.Source{Type: "System", Name: "AliyunRAMFullAccess", Version: "v1"}, allow("ram:*", "*")),
		compile(t, policy.Source{Type: "Custom", Name: "NoDeleteDev", Version: "v3"},
			doc(stmt("Allow", "ecs:*", "*", ""), stmt("Deny", "ram:Delete*|ram:Remove*", groupDev, ""),
				stmt("Allow", "ram:RemoveUserFromGroup", "acs:ram:*:*:user/*", ""))),
		compile(t, policy.Source{Type: "Draft", Name: "draft"}, allow("*", "acs:ram:*:*:group/*")),
	)
	rAllow := func(typ, name, ver string, i int) policy.Reason {
		return policy.Reason{PolicyType: typ, PolicyName: name, Version: ver, Statement: i, Effect: "Allow"}
	}
	full := rAllow("System", "AliyunRAMFullAccess", "v1", 0)
	denyDev := policy.Reason{PolicyType: "Custom", PolicyName: "NoDeleteDev", Version: "v3", Statement: 1, Effect: "Deny"}
	removeUser := rAllow("Custom", "NoDeleteDev", "v3", 2)
	draft := rAllow("Draft", "draft", "", 0)

	tests := []struct {
		name string
		req  policy.Request
		want policy.Result
	}{
		{
			"every matching statement of every resource is a reason",
			policy.Request{Action: "ram:RemoveUserFromGroup", Resources: []string{userAlice, groupDev}},
			policy.Result{
				Decision: D,
				Matched:  []policy.Reason{full, denyDev, removeUser, draft},
				Resources: []policy.ResourceResult{
					{Resource: userAlice, Decision: A, Matched: []policy.Reason{full, removeUser}},
					{Resource: groupDev, Decision: D, Matched: []policy.Reason{full, denyDev, draft}},
				},
			},
		},
		{
			"allowed request lists the allowing statements",
			policy.Request{Action: "ram:GetGroup", Resources: []string{groupDev}},
			policy.Result{
				Decision:  A,
				Matched:   []policy.Reason{full, draft},
				Resources: []policy.ResourceResult{{Resource: groupDev, Decision: A, Matched: []policy.Reason{full, draft}}},
			},
		},
		{
			"implicit deny has no reasons",
			policy.Request{Action: "oss:GetObject", Resources: []string{"acs:oss:*:1:b/o"}},
			policy.Result{
				Decision:  I,
				Resources: []policy.ResourceResult{{Resource: "acs:oss:*:1:b/o", Decision: I}},
			},
		},
		{
			"a statement matching several resources is listed once in Matched",
			policy.Request{Action: "ram:GetUser", Resources: []string{userAlice, userBob}},
			policy.Result{
				Decision: A,
				Matched:  []policy.Reason{full},
				Resources: []policy.ResourceResult{
					{Resource: userAlice, Decision: A, Matched: []policy.Reason{full}},
					{Resource: userBob, Decision: A, Matched: []policy.Reason{full}},
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := set.Explain(&tc.req)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Explain(%v) =\n%+v\nwant\n%+v", tc.req, got, tc.want)
			}
		})
	}
}

func compile(t testing.TB, src policy.Source, text string) *policy.Compiled {
	t.Helper()
	d, err := policy.Parse(text)
	if err != nil {
		t.Fatalf("Parse(%s) = %v", text, err)
	}
	return policy.Compile(src, d)
}

func TestWriteText(t *testing.T) {
	set := policy.NewSet(
		compile(t, policy.Source{Type: "System", Name: "AdministratorAccess", Version: "v1"}, allow("*", "*")),
		compile(t, policy.Source{Type: "Custom", Name: "NoDelete", Version: "v2"}, deny("ram:Delete*", groupDev)),
	)
	var b strings.Builder
	res := set.Explain(&policy.Request{Action: "ram:DeleteGroup", Resources: []string{groupDev, "acs:ram:*:1:x"}})
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `Decision: ExplicitDeny
Resource acs:ram:*:1234567890123456:group/dev: ExplicitDeny
  Allow: System policy AdministratorAccess v1, Statement[0]
  Deny: Custom policy NoDelete v2, Statement[0]
Resource acs:ram:*:1:x: Allow
  Allow: System policy AdministratorAccess v1, Statement[0]
`
	if got := b.String(); got != want {
		t.Errorf("WriteText() =\n%s\nwant\n%s", got, want)
	}
	b.Reset()
	if err := mustSet(t).Explain(&policy.Request{Action: "a:b", Resources: []string{"*"}}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "Decision: ImplicitDeny\nResource *: ImplicitDeny\n  no statement matches\n"; got != want {
		t.Errorf("WriteText() = %q, want %q", got, want)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[policy.Decision]string{I: "ImplicitDeny", A: "Allow", D: "ExplicitDeny", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", d, got, want)
		}
	}
}

func TestContext(t *testing.T) {
	var c policy.Context
	c.Set("acs:SourceIp", "10.0.0.1")
	c.Set("ACS:SOURCEIP", "10.0.0.2")
	if got, ok := c.Get("acs:sourceip"); !ok || got != "10.0.0.2" {
		t.Errorf("Get after two Sets = %q, %v, want %q, true (last Set wins, keys case-insensitive)", got, ok, "10.0.0.2")
	}
	if c.Len() != 1 {
		t.Errorf("Len() = %d, want 1", c.Len())
	}
	if _, ok := c.Get("acs:UserAgent"); ok {
		t.Errorf("Get(unset key) reported present")
	}
	c.Reset()
	if _, ok := c.Get("acs:SourceIp"); ok || c.Len() != 0 {
		t.Errorf("Get after Reset reported present")
	}
}

func TestParseContextArg(t *testing.T) {
	tests := []struct {
		in, key, value string
		ok             bool
	}{
		{"acs:SourceIp=10.0.0.1", "acs:SourceIp", "10.0.0.1", true},
		{"k=", "k", "", true},
		{"k=a=b", "k", "a=b", true},
		{" k =v", "k", "v", true},
		{"novalue", "", "", false},
		{"=v", "", "", false},
	}
	for _, tc := range tests {
		k, v, err := policy.ParseContextArg(tc.in)
		if (err == nil) != tc.ok || k != tc.key || v != tc.value {
			t.Errorf("ParseContextArg(%q) = %q, %q, %v, want %q, %q, ok=%v", tc.in, k, v, err, tc.key, tc.value, tc.ok)
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	set := mustSet(t,
		allow("ram:Get*|ram:List*", "*"),
		deny("ram:Delete*", groupDev),
		doc(stmt("Allow", "ecs:*", "acs:ecs:*:*:instance/i-prod-*", `{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"Bool":{"acs:SecureTransport":"true"},"DateLessThan":{"acs:CurrentTime":"2030-01-01"}}`)),
		allow(strings.Repeat("longservice", 8)+":Get*", "*"),
	)
	ctx := context(map[string]string{"acs:SourceIp": "10.0.0.1", "acs:SecureTransport": "true", "acs:CurrentTime": "2026-01-01T00:00:00Z"})
	tests := []struct {
		name string
		req  policy.Request
	}{
		{"indexed allow", policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}, Context: ctx}},
		{"upper-case service, two resources, deny", policy.Request{Action: "RAM:DeleteGroup", Resources: []string{groupDev, userAlice}, Context: ctx}},
		{"conditions", policy.Request{Action: "ecs:StopInstance", Resources: []string{ecsInst}, Context: ctx}},
		{"a long unknown service", policy.Request{Action: "averyveryveryveryveryveryveryveryveryveryveryveryverylongservicename:X", Resources: []string{"*"}, Context: ctx}},
		{"a long upper-case unknown service", policy.Request{Action: strings.Repeat("VERY", 20) + ":X", Resources: []string{"*"}, Context: ctx}},
		{"a long upper-case indexed service", policy.Request{Action: strings.Repeat("LongService", 8) + ":GetX", Resources: []string{"*"}, Context: ctx}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() { set.Evaluate(&tc.req) })
			if allocs != 0 {
				t.Errorf("Evaluate(%s) allocates %v times, want 0", tc.req.Action, allocs)
			}
		})
	}
	if got := set.Evaluate(&tests[5].req); got != A {
		t.Errorf("Evaluate(%s) = %v, want %v", tests[5].req.Action, got, A)
	}
}

// Compile trusts Parse; an element that Parse would refuse, in a document built by hand, makes its statement
// never match (rather than match on what is left of it).
func TestCompileHandBuiltInvalidStatementNeverMatches(t *testing.T) {
	tests := []struct {
		name string
		st   policy.Statement
		req  policy.Request
	}{
		{"an invalid resource beside a star", policy.Statement{Effect: "Allow", Action: []string{"ram:GetUser"}, Resource: []string{"user/alice", "*"}},
			policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}},
		{"an invalid resource beside a valid one", policy.Statement{Effect: "Allow", Action: []string{"ram:GetUser"}, Resource: []string{"acs:ram", userAlice}},
			policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}},
		{"an action without a colon", policy.Statement{Effect: "Allow", Action: []string{"GetUser"}, Resource: []string{"*"}},
			policy.Request{Action: "GetUser", Resources: []string{"*"}}},
		{"an invalid action beside a valid one", policy.Statement{Effect: "Allow", Action: []string{"ram:a:b", "ram:GetUser"}, Resource: []string{"*"}},
			policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}},
		{"an invalid NotAction", policy.Statement{Effect: "Allow", NotAction: []string{"ram"}, Resource: []string{"*"}},
			policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &policy.Document{Version: "1", Statements: []policy.Statement{tc.st}}
			set := policy.NewSet(policy.Compile(policy.Source{Type: "Custom", Name: "Hand"}, d))
			if got := set.Evaluate(&tc.req); got != I {
				t.Errorf("Evaluate(%+v) = %v, want %v", tc.req, got, I)
			}
			if got := set.Explain(&tc.req).Decision; got != I {
				t.Errorf("Explain(%+v).Decision = %v, want %v", tc.req, got, I)
			}
		})
	}
}

func TestSetIsSafeForConcurrentUse(t *testing.T) {
	set := mustSet(t, allow("ram:*", "*"), deny("ram:Delete*", groupDev))
	done := make(chan policy.Decision, 8)
	for i := 0; i < 8; i++ {
		go func() {
			ctx := context(map[string]string{"acs:SourceIp": "10.0.0.1"})
			var d policy.Decision
			for j := 0; j < 1000; j++ {
				d = set.Evaluate(&policy.Request{Action: "ram:DeleteGroup", Resources: []string{groupDev}, Context: ctx})
				set.Explain(&policy.Request{Action: "ram:GetUser", Resources: []string{userAlice}, Context: ctx})
			}
			done <- d
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != D {
			t.Errorf("concurrent Evaluate = %v, want %v", got, D)
		}
	}
}
