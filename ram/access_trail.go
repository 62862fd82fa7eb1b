package ram

import (
	"context"

	"ramconsole/policy"
	"ramconsole/store"
)

// The access review counts every decision a request is given (SPEC §16.1):
// the decision is kept with the request's context and recorded by its
// event, and the store rolls it up in the transaction that writes the
// event. Only decisions of requests that run or are refused are kept
// (decideCounted); the console's navigation checks are not.

// accessPrincipal is the rollups' key of the actor: user/<UserId>,
// role/<RoleId> (a role session counts for its role) or root.
func accessPrincipal(a Actor) string {
	switch {
	case a.Session != nil:
		return "role/" + a.Session.Role.RoleID
	case a.Principal == PrincipalRoot:
		return "root"
	case a.Principal != "":
		return "user/" + a.Principal.UserID()
	}
	return ""
}

// keepDecision keeps an evaluated decision for the request's event, with
// the statements it is credited to.
func (s *Service) keepDecision(ctx context.Context, a Actor, req *policy.Request, d policy.Decision, set *policy.Set) {
	if !store.HasEventMark(ctx) {
		return
	}
	auth := store.Authorization{Principal: accessPrincipal(a), Action: req.Action,
		Resources: append([]string(nil), req.Resources...), Decision: d.String(),
		MFAPresent: a.MFAPresent, SecureTransport: a.SecureTransport}
	var buf [4]policy.Credit
	for _, c := range set.Credited(buf[:0], req, d) {
		auth.Statements = append(auth.Statements, store.StatementCredit{PolicyType: c.Source.Type, PolicyName: c.Source.Name,
			PolicyID: c.Source.ID, Version: c.Source.Version, Statement: c.Statement})
	}
	store.AddAuthorization(ctx, auth)
}

// keepRootDecision keeps the owner's decision (always Allow, by no
// statement).
func (s *Service) keepRootDecision(ctx context.Context, a Actor, action string, rs ...Resource) {
	if a.Principal != PrincipalRoot || !store.HasEventMark(ctx) {
		return
	}
	resources := make([]string, len(rs))
	for i, r := range rs {
		resources[i] = r.arn
	}
	store.AddAuthorization(ctx, store.Authorization{Principal: "root", Action: action, Resources: resources,
		Decision: policy.Allow.String(), MFAPresent: a.MFAPresent, SecureTransport: a.SecureTransport})
}
