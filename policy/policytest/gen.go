// Package policytest generates deterministic policy sets and requests for benchmarks: policy's own and bench/'s
// comparison with other engines, which must see exactly the same data. Same seed and sizes, same output, on every
// platform and Go version (math/rand/v2's PCG).
//
// # API (stable)
//
//	Generate(seed, policies, statementsPerPolicy) []GeneratedPolicy
//	Requests(seed, n, policies) []GeneratedRequest
//	Account  // the account ID every generated ARN uses
//
// # The subset of the policy language used, chosen to map directly onto other engines
//
//   - Effect: Allow or Deny. No NotAction.
//   - Action: 1–3 entries, each an exact "service:ActionName" or "service:Prefix*" (one trailing "*", which may
//     follow the colon directly: "ecs:*"). Requests use the same letter case as policies, so case-insensitive action
//     matching never matters.
//   - Resource: 1–2 entries, each "*", an exact ARN, or an ARN prefix followed by one trailing "*". ARNs never have
//     empty segments. The region of RAM and OSS ARNs is a literal "*" in policies and requests alike (as RAM writes
//     them), so an engine may read that "*" literally or as a wildcard: the result is the same.
//   - Condition: at most one key per operator, operators only StringEquals (acs:UserAgent), IpAddress
//     (acs:SourceIp, IPv4 CIDRs) and Bool (acs:SecureTransport or acs:MFAPresent); 1–2 values (OR within values,
//     AND across operators). Every request carries all six global keys, so no key is ever absent.
//   - No "?" anywhere.
//
// Decision rule: any matching Deny → ExplicitDeny; else any matching Allow → Allow; else ImplicitDeny.
// Statement roles cycle with the statement's index in its policy (Allow; Allow with a condition; Deny; Allow on
// specific resources; Deny with a condition), so even one policy of five statements yields every decision.
package policytest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"ramconsole/policy"
)

// Account is the account ID in every generated ARN.
const Account = "1234567890123456"

// GeneratedPolicy is one generated custom policy.
type GeneratedPolicy struct {
	Name     string           // "Bench0001", …
	JSON     string           // the document, canonical JSON (policy.Document.MarshalJSON)
	Document *policy.Document // the same document, parsed
}

// GeneratedRequest is one generated request: one action on one resource with its context.
type GeneratedRequest struct {
	Action   string
	Resource string
	Context  map[string]string // all six global keys, in their canonical spelling
	// Want is ramconsole's decision for the policies given to Requests.
	Want policy.Decision
	// Conditional is true when the request was aimed at a statement with a Condition (a "condition-heavy" request).
	Conditional bool
}

type service struct {
	name    string
	region  string // "" = pick a concrete region per resource
	types   []string
	actions []string
}

var regions = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen"}

var envs = []string{"prod", "dev", "test", "stage"}

var services = []service{
	{"ecs", "", []string{"instance", "disk", "image", "securitygroup"}, []string{
		"DescribeInstances", "DescribeDisks", "DescribeImages", "DescribeSecurityGroups", "CreateInstance",
		"DeleteInstance", "StartInstance", "StopInstance", "RebootInstance", "ModifyInstanceAttribute",
		"CreateDisk", "DeleteDisk", "AttachDisk", "DetachDisk", "ListTagResources"}},
	{"oss", "*", []string{"bucket-prod", "bucket-dev", "bucket-logs"}, []string{
		"GetObject", "PutObject", "DeleteObject", "ListObjects", "GetBucketInfo", "PutBucketAcl", "GetBucketAcl",
		"ListBuckets", "DeleteBucket", "GetObjectAcl"}},
	{"ram", "*", []string{"user", "group", "policy"}, []string{
		"CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers", "CreateGroup", "GetGroup", "ListGroups",
		"AddUserToGroup", "AttachPolicyToUser", "ListPolicies", "GetPolicy", "CreatePolicy", "DeletePolicy",
		"CreateAccessKey", "ListAccessKeys"}},
	{"rds", "", []string{"dbinstance"}, []string{
		"DescribeDBInstances", "CreateDBInstance", "DeleteDBInstance", "ModifyDBInstanceSpec", "DescribeBackups",
		"CreateBackup", "RestartDBInstance"}},
	{"vpc", "", []string{"vpc", "vswitch"}, []string{
		"DescribeVpcs", "DescribeVSwitches", "CreateVpc", "DeleteVpc", "CreateVSwitch", "DeleteVSwitch"}},
	{"slb", "", []string{"loadbalancer"}, []string{
		"DescribeLoadBalancers", "CreateLoadBalancer", "DeleteLoadBalancer", "SetBackendServers"}},
	{"kms", "", []string{"key", "secret"}, []string{
		"ListKeys", "DescribeKey", "Encrypt", "Decrypt", "GenerateDataKey", "ScheduleKeyDeletion", "GetSecretValue"}},
	{"log", "", []string{"project"}, []string{
		"GetLogs", "ListLogStores", "CreateLogStore", "DeleteLogStore", "PostLogStoreLogs", "GetProject"}},
	{"actiontrail", "", []string{"trail"}, []string{"LookupEvents", "DescribeTrails", "CreateTrail", "DeleteTrail"}},
	{"cms", "", []string{"alarm"}, []string{"DescribeMetricList", "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"}},
}

// otherServices are never named by generated policies.
var otherServices = []service{
	{"ess", "", []string{"scalinggroup"}, []string{"DescribeScalingGroups", "CreateScalingGroup", "DeleteScalingGroup"}},
	{"cdn", "*", []string{"domain"}, []string{"DescribeCdnDomainDetail", "AddCdnDomain", "DeleteCdnDomain"}},
}

var verbs = []string{"Describe", "List", "Get", "Create", "Delete", "Modify", "Start", "Stop"}

var cidrs = []string{"10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "203.0.113.0/24"}

var userAgents = []string{"ramconsole", "aliyun-cli/3.0", "terraform"}

func serviceByName(name string) *service {
	for i := range services {
		if services[i].name == name {
			return &services[i]
		}
	}
	return nil
}

// resourceARN returns an ARN of the service's type with the given name.
func resourceARN(s *service, region, typ, name string) string {
	if s.region != "" {
		region = s.region
	}
	if s.name == "oss" { // OSS: acs:oss:*:<acct>:<bucket>/<object>
		return fmt.Sprintf("acs:oss:%s:%s:%s/%s", region, Account, typ, name)
	}
	return fmt.Sprintf("acs:%s:%s:%s:%s/%s", s.name, region, Account, typ, name)
}

func randomResource(r *rand.Rand, s *service) string {
	return resourceARN(s, regions[r.IntN(len(regions))], s.types[r.IntN(len(s.types))],
		fmt.Sprintf("%s-%03d", envs[r.IntN(len(envs))], r.IntN(200)))
}

// Generate returns policies policies of statementsPerPolicy statements each, deterministic in seed.
func Generate(seed int64, policies, statementsPerPolicy int) []GeneratedPolicy {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed_0f_90_11c1e5))
	out := make([]GeneratedPolicy, 0, policies)
	for p := 0; p < policies; p++ {
		doc := &policy.Document{Version: "1"}
		for j := 0; j < statementsPerPolicy; j++ {
			doc.Statements = append(doc.Statements, genStatement(r, j))
		}
		text, err := doc.MarshalJSON()
		if err != nil {
			panic(err)
		}
		parsed, err := policy.Parse(string(text))
		if err != nil {
			panic(fmt.Sprintf("policytest: generated an invalid policy: %v\n%s", err, text))
		}
		out = append(out, GeneratedPolicy{Name: fmt.Sprintf("Bench%04d", p+1), JSON: string(text), Document: parsed})
	}
	return out
}

func genStatement(r *rand.Rand, j int) policy.Statement {
	s := &services[r.IntN(len(services))]
	st := policy.Statement{Effect: policy.EffectAllow}
	role := j % 5
	if role == 2 || role == 4 {
		st.Effect = policy.EffectDeny
	}
	// Actions.
	n := 1 + r.IntN(3)
	for k := 0; k < n; k++ {
		var a string
		switch x := r.IntN(10); {
		case st.Effect == policy.EffectDeny && x < 7:
			// Deny the dangerous ones by name.
			var dangerous []string
			for _, v := range s.actions {
				if strings.HasPrefix(v, "Delete") || strings.HasPrefix(v, "Stop") || strings.HasPrefix(v, "Modify") {
					dangerous = append(dangerous, v)
				}
			}
			if len(dangerous) == 0 {
				dangerous = s.actions
			}
			a = dangerous[r.IntN(len(dangerous))]
		case x < 5:
			a = s.actions[r.IntN(len(s.actions))]
		case x < 9:
			a = verbs[r.IntN(len(verbs))] + "*"
		default:
			a = "*"
		}
		st.Action = appendUnique(st.Action, s.name+":"+a)
	}
	// Resources.
	switch {
	case role == 0 || (role == 1 && r.IntN(2) == 0):
		st.Resource = []string{"*"}
	default:
		m := 1 + r.IntN(2)
		for k := 0; k < m; k++ {
			typ := s.types[r.IntN(len(s.types))]
			region := regions[r.IntN(len(regions))]
			env := envs[r.IntN(len(envs))]
			var res string
			switch r.IntN(4) {
			case 0: // exact
				res = resourceARN(s, region, typ, fmt.Sprintf("%s-%03d", env, r.IntN(200)))
			case 1: // everything of a type in a region
				res = resourceARN(s, region, typ, "*")
			case 2: // a name prefix
				res = resourceARN(s, region, typ, env+"-*")
			default: // a name prefix with one digit
				res = resourceARN(s, region, typ, fmt.Sprintf("%s-%d*", env, r.IntN(2)))
			}
			st.Resource = appendUnique(st.Resource, res)
		}
	}
	// Conditions.
	if role == 1 || role == 4 {
		if role == 4 {
			// Deny without MFA or outside the office network.
			if r.IntN(2) == 0 {
				st.Conditions = append(st.Conditions, policy.Condition{Operator: "Bool", Key: policy.KeyMFAPresent, Values: []string{"false"}})
			} else {
				st.Conditions = append(st.Conditions, policy.Condition{Operator: "IpAddress", Key: policy.KeySourceIP, Values: []string{"203.0.113.0/24"}})
			}
		} else {
			k := 1 + r.IntN(2)
			vals := []string{cidrs[r.IntN(3)]}
			if k == 2 {
				vals = appendUnique(vals, cidrs[r.IntN(3)])
			}
			st.Conditions = append(st.Conditions, policy.Condition{Operator: "IpAddress", Key: policy.KeySourceIP, Values: vals})
			st.Conditions = append(st.Conditions, policy.Condition{Operator: "Bool", Key: policy.KeySecureTransport, Values: []string{"true"}})
			if r.IntN(2) == 0 {
				st.Conditions = append(st.Conditions, policy.Condition{Operator: "StringEquals", Key: policy.KeyUserAgent,
					Values: []string{userAgents[r.IntN(2)], userAgents[2]}})
			}
		}
	}
	return st
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Requests returns n requests, deterministic in seed, aimed at the given policies: roughly 45% derived from an
// Allow statement, 20% from a Deny statement, 30% random within the services the policies use and 5% on services
// they never name, so that Allow, ExplicitDeny and ImplicitDeny all occur (on large sets, where some statement
// covers every action of a used service, ImplicitDeny comes from the unnamed services).
// Each carries ramconsole's decision in Want.
func Requests(seed int64, n int, policies []GeneratedPolicy) []GeneratedRequest {
	r := rand.New(rand.NewPCG(uint64(seed), 0x0e9_0e57))
	var allows, denies []*policy.Statement
	compiled := make([]*policy.Compiled, 0, len(policies))
	for _, p := range policies {
		for i := range p.Document.Statements {
			st := &p.Document.Statements[i]
			if st.Effect == policy.EffectDeny {
				denies = append(denies, st)
			} else {
				allows = append(allows, st)
			}
		}
		compiled = append(compiled, policy.Compile(policy.Source{Type: "Custom", Name: p.Name, Version: "v1"}, p.Document))
	}
	set := policy.NewSet(compiled...)
	out := make([]GeneratedRequest, 0, n)
	for len(out) < n {
		var req GeneratedRequest
		x := r.IntN(100)
		switch {
		case x < 45 && len(allows) > 0:
			req = fromStatement(r, allows[r.IntN(len(allows))])
		case x < 65 && len(denies) > 0:
			req = fromStatement(r, denies[r.IntN(len(denies))])
		case x >= 95:
			// A service the generated policies never name: the principal simply has no rights there.
			s := &otherServices[r.IntN(len(otherServices))]
			req = GeneratedRequest{
				Action:   s.name + ":" + s.actions[r.IntN(len(s.actions))],
				Resource: randomResource(r, s),
				Context:  baseContext(r),
			}
		default:
			s := &services[r.IntN(len(services))]
			req = GeneratedRequest{
				Action:   s.name + ":" + s.actions[r.IntN(len(s.actions))],
				Resource: randomResource(r, s),
				Context:  baseContext(r),
			}
		}
		ctx := &policy.Context{}
		for k, v := range req.Context {
			ctx.Set(k, v)
		}
		req.Want = set.Evaluate(&policy.Request{Action: req.Action, Resources: []string{req.Resource}, Context: ctx})
		out = append(out, req)
	}
	return out
}

func baseContext(r *rand.Rand) map[string]string {
	ips := []string{"10.1.2.3", "192.168.10.20", "172.16.5.6", "203.0.113.9", "198.51.100.7"}
	bools := []string{"true", "false"}
	return map[string]string{
		policy.KeySourceIP:        ips[r.IntN(len(ips))],
		policy.KeySecureTransport: bools[r.IntN(4)/3], // mostly true
		policy.KeyMFAPresent:      bools[r.IntN(2)],
		policy.KeyUserAgent:       userAgents[r.IntN(len(userAgents))],
		policy.KeyCurrentTime:     "2026-01-15T10:00:00Z",
		policy.KeyPrincipalARN:    "acs:ram::" + Account + ":user/alice",
	}
}

// fromStatement builds a request that the statement's action and resource patterns match, with a context that
// satisfies its conditions four times out of five.
func fromStatement(r *rand.Rand, st *policy.Statement) GeneratedRequest {
	pat := st.Action[r.IntN(len(st.Action))]
	svcName, name, _ := strings.Cut(pat, ":")
	s := serviceByName(svcName)
	action := pat
	if strings.HasSuffix(name, "*") {
		prefix := strings.TrimSuffix(name, "*")
		var fits []string
		for _, a := range s.actions {
			if strings.HasPrefix(a, prefix) {
				fits = append(fits, a)
			}
		}
		if len(fits) > 0 {
			action = svcName + ":" + fits[r.IntN(len(fits))]
		} else {
			action = svcName + ":" + prefix + "Resource"
		}
	}
	res := st.Resource[r.IntN(len(st.Resource))]
	switch {
	case res == "*":
		res = randomResource(r, s)
	case strings.HasSuffix(res, "*"):
		res = strings.TrimSuffix(res, "*") + fmt.Sprintf("%d%02d", r.IntN(3), r.IntN(100))
	}
	ctx := baseContext(r)
	satisfy := r.IntN(5) != 0
	for _, c := range st.Conditions {
		switch c.Key {
		case policy.KeySourceIP:
			if satisfy {
				ctx[c.Key] = map[string]string{
					"10.0.0.0/8": "10.20.30.40", "192.168.0.0/16": "192.168.1.1",
					"172.16.0.0/12": "172.20.0.1", "203.0.113.0/24": "203.0.113.77",
				}[c.Values[0]]
			} else {
				ctx[c.Key] = "198.51.100.7"
			}
		case policy.KeySecureTransport, policy.KeyMFAPresent:
			if satisfy == (c.Values[0] == "true") {
				ctx[c.Key] = "true"
			} else {
				ctx[c.Key] = "false"
			}
		case policy.KeyUserAgent:
			if satisfy {
				ctx[c.Key] = c.Values[0]
			} else {
				ctx[c.Key] = "curl/8.0"
			}
		}
	}
	return GeneratedRequest{Action: action, Resource: res, Context: ctx, Conditional: len(st.Conditions) > 0}
}
