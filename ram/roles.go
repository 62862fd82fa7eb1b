package ram

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"ramconsole/policy"
	"ramconsole/store"
)

// Role is a RAM role: an identity with no password and no key, assumed
// through STS by the principals its trust policy names (SPEC §12).
type Role = store.Role

// Role limits (SPEC §12).
const (
	MaxRoles                  = 1000
	MinSessionDuration        = 3600
	MaxSessionDurationLimit   = 43200
	DefaultMaxSessionDuration = 3600
	maxRoleNameLength         = 64
)

// RoleARN is a role's ARN as it appears in data (Role.Arn, trust policies).
func RoleARN(acct, name string) string { return "acs:ram::" + acct + ":role/" + name }

func newRoleID() string { return newID(19) }

// checkRoleName validates a role name: 1–64 of [A-Za-z0-9.-] (no
// underscore, unlike user and group names).
func checkRoleName(fe *fieldErrors, field, param, v string) {
	if v == "" || len(v) > maxRoleNameLength {
		fe.add(field, "InvalidParameter."+param+".Length", "Use 1 to %d characters for the role name.", maxRoleNameLength)
		return
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			fe.add(field, "InvalidParameter."+param+".InvalidChars", "Use letters, digits, periods (.) and hyphens (-) only.")
			return
		}
	}
}

// checkTrustPolicy validates a role's trust policy (param names the API's
// parameter: AssumeRolePolicyDocument or NewAssumeRolePolicyDocument).
func checkTrustPolicy(fe *fieldErrors, field, param, doc string) {
	if n := utf8.RuneCountInString(doc); n > policy.MaxDocumentLength {
		fe.add(field, "InvalidParameter."+param+".Length", "The trust policy has %d characters; at most %d are allowed.", n, policy.MaxDocumentLength)
		return
	}
	if _, err := parseTrustPolicy(doc); err != nil {
		fe.add(field, "MalformedPolicyDocument", "%s", err.Error())
	}
}

func checkSessionDuration(fe *fieldErrors, field, param string, d int) {
	if d < MinSessionDuration || d > MaxSessionDurationLimit {
		fe.add(field, "InvalidParameter."+param, "Use %d to %d seconds (1 to 12 hours).", MinSessionDuration, MaxSessionDurationLimit)
	}
}

// RoleInput is a new role.
type RoleInput struct {
	RoleName           string
	Description        string
	AssumeRolePolicy   string
	MaxSessionDuration int // 0 = the default, 3600 s
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, a Actor, in RoleInput) (*Role, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreateRole", allRolesResource(acct)); err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = DefaultMaxSessionDuration
	}
	var fe fieldErrors
	checkRoleName(&fe, "name", "RoleName", in.RoleName)
	if utf8.RuneCountInString(in.Description) > maxDescriptionLength {
		fe.add("description", "InvalidParameter.Description.Length", "Use at most 1024 characters.")
	}
	checkSessionDuration(&fe, "max_session_duration", "MaxSessionDuration", in.MaxSessionDuration)
	checkTrustPolicy(&fe, "trust_policy", "AssumeRolePolicyDocument", in.AssumeRolePolicy)
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateRole", in.RoleName, err)
	}
	r := &store.Role{RoleID: newRoleID(), RoleName: in.RoleName, Description: in.Description, AssumeRolePolicy: in.AssumeRolePolicy,
		MaxSessionDuration: in.MaxSessionDuration}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountRoles(ctx)
		if err != nil {
			return err
		}
		if n >= MaxRoles {
			return limit("LimitExceeded.Role", fmt.Sprintf("The account already has the maximum of %d roles.", MaxRoles))
		}
		if err := tx.CreateRole(ctx, r); errors.Is(err, store.ErrConflict) {
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Role", Message: "A role with this name already exists.",
				Fields: map[string]string{"name": "A role with this name already exists (names are not case-sensitive)."}}
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "CreateRole", r.RoleName, map[string]any{"RoleName": r.RoleName,
			"Description": r.Description, "AssumeRolePolicyDocument": r.AssumeRolePolicy, "MaxSessionDuration": r.MaxSessionDuration}))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateRole", in.RoleName, err)
	}
	return r, nil
}

// GetRole returns a role.
func (s *Service) GetRole(ctx context.Context, a Actor, name string) (*Role, error) {
	_, r, err := s.authorizeRole(ctx, a, "ram:GetRole", name)
	return r, err
}

// RoleUpdate names what to change; nil leaves a field as it is.
type RoleUpdate struct {
	NewAssumeRolePolicy   *string
	NewDescription        *string
	NewMaxSessionDuration *int
}

// UpdateRole changes a role's trust policy, description or session limit.
// A new trust policy ends the role's sessions: who may act as the role
// changed.
func (s *Service) UpdateRole(ctx context.Context, a Actor, name string, up RoleUpdate) (*Role, error) {
	acct, target, err := s.authorizeRole(ctx, a, "ram:UpdateRole", name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UpdateRole", name, err)
	}
	var fe fieldErrors
	params := map[string]any{"RoleName": target.RoleName}
	if up.NewAssumeRolePolicy != nil {
		checkTrustPolicy(&fe, "trust_policy", "NewAssumeRolePolicyDocument", *up.NewAssumeRolePolicy)
		params["NewAssumeRolePolicyDocument"] = *up.NewAssumeRolePolicy
	}
	if up.NewDescription != nil {
		if utf8.RuneCountInString(*up.NewDescription) > maxDescriptionLength {
			fe.add("description", "InvalidParameter.NewDescription.Length", "Use at most 1024 characters.")
		}
		params["NewDescription"] = *up.NewDescription
	}
	if up.NewMaxSessionDuration != nil {
		checkSessionDuration(&fe, "max_session_duration", "NewMaxSessionDuration", *up.NewMaxSessionDuration)
		params["NewMaxSessionDuration"] = *up.NewMaxSessionDuration
	}
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "UpdateRole", name, err)
	}
	var r *store.Role
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = s.sameRole(ctx, tx, target); err != nil {
			return err
		}
		trustChanged := up.NewAssumeRolePolicy != nil && *up.NewAssumeRolePolicy != r.AssumeRolePolicy
		if up.NewAssumeRolePolicy != nil {
			r.AssumeRolePolicy = *up.NewAssumeRolePolicy
		}
		if up.NewDescription != nil {
			r.Description = *up.NewDescription
		}
		if up.NewMaxSessionDuration != nil {
			r.MaxSessionDuration = *up.NewMaxSessionDuration
		}
		if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "UpdateRole", r.RoleName, params)
		if trustChanged {
			// Who may act as the role changed: its sessions end.
			n, err := tx.DeleteRoleSessions(ctx, r.RoleID)
			if err != nil {
				return err
			}
			ev.AdditionalEventData = map[string]any{"trustPolicyChanged": true, "endedSessions": n}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UpdateRole", name, err)
	}
	return r, nil
}

// DeleteRole deletes a role. Like RAM, it refuses while policies are
// attached (DeleteConflict.Role.Policy); with cascade (the console, after
// the person agreed) each detachment is authorised and performed first.
func (s *Service) DeleteRole(ctx context.Context, a Actor, name string, cascade bool) error {
	acct, target, err := s.authorizeRole(ctx, a, "ram:DeleteRole", name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeleteRole", name, err)
	}
	var plan *cascadePlan
	if cascade {
		if plan, err = s.roleCascade(ctx, s.st.Reads, acct, target); err != nil {
			return err
		}
		if err := s.authorizeCascade(ctx, a, plan); err != nil {
			return err
		}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		r, err := s.sameRole(ctx, tx, target)
		if err != nil {
			return err
		}
		if cascade {
			if err := s.sameCascade(ctx, tx, plan, func() (*cascadePlan, error) { return s.roleCascade(ctx, tx.Reads, acct, r) }); err != nil {
				return err
			}
		} else if sys, custom, err := tx.CountAttachments(ctx, store.Attachment{RoleID: r.RoleID}); err != nil {
			return err
		} else if sys+custom > 0 {
			return conflict("DeleteConflict.Role.Policy", "The role still has policies attached. Detach them first.")
		}
		if err := tx.DeleteRole(ctx, r.RoleID); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "DeleteRole", r.RoleName, map[string]any{"RoleName": r.RoleName})
		if cascade && len(plan.steps) > 0 {
			ev.AdditionalEventData = map[string]any{"detached": len(plan.steps)}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteRole", name, err)
	}
	return nil
}

// RolePage is one page of roles.
type RolePage struct {
	Roles       []Role
	Marker      string
	IsTruncated bool
}

// ListRoles returns a page of roles ordered by name, optionally those whose
// name starts with query.
func (s *Service) ListRoles(ctx context.Context, a Actor, query, marker string, maxItems int) (*RolePage, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListRoles", allRolesResource(acct)); err != nil {
		return nil, err
	}
	size, after, err := pageArgs(maxItems, marker)
	if err != nil {
		return nil, err
	}
	roles, err := s.st.Roles(ctx, query, after, size+1)
	if err != nil {
		return nil, err
	}
	page := &RolePage{Roles: roles}
	if len(roles) > size {
		page.Roles, page.IsTruncated = roles[:size], true
		page.Marker = encodeMarker(roles[size-1].RoleName)
	}
	return page, nil
}

// AttachPolicyToRole attaches a policy to a role.
func (s *Service) AttachPolicyToRole(ctx context.Context, a Actor, policyType, policyName, roleName string) error {
	return s.attachTo(ctx, a, true, policyType, policyName, kindRole, roleName)
}

// DetachPolicyFromRole detaches a policy from a role.
func (s *Service) DetachPolicyFromRole(ctx context.Context, a Actor, policyType, policyName, roleName string) error {
	return s.attachTo(ctx, a, false, policyType, policyName, kindRole, roleName)
}

// ListPoliciesForRole returns the policies attached to a role.
func (s *Service) ListPoliciesForRole(ctx context.Context, a Actor, roleName string) ([]Policy, error) {
	return s.listAttached(ctx, a, kindRole, roleName)
}

// roleCascade plans deleting a role with its policies.
func (s *Service) roleCascade(ctx context.Context, r store.Reads, acct string, role *store.Role) (*cascadePlan, error) {
	p := &cascadePlan{}
	rres := roleResource(acct, role)
	atts, err := r.RoleAttachments(ctx, role.RoleID)
	if err != nil {
		return nil, err
	}
	for _, at := range atts {
		p.add("ram:DetachPolicyFromRole", at.PolicyType+"/"+at.PolicyName, rres, attachedPolicyResource(acct, at))
	}
	return p, nil
}
