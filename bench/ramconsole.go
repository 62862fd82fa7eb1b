package bench

import (
	"fmt"

	"ramconsole/policy"
)

// RAMEngine is ramconsole's own evaluator over the same policy texts.
type RAMEngine struct {
	Set *policy.Set
}

func NewRAM(pols []PolicyText) (*RAMEngine, error) {
	cs := make([]*policy.Compiled, 0, len(pols))
	for _, p := range pols {
		d, err := policy.Parse(p.JSON)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		cs = append(cs, policy.Compile(policy.Source{Type: "Custom", Name: p.Name, Version: "v1"}, d))
	}
	return &RAMEngine{Set: policy.NewSet(cs...)}, nil
}

func (e *RAMEngine) Name() string { return "ramconsole" }

type ramPrepared struct {
	e    *RAMEngine
	reqs []policy.Request
}

// Prepare builds policy.Requests; Context.Set parses typed values (IP, bool, number,
// date) once, outside the timed loop — the same treatment Cedar's typed context gets.
func (e *RAMEngine) Prepare(reqs []Req) (Prepared, error) {
	p := &ramPrepared{e: e, reqs: make([]policy.Request, len(reqs))}
	for i, r := range reqs {
		ctx := &policy.Context{}
		for k, v := range r.Context {
			ctx.Set(k, v)
		}
		p.reqs[i] = policy.Request{Action: r.Action, Resources: []string{r.Resource}, Context: ctx}
	}
	return p, nil
}

func (p *ramPrepared) Fast(i int) Verdict { return Verdict(p.e.Set.Evaluate(&p.reqs[i])) }

func (p *ramPrepared) Full(i int) (Verdict, error) { return p.Fast(i), nil }
