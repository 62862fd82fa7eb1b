package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// RegoModule translates normalised RAM statements into one Rego module (package
// ram). Each statement becomes one `deny`/`allow` rule body per (action pattern,
// resource pattern) pair, so OPA's rule indexer sees a plain `input.action == "..."`
// or `glob.match("...", [], input.action)` in every body. The query is
// `data.ram.decision`, a string.
//
// Input shape (see RegoInput): {"action": <lower-cased>, "service": <before the first
// ':'>, "name": <after it>, "resource": <arn>, "context": {<lower-cased key>: <string value>}}.
func RegoModule(stmts []Stmt) (string, error) {
	var b strings.Builder
	b.WriteString(`package ram

default decision := "ImplicitDeny"

decision := "ExplicitDeny" if {
	deny
} else := "Allow" if {
	allow
}

`)
	for _, st := range stmts {
		head := "allow"
		if st.Deny {
			head = "deny"
		}
		var conds []string
		for _, c := range st.Conds {
			ref := "input.context[" + strconv.Quote(c.Key) + "]"
			switch c.Op {
			case "StringEquals":
				if len(c.Values) == 1 {
					conds = append(conds, ref+" == "+strconv.Quote(c.Values[0]))
				} else {
					q := make([]string, len(c.Values))
					for i, v := range c.Values {
						q[i] = strconv.Quote(v)
					}
					conds = append(conds, ref+" in {"+strings.Join(q, ", ")+"}")
				}
			case "IpAddress":
				// net.cidr_contains errors on a non-IP request value -> undefined -> false.
				if len(c.Values) == 1 {
					conds = append(conds, "net.cidr_contains("+strconv.Quote(c.Values[0])+", "+ref+")")
				} else {
					q := make([]string, len(c.Values))
					for i, v := range c.Values {
						q[i] = strconv.Quote(v)
					}
					conds = append(conds, "some cidr in ["+strings.Join(q, ", ")+"]", "net.cidr_contains(cidr, "+ref+")")
				}
			case "Bool":
				// RAM reads "true"/"false" in any letter case, on both sides.
				ref = "lower(" + ref + ")"
				if len(c.Values) == 1 {
					conds = append(conds, ref+" == "+strconv.Quote(strings.ToLower(c.Values[0])))
				} else {
					q := make([]string, len(c.Values))
					for i, v := range c.Values {
						q[i] = strconv.Quote(strings.ToLower(v))
					}
					conds = append(conds, ref+" in {"+strings.Join(q, ", ")+"}")
				}
			}
		}
		var actExprs []string
		if st.NotAction {
			// NotAction: the statement applies when no listed pattern matches.
			var nots []string
			for _, a := range st.Actions {
				if m := regoMatch("input.action", a); m == "true" {
					nots = append(nots, "false")
				} else {
					nots = append(nots, "not "+m)
				}
			}
			actExprs = []string{strings.Join(nots, "\n\t")}
		} else {
			for _, a := range st.Actions {
				actExprs = append(actExprs, regoAction(a))
			}
		}
		for _, ae := range actExprs {
			for _, r := range st.Resources {
				fmt.Fprintf(&b, "# %s\n%s if {\n", st.ID, head)
				if ae != "true" {
					b.WriteString("\t" + ae + "\n")
				}
				if re := regoResource(r); re != "true" {
					b.WriteString("\t" + re + "\n")
				}
				for _, c := range conds {
					b.WriteString("\t" + c + "\n")
				}
				if ae == "true" && regoResource(r) == "true" && len(conds) == 0 {
					b.WriteString("\ttrue\n") // a body cannot be empty
				}
				b.WriteString("}\n\n")
			}
		}
	}
	return b.String(), nil
}

// regoAction matches an action pattern. The input carries the action split at its
// first colon (input.service, input.name) as well as whole (input.action), so the
// common shapes become equalities on input.service / input.name, which OPA's rule
// indexer can use — the same "index by service" idea ramconsole applies internally.
func regoAction(pat string) string {
	svc, name, ok := strings.Cut(pat, ":")
	if !ok || strings.ContainsAny(svc, "*?") {
		return regoMatch("input.action", pat)
	}
	se := "input.service == " + strconv.Quote(svc)
	switch kindOf(name) {
	case patExact:
		return se + "\n\tinput.name == " + strconv.Quote(name)
	case patPrefix:
		if name == "*" {
			return se
		}
		return se + "\n\tstartswith(input.name, " + strconv.Quote(name[:len(name)-1]) + ")"
	}
	return se + "\n\t" + regoMatch("input.name", name)
}

// regoResource matches a resource pattern: == for exact ARNs, startswith for a single
// trailing '*', glob.match otherwise.
func regoResource(pat string) string {
	if k := kindOf(pat); k == patPrefix && pat != "*" {
		return "startswith(input.resource, " + strconv.Quote(pat[:len(pat)-1]) + ")"
	}
	return regoMatch("input.resource", pat)
}

func regoMatch(ref, pat string) string {
	switch kindOf(pat) {
	case patExact:
		return ref + " == " + strconv.Quote(pat)
	case patPrefix:
		if pat == "*" {
			return "true"
		}
	}
	// glob.match with no delimiters: '*' is any run, '?' one character, like RAM.
	// Brackets/braces would be special in glob syntax; RAM patterns do not use them.
	return "glob.match(" + strconv.Quote(pat) + ", [], " + ref + ")"
}

// RegoInput builds the parsed input value for r (done outside the timed loop; the
// conversion from a Go map would otherwise be paid on every Eval).
func RegoInput(r Req) ast.Value {
	ctx := ast.NewObject()
	for k, v := range r.Context {
		ctx.Insert(ast.StringTerm(strings.ToLower(k)), ast.StringTerm(v))
	}
	act := strings.ToLower(r.Action)
	svc, name, _ := strings.Cut(act, ":")
	return ast.NewObject(
		ast.Item(ast.StringTerm("action"), ast.StringTerm(act)),
		ast.Item(ast.StringTerm("service"), ast.StringTerm(svc)),
		ast.Item(ast.StringTerm("name"), ast.StringTerm(name)),
		ast.Item(ast.StringTerm("resource"), ast.StringTerm(r.Resource)),
		ast.Item(ast.StringTerm("context"), ast.NewTerm(ctx)),
	)
}

type OPAEngine struct {
	PQ     rego.PreparedEvalQuery
	Module string
}

func NewOPA(stmts []Stmt) (*OPAEngine, error) {
	mod, err := RegoModule(stmts)
	if err != nil {
		return nil, err
	}
	pq, err := rego.New(
		rego.Query("data.ram.decision"),
		rego.Module("ram.rego", mod),
	).PrepareForEval(context.Background())
	if err != nil {
		return nil, fmt.Errorf("rego prepare: %w\n%s", err, mod)
	}
	return &OPAEngine{PQ: pq, Module: mod}, nil
}

func (e *OPAEngine) Name() string { return "opa" }

type opaPrepared struct {
	e   *OPAEngine
	in  []ast.Value
	ctx context.Context
}

func (e *OPAEngine) Prepare(reqs []Req) (Prepared, error) {
	p := &opaPrepared{e: e, in: make([]ast.Value, len(reqs)), ctx: context.Background()}
	for i, r := range reqs {
		p.in[i] = RegoInput(r)
	}
	return p, nil
}

func (p *opaPrepared) Full(i int) (Verdict, error) {
	rs, err := p.e.PQ.Eval(p.ctx, rego.EvalParsedInput(p.in[i]))
	if err != nil {
		return 0, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return 0, fmt.Errorf("opa: unexpected result set %v", rs)
	}
	switch rs[0].Expressions[0].Value {
	case "Allow":
		return Allow, nil
	case "ExplicitDeny":
		return ExplicitDeny, nil
	case "ImplicitDeny":
		return ImplicitDeny, nil
	}
	return 0, fmt.Errorf("opa: unexpected decision %v", rs[0].Expressions[0].Value)
}

// Fast is the same query: the decision string already carries all three outcomes.
func (p *opaPrepared) Fast(i int) Verdict {
	v, err := p.Full(i)
	if err != nil {
		panic(err)
	}
	return v
}
