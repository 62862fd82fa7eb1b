package bench

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/types"
)

// CedarText translates normalised RAM statements into Cedar policy text: one Cedar
// policy per statement, permit for Allow and forbid for Deny (Cedar's
// forbid-overrides-permit is RAM's deny-over-allow), principal unconstrained.
//
// Request shape (see CedarRequest): action = Action::"<lower-cased action>",
// resource = Resource::"<arn>", context = { act: <lower-cased action>, res: <arn>,
// <lower-cased condition keys>... } where acs:sourceip is an ipaddr and
// acs:mfapresent / acs:securetransport are Booleans (typed, as a Cedar schema would
// declare them); every other key is a String.
func CedarText(stmts []Stmt) (string, error) {
	var b strings.Builder
	for _, st := range stmts {
		eff := "permit"
		if st.Deny {
			eff = "forbid"
		}
		fmt.Fprintf(&b, "@id(%s)\n%s (\n  principal,\n", cq(st.ID), eff)
		var when []string
		// Action: all-exact lists go in the scope (idiomatic, indexable Cedar);
		// wildcards need `like` on a context string.
		allExact := true
		for _, a := range st.Actions {
			if kindOf(a) != patExact {
				allExact = false
			}
		}
		switch {
		case allExact && !st.NotAction && len(st.Actions) == 1:
			fmt.Fprintf(&b, "  action == Action::%s,\n", cq(st.Actions[0]))
		case allExact && !st.NotAction:
			parts := make([]string, len(st.Actions))
			for i, a := range st.Actions {
				parts[i] = "Action::" + cq(a)
			}
			fmt.Fprintf(&b, "  action in [%s],\n", strings.Join(parts, ", "))
		default:
			b.WriteString("  action,\n")
			var ors []string
			for _, a := range st.Actions {
				o, err := cedarMatch("context.act", a)
				if err != nil {
					return "", fmt.Errorf("%s: %w", st.ID, err)
				}
				ors = append(ors, o)
			}
			e := "(" + strings.Join(ors, " || ") + ")"
			if st.NotAction {
				e = "!" + e
			}
			when = append(when, e)
		}
		if len(st.Resources) == 1 && kindOf(st.Resources[0]) == patExact {
			fmt.Fprintf(&b, "  resource == Resource::%s\n)", cq(st.Resources[0]))
		} else if len(st.Resources) == 1 && st.Resources[0] == "*" {
			b.WriteString("  resource\n)")
		} else {
			b.WriteString("  resource\n)")
			var ors []string
			for _, r := range st.Resources {
				o, err := cedarMatch("context.res", r)
				if err != nil {
					return "", fmt.Errorf("%s: %w", st.ID, err)
				}
				ors = append(ors, o)
			}
			when = append(when, "("+strings.Join(ors, " || ")+")")
		}
		for _, c := range st.Conds {
			k := cq(c.Key)
			ref := "context[" + k + "]"
			var ors []string
			switch c.Op {
			case "StringEquals":
				if cedarTypedKey(c.Key) != "" {
					return "", fmt.Errorf("%s: StringEquals on typed key %s not mapped", st.ID, c.Key)
				}
				for _, v := range c.Values {
					ors = append(ors, ref+" == "+cq(v))
				}
			case "IpAddress":
				for _, v := range c.Values {
					ors = append(ors, ref+".isInRange(ip("+cq(v)+"))")
				}
			case "Bool":
				for _, v := range c.Values {
					bv, err := strconv.ParseBool(strings.ToLower(v))
					if err != nil {
						return "", fmt.Errorf("%s: Bool value %q", st.ID, v)
					}
					ors = append(ors, ref+" == "+strconv.FormatBool(bv))
				}
			}
			// absent key -> positive operator false (and no evaluation error)
			when = append(when, "(context has "+k+" && ("+strings.Join(ors, " || ")+"))")
		}
		if len(when) > 0 {
			b.WriteString("\nwhen {\n  " + strings.Join(when, " &&\n  ") + "\n}")
		}
		b.WriteString(";\n\n")
	}
	return b.String(), nil
}

func cedarMatch(ref, pat string) (string, error) {
	switch kindOf(pat) {
	case patExact:
		return ref + " == " + cq(pat), nil
	case patPrefix:
		if pat == "*" {
			return "true", nil
		}
	}
	if strings.Contains(pat, "?") {
		return "", fmt.Errorf("pattern %q: Cedar `like` has no single-character wildcard", pat)
	}
	return ref + " like " + cq(pat), nil // '*' is Cedar's wildcard too
}

// cq quotes a Cedar string literal.
func cq(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func cedarTypedKey(k string) string {
	switch k {
	case "acs:sourceip":
		return "ip"
	case "acs:mfapresent", "acs:securetransport":
		return "bool"
	}
	return ""
}

// CedarRequest builds the Cedar request for r. Keys whose value does not parse as
// their type are left out (RAM: such operators are false; Cedar: `has` is false).
func CedarRequest(r Req) cedar.Request {
	act := strings.ToLower(r.Action)
	rm := cedar.RecordMap{
		"act": cedar.String(act),
		"res": cedar.String(r.Resource),
	}
	for k, v := range r.Context {
		k = strings.ToLower(k)
		switch cedarTypedKey(k) {
		case "ip":
			if a, err := netip.ParseAddr(v); err == nil {
				rm[cedar.String(k)] = cedar.IPAddr(netip.PrefixFrom(a, a.BitLen()))
			}
		case "bool":
			if bv, err := strconv.ParseBool(strings.ToLower(v)); err == nil && (strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
				rm[cedar.String(k)] = cedar.Boolean(bv)
			}
		default:
			rm[cedar.String(k)] = cedar.String(v)
		}
	}
	return cedar.Request{
		Principal: cedar.NewEntityUID("User", "u"),
		Action:    cedar.NewEntityUID("Action", cedar.String(act)),
		Resource:  cedar.NewEntityUID("Resource", cedar.String(r.Resource)),
		Context:   cedar.NewRecord(rm),
	}
}

// CedarEngine holds a parsed Cedar policy set.
type CedarEngine struct {
	Set  *cedar.PolicySet
	Text string
}

func NewCedar(stmts []Stmt) (*CedarEngine, error) {
	txt, err := CedarText(stmts)
	if err != nil {
		return nil, err
	}
	ps, err := cedar.NewPolicySetFromBytes("ram.cedar", []byte(txt))
	if err != nil {
		return nil, fmt.Errorf("cedar parse: %w\n%s", err, txt)
	}
	return &CedarEngine{Set: ps, Text: txt}, nil
}

func (e *CedarEngine) Name() string { return "cedar" }

type cedarPrepared struct {
	e    *CedarEngine
	reqs []cedar.Request
}

func (e *CedarEngine) Prepare(reqs []Req) (Prepared, error) {
	p := &cedarPrepared{e: e, reqs: make([]cedar.Request, len(reqs))}
	for i, r := range reqs {
		p.reqs[i] = CedarRequest(r)
	}
	return p, nil
}

var cedarNoEntities = types.EntityMap{}

func (p *cedarPrepared) Fast(i int) Verdict {
	d, _ := p.e.Set.IsAuthorized(cedarNoEntities, p.reqs[i])
	if d == cedar.Allow {
		return Allow
	}
	return NotAllow
}

// Full: Cedar can tell the two denies apart — a Deny with reasons is a matching forbid.
func (p *cedarPrepared) Full(i int) (Verdict, error) {
	d, diag := p.e.Set.IsAuthorized(cedarNoEntities, p.reqs[i])
	if len(diag.Errors) > 0 {
		return 0, fmt.Errorf("cedar evaluation errors: %v", diag.Errors)
	}
	if d == cedar.Allow {
		return Allow, nil
	}
	if len(diag.Reasons) > 0 {
		return ExplicitDeny, nil
	}
	return ImplicitDeny, nil
}
