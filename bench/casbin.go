package bench

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// CasbinModel is the casbin model used for RAM policies. One policy row per
// (statement, action pattern, resource pattern); the row's `cond` column holds the
// statement's condition block as a casbin (govaluate) expression evaluated with
// casbin's documented ABAC `eval()`; `sid` keeps rows from different statements
// distinct (casbin drops duplicate rows) and names the statement in EnforceEx.
// The effect is casbin's built-in deny-override-with-allow:
// some(where (p.eft == allow)) && !some(where (p.eft == deny)).
const CasbinModel = `
[request_definition]
r = act, res, ctx

[policy_definition]
p = act, res, cond, eft, sid

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = keyMatch(r.act, p.act) && wildMatch(r.res, p.res) && (p.cond == "" || eval(p.cond))
`

// CasbinRows translates statements to casbin policy rows.
func CasbinRows(stmts []Stmt) ([][]string, error) {
	var rows [][]string
	for _, st := range stmts {
		if st.NotAction {
			return nil, fmt.Errorf("%s: NotAction has no keyMatch mapping", st.ID)
		}
		for _, p := range st.Actions {
			if kindOf(p) == patGlob {
				return nil, fmt.Errorf("%s: action pattern %q: keyMatch supports only a trailing '*'", st.ID, p)
			}
		}
		var conds []string
		for _, c := range st.Conds {
			k := strconv.Quote(c.Key)
			get := "ctxGet(r.ctx, " + k + ")"
			var ors []string
			for _, v := range c.Values {
				switch c.Op {
				case "StringEquals":
					ors = append(ors, get+" == "+strconv.Quote(v))
				case "IpAddress":
					ors = append(ors, "ipIn("+get+", "+strconv.Quote(v)+")")
				case "Bool": // RAM reads "true"/"false" in any letter case
					ors = append(ors, "lower("+get+") == "+strconv.Quote(strings.ToLower(v)))
				}
			}
			conds = append(conds, "(ctxHas(r.ctx, "+k+") && ("+strings.Join(ors, " || ")+"))")
		}
		eft := "allow"
		if st.Deny {
			eft = "deny"
		}
		cond := strings.Join(conds, " && ")
		for _, a := range st.Actions {
			for _, r := range st.Resources {
				rows = append(rows, []string{a, r, cond, eft, st.ID})
			}
		}
	}
	return rows, nil
}

// CasbinEngine is an enforcer loaded with the translated rows.
type CasbinEngine struct {
	E    *casbin.Enforcer
	Rows [][]string
	name string
}

func NewCasbin(stmts []Stmt) (*CasbinEngine, error) {
	rows, err := CasbinRows(stmts)
	if err != nil {
		return nil, err
	}
	m, err := model.NewModelFromString(CasbinModel)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	// Context access and a non-panicking IP test, registered through casbin's
	// documented custom-function mechanism. (The built-in ipMatch panics on a
	// request value that is not an IP, which casbin turns into an Enforce error.)
	// Resource patterns have '*' in the middle (acs:ecs:*:*:instance/*): casbin's
	// keyMatch only honours the first '*' as "rest of string", globMatch treats '/'
	// as a separator and regexMatch compiles a regexp on every call, so a RAM
	// wildcard matcher is registered instead.
	e.AddFunction("wildMatch", func(args ...any) (any, error) {
		return WildMatch(args[1].(string), args[0].(string)), nil
	})
	e.AddFunction("lower", func(args ...any) (any, error) {
		return strings.ToLower(args[0].(string)), nil
	})
	e.AddFunction("ctxHas", func(args ...any) (any, error) {
		_, ok := args[0].(map[string]string)[args[1].(string)]
		return ok, nil
	})
	e.AddFunction("ctxGet", func(args ...any) (any, error) {
		return args[0].(map[string]string)[args[1].(string)], nil
	})
	e.AddFunction("ipIn", func(args ...any) (any, error) {
		a, err := netip.ParseAddr(args[0].(string))
		if err != nil {
			return false, nil
		}
		p, err := netip.ParsePrefix(args[1].(string))
		if err != nil {
			return false, nil
		}
		return p.Contains(a.Unmap()), nil
	})
	if len(rows) > 0 {
		if ok, err := e.AddPolicies(rows); err != nil || !ok {
			return nil, fmt.Errorf("casbin AddPolicies: ok=%v err=%v", ok, err)
		}
	}
	return &CasbinEngine{E: e, Rows: rows, name: "casbin"}, nil
}

func (e *CasbinEngine) Name() string { return e.name }

type casbinReq struct {
	act, res string
	ctx      map[string]string
}

type casbinPrepared struct {
	e    *CasbinEngine
	reqs []casbinReq
}

func (e *CasbinEngine) Prepare(reqs []Req) (Prepared, error) {
	p := &casbinPrepared{e: e, reqs: make([]casbinReq, len(reqs))}
	for i, r := range reqs {
		p.reqs[i] = casbinReq{strings.ToLower(r.Action), r.Resource, NormContext(r.Context)}
	}
	return p, nil
}

func (p *casbinPrepared) Fast(i int) Verdict {
	r := p.reqs[i]
	ok, err := p.e.E.Enforce(r.act, r.res, r.ctx)
	if err != nil {
		panic(err)
	}
	if ok {
		return Allow
	}
	return NotAllow
}

// Full uses EnforceEx: with this effect casbin explains a denial by the first
// matching deny row, and gives no row when nothing matched.
func (p *casbinPrepared) Full(i int) (Verdict, error) {
	r := p.reqs[i]
	ok, explain, err := p.e.E.EnforceEx(r.act, r.res, r.ctx)
	if err != nil {
		return 0, err
	}
	if ok {
		return Allow, nil
	}
	if len(explain) == 5 && explain[3] == "deny" {
		return ExplicitDeny, nil
	}
	return ImplicitDeny, nil
}

// CasbinFnModel is a variant that avoids eval(): the `cond` column names a
// statement whose condition block is evaluated by a registered Go function. It
// measures casbin's own matching/effect machinery without the cost of re-parsing
// eval() expressions, and is favourable to casbin (the condition logic is Go code
// written for this benchmark, not casbin's language).
const CasbinFnModel = `
[request_definition]
r = act, res, ctx

[policy_definition]
p = act, res, cond, eft, sid

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = keyMatch(r.act, p.act) && wildMatch(r.res, p.res) && ramCond(r.ctx, p.cond)
`

type fnCond struct {
	op     string
	key    string
	values []string
	cidrs  []netip.Prefix
}

// NewCasbinFn builds the eval-free variant.
func NewCasbinFn(stmts []Stmt) (*CasbinEngine, error) {
	var rows [][]string
	var compiled [][]fnCond
	for _, st := range stmts {
		if st.NotAction {
			return nil, fmt.Errorf("%s: NotAction has no keyMatch mapping", st.ID)
		}
		var cs []fnCond
		for _, c := range st.Conds {
			fc := fnCond{op: c.Op, key: c.Key, values: c.Values}
			if c.Op == "IpAddress" {
				for _, v := range c.Values {
					p, err := netip.ParsePrefix(v)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", st.ID, err)
					}
					fc.cidrs = append(fc.cidrs, p)
				}
			}
			if c.Op == "Bool" {
				fc.values = nil
				for _, v := range c.Values {
					fc.values = append(fc.values, strings.ToLower(v))
				}
			}
			cs = append(cs, fc)
		}
		id := strconv.Itoa(len(compiled))
		compiled = append(compiled, cs)
		eft := "allow"
		if st.Deny {
			eft = "deny"
		}
		for _, a := range st.Actions {
			if kindOf(a) == patGlob {
				return nil, fmt.Errorf("%s: action pattern %q: keyMatch supports only a trailing '*'", st.ID, a)
			}
			for _, r := range st.Resources {
				rows = append(rows, []string{a, r, id, eft, st.ID})
			}
		}
	}
	m, err := model.NewModelFromString(CasbinFnModel)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	e.AddFunction("wildMatch", func(args ...any) (any, error) {
		return WildMatch(args[1].(string), args[0].(string)), nil
	})
	e.AddFunction("ramCond", func(args ...any) (any, error) {
		ctx := args[0].(map[string]string)
		n, _ := strconv.Atoi(args[1].(string))
		for _, c := range compiled[n] {
			v, ok := ctx[c.key]
			if !ok {
				return false, nil
			}
			hit := false
			switch c.op {
			case "StringEquals":
				for _, w := range c.values {
					if v == w {
						hit = true
						break
					}
				}
			case "Bool":
				lv := strings.ToLower(v)
				for _, w := range c.values {
					if lv == w {
						hit = true
						break
					}
				}
			case "IpAddress":
				if a, err := netip.ParseAddr(v); err == nil {
					a = a.Unmap()
					for _, p := range c.cidrs {
						if p.Contains(a) {
							hit = true
							break
						}
					}
				}
			}
			if !hit {
				return false, nil
			}
		}
		return true, nil
	})
	if len(rows) > 0 {
		if ok, err := e.AddPolicies(rows); err != nil || !ok {
			return nil, fmt.Errorf("casbin AddPolicies: ok=%v err=%v", ok, err)
		}
	}
	return &CasbinEngine{E: e, Rows: rows, name: "casbin-gofn"}, nil
}
