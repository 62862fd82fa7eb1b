package policy

import (
	"fmt"
	"strings"
)

// ActionAssumeRole is the one action of a trust policy.
const ActionAssumeRole = "sts:AssumeRole"

// KeyExternalID is the condition key of AssumeRole's ExternalId parameter; the caller of EvaluateTrust sets it in the
// request's Context when the request carries one.
const KeyExternalID = "sts:ExternalId"

// CallerKind says what kind of identity asks to assume a role.
type CallerKind uint8

// Caller kinds. The zero kind matches no principal.
const (
	CallerRAMUser     CallerKind = iota + 1 // a RAM user: ARN "acs:ram::<AccountId>:user/<UserName>"
	CallerRoleSession                       // a role session: ARN of its role, "acs:ram::<AccountId>:role/<RoleName>"
	CallerService                           // an Alibaba Cloud service: Service "<service>.aliyuncs.com"
	CallerFederated                         // a federated identity: ARN of its identity provider
)

// Caller is the identity that asks to assume a role, as the trust policy's Principal sees it. A RAM user or role
// session must carry its account's id and an ARN in that account of its own kind, or it matches nothing.
type Caller struct {
	Kind    CallerKind
	Account string // the caller's AccountId (RAM users and role sessions)
	ARN     string // the user's ARN, the session's role ARN, or the identity provider
	Service string // CallerService only, e.g. "ecs.aliyuncs.com"
}

// TrustRequest asks a role's trust policy whether Caller may assume the role. Context holds the request's condition
// keys (acs:SourceIp, acs:MFAPresent, sts:ExternalId, …); a nil Context has no keys.
type TrustRequest struct {
	Caller  Caller
	Context *Context
}

// trustPrincipals is a compiled Principal element.
type trustPrincipals struct {
	accounts  []string // from "acs:ram::<AccountId>:root"
	arns      []string // user and role ARNs, compared exactly
	services  []string // compared case-insensitively
	federated []string // compared exactly
}

// compilePrincipal compiles a Principal; ok is false when an entry would not have passed ParseTrust.
func compilePrincipal(p Principal) (*trustPrincipals, bool) {
	tp := &trustPrincipals{}
	for _, s := range p.RAM {
		if checkRAMPrincipal(s) != "" {
			return nil, false
		}
		if account, relative, _ := strings.Cut(strings.TrimPrefix(s, "acs:ram::"), ":"); relative == "root" {
			tp.accounts = append(tp.accounts, account)
		} else {
			tp.arns = append(tp.arns, s)
		}
	}
	for _, s := range p.Service {
		if checkServicePrincipal(s) != "" {
			return nil, false
		}
		tp.services = append(tp.services, s)
	}
	for _, s := range p.Federated {
		if checkFederatedPrincipal(s) != "" {
			return nil, false
		}
		tp.federated = append(tp.federated, s)
	}
	return tp, true
}

// match reports whether the caller is one of the principals.
func (tp *trustPrincipals) match(c *Caller) bool {
	switch c.Kind {
	case CallerRAMUser, CallerRoleSession:
		if !c.consistent() {
			return false
		}
		for _, a := range tp.accounts {
			if a == c.Account {
				return true
			}
		}
		for _, a := range tp.arns {
			if a == c.ARN {
				return true
			}
		}
	case CallerService:
		for _, s := range tp.services {
			if strings.EqualFold(s, c.Service) {
				return true
			}
		}
	case CallerFederated:
		for _, f := range tp.federated {
			if f == c.ARN {
				return true
			}
		}
	}
	return false
}

// consistent reports whether a RAM caller's ARN is "acs:ram::<Account>:user/<name>" (or role/ for a session) with a
// non-empty account and name, so that an account's root never vouches for an identity of another account.
func (c *Caller) consistent() bool {
	kind := "user/"
	if c.Kind == CallerRoleSession {
		kind = "role/"
	}
	rest, ok := strings.CutPrefix(c.ARN, "acs:ram::")
	if !ok || c.Account == "" {
		return false
	}
	rest, ok = strings.CutPrefix(rest, c.Account)
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return false
	}
	name, ok := strings.CutPrefix(rest[1:], kind)
	return ok && name != ""
}

// trustMatches reports whether a trust statement applies to the request: its Principal names the caller, its
// action matches sts:AssumeRole (or, for NotAction, does not) and its whole condition block holds.
func (st *stmt) trustMatches(r *TrustRequest) bool {
	return st.trust.match(&r.Caller) && st.actionMatches(ActionAssumeRole) && st.conditionsHold(r.Context)
}

// EvaluateTrust decides whether c, a role's trust policy, lets r.Caller assume the role: ExplicitDeny if a Deny
// statement matches, otherwise Allow if an Allow statement matches, otherwise ImplicitDeny. Statements without a
// Principal (identity policies) never match. The caller's own policies must allow sts:AssumeRole on the role too;
// that is a separate evaluation. EvaluateTrust does not allocate.
func (c *Compiled) EvaluateTrust(r *TrustRequest) Decision {
	if c == nil || r == nil {
		return ImplicitDeny
	}
	d := ImplicitDeny
	for i := range c.stmts {
		st := &c.stmts[i]
		if st.trust == nil || !st.trustMatches(r) {
			continue
		}
		if st.deny {
			return ExplicitDeny
		}
		d = Allow
	}
	return d
}

// ExplainTrust decides r like EvaluateTrust and returns every matching statement as a Reason, in document order.
// The Result has no Resources: the role is the only one.
func (c *Compiled) ExplainTrust(r *TrustRequest) Result {
	res := Result{Decision: ImplicitDeny}
	if c == nil || r == nil {
		return res
	}
	for i := range c.stmts {
		st := &c.stmts[i]
		if st.trust == nil || !st.trustMatches(r) {
			continue
		}
		if st.deny {
			res.Decision = ExplicitDeny
		} else if res.Decision == ImplicitDeny {
			res.Decision = Allow
		}
		res.Matched = append(res.Matched, st.reason())
	}
	return res
}

// principal reads a trust statement's Principal element.
func (v *validator) principal(path string, val *jsonValue) Principal {
	var p Principal
	if val.kind != jsonObject {
		v.add(path, `must be an object naming "RAM", "Service" or "Federated" principals`)
		return p
	}
	if len(val.members) == 0 {
		v.add(path, "must not be empty")
		return p
	}
	v.members(path, val, func(m jsonMember) {
		mp := join(path, m.key)
		switch m.key {
		case "RAM":
			p.RAM = v.stringList(mp, m.value, checkRAMPrincipal)
		case "Service":
			p.Service = v.stringList(mp, m.value, checkServicePrincipal)
		case "Federated":
			p.Federated = v.stringList(mp, m.value, checkFederatedPrincipal)
		default:
			v.add(path, fmt.Sprintf(`unknown principal type %q (use "RAM", "Service" or "Federated")`, m.key))
		}
	})
	return p
}

// matchesAssumeRole reports whether an action pattern matches sts:AssumeRole.
func matchesAssumeRole(action string) bool {
	p := compilePattern(action, true)
	return p.match(ActionAssumeRole)
}

func checkTrustAction(s string) string {
	if msg := checkAction(s); msg != "" {
		return msg
	}
	if !matchesAssumeRole(s) {
		return `is not allowed in a trust policy: its only action is "sts:AssumeRole"`
	}
	return ""
}

func checkTrustNotAction(s string) string {
	if msg := checkAction(s); msg != "" {
		return msg
	}
	if matchesAssumeRole(s) {
		return `excludes "sts:AssumeRole", the only action of a trust policy, so the statement never applies`
	}
	return ""
}

const notRAMPrincipal = `is not a RAM principal ("acs:ram::<AccountId>:root", "acs:ram::<AccountId>:user/<UserName>" or ` +
	`"acs:ram::<AccountId>:role/<RoleName>")`

// checkRAMPrincipal accepts "acs:ram::<AccountId>:root", "acs:ram::<AccountId>:user/<UserName>" and
// "acs:ram::<AccountId>:role/<RoleName>": a 16-digit account id and a name as RAM allows it (no wildcards).
func checkRAMPrincipal(s string) string {
	if isAccountID(s) {
		return fmt.Sprintf(`is not a RAM principal: write "acs:ram::%s:root" to trust the RAM users and roles of that account`, s)
	}
	rest, ok := strings.CutPrefix(s, "acs:ram::")
	if !ok {
		return notRAMPrincipal
	}
	account, relative, ok := strings.Cut(rest, ":")
	if !ok {
		return notRAMPrincipal
	}
	var name, punct, rule string
	if user, ok := strings.CutPrefix(relative, "user/"); ok {
		name, punct = user, "._-"
		rule = `a user name is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-" (no wildcards)`
	} else if role, ok := strings.CutPrefix(relative, "role/"); ok {
		name, punct = role, ".-"
		rule = `a role name is 1 to 64 characters of A-Z, a-z, 0-9, "." and "-" (no wildcards)`
	} else if relative != "root" {
		return notRAMPrincipal
	}
	if !isAccountID(account) {
		return "is not a RAM principal: the account id must be 16 digits"
	}
	if rule != "" && !validName(name, punct) {
		return "is not a RAM principal: " + rule
	}
	return ""
}

// validName accepts 1 to 64 ASCII letters, digits and bytes of punct (SPEC §1 and §12 names).
func validName(s, punct string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte(punct, c) >= 0 {
			continue
		}
		return false
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// serviceSuffix ends every service principal; it is compared case-insensitively, as the whole principal is.
const serviceSuffix = ".aliyuncs.com"

// checkServicePrincipal accepts "<service>.aliyuncs.com" where the service is ASCII letters, digits, "-" and ".".
func checkServicePrincipal(s string) string {
	const msg = `is not a service principal ("<service>.aliyuncs.com", such as "ecs.aliyuncs.com")`
	if len(s) <= len(serviceSuffix) || !strings.EqualFold(s[len(s)-len(serviceSuffix):], serviceSuffix) {
		return msg
	}
	code := s[:len(s)-len(serviceSuffix)]
	if code[0] == '.' || code[len(code)-1] == '.' || !validName(code, ".-") {
		return msg
	}
	return ""
}

// checkFederatedPrincipal accepts any non-empty printable text without spaces: identity providers are stored and
// matched as given.
func checkFederatedPrincipal(s string) string {
	if s == "" || !printable(s) {
		return "is not an identity provider (a non-empty name without spaces)"
	}
	return ""
}
