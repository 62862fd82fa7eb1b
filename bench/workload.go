package bench

import "ramconsole/policy/policytest"

// Workload returns the size's policy set and NumRequests requests from the
// generator shared with ramconsole's own benchmarks (ramconsole/policy/policytest),
// converted to the engine-neutral types.
func Workload(sz Size) ([]PolicyText, []Req) {
	gp := policytest.Generate(PolicySeed, sz.Policies, sz.StmtsPerPolicy)
	pols := make([]PolicyText, len(gp))
	for i, p := range gp {
		pols[i] = PolicyText{Name: p.Name, JSON: p.JSON}
	}
	gr := policytest.Requests(RequestSeed, NumRequests, gp)
	reqs := make([]Req, len(gr))
	for i, r := range gr {
		reqs[i] = Req{Action: r.Action, Resource: r.Resource, Context: r.Context}
	}
	return pols, reqs
}

// Perturb returns a copy of reqs that exercises rules the generator leaves out:
// every third request's action in a different letter case (RAM matches actions
// case-insensitively), and every fourth request missing one context key
// (absent key: a positive operator is false) and with its keys spelt in another
// case (key names are case-insensitive).
func Perturb(reqs []Req) []Req {
	out := make([]Req, len(reqs))
	for i, r := range reqs {
		q := Req{Action: r.Action, Resource: r.Resource, Context: map[string]string{}}
		if i%3 == 0 {
			if i%2 == 0 {
				q.Action = upperASCII(q.Action)
			} else {
				q.Action = lowerASCII(q.Action)
			}
		}
		drop := ""
		if i%4 == 0 {
			drop = []string{"acs:SourceIp", "acs:SecureTransport", "acs:MFAPresent", "acs:UserAgent"}[(i/4)%4]
		}
		for k, v := range r.Context {
			if k == drop {
				continue
			}
			if i%4 == 0 {
				k = upperASCII(k)
			}
			q.Context[k] = v
		}
		out[i] = q
	}
	return out
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
