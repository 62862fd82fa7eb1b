package ram

import (
	"context"
	"errors"
	"slices"

	"ramconsole/policy"
	"ramconsole/store"
)

// The console's deletes "with clean-up" (a user with everything it has, a
// group with its members and policies, a policy with its attachments and
// old versions) perform many operations in one. Each of them must be
// allowed on its own, exactly as if the person had done it by hand: a user
// refused DetachPolicyFromGroup on a guardrail must not be able to delete it
// with the group. A cascadePlan lists those operations as they were
// authorised; the transaction that deletes checks that it still performs
// exactly them, so nothing added meanwhile goes unauthorised.

// cascadeStep is one operation a cascade performs.
type cascadeStep struct {
	action    string
	resources []Resource
	key       string // what the step acts on, to compare plans
}

// cascadePlan is the operations of one cascade.
type cascadePlan struct{ steps []cascadeStep }

func (p *cascadePlan) add(action, key string, rs ...Resource) {
	p.steps = append(p.steps, cascadeStep{action: action, resources: rs, key: action + " " + key})
}

func (p *cascadePlan) keys() []string {
	out := make([]string, len(p.steps))
	for i, st := range p.steps {
		out[i] = st.key
	}
	slices.Sort(out)
	return out
}

// authorizeCascade authorises every step; the first refusal is the answer.
func (s *Service) authorizeCascade(ctx context.Context, a Actor, p *cascadePlan) error {
	if a.Principal == PrincipalRoot {
		return nil
	}
	for _, st := range p.steps {
		if err := s.authorize(ctx, a, st.action, st.resources...); err != nil {
			return err
		}
	}
	return nil
}

// sameCascade refuses when what the cascade would now do differs from what
// was authorised.
func (s *Service) sameCascade(ctx context.Context, tx *store.Tx, authorised *cascadePlan, now func() (*cascadePlan, error)) error {
	cur, err := now()
	if err != nil {
		return err
	}
	if !slices.Equal(cur.keys(), authorised.keys()) {
		return conflict("Conflict.Changed", "What this would remove changed meanwhile. Review it and try again.")
	}
	return nil
}

// attachedPolicyResource is the Resource of an attachment's policy (its
// stored name).
func attachedPolicyResource(acct string, at store.Attachment) Resource {
	if at.PolicyType == PolicyTypeSystem {
		if sp, ok := policy.LookupSystemPolicy(at.PolicyName); ok {
			return systemPolicyResource(sp)
		}
	}
	return customPolicyResource(acct, &store.CustomPolicy{PolicyName: at.PolicyName})
}

// groupCascade plans deleting a group with its members and policies.
func (s *Service) groupCascade(ctx context.Context, r store.Reads, acct string, g *store.Group) (*cascadePlan, error) {
	p := &cascadePlan{}
	gres := groupResource(acct, g)
	members, err := r.Members(ctx, g.GroupID, "", MaxUsers+1)
	if err != nil {
		return nil, err
	}
	for i := range members {
		p.add("ram:RemoveUserFromGroup", members[i].UserID+"/"+members[i].UserName, userResource(acct, &members[i].User), gres)
	}
	atts, err := r.GroupAttachments(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	for _, at := range atts {
		p.add("ram:DetachPolicyFromGroup", at.PolicyType+"/"+at.PolicyName, gres, attachedPolicyResource(acct, at))
	}
	return p, nil
}

// userCascade plans deleting a user with its AccessKeys, login profile, MFA
// device, memberships and policies.
func (s *Service) userCascade(ctx context.Context, r store.Reads, acct string, u *store.User) (*cascadePlan, error) {
	p := &cascadePlan{}
	ures := userResource(acct, u)
	keys, err := r.AccessKeys(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		p.add("ram:DeleteAccessKey", k.AccessKeyID, ures)
	}
	if _, err := r.LoginProfile(ctx, u.UserID); err == nil {
		p.add("ram:DeleteLoginProfile", "", ures)
	} else if !isNotFound(err) {
		return nil, err
	}
	if has, err := r.HasSecondFactor(ctx, u.Principal()); err != nil {
		return nil, err
	} else if has {
		p.add("ram:UnbindMFADevice", "", ures)
	}
	groups, err := r.GroupsForUser(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	for i := range groups {
		p.add("ram:RemoveUserFromGroup", groups[i].GroupID+"/"+groups[i].GroupName, ures, groupResource(acct, &groups[i]))
	}
	atts, err := r.UserAttachments(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	for _, at := range atts {
		p.add("ram:DetachPolicyFromUser", at.PolicyType+"/"+at.PolicyName, ures, attachedPolicyResource(acct, at))
	}
	return p, nil
}

// policyCascade plans deleting a custom policy with its attachments and
// non-default versions.
func (s *Service) policyCascade(ctx context.Context, r store.Reads, acct string, cp *store.CustomPolicy) (*cascadePlan, error) {
	p := &cascadePlan{}
	pres := customPolicyResource(acct, cp)
	atts, err := r.PolicyAttachments(ctx, PolicyTypeCustom, cp.PolicyName)
	if err != nil {
		return nil, err
	}
	for _, at := range atts {
		if at.UserID != "" {
			u, err := r.UserByID(ctx, at.UserID)
			if err != nil {
				return nil, err
			}
			p.add("ram:DetachPolicyFromUser", "user/"+u.UserID+"/"+u.UserName, userResource(acct, u), pres)
			continue
		}
		if at.RoleID != "" {
			role, err := r.RoleByID(ctx, at.RoleID)
			if err != nil {
				return nil, err
			}
			p.add("ram:DetachPolicyFromRole", "role/"+role.RoleID, roleResource(acct, role), pres)
			continue
		}
		g, err := r.GroupByID(ctx, at.GroupID)
		if err != nil {
			return nil, err
		}
		p.add("ram:DetachPolicyFromGroup", "group/"+g.GroupID+"/"+g.GroupName, groupResource(acct, g), pres)
	}
	versions, err := r.PolicyVersions(ctx, cp.PolicyID)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.VersionID != cp.DefaultVersion {
			p.add("ram:DeletePolicyVersion", v.VersionID, pres)
		}
	}
	return p, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
