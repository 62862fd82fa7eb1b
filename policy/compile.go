package policy

import (
	"net/netip"
	"strings"
)

// Source names where a compiled policy came from; it is reported in every Reason.
type Source struct {
	Type    string // "System", "Custom" or "Draft" (the simulator's unsaved document)
	Name    string
	Version string // "v1".."v5"; "" for a draft
	// ID is the stored policy's identity, never reused (a custom policy's
	// UID; a system policy's name): usage is credited to it.
	ID string
}

// Compiled is a policy document compiled for evaluation: patterns pre-split, actions lower-cased, numbers, dates and
// CIDRs pre-parsed. It is immutable and may be shared by many Sets.
type Compiled struct {
	src   Source
	stmts []stmt
}

// Source returns the source the policy was compiled with.
func (c *Compiled) Source() Source { return c.src }

// stmt is a compiled statement.
type stmt struct {
	policy    *Compiled
	index     int // position in the document's Statement array
	deny      bool
	notAction bool
	actions   []pattern
	anyRes    bool // some Resource is "*": the resource always matches
	resources []resourcePattern
	conds     []cond
	trust     *trustPrincipals // a trust policy's statement (it has a Principal, no resources); nil otherwise
}

// cond is a compiled condition: one key of one operator.
type cond struct {
	op       operator
	key      string // lower-case
	never    bool   // a value did not compile (only for documents that skipped Parse): the condition is false
	strs     []string
	patterns []pattern
	numbers  []float64
	dates    []instant
	bools    []bool
	prefixes []netip.Prefix
}

// Compile compiles a document parsed by Parse or ParseTrust. A statement with a Principal is a trust statement: only
// EvaluateTrust and ExplainTrust look at it, and Sets ignore it. Given a document built by hand, an element that
// would not have passed Parse (or ParseTrust) makes its statement never match (never half of it: an invalid
// resource beside "*" does not leave the "*").
func Compile(src Source, d *Document) *Compiled {
	c := &Compiled{src: src}
	if d == nil {
		return c
	}
	c.stmts = make([]stmt, 0, len(d.Statements))
	for i, st := range d.Statements {
		s := stmt{policy: c, index: i, deny: st.Effect == EffectDeny}
		broken := st.Effect != EffectAllow && st.Effect != EffectDeny
		actions := st.Action
		if len(st.NotAction) > 0 {
			s.notAction = true
			actions = st.NotAction
			broken = broken || len(st.Action) > 0
		}
		for _, a := range actions {
			broken = broken || !validAction(a)
			s.actions = append(s.actions, compilePattern(a, true))
		}
		for _, r := range st.Resource {
			rp, ok := compileResource(r)
			if !ok || !validResource(r) {
				broken = true
				continue
			}
			s.anyRes = s.anyRes || rp.any
			s.resources = append(s.resources, rp)
		}
		for _, cd := range st.Conditions {
			s.conds = append(s.conds, compileCondition(cd))
		}
		if !st.Principal.IsZero() {
			// A trust statement: a Principal instead of resources, and only actions that can be sts:AssumeRole.
			tp, ok := compilePrincipal(st.Principal)
			broken = broken || !ok || len(st.Resource) > 0
			check := checkTrustAction
			if s.notAction {
				check = checkTrustNotAction
			}
			for _, a := range actions {
				broken = broken || check(a) != ""
			}
			if broken || len(s.actions) == 0 {
				continue
			}
			s.trust = tp
			c.stmts = append(c.stmts, s)
			continue
		}
		if broken || len(s.actions) == 0 || len(s.resources) == 0 {
			continue
		}
		c.stmts = append(c.stmts, s)
	}
	return c
}

func compileCondition(cd Condition) cond {
	op, ok := operators[cd.Operator]
	c := cond{op: op, key: lowerASCII(cd.Key), never: !ok || len(cd.Values) == 0}
	for _, v := range cd.Values {
		switch op.family {
		case famString:
			switch op.kind {
			case opEqualsIgnoreCase:
				c.strs = append(c.strs, v)
			case opLike:
				c.patterns = append(c.patterns, compilePattern(v, false))
			default:
				c.strs = append(c.strs, v)
			}
		case famNumeric:
			n, ok := parseNumber(v)
			c.never = c.never || !ok
			c.numbers = append(c.numbers, n)
		case famDate:
			t, ok := parseDate(v)
			c.never = c.never || !ok
			c.dates = append(c.dates, t)
		case famBool:
			c.never = c.never || (v != "true" && v != "false")
			c.bools = append(c.bools, v == "true")
		case famIP:
			p, ok := parsePrefix(v)
			c.never = c.never || !ok
			c.prefixes = append(c.prefixes, p)
		}
	}
	return c
}

// Set is the compiled policies of one principal, indexed for evaluation. It is immutable and safe for concurrent
// use.
type Set struct {
	policies []*Compiled
	// byService holds the statements whose every action names a literal service, under that lower-cased
	// service, with the service part removed from their action patterns. A statement naming several services
	// appears under each, with that service's patterns only.
	byService map[string]*group
	// wild holds the statements that can match any service: NotAction, "*" or a wildcard in the service part.
	wild group
}

// group keeps Deny statements apart from Allow ones, so that evaluation can stop early.
type group struct {
	deny, allow []stmt
}

func (g *group) add(s stmt) {
	if s.deny {
		g.deny = append(g.deny, s)
	} else {
		g.allow = append(g.allow, s)
	}
}

// NewSet indexes policies for evaluation. Nil policies and repeats of the same *Compiled are skipped. The order of policies matters only for the
// order of reasons that Explain returns.
func NewSet(policies ...*Compiled) *Set {
	s := &Set{byService: make(map[string]*group)}
	seen := make(map[*Compiled]bool, len(policies))
	for _, p := range policies {
		if p == nil || seen[p] {
			continue
		}
		seen[p] = true
		s.policies = append(s.policies, p)
		for _, st := range p.stmts {
			if st.trust == nil { // a trust statement decides who may assume a role, nothing else
				s.index(st)
			}
		}
	}
	return s
}

func (s *Set) index(st stmt) {
	if st.notAction {
		s.wild.add(st)
		return
	}
	// Split every action pattern (already lower-case, so p.lit of an exact pattern is the pattern) by service.
	var services []string
	perService := map[string][]pattern{}
	for _, p := range st.actions {
		raw := patternSource(p)
		svc, name, ok := strings.Cut(raw, ":")
		if !ok || strings.ContainsAny(svc, "*?") {
			s.wild.add(st)
			return
		}
		if _, seen := perService[svc]; !seen {
			services = append(services, svc)
		}
		perService[svc] = append(perService[svc], compilePattern(name, true))
	}
	for _, svc := range services {
		g := s.byService[svc]
		if g == nil {
			g = &group{}
			s.byService[svc] = g
		}
		cp := st
		cp.actions = perService[svc]
		g.add(cp)
	}
}

// patternSource returns the (lower-case) text a pattern was compiled from.
func patternSource(p pattern) string {
	switch p.kind {
	case patAny:
		return "*"
	case patPrefix:
		return p.lit + "*"
	case patSuffix:
		return "*" + p.lit
	case patPrefixSuffix:
		return p.lit + "*" + p.suffix
	}
	return p.lit
}

// With returns a new set of s's policies plus more (s is unchanged): the
// simulator evaluates a draft as if it were attached.
func (s *Set) With(more ...*Compiled) *Set {
	all := make([]*Compiled, 0, len(s.policies)+len(more))
	all = append(all, s.policies...)
	return NewSet(append(all, more...)...)
}
