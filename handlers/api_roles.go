package handlers

import (
	"ramconsole/ram"
)

// OpenAPI actions on RAM roles (SPEC §12).

// apiRole is RAM's Role; each action fills the fields its answer carries.
type apiRole struct {
	RoleID                   string `json:"RoleId,omitempty" xml:"RoleId,omitempty"`
	RoleName                 string `json:",omitempty" xml:",omitempty"`
	Arn                      string `json:",omitempty" xml:",omitempty"`
	Description              string `json:",omitempty" xml:",omitempty"`
	AssumeRolePolicyDocument string `json:",omitempty" xml:",omitempty"`
	MaxSessionDuration       int64  `json:",omitempty" xml:",omitempty"`
	CreateDate               string `json:",omitempty" xml:",omitempty"`
	UpdateDate               string `json:",omitempty" xml:",omitempty"`
	AttachDate               string `json:",omitempty" xml:",omitempty"`
}

type apiRoles struct {
	Role []apiRole
}

func toAPIRole(c *apiCall, r *ram.Role) apiRole {
	return apiRole{RoleID: r.RoleID, RoleName: r.RoleName, Arn: ram.RoleARN(c.svc.AccountID(c.ctx), r.RoleName), Description: r.Description,
		AssumeRolePolicyDocument: r.AssumeRolePolicy, MaxSessionDuration: int64(r.MaxSessionDuration),
		CreateDate: apiDate(r.CreatedAt), UpdateDate: apiDate(r.UpdatedAt)}
}

type roleResponse struct {
	apiMeta
	Role apiRole
}

type listRolesResponse struct {
	apiMeta
	IsTruncated bool
	Marker      string `json:",omitempty" xml:",omitempty"`
	Roles       apiRoles
}

func apiCreateRole(c *apiCall) (apiResponse, error) {
	d, err := c.p.intOpt("MaxSessionDuration")
	if err != nil {
		return nil, err
	}
	in := ram.RoleInput{RoleName: c.p["RoleName"], Description: c.p["Description"], AssumeRolePolicy: c.p["AssumeRolePolicyDocument"]}
	if d != nil {
		in.MaxSessionDuration = *d
		if *d == 0 {
			in.MaxSessionDuration = -1 // 0 is out of range, not "the default"
		}
	}
	r, err := c.svc.CreateRole(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	out := toAPIRole(c, r)
	out.UpdateDate = ""
	return &roleResponse{Role: out}, nil
}

func apiGetRole(c *apiCall) (apiResponse, error) {
	r, err := c.svc.GetRole(c.ctx, c.actor, c.p["RoleName"])
	if err != nil {
		return nil, err
	}
	return &roleResponse{Role: toAPIRole(c, r)}, nil
}

func apiUpdateRole(c *apiCall) (apiResponse, error) {
	d, err := c.p.intOpt("NewMaxSessionDuration")
	if err != nil {
		return nil, err
	}
	r, err := c.svc.UpdateRole(c.ctx, c.actor, c.p["RoleName"], ram.RoleUpdate{NewAssumeRolePolicy: c.p.opt("NewAssumeRolePolicyDocument"),
		NewDescription: c.p.opt("NewDescription"), NewMaxSessionDuration: d})
	if err != nil {
		return nil, err
	}
	return &roleResponse{Role: toAPIRole(c, r)}, nil
}

// apiDeleteRole does not cascade: like RAM, it refuses with
// DeleteConflict.Role.Policy while policies are attached.
func apiDeleteRole(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteRole(c.ctx, c.actor, c.p["RoleName"], false))
}

func apiListRoles(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	page, err := c.svc.ListRoles(c.ctx, c.actor, "", c.p["Marker"], n)
	if err != nil {
		return nil, err
	}
	out := &listRolesResponse{IsTruncated: page.IsTruncated, Marker: page.Marker, Roles: apiRoles{Role: make([]apiRole, 0, len(page.Roles))}}
	for i := range page.Roles {
		r := toAPIRole(c, &page.Roles[i])
		r.AssumeRolePolicyDocument = "" // lists carry no trust policy, as RAM's
		out.Roles.Role = append(out.Roles.Role, r)
	}
	return out, nil
}

func apiAttachPolicyToRole(c *apiCall) (apiResponse, error) {
	return empty(c.svc.AttachPolicyToRole(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["RoleName"]))
}

func apiDetachPolicyFromRole(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DetachPolicyFromRole(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["RoleName"]))
}

func apiListPoliciesForRole(c *apiCall) (apiResponse, error) {
	return attachedPolicies(c.svc.ListPoliciesForRole(c.ctx, c.actor, c.p["RoleName"]))
}
