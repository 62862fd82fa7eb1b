package ram

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
)

// SimulateInput is the policy simulator's form (SPEC §5).
type SimulateInput struct {
	UserName        string
	Action          string
	Resources       []string
	SourceIP        string
	MFAPresent      string // "true" | "false" | ""
	SecureTransport string // "true" | "false" | ""
	CurrentTime     string // ISO 8601, "" = now
	Context         []string
	Draft           string // a policy document evaluated as if attached
}

// Simulate answers "may this user do this action on these resources?" with
// the evaluator's decision and reasons, as the console would decide it. A
// draft document is evaluated as if it were attached to the user.
func (s *Service) Simulate(ctx context.Context, a Actor, in SimulateInput) (*policy.Result, error) {
	acct := s.accountID(ctx)
	var fe fieldErrors
	checkName(&fe, "user", "UserName", "user name", in.UserName)
	var u *store.User
	if fe.err() == nil {
		res, found, err := s.lookupUser(ctx, s.st, acct, in.UserName)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(ctx, a, "ram:SimulatePrincipalPolicy", res); err != nil {
			return nil, err
		}
		if u = found; u == nil {
			fe.add("user", "EntityNotExist.User", "There is no user with this name.")
		}
	}
	action := strings.TrimSpace(in.Action)
	if svc, name, ok := strings.Cut(action, ":"); action == "" {
		fe.add("action", "InvalidParameter.Action", "Enter an action such as ecs:DescribeInstances.")
	} else if !ok || svc == "" || name == "" || strings.ContainsAny(action, " \t") {
		fe.add("action", "InvalidParameter.Action", "Enter an action like ram:CreateUser.")
	}
	var resources []string
	for _, r := range in.Resources {
		if r = strings.TrimSpace(r); r != "" {
			resources = append(resources, r)
		}
	}
	if len(resources) == 0 {
		fe.add("resource", "InvalidParameter.Resource", "Enter at least one resource ARN, one per line.")
	}
	for _, r := range resources {
		if r != "*" && (!strings.HasPrefix(r, "acs:") || strings.Count(r, ":") < 4) {
			fe.add("resource", "InvalidParameter.Resource", "%q is not * or an ARN like acs:ram:*:%s:user/alice.", truncate(r, 80), acct)
			break
		}
	}
	pc := &policy.Context{}
	now := s.Now()
	if in.CurrentTime != "" {
		t, err := parseISOTime(in.CurrentTime)
		if err != nil {
			fe.add("current_time", "InvalidParameter.CurrentTime", "Use an ISO 8601 time like 2026-11-26T09:00:00Z.")
		}
		now = t
	}
	pc.Set(policy.KeyCurrentTime, now.UTC().Format(time.RFC3339))
	if in.SourceIP != "" {
		if _, err := netip.ParseAddr(strings.TrimSpace(in.SourceIP)); err != nil {
			fe.add("source_ip", "InvalidParameter.SourceIp", "Enter an IP address.")
		}
		pc.Set(policy.KeySourceIP, strings.TrimSpace(in.SourceIP))
	}
	for key, v := range map[string]string{policy.KeyMFAPresent: in.MFAPresent, policy.KeySecureTransport: in.SecureTransport} {
		switch v {
		case "":
		case "true", "false":
			pc.Set(key, v)
		default:
			fe.add(map[string]string{policy.KeyMFAPresent: "mfa_present", policy.KeySecureTransport: "secure_transport"}[key],
				"InvalidParameter", "Choose true or false.")
		}
	}
	if u != nil {
		pc.Set(policy.KeyPrincipalARN, UserARN(acct, u.UserName))
	}
	for _, line := range in.Context {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, err := policy.ParseContextArg(line)
		if err != nil {
			fe.add("context", "InvalidParameter.Context", "%q is not key=value.", truncate(line, 80))
			break
		}
		pc.Set(k, v)
	}
	var draft *policy.Document
	if strings.TrimSpace(in.Draft) != "" {
		draft = checkDocument(&fe, "document", in.Draft)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	set, err := s.effectivePolicies(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	if draft != nil {
		set = set.With(policy.Compile(policy.Source{Type: "Draft", Name: "draft", Version: "-"}, draft))
	}
	res := set.Explain(&policy.Request{Action: action, Resources: resources, Context: pc})
	if strings.EqualFold(action, policy.ActionAssumeRole) {
		if err := s.simulateTrust(ctx, acct, u, pc, &res); err != nil {
			return nil, err
		}
	}
	return &res, nil
}

// simulateTrust adds the trust policies to a simulated sts:AssumeRole:
// assuming a role needs the user's own policies and the role's trust
// policy both to say yes, so each resource that names a role of the
// account is decided by both, with the trust policy's statements among the
// reasons (policy type "Trust").
func (s *Service) simulateTrust(ctx context.Context, acct string, u *store.User, pc *policy.Context, res *policy.Result) error {
	caller := policy.Caller{Kind: policy.CallerRAMUser, Account: acct, ARN: UserARN(acct, u.UserName)}
	for i := range res.Resources {
		rr := &res.Resources[i]
		_, rest, ok := strings.Cut(rr.Resource, ":"+acct+":role/")
		if !ok || !strings.HasPrefix(rr.Resource, "acs:ram:") {
			continue
		}
		role, err := s.st.RoleByName(ctx, rest)
		if err != nil {
			if !isNotFound(err) {
				return err
			}
			continue
		}
		tp, err := s.trustPolicy(role)
		if err != nil {
			return err
		}
		tr := tp.ExplainTrust(&policy.TrustRequest{Caller: caller, Context: pc})
		rr.Matched = append(rr.Matched, tr.Matched...)
		res.Matched = append(res.Matched, tr.Matched...)
		switch {
		case rr.Decision == policy.ExplicitDeny || tr.Decision == policy.ExplicitDeny:
			rr.Decision = policy.ExplicitDeny
		case rr.Decision == policy.Allow && tr.Decision == policy.Allow:
		default:
			rr.Decision = policy.ImplicitDeny
		}
	}
	// The overall decision: ExplicitDeny if any resource is, Allow if all are.
	deny, allow := false, true
	for _, rr := range res.Resources {
		deny = deny || rr.Decision == policy.ExplicitDeny
		allow = allow && rr.Decision == policy.Allow
	}
	switch {
	case deny:
		res.Decision = policy.ExplicitDeny
	case allow:
		res.Decision = policy.Allow
	default:
		res.Decision = policy.ImplicitDeny
	}
	return nil
}

// parseISOTime accepts RFC 3339 and the date and minute forms people type.
func parseISOTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	var last error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t.UTC(), nil
		}
		last = err
	}
	return time.Time{}, last
}

// EffectivePolicy is a policy in force for a user, and where it comes from.
type EffectivePolicy struct {
	Policy
	Via string // "" when attached to the user, else the group's name
}

// EffectivePolicies lists every policy in force for a user (authorised as
// ram:ListPoliciesForUser).
func (s *Service) EffectivePolicies(ctx context.Context, a Actor, userName string) ([]EffectivePolicy, error) {
	_, u, err := s.authorizeUser(ctx, a, "ram:ListPoliciesForUser", userName)
	if err != nil {
		return nil, err
	}
	atts, via, err := s.st.EffectiveAttachments(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]EffectivePolicy, 0, len(atts))
	for i, at := range atts {
		p, ok, err := s.policyOf(ctx, at)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, EffectivePolicy{Policy: p, Via: via[i]})
		}
	}
	return out, nil
}
