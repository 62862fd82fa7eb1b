// Package bench compares ramconsole's policy evaluator with three general-purpose
// authorization engines (cedar-go, OPA/Rego, casbin) on the same logical policy sets.
//
// It is a separate module so the product never depends on the peers. The translators
// here read the RAM policy JSON text themselves (encoding/json) and do not depend on
// the internals of ramconsole/policy.
package bench

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Verdict mirrors policy.Decision: 0 ImplicitDeny, 1 Allow, 2 ExplicitDeny.
type Verdict uint8

const (
	ImplicitDeny Verdict = iota
	Allow
	ExplicitDeny
	// NotAllow is returned by engines that cannot tell ExplicitDeny from ImplicitDeny
	// on their fast path.
	NotAllow Verdict = 255
)

func (v Verdict) String() string {
	switch v {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	case NotAllow:
		return "NotAllow"
	}
	return fmt.Sprintf("Verdict(%d)", v)
}

// Req is one authorization request in engine-neutral form (one resource, as the
// generator produces).
type Req struct {
	Action   string
	Resource string
	Context  map[string]string
}

// PolicyText is one named RAM policy document (JSON text).
type PolicyText struct {
	Name string
	JSON string
}

// Stmt is a RAM statement normalised for translation:
//   - action patterns lower-cased (RAM matches actions case-insensitively),
//   - empty region/account segments in resource patterns replaced by "*",
//   - condition keys lower-cased (RAM key names are case-insensitive).
type Stmt struct {
	ID        string // "<policy>/<index>"
	Deny      bool
	NotAction bool
	Actions   []string
	Resources []string
	Conds     []Cond // AND
}

// Cond is one (operator, key) pair; Values are OR-ed.
type Cond struct {
	Op     string // StringEquals | IpAddress | Bool
	Key    string // lower-cased
	Values []string
}

type rawStmt struct {
	Effect    string
	Action    json.RawMessage
	NotAction json.RawMessage
	Resource  json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

type rawDoc struct {
	Version   string
	Statement []rawStmt
}

func strOrList(m json.RawMessage) ([]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		return []string{s}, nil
	}
	var l []string
	if err := json.Unmarshal(m, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// ParseStatements decodes the RAM JSON of a set of policies into normalised statements,
// in document order.
func ParseStatements(policies []PolicyText) ([]Stmt, error) {
	var out []Stmt
	for _, p := range policies {
		var d rawDoc
		if err := json.Unmarshal([]byte(p.JSON), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		for i, rs := range d.Statement {
			st := Stmt{ID: fmt.Sprintf("%s/%d", p.Name, i)}
			switch rs.Effect {
			case "Allow":
			case "Deny":
				st.Deny = true
			default:
				return nil, fmt.Errorf("%s: bad Effect %q", st.ID, rs.Effect)
			}
			acts, err := strOrList(rs.Action)
			if err != nil {
				return nil, fmt.Errorf("%s: Action: %w", st.ID, err)
			}
			if len(rs.NotAction) > 0 {
				st.NotAction = true
				if acts, err = strOrList(rs.NotAction); err != nil {
					return nil, fmt.Errorf("%s: NotAction: %w", st.ID, err)
				}
			}
			for _, a := range acts {
				st.Actions = append(st.Actions, strings.ToLower(a))
			}
			res, err := strOrList(rs.Resource)
			if err != nil {
				return nil, fmt.Errorf("%s: Resource: %w", st.ID, err)
			}
			for _, r := range res {
				st.Resources = append(st.Resources, fillEmptySegments(r))
			}
			ops := make([]string, 0, len(rs.Condition))
			for op := range rs.Condition {
				ops = append(ops, op)
			}
			sort.Strings(ops)
			for _, op := range ops {
				switch op {
				case "StringEquals", "IpAddress", "Bool":
				default:
					return nil, fmt.Errorf("%s: operator %s not supported by the peer translators", st.ID, op)
				}
				keys := make([]string, 0, len(rs.Condition[op]))
				for k := range rs.Condition[op] {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					vals, err := strOrList(rs.Condition[op][k])
					if err != nil {
						return nil, fmt.Errorf("%s: Condition.%s.%s: %w", st.ID, op, k, err)
					}
					c := Cond{Op: op, Key: strings.ToLower(k), Values: vals}
					if op == "IpAddress" {
						for i, v := range vals {
							c.Values[i] = toCIDR(v)
						}
					}
					st.Conds = append(st.Conds, c)
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// fillEmptySegments applies the RAM rule that an empty region or account segment in a
// policy's resource pattern matches any value: "acs:ram::123:user/a" -> "acs:ram:*:123:user/a".
// (Approximation: "*" also matches a value containing ':', which no real ARN segment has.)
func fillEmptySegments(p string) string {
	if !strings.HasPrefix(p, "acs:") {
		return p
	}
	seg := strings.SplitN(p, ":", 5)
	if len(seg) != 5 {
		return p
	}
	if seg[2] == "" {
		seg[2] = "*"
	}
	if seg[3] == "" {
		seg[3] = "*"
	}
	return strings.Join(seg, ":")
}

// toCIDR turns a bare IP into a host prefix so every engine gets a CIDR.
func toCIDR(v string) string {
	if strings.Contains(v, "/") {
		if p, err := netip.ParsePrefix(v); err == nil {
			return p.Masked().String()
		}
		return v
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return v
}

type patKind int

const (
	patExact  patKind = iota // no wildcard
	patPrefix                // a single trailing '*' (also "*" alone)
	patGlob                  // '*' elsewhere or '?'
)

func kindOf(p string) patKind {
	i := strings.IndexAny(p, "*?")
	switch {
	case i < 0:
		return patExact
	case i == len(p)-1 && p[i] == '*':
		return patPrefix
	}
	return patGlob
}

// NormContext lower-cases context keys (RAM condition key names are case-insensitive).
func NormContext(c map[string]string) map[string]string {
	m := make(map[string]string, len(c))
	for k, v := range c {
		m[strings.ToLower(k)] = v
	}
	return m
}

// Engine is one prepared peer engine.
type Engine interface {
	Name() string
	// Prepare converts requests to the engine's native input (outside the timed loop).
	Prepare(reqs []Req) (Prepared, error)
}

// Prepared evaluates request i of the prepared batch.
type Prepared interface {
	// Fast is the benchmarked path.
	Fast(i int) Verdict
	// Full returns the three-way decision where the engine can tell deny kinds apart.
	Full(i int) (Verdict, error)
}

// WildMatch reports whether s matches pattern p where '*' matches any run of
// characters and '?' exactly one (RAM's wildcard rules), case-sensitively.
func WildMatch(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(p) && (p[px] == '?' || p[px] == s[sx]):
			px++
			sx++
		case px < len(p) && p[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}
