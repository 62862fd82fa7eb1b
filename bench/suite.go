package bench

import (
	"fmt"
	"testing"
)

// Size is one policy-set shape.
type Size struct {
	Name                     string
	Policies, StmtsPerPolicy int
}

// Sizes benchmarked side by side: the typical user (10 policies / 50 statements in
// all) and a large one (100 / 1,000).
var Sizes = []Size{
	{"10x50", 10, 5},
	{"100x1000", 100, 10},
}

// Seeds shared by the agreement test, the benchmarks and cmd/compare.
const (
	PolicySeed  = 1
	RequestSeed = 2
	NumRequests = 2000
)

// EngineNames in report order; ramconsole first (the ratio's denominator).
var EngineNames = []string{"ramconsole", "cedar", "opa", "casbin", "casbin-gofn"}

// Build creates the named engine for a policy set.
func Build(name string, pols []PolicyText) (Engine, error) {
	if name == "ramconsole" {
		return NewRAM(pols)
	}
	stmts, err := ParseStatements(pols)
	if err != nil {
		return nil, err
	}
	switch name {
	case "cedar":
		return NewCedar(stmts)
	case "opa":
		return NewOPA(stmts)
	case "casbin":
		return NewCasbin(stmts)
	case "casbin-gofn":
		return NewCasbinFn(stmts)
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

// Bench returns a benchmark function for engine name on size sz, cycling over the
// pre-built requests (request construction happens before the timer starts).
func Bench(name string, sz Size) (func(b *testing.B), error) {
	pols, reqs := Workload(sz)
	e, err := Build(name, pols)
	if err != nil {
		return nil, err
	}
	p, err := e.Prepare(reqs)
	if err != nil {
		return nil, err
	}
	return func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.Fast(i)
			if i++; i == len(reqs) {
				i = 0
			}
		}
	}, nil
}

// Agree checks that every named engine gives ramconsole's decision on the size's
// requests (three-way through Full, and the benchmarked Fast path). It returns the
// first disagreement.
func Agree(sz Size, names []string) error {
	pols, reqs := Workload(sz)
	ref, err := Build("ramconsole", pols)
	if err != nil {
		return err
	}
	rp, err := ref.Prepare(reqs)
	if err != nil {
		return err
	}
	for _, name := range names {
		if name == "ramconsole" {
			continue
		}
		e, err := Build(name, pols)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p, err := e.Prepare(reqs)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for i, r := range reqs {
			want := rp.Fast(i)
			got, err := p.Full(i)
			if err != nil {
				return fmt.Errorf("%s: request %d %+v: %w", name, i, r, err)
			}
			fast := p.Fast(i)
			fastWant := want
			if fast == NotAllow && want != Allow {
				fastWant = NotAllow
			}
			if got != want || fast != fastWant {
				return fmt.Errorf("%s/%s disagrees with ramconsole on request %d %+v: ramconsole %v, %s %v (fast path %v)",
					sz.Name, name, i, r, want, name, got, fast)
			}
		}
	}
	return nil
}

// PrepCost reports what building one request's native input costs for the engine
// (the work kept out of the timed loop): the best of five Prepare calls over the
// size's requests, per request, and the allocations per request.
func PrepCost(name string, sz Size) (nsPerReq float64, allocsPerReq float64, err error) {
	pols, reqs := Workload(sz)
	e, err := Build(name, pols)
	if err != nil {
		return 0, 0, err
	}
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Prepare(reqs); err != nil {
				b.Fatal(err)
			}
		}
	})
	return float64(r.T.Nanoseconds()) / float64(r.N) / float64(len(reqs)), float64(r.MemAllocs) / float64(r.N) / float64(len(reqs)), nil
}
