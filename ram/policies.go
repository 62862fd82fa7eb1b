package ram

import (
	"context"
	"time"
)

// Policy is a system or custom policy as RAM describes it.
type Policy struct {
	PolicyName      string
	PolicyType      string // System | Custom
	Description     string
	DefaultVersion  string
	CreateDate      time.Time
	UpdateDate      time.Time
	AttachmentCount int
	AttachDate      time.Time // in lists of a principal's policies
}

// PolicyVersion is one version of a policy's document.
type PolicyVersion struct {
	VersionID        string
	PolicyDocument   string
	IsDefaultVersion bool
	CreateDate       time.Time
}

// PolicyPage is one page of a policy list.
type PolicyPage struct {
	Policies    []Policy
	Marker      string
	IsTruncated bool
}

// ListPoliciesInput selects policies: a type ("" = both), a name prefix, a page.
type ListPoliciesInput struct {
	PolicyType string
	Query      string
	Marker     string
	MaxItems   int
}

// EntityUser and EntityGroup are the principals a policy is attached to.
type EntityUser struct {
	UserID, UserName, DisplayName string
	AttachDate                    time.Time
}

// EntityGroup is a group a policy is attached to.
type EntityGroup struct {
	GroupName, Comments string
	AttachDate          time.Time
}

var errNotReady = &Error{Kind: ENOTFOUND, Code: "InvalidAction.NotFound", Message: "Policies are being built."}

// CreatePolicy creates a custom policy whose v1 is the document.
func (s *Service) CreatePolicy(ctx context.Context, a Actor, name, document, description string) (*Policy, error) {
	return nil, errNotReady
}

// GetPolicy returns a policy and its default version.
func (s *Service) GetPolicy(ctx context.Context, a Actor, policyType, name string) (*Policy, *PolicyVersion, error) {
	return nil, nil, errNotReady
}

// UpdatePolicyDescription changes a custom policy's description.
func (s *Service) UpdatePolicyDescription(ctx context.Context, a Actor, name, newDescription string) (*Policy, error) {
	return nil, errNotReady
}

// DeletePolicy deletes a custom policy; without cascade (the API) it refuses
// with DeleteConflict.Policy.* while attached or with non-default versions.
func (s *Service) DeletePolicy(ctx context.Context, a Actor, name string, cascade bool) error {
	return errNotReady
}

// ListPolicies returns a page of policies.
func (s *Service) ListPolicies(ctx context.Context, a Actor, in ListPoliciesInput) (*PolicyPage, error) {
	return nil, errNotReady
}

// CreatePolicyVersion adds a version to a custom policy.
func (s *Service) CreatePolicyVersion(ctx context.Context, a Actor, name, document string, setAsDefault bool, rotateStrategy string) (*PolicyVersion, error) {
	return nil, errNotReady
}

// GetPolicyVersion returns one version of a policy.
func (s *Service) GetPolicyVersion(ctx context.Context, a Actor, policyType, name, versionID string) (*PolicyVersion, error) {
	return nil, errNotReady
}

// DeletePolicyVersion deletes a non-default version.
func (s *Service) DeletePolicyVersion(ctx context.Context, a Actor, name, versionID string) error {
	return errNotReady
}

// ListPolicyVersions returns every version of a policy.
func (s *Service) ListPolicyVersions(ctx context.Context, a Actor, policyType, name string) ([]PolicyVersion, error) {
	return nil, errNotReady
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, a Actor, name, versionID string) error {
	return errNotReady
}

// AttachPolicyToUser attaches a policy to a user.
func (s *Service) AttachPolicyToUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	return errNotReady
}

// DetachPolicyFromUser detaches a policy from a user.
func (s *Service) DetachPolicyFromUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	return errNotReady
}

// AttachPolicyToGroup attaches a policy to a group.
func (s *Service) AttachPolicyToGroup(ctx context.Context, a Actor, policyType, policyName, groupName string) error {
	return errNotReady
}

// DetachPolicyFromGroup detaches a policy from a group.
func (s *Service) DetachPolicyFromGroup(ctx context.Context, a Actor, policyType, policyName, groupName string) error {
	return errNotReady
}

// ListPoliciesForUser returns the policies attached to a user directly.
func (s *Service) ListPoliciesForUser(ctx context.Context, a Actor, userName string) ([]Policy, error) {
	return nil, errNotReady
}

// ListPoliciesForGroup returns the policies attached to a group.
func (s *Service) ListPoliciesForGroup(ctx context.Context, a Actor, groupName string) ([]Policy, error) {
	return nil, errNotReady
}

// ListEntitiesForPolicy returns the users and groups a policy is attached to.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, a Actor, policyType, name string) ([]EntityUser, []EntityGroup, error) {
	return nil, nil, errNotReady
}
