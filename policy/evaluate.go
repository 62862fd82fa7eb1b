package policy

import (
	"fmt"
	"io"
	"strings"
)

// Decision is the outcome of an evaluation.
type Decision uint8

// Decisions, from weakest to strongest.
const (
	ImplicitDeny Decision = iota // no statement allows the request
	Allow                        // an Allow statement matches and no Deny does
	ExplicitDeny                 // a Deny statement matches
)

// String returns "ImplicitDeny", "Allow" or "ExplicitDeny".
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", uint8(d))
}

// Request is what a caller asks to do: a RAM action ("ram:CreateUser"), the resource ARNs it acts on (all must be
// allowed) and the condition keys of the request. A nil Context has no keys.
type Request struct {
	Action    string
	Resources []string
	Context   *Context
}

// Evaluate decides r: ExplicitDeny if a Deny statement matches any resource; otherwise Allow if every resource is
// matched by an Allow statement; otherwise ImplicitDeny. A request without resources is ImplicitDeny. Evaluate does
// not allocate.
func (s *Set) Evaluate(r *Request) Decision {
	if s == nil || r == nil || len(r.Resources) == 0 {
		return ImplicitDeny
	}
	svcGroup, name := s.lookupService(r.Action)
	decision := Allow
	for _, res := range r.Resources {
		rr := requestResource{full: res}
		rr.arn, rr.ok = splitARN(res)
		if svcGroup != nil && anyMatch(svcGroup.deny, name, &rr, r.Context) {
			return ExplicitDeny
		}
		if anyMatch(s.wild.deny, r.Action, &rr, r.Context) {
			return ExplicitDeny
		}
		if decision == Allow &&
			(svcGroup == nil || !anyMatch(svcGroup.allow, name, &rr, r.Context)) &&
			!anyMatch(s.wild.allow, r.Action, &rr, r.Context) {
			// Keep going: a later resource may still be explicitly denied.
			decision = ImplicitDeny
		}
	}
	return decision
}

// lookupService finds the statements indexed under the action's service, compared case-insensitively without
// allocating, and returns the action's name part.
func (s *Set) lookupService(action string) (*group, string) {
	i := strings.IndexByte(action, ':')
	if i < 0 || len(s.byService) == 0 {
		return nil, ""
	}
	svc, name := action[:i], action[i+1:]
	var buf [64]byte
	if len(svc) > len(buf) {
		// Rare: a service name too long for the buffer. Compare with every key rather than allocate.
		for k, g := range s.byService {
			if len(k) == len(svc) && equalAt(svc, k, true) {
				return g, name
			}
		}
		return nil, name
	}
	b := buf[:len(svc)]
	for j := 0; j < len(svc); j++ {
		c := svc[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[j] = c
	}
	return s.byService[string(b)], name
}

func anyMatch(stmts []stmt, action string, r *requestResource, ctx *Context) bool {
	for i := range stmts {
		if stmts[i].matches(action, r, ctx) {
			return true
		}
	}
	return false
}

// matches reports whether the statement applies: its action patterns (against action, which is the name part for
// statements indexed by service), its resources and its whole condition block.
func (st *stmt) matches(action string, r *requestResource, ctx *Context) bool {
	if !st.actionMatches(action) {
		return false
	}
	if !st.anyRes {
		hit := false
		for i := range st.resources {
			if st.resources[i].match(r) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return st.conditionsHold(ctx)
}

// actionMatches reports whether an Action pattern matches action or, for NotAction, none does.
func (st *stmt) actionMatches(action string) bool {
	hit := false
	for i := range st.actions {
		if st.actions[i].match(action) {
			hit = true
			break
		}
	}
	return hit != st.notAction
}

// conditionsHold reports whether the whole condition block holds.
func (st *stmt) conditionsHold(ctx *Context) bool {
	for i := range st.conds {
		if !st.conds[i].holds(ctx) {
			return false
		}
	}
	return true
}

// holds evaluates one condition: a positive operator holds when the request's value (any of them, for a key with
// several values) matches any listed value, a negated one when none matches. An absent key makes a positive operator false and a negated one true; a value
// that does not parse for a typed operator makes it false either way.
func (c *cond) holds(ctx *Context) bool {
	if c.never {
		return false
	}
	if ctx == nil {
		return c.op.negated
	}
	found, any := false, false
	for i := range ctx.entries {
		e := &ctx.entries[i]
		if e.key != c.key {
			continue
		}
		found = true
		m, ok := c.matches(e)
		if !ok {
			return false
		}
		if m {
			any = true
			break
		}
	}
	if !found {
		return c.op.negated
	}
	return any != c.op.negated
}

// matches reports whether one value of the request matches any of the condition's values; ok is false when the
// value does not parse for a typed operator.
func (c *cond) matches(e *contextEntry) (any, ok bool) {
	switch c.op.family {
	case famString:
		switch c.op.kind {
		case opEquals:
			for _, v := range c.strs {
				if e.value == v {
					any = true
					break
				}
			}
		case opEqualsIgnoreCase:
			for _, v := range c.strs {
				if strings.EqualFold(e.value, v) {
					any = true
					break
				}
			}
		case opLike:
			for i := range c.patterns {
				if c.patterns[i].match(e.value) {
					any = true
					break
				}
			}
		}
	case famNumeric:
		if !e.hasNumber {
			return false, false
		}
		for _, v := range c.numbers {
			if compareWith(c.op.kind, cmpFloat(e.number, v)) {
				any = true
				break
			}
		}
	case famDate:
		if !e.hasDate {
			return false, false
		}
		for _, v := range c.dates {
			if compareWith(c.op.kind, e.date.compare(v)) {
				any = true
				break
			}
		}
	case famBool:
		if !e.hasBool {
			return false, false
		}
		for _, v := range c.bools {
			if e.boolean == v {
				any = true
				break
			}
		}
	case famIP:
		if !e.hasIP {
			return false, false
		}
		for _, p := range c.prefixes {
			if p.Contains(e.ip) {
				any = true
				break
			}
		}
	}
	return any, true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareWith applies an ordering operator to the result of comparing the request's value with the policy's.
func compareWith(kind opKind, cmp int) bool {
	switch kind {
	case opEquals:
		return cmp == 0
	case opLess:
		return cmp < 0
	case opLessEquals:
		return cmp <= 0
	case opGreater:
		return cmp > 0
	case opGreaterEquals:
		return cmp >= 0
	}
	return false
}

// Reason is one statement that matched: which policy, which statement (counting from 0) and its effect.
type Reason struct {
	PolicyType, PolicyName, Version string
	Statement                       int
	Effect                          string // "Allow" or "Deny"
}

// ResourceResult is the decision for one resource of a request, with every statement that matched it.
type ResourceResult struct {
	Resource string
	Decision Decision
	Matched  []Reason
}

// Result is a decision with its reasons. Matched lists every statement that matched at least one resource; Resources
// has one entry per resource of the request, in order. Reasons are ordered as the policies were given to NewSet,
// then by statement.
type Result struct {
	Decision  Decision
	Matched   []Reason
	Resources []ResourceResult
}

// Explain evaluates r like Evaluate and also returns the reasons. It looks at every statement, in order, so it
// is slower than Evaluate and allocates; Evaluate and Explain always agree on the decision.
func (s *Set) Explain(r *Request) Result {
	res := Result{Decision: ImplicitDeny}
	if s == nil || r == nil || len(r.Resources) == 0 {
		return res
	}
	type key struct {
		p *Compiled
		i int
	}
	seen := map[key]bool{}
	res.Decision = Allow
	for _, resource := range r.Resources {
		rr := requestResource{full: resource}
		rr.arn, rr.ok = splitARN(resource)
		out := ResourceResult{Resource: resource, Decision: ImplicitDeny}
		for _, p := range s.policies {
			for i := range p.stmts {
				st := &p.stmts[i]
				if st.trust != nil || !st.matches(r.Action, &rr, r.Context) {
					continue
				}
				if st.deny {
					out.Decision = ExplicitDeny
				} else if out.Decision == ImplicitDeny {
					out.Decision = Allow
				}
				out.Matched = append(out.Matched, st.reason())
				seen[key{p, i}] = true
			}
		}
		switch {
		case out.Decision == ExplicitDeny:
			res.Decision = ExplicitDeny
		case out.Decision == ImplicitDeny && res.Decision == Allow:
			res.Decision = ImplicitDeny
		}
		res.Resources = append(res.Resources, out)
	}
	for _, p := range s.policies {
		for i := range p.stmts {
			if seen[key{p, i}] {
				res.Matched = append(res.Matched, p.stmts[i].reason())
			}
		}
	}
	return res
}

func (st *stmt) reason() Reason {
	r := Reason{
		PolicyType: st.policy.src.Type, PolicyName: st.policy.src.Name, Version: st.policy.src.Version,
		Statement: st.index, Effect: EffectAllow,
	}
	if st.deny {
		r.Effect = EffectDeny
	}
	return r
}

// WriteText writes the result for people: the decision, then each resource with its decision and the statements
// that matched it. The CLI `ramconsole policy eval` prints this. A result without resources (a trust policy's)
// lists the matching statements under the decision.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Decision: %s\n", r.Decision)
	if len(r.Resources) == 0 {
		if len(r.Matched) == 0 {
			b.WriteString("  no statement matches\n")
		}
		for _, m := range r.Matched {
			b.WriteString("  ")
			b.WriteString(m.String())
			b.WriteByte('\n')
		}
	}
	for _, rr := range r.Resources {
		fmt.Fprintf(&b, "Resource %s: %s\n", rr.Resource, rr.Decision)
		if len(rr.Matched) == 0 {
			b.WriteString("  no statement matches\n")
		}
		for _, m := range rr.Matched {
			b.WriteString("  ")
			b.WriteString(m.String())
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String renders "Deny: Custom policy DenyProd v2, Statement[1]".
func (m Reason) String() string {
	var b strings.Builder
	b.WriteString(m.Effect)
	b.WriteString(": ")
	if m.PolicyType != "" {
		b.WriteString(m.PolicyType)
		b.WriteByte(' ')
	}
	b.WriteString("policy ")
	b.WriteString(m.PolicyName)
	if m.Version != "" {
		b.WriteByte(' ')
		b.WriteString(m.Version)
	}
	fmt.Fprintf(&b, ", Statement[%d]", m.Statement)
	return b.String()
}
