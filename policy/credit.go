package policy

// Credit is one statement a decision is credited to: the policy it belongs
// to, as compiled, and its index in the document's Statement array.
type Credit struct {
	Source    Source
	Statement int
}

// Credited appends to dst the statements a decision of r is credited to:
// for Allow, the first Allow statement that matches any resource, in the
// order Explain lists them (policies as given to NewSet, then by
// statement); for ExplicitDeny, every Deny statement that matches a
// resource; for ImplicitDeny, none. Unlike Explain it builds no reasons.
func (s *Set) Credited(dst []Credit, r *Request, d Decision) []Credit {
	if s == nil || r == nil || len(r.Resources) == 0 || d == ImplicitDeny {
		return dst
	}
	deny := d == ExplicitDeny
	for _, p := range s.policies {
		for i := range p.stmts {
			st := &p.stmts[i]
			if st.trust != nil || st.deny != deny {
				continue
			}
			for _, res := range r.Resources {
				rr := requestResource{full: res}
				rr.arn, rr.ok = splitARN(res)
				if st.matches(r.Action, &rr, r.Context) {
					dst = append(dst, Credit{Source: p.src, Statement: st.index})
					break
				}
			}
			if !deny && len(dst) > 0 {
				return dst
			}
		}
	}
	return dst
}

// Grants reports whether an Allow statement of the set names action — its
// Action matches it, or its NotAction does not — whatever its resources
// and conditions say: what a principal was given, as the access review
// counts it.
func (s *Set) Grants(action string) bool {
	if s == nil {
		return false
	}
	for _, p := range s.policies {
		if p.Grants(action) {
			return true
		}
	}
	return false
}

// Grants is Set.Grants for one policy.
func (c *Compiled) Grants(action string) bool {
	for i := range c.stmts {
		st := &c.stmts[i]
		if st.trust == nil && !st.deny && st.actionMatches(action) {
			return true
		}
	}
	return false
}
