package handlers

import (
	"ramconsole/ram"
)

// OpenAPI actions on policies, their versions and attachments.

// apiPolicy is RAM's Policy; each action fills the fields its answer carries.
type apiPolicy struct {
	PolicyName      string
	PolicyType      string
	Description     string
	DefaultVersion  string `json:",omitempty" xml:",omitempty"`
	CreateDate      string `json:",omitempty" xml:",omitempty"`
	UpdateDate      string `json:",omitempty" xml:",omitempty"`
	AttachDate      string `json:",omitempty" xml:",omitempty"`
	AttachmentCount *int   `json:",omitempty" xml:",omitempty"`
}

func toAPIPolicy(p *ram.Policy, withCount bool) apiPolicy {
	out := apiPolicy{PolicyName: p.PolicyName, PolicyType: p.PolicyType, Description: p.Description, DefaultVersion: p.DefaultVersion,
		CreateDate: apiDate(p.CreateDate), UpdateDate: apiDate(p.UpdateDate)}
	if withCount {
		n := p.AttachmentCount
		out.AttachmentCount = &n
	}
	return out
}

// apiPolicyVersion is RAM's PolicyVersion (and DefaultPolicyVersion).
type apiPolicyVersion struct {
	VersionID        string `json:"VersionId" xml:"VersionId"`
	PolicyDocument   string
	IsDefaultVersion bool
	CreateDate       string
}

func toAPIVersion(v *ram.PolicyVersion) apiPolicyVersion {
	return apiPolicyVersion{VersionID: v.VersionID, PolicyDocument: v.PolicyDocument, IsDefaultVersion: v.IsDefaultVersion,
		CreateDate: apiDate(v.CreateDate)}
}

type apiPolicies struct {
	Policy []apiPolicy
}

type policyResponse struct {
	apiMeta
	Policy apiPolicy
}

type getPolicyResponse struct {
	apiMeta
	Policy               apiPolicy
	DefaultPolicyVersion apiPolicyVersion
}

type listPoliciesResponse struct {
	apiMeta
	IsTruncated bool
	Marker      string `json:",omitempty" xml:",omitempty"`
	Policies    apiPolicies
}

type policiesResponse struct {
	apiMeta
	Policies apiPolicies
}

type policyVersionResponse struct {
	apiMeta
	PolicyVersion apiPolicyVersion
}

type policyVersionsResponse struct {
	apiMeta
	PolicyVersions struct {
		PolicyVersion []apiPolicyVersion
	}
}

type entitiesResponse struct {
	apiMeta
	Users  apiUsers
	Groups apiGroups
	Roles  apiRoles
}

func apiCreatePolicy(c *apiCall) (apiResponse, error) {
	p, err := c.svc.CreatePolicy(c.ctx, c.actor, c.p["PolicyName"], c.p["PolicyDocument"], c.p["Description"])
	if err != nil {
		return nil, err
	}
	out := toAPIPolicy(p, false)
	out.UpdateDate = ""
	return &policyResponse{Policy: out}, nil
}

func apiGetPolicy(c *apiCall) (apiResponse, error) {
	p, v, err := c.svc.GetPolicy(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"])
	if err != nil {
		return nil, err
	}
	out := &getPolicyResponse{Policy: toAPIPolicy(p, true)}
	if v != nil {
		out.DefaultPolicyVersion = toAPIVersion(v)
	}
	return out, nil
}

func apiUpdatePolicyDescription(c *apiCall) (apiResponse, error) {
	p, err := c.svc.UpdatePolicyDescription(c.ctx, c.actor, c.p["PolicyName"], c.p["NewDescription"])
	if err != nil {
		return nil, err
	}
	return &policyResponse{Policy: toAPIPolicy(p, false)}, nil
}

// apiDeletePolicy does not cascade: the console offers to detach the policy
// and delete its other versions first; the API refuses with
// DeleteConflict.Policy.* while any remain, as Alibaba Cloud RAM does.
func apiDeletePolicy(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeletePolicy(c.ctx, c.actor, c.p["PolicyName"], false))
}

func apiListPolicies(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	page, err := c.svc.ListPolicies(c.ctx, c.actor, ram.ListPoliciesInput{PolicyType: c.p["PolicyType"], Marker: c.p["Marker"], MaxItems: n})
	if err != nil {
		return nil, err
	}
	out := &listPoliciesResponse{IsTruncated: page.IsTruncated, Marker: page.Marker, Policies: apiPolicies{Policy: make([]apiPolicy, 0, len(page.Policies))}}
	for i := range page.Policies {
		out.Policies.Policy = append(out.Policies.Policy, toAPIPolicy(&page.Policies[i], true))
	}
	return out, nil
}

func apiCreatePolicyVersion(c *apiCall) (apiResponse, error) {
	def, err := c.p.boolOpt("SetAsDefault")
	if err != nil {
		return nil, err
	}
	strategy := c.p["RotateStrategy"]
	if strategy == "" {
		strategy = "None"
	}
	v, err := c.svc.CreatePolicyVersion(c.ctx, c.actor, c.p["PolicyName"], c.p["PolicyDocument"], def != nil && *def, strategy)
	if err != nil {
		return nil, err
	}
	return &policyVersionResponse{PolicyVersion: toAPIVersion(v)}, nil
}

func apiGetPolicyVersion(c *apiCall) (apiResponse, error) {
	v, err := c.svc.GetPolicyVersion(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["VersionId"])
	if err != nil {
		return nil, err
	}
	return &policyVersionResponse{PolicyVersion: toAPIVersion(v)}, nil
}

func apiDeletePolicyVersion(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeletePolicyVersion(c.ctx, c.actor, c.p["PolicyName"], c.p["VersionId"]))
}

func apiListPolicyVersions(c *apiCall) (apiResponse, error) {
	vs, err := c.svc.ListPolicyVersions(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"])
	if err != nil {
		return nil, err
	}
	out := &policyVersionsResponse{}
	out.PolicyVersions.PolicyVersion = make([]apiPolicyVersion, 0, len(vs))
	for i := range vs {
		out.PolicyVersions.PolicyVersion = append(out.PolicyVersions.PolicyVersion, toAPIVersion(&vs[i]))
	}
	return out, nil
}

func apiSetDefaultPolicyVersion(c *apiCall) (apiResponse, error) {
	return empty(c.svc.SetDefaultPolicyVersion(c.ctx, c.actor, c.p["PolicyName"], c.p["VersionId"]))
}

func apiAttachPolicyToUser(c *apiCall) (apiResponse, error) {
	return empty(c.svc.AttachPolicyToUser(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["UserName"]))
}

func apiDetachPolicyFromUser(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DetachPolicyFromUser(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["UserName"]))
}

func apiAttachPolicyToGroup(c *apiCall) (apiResponse, error) {
	return empty(c.svc.AttachPolicyToGroup(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["GroupName"]))
}

func apiDetachPolicyFromGroup(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DetachPolicyFromGroup(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"], c.p["GroupName"]))
}

func attachedPolicies(ps []ram.Policy, err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &policiesResponse{Policies: apiPolicies{Policy: make([]apiPolicy, 0, len(ps))}}
	for _, p := range ps {
		out.Policies.Policy = append(out.Policies.Policy, apiPolicy{PolicyName: p.PolicyName, PolicyType: p.PolicyType,
			Description: p.Description, DefaultVersion: p.DefaultVersion, AttachDate: apiDate(p.AttachDate)})
	}
	return out, nil
}

func apiListPoliciesForUser(c *apiCall) (apiResponse, error) {
	return attachedPolicies(c.svc.ListPoliciesForUser(c.ctx, c.actor, c.p["UserName"]))
}

func apiListPoliciesForGroup(c *apiCall) (apiResponse, error) {
	return attachedPolicies(c.svc.ListPoliciesForGroup(c.ctx, c.actor, c.p["GroupName"]))
}

func apiListEntitiesForPolicy(c *apiCall) (apiResponse, error) {
	users, groups, roles, err := c.svc.ListEntitiesForPolicy(c.ctx, c.actor, c.p["PolicyType"], c.p["PolicyName"])
	if err != nil {
		return nil, err
	}
	out := &entitiesResponse{Users: apiUsers{User: make([]apiUser, 0, len(users))}, Groups: apiGroups{Group: make([]apiGroup, 0, len(groups))},
		Roles: apiRoles{Role: make([]apiRole, 0, len(roles))}}
	for _, u := range users {
		out.Users.User = append(out.Users.User, apiUser{UserID: u.UserID, UserName: u.UserName, DisplayName: u.DisplayName, AttachDate: apiDate(u.AttachDate)})
	}
	for _, g := range groups {
		out.Groups.Group = append(out.Groups.Group, apiGroup{GroupName: g.GroupName, Comments: g.Comments, AttachDate: apiDate(g.AttachDate)})
	}
	acct := c.svc.AccountID(c.ctx)
	for _, r := range roles {
		out.Roles.Role = append(out.Roles.Role, apiRole{RoleID: r.RoleID, RoleName: r.RoleName, Arn: ram.RoleARN(acct, r.RoleName),
			Description: r.Description, AttachDate: apiDate(r.AttachDate)})
	}
	return out, nil
}
