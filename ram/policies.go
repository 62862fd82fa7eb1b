package ram

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"ramconsole/policy"
	"ramconsole/store"
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

// EntityUser is a user a policy is attached to.
type EntityUser struct {
	UserID, UserName, DisplayName string
	AttachDate                    time.Time
}

// EntityRole is a role a policy is attached to.
type EntityRole struct {
	Role
	AttachDate time.Time
}

// EntityGroup is a group a policy is attached to.
type EntityGroup struct {
	GroupName, Comments string
	AttachDate          time.Time
}

// Policy limits (SPEC §4.1, §10).
const (
	MaxCustomPolicies       = 1500
	MaxPolicyVersions       = 5
	MaxSystemPerPrincipal   = 20
	MaxCustomPerPrincipal   = 10
	maxPolicyNameLength     = 128
	maxDescriptionLength    = 1024
	PolicyTypeSystem        = "System"
	PolicyTypeCustom        = "Custom"
	rotateOldestNonDefault  = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	systemPolicyVersion     = "v1"
	systemPolicyAccountPart = "system"
)

// systemPolicyDate is when the built-in catalogue is said to be created.
var systemPolicyDate = time.Date(2015, 4, 28, 0, 0, 0, 0, time.UTC)

var (
	policyNameRE = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	versionIDRE  = regexp.MustCompile(`^v[1-9][0-9]{0,5}$`)
)

func checkPolicyType(fe *fieldErrors, t string) {
	if t != PolicyTypeSystem && t != PolicyTypeCustom {
		fe.add("policy_type", "InvalidParameter.PolicyType", "Choose System or Custom.")
	}
}

func checkPolicyName(fe *fieldErrors, field, name string) {
	switch {
	case name == "" || len(name) > maxPolicyNameLength:
		fe.add(field, "InvalidParameter.PolicyName.Length", "Use 1 to 128 characters for the policy name.")
	case !policyNameRE.MatchString(name):
		fe.add(field, "InvalidParameter.PolicyName.InvalidChars", "Use letters, digits and hyphens only.")
	}
}

// checkDocument validates a policy document; the field message keeps every
// problem (line and column for syntax errors, the path for grammar errors).
func checkDocument(fe *fieldErrors, field, doc string) *policy.Document {
	if utf8.RuneCountInString(doc) > policy.MaxDocumentLength {
		fe.add(field, "InvalidParameter.PolicyDocument.Length", "The document has %d characters; at most %d are allowed.",
			utf8.RuneCountInString(doc), policy.MaxDocumentLength)
		return nil
	}
	d, err := policy.Parse(doc)
	if err != nil {
		fe.add(field, "MalformedPolicyDocument", "%s", err.Error())
		return nil
	}
	return d
}

// PolicyProblems returns the validator's problems of a document, one a line
// (for the console, which shows them next to the document).
func PolicyProblems(err error) []string {
	var ve *policy.ValidationError
	if e, ok := AsError(err); ok {
		if msg, ok := e.Fields["document"]; ok && e.Code == "MalformedPolicyDocument" {
			return strings.Split(msg, "; ")
		}
	}
	if errors.As(err, &ve) {
		out := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			out[i] = p.String()
		}
		return out
	}
	return nil
}

func (s *Service) customPolicy(ctx context.Context, r interface {
	CustomPolicy(context.Context, string) (*store.CustomPolicy, error)
}, name string) (*store.CustomPolicy, error) {
	p, err := r.CustomPolicy(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EntityNotExist.Policy", "policy")
	}
	return p, err
}

// systemPolicy returns a built-in policy by exact name.
func systemPolicy(name string) (policy.SystemPolicy, error) {
	sp, ok := policy.LookupSystemPolicy(name)
	if !ok {
		return sp, notFound("EntityNotExist.Policy", "policy")
	}
	return sp, nil
}

// CreatePolicy creates a custom policy whose v1 is the document.
func (s *Service) CreatePolicy(ctx context.Context, a Actor, name, document, description string) (*Policy, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreatePolicy", allPoliciesResource(acct)); err != nil {
		return nil, err
	}
	var fe fieldErrors
	checkPolicyName(&fe, "name", name)
	if utf8.RuneCountInString(description) > maxDescriptionLength {
		fe.add("description", "InvalidParameter.Description.Length", "Use at most 1024 characters.")
	}
	checkDocument(&fe, "document", document)
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "CreatePolicy", name, err)
	}
	if _, ok := policy.LookupSystemPolicy(name); ok {
		return nil, s.refuse(ctx, a, acct, "CreatePolicy", name, &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Policy",
			Message: "A system policy has this name.", Fields: map[string]string{"name": "A system policy has this name; choose another."}})
	}
	p := &store.CustomPolicy{PolicyName: name, Description: description}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountCustomPolicies(ctx)
		if err != nil {
			return err
		}
		if n >= MaxCustomPolicies {
			return limit("LimitExceeded.Policy", "The account already has the maximum of 1500 custom policies.")
		}
		if err := tx.CreateCustomPolicy(ctx, p, document); errors.Is(err, store.ErrConflict) {
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Policy", Message: "A policy with this name already exists.",
				Fields: map[string]string{"name": "A policy with this name already exists (names are not case-sensitive)."}}
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "CreatePolicy", name, map[string]any{"PolicyName": name, "Description": description, "PolicyDocument": document}))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreatePolicy", name, err)
	}
	return customView(p, 0), nil
}

func customView(p *store.CustomPolicy, attachments int) *Policy {
	return &Policy{PolicyName: p.PolicyName, PolicyType: PolicyTypeCustom, Description: p.Description, DefaultVersion: p.DefaultVersion,
		CreateDate: p.CreatedAt, UpdateDate: p.UpdatedAt, AttachmentCount: attachments}
}

func systemView(sp policy.SystemPolicy, attachments int) *Policy {
	return &Policy{PolicyName: sp.Name, PolicyType: PolicyTypeSystem, Description: sp.Description, DefaultVersion: systemPolicyVersion,
		CreateDate: systemPolicyDate, UpdateDate: systemPolicyDate, AttachmentCount: attachments}
}

// policyRef validates a (type, name) pair, finds the policy and authorises
// action on its stored ARN. It returns the stored name and, for a custom
// policy, the policy; a name that matches nothing is authorised as spelled,
// then is EntityNotExist.Policy.
func (s *Service) policyRef(ctx context.Context, a Actor, action, policyType, name string) (acct, canonical string, cp *store.CustomPolicy, err error) {
	acct = s.accountID(ctx)
	var fe fieldErrors
	checkPolicyType(&fe, policyType)
	checkPolicyName(&fe, "name", name)
	if err := fe.err(); err != nil {
		return acct, "", nil, err
	}
	res, canonical, found, err := s.lookupPolicy(ctx, s.st, acct, policyType, name)
	if err != nil {
		return acct, "", nil, err
	}
	if err := s.authorize(ctx, a, action, res); err != nil {
		return acct, "", nil, err
	}
	if !found {
		return acct, "", nil, notFound("EntityNotExist.Policy", "policy")
	}
	if policyType == PolicyTypeCustom {
		if cp, err = s.authorisedPolicy(ctx, canonical); err != nil {
			return acct, "", nil, err
		}
	}
	return acct, canonical, cp, nil
}

// authorisedPolicy reads again the custom policy stored as canonical, the
// name whose ARN was authorised: names are unique case-insensitively, so
// the read finds another policy if this one was replaced meanwhile under
// another spelling — whose ARN was never authorised — and that is refused
// as gone.
func (s *Service) authorisedPolicy(ctx context.Context, canonical string) (*store.CustomPolicy, error) {
	cp, err := s.customPolicy(ctx, s.st, canonical)
	if err != nil {
		return nil, err
	}
	if cp.PolicyName != canonical {
		return nil, notFound("EntityNotExist.Policy", "policy")
	}
	return cp, nil
}

// sameCustomPolicy re-reads, inside a write transaction, the custom policy
// an operation was authorised on (not another one created since under a
// name that differs only in case).
func (s *Service) sameCustomPolicy(ctx context.Context, tx *store.Tx, p *store.CustomPolicy) (*store.CustomPolicy, error) {
	cur, err := s.customPolicy(ctx, tx, p.PolicyName)
	if err != nil {
		return nil, err
	}
	if cur.UID != p.UID || cur.PolicyName != p.PolicyName {
		return nil, notFound("EntityNotExist.Policy", "policy")
	}
	return cur, nil
}

func (s *Service) attachmentCount(ctx context.Context, policyType, name string) int {
	atts, err := s.st.PolicyAttachments(ctx, policyType, name)
	if err != nil {
		return 0
	}
	return len(atts)
}

// GetPolicy returns a policy and its default version.
func (s *Service) GetPolicy(ctx context.Context, a Actor, policyType, name string) (*Policy, *PolicyVersion, error) {
	_, name, p, err := s.policyRef(ctx, a, "ram:GetPolicy", policyType, name)
	if err != nil {
		return nil, nil, err
	}
	if policyType == PolicyTypeSystem {
		sp, err := systemPolicy(name)
		if err != nil {
			return nil, nil, err
		}
		return systemView(sp, s.attachmentCount(ctx, PolicyTypeSystem, sp.Name)),
			&PolicyVersion{VersionID: systemPolicyVersion, PolicyDocument: sp.Document, IsDefaultVersion: true, CreateDate: systemPolicyDate}, nil
	}
	versions, err := s.st.PolicyVersions(ctx, p.PolicyID)
	if err != nil {
		return nil, nil, err
	}
	var def *PolicyVersion
	for _, v := range versions {
		if v.VersionID == p.DefaultVersion {
			def = &PolicyVersion{VersionID: v.VersionID, PolicyDocument: v.Document, IsDefaultVersion: true, CreateDate: v.CreatedAt}
		}
	}
	return customView(p, s.attachmentCount(ctx, PolicyTypeCustom, p.PolicyName)), def, nil
}

// UpdatePolicyDescription changes a custom policy's description.
func (s *Service) UpdatePolicyDescription(ctx context.Context, a Actor, name, newDescription string) (*Policy, error) {
	acct, _, target, err := s.policyRef(ctx, a, "ram:UpdatePolicyDescription", PolicyTypeCustom, name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UpdatePolicyDescription", name, err)
	}
	if utf8.RuneCountInString(newDescription) > maxDescriptionLength {
		return nil, s.refuse(ctx, a, acct, "UpdatePolicyDescription", name, &Error{Kind: EINVALID, Code: "InvalidParameter.NewDescription.Length",
			Message: "Use at most 1024 characters.", Fields: map[string]string{"description": "Use at most 1024 characters."}})
	}
	var p *store.CustomPolicy
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.sameCustomPolicy(ctx, tx, target); err != nil {
			return err
		}
		if err := tx.UpdatePolicyDescription(ctx, p.PolicyID, newDescription); err != nil {
			return err
		}
		p.Description, p.UpdatedAt = newDescription, tx.Now()
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "UpdatePolicyDescription", p.PolicyName, map[string]any{"PolicyName": p.PolicyName, "NewDescription": newDescription}))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UpdatePolicyDescription", name, err)
	}
	return customView(p, s.attachmentCount(ctx, PolicyTypeCustom, p.PolicyName)), nil
}

// DeletePolicy deletes a custom policy. Without cascade (the API, as RAM
// does) it refuses with DeleteConflict.Policy.* while the policy is attached
// or has non-default versions; with cascade (the console, after the person
// agreed) it detaches it and removes the old versions first.
func (s *Service) DeletePolicy(ctx context.Context, a Actor, name string, cascade bool) error {
	acct, _, target, err := s.policyRef(ctx, a, "ram:DeletePolicy", PolicyTypeCustom, name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeletePolicy", name, err)
	}
	var plan *cascadePlan
	if cascade {
		// Each detachment and version deletion must be allowed on its own.
		if plan, err = s.policyCascade(ctx, s.st.Reads, acct, target); err != nil {
			return err
		}
		if err := s.authorizeCascade(ctx, a, plan); err != nil {
			return err
		}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := s.sameCustomPolicy(ctx, tx, target)
		if err != nil {
			return err
		}
		if cascade {
			if err := s.sameCascade(ctx, tx, plan, func() (*cascadePlan, error) { return s.policyCascade(ctx, tx.Reads, acct, p) }); err != nil {
				return err
			}
		}
		atts, err := tx.PolicyAttachments(ctx, PolicyTypeCustom, p.PolicyName)
		if err != nil {
			return err
		}
		versions, err := tx.PolicyVersions(ctx, p.PolicyID)
		if err != nil {
			return err
		}
		if !cascade {
			for _, at := range atts {
				if at.UserID != "" {
					return conflict("DeleteConflict.Policy.User", "The policy is still attached to users.")
				}
			}
			for _, at := range atts {
				if at.GroupID != "" {
					return conflict("DeleteConflict.Policy.Group", "The policy is still attached to groups.")
				}
			}
			if len(atts) > 0 {
				return conflict("DeleteConflict.Policy.Role", "The policy is still attached to roles.")
			}
			if len(versions) > 1 {
				return conflict("DeleteConflict.Policy.Version", "The policy still has non-default versions.")
			}
		}
		if err := tx.DeleteCustomPolicy(ctx, p); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "DeletePolicy", p.PolicyName, map[string]any{"PolicyName": p.PolicyName})
		if cascade && (len(atts) > 0 || len(versions) > 1) {
			ev.AdditionalEventData = map[string]any{"detached": len(atts), "removedVersions": len(versions) - 1}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeletePolicy", name, err)
	}
	s.compiled.Delete(target.UID) // memory only: no other policy has its UID
	return nil
}

// ListPolicies returns a page of policies: the system catalogue first, then
// custom policies, each by name; Marker encodes where the page ended.
func (s *Service) ListPolicies(ctx context.Context, a Actor, in ListPoliciesInput) (*PolicyPage, error) {
	acct := s.accountID(ctx)
	if in.PolicyType != "" {
		var fe fieldErrors
		if checkPolicyType(&fe, in.PolicyType); fe.err() != nil {
			return nil, fe.err()
		}
	}
	if err := s.authorize(ctx, a, "ram:ListPolicies", allPoliciesResource(acct)); err != nil {
		return nil, err
	}
	size, after, err := pageArgs(in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	// The marker is "<type>/<name>" of the last item returned.
	afterType, afterName, _ := strings.Cut(after, "/")
	if after != "" && afterType != PolicyTypeSystem && afterType != PolicyTypeCustom {
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Marker", Message: "The Marker is not one this server returned."}
	}
	q := strings.ToLower(in.Query)
	var out []Policy
	if (in.PolicyType == "" || in.PolicyType == PolicyTypeSystem) && afterType != PolicyTypeCustom {
		counts, err := s.st.AttachmentCounts(ctx, PolicyTypeSystem)
		if err != nil {
			return nil, err
		}
		sys := policy.SystemPolicies()
		sort.Slice(sys, func(i, j int) bool { return strings.ToLower(sys[i].Name) < strings.ToLower(sys[j].Name) })
		for _, sp := range sys {
			name := strings.ToLower(sp.Name)
			if afterType == PolicyTypeSystem && name <= strings.ToLower(afterName) || !strings.HasPrefix(name, q) {
				continue
			}
			out = append(out, *systemView(sp, counts[sp.Name]))
			if len(out) > size {
				break
			}
		}
	}
	if (in.PolicyType == "" || in.PolicyType == PolicyTypeCustom) && len(out) <= size {
		counts, err := s.st.AttachmentCounts(ctx, PolicyTypeCustom)
		if err != nil {
			return nil, err
		}
		from := ""
		if afterType == PolicyTypeCustom {
			from = afterName
		}
		custom, err := s.st.CustomPolicies(ctx, in.Query, from, size+1-len(out))
		if err != nil {
			return nil, err
		}
		for i := range custom {
			out = append(out, *customView(&custom[i], counts[custom[i].PolicyName]))
		}
	}
	page := &PolicyPage{Policies: out}
	if len(out) > size {
		last := out[size-1]
		page.Policies, page.IsTruncated = out[:size], true
		page.Marker = encodeMarker(last.PolicyType + "/" + last.PolicyName)
	}
	return page, nil
}

// CreatePolicyVersion adds a version to a custom policy. A sixth version is
// refused unless rotateStrategy deletes the oldest non-default one.
func (s *Service) CreatePolicyVersion(ctx context.Context, a Actor, name, document string, setAsDefault bool, rotateStrategy string) (*PolicyVersion, error) {
	acct, _, target, err := s.policyRef(ctx, a, "ram:CreatePolicyVersion", PolicyTypeCustom, name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "CreatePolicyVersion", name, err)
	}
	var fe fieldErrors
	checkDocument(&fe, "document", document)
	if rotateStrategy != "" && rotateStrategy != "None" && rotateStrategy != rotateOldestNonDefault {
		fe.add("rotate", "InvalidParameter.RotateStrategy", "Use None or %s.", rotateOldestNonDefault)
	}
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "CreatePolicyVersion", name, err)
	}
	var v *store.PolicyVersion
	var rotated string
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := s.sameCustomPolicy(ctx, tx, target)
		if err != nil {
			return err
		}
		versions, err := tx.PolicyVersions(ctx, p.PolicyID)
		if err != nil {
			return err
		}
		if len(versions) >= MaxPolicyVersions {
			if rotateStrategy != rotateOldestNonDefault {
				return limit("LimitExceeded.Policy.Version", "A policy has at most 5 versions. Delete one, or rotate out the oldest.")
			}
			for _, old := range versions {
				if old.VersionID != p.DefaultVersion {
					rotated = old.VersionID
					if err := tx.DeletePolicyVersion(ctx, p.PolicyID, old.VersionID); err != nil {
						return err
					}
					break
				}
			}
		}
		if v, err = tx.AddPolicyVersion(ctx, p, document, setAsDefault); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "CreatePolicyVersion", p.PolicyName, map[string]any{"PolicyName": p.PolicyName, "PolicyDocument": document, "SetAsDefault": setAsDefault,
			"RotateStrategy": rotateStrategy})
		ev.AdditionalEventData = map[string]any{"VersionId": v.VersionID}
		if rotated != "" {
			ev.AdditionalEventData["rotatedOut"] = rotated
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreatePolicyVersion", name, err)
	}
	if setAsDefault {
	}
	return &PolicyVersion{VersionID: v.VersionID, PolicyDocument: v.Document, IsDefaultVersion: setAsDefault, CreateDate: v.CreatedAt}, nil
}

func checkVersionID(id string) error {
	if !versionIDRE.MatchString(id) {
		return &Error{Kind: EINVALID, Code: "InvalidParameter.VersionId.Format", Message: "A version id looks like v1, v2, …"}
	}
	return nil
}

// GetPolicyVersion returns one version of a policy.
func (s *Service) GetPolicyVersion(ctx context.Context, a Actor, policyType, name, versionID string) (*PolicyVersion, error) {
	_, name, _, err := s.policyRef(ctx, a, "ram:GetPolicyVersion", policyType, name)
	if err != nil {
		return nil, err
	}
	if err := checkVersionID(versionID); err != nil {
		return nil, err
	}
	versions, err := s.policyVersions(ctx, policyType, name)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.VersionID == versionID {
			return &v, nil
		}
	}
	return nil, notFound("EntityNotExist.Policy.Version", "policy version")
}

// DeletePolicyVersion deletes a non-default version.
func (s *Service) DeletePolicyVersion(ctx context.Context, a Actor, name, versionID string) error {
	acct, _, target, err := s.policyRef(ctx, a, "ram:DeletePolicyVersion", PolicyTypeCustom, name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeletePolicyVersion", name, err)
	}
	if err := checkVersionID(versionID); err != nil {
		return s.refuse(ctx, a, acct, "DeletePolicyVersion", name, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := s.sameCustomPolicy(ctx, tx, target)
		if err != nil {
			return err
		}
		if p.DefaultVersion == versionID {
			return conflict("DeleteConflict.Policy.Version.Default", "The default version cannot be deleted. Make another version the default first.")
		}
		if err := tx.DeletePolicyVersion(ctx, p.PolicyID, versionID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.Policy.Version", "policy version")
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "DeletePolicyVersion", p.PolicyName, map[string]any{"PolicyName": p.PolicyName, "VersionId": versionID}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeletePolicyVersion", name, err)
	}
	return nil
}

// ListPolicyVersions returns every version of a policy, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, a Actor, policyType, name string) ([]PolicyVersion, error) {
	_, name, _, err := s.policyRef(ctx, a, "ram:ListPolicyVersions", policyType, name)
	if err != nil {
		return nil, err
	}
	return s.policyVersions(ctx, policyType, name)
}

// policyVersions lists a policy's versions, newest first (no authorisation:
// callers have authorised their own action).
func (s *Service) policyVersions(ctx context.Context, policyType, name string) ([]PolicyVersion, error) {
	if policyType == PolicyTypeSystem {
		sp, err := systemPolicy(name)
		if err != nil {
			return nil, err
		}
		return []PolicyVersion{{VersionID: systemPolicyVersion, PolicyDocument: sp.Document, IsDefaultVersion: true, CreateDate: systemPolicyDate}}, nil
	}
	p, err := s.customPolicy(ctx, s.st, name)
	if err != nil {
		return nil, err
	}
	versions, err := s.st.PolicyVersions(ctx, p.PolicyID)
	if err != nil {
		return nil, err
	}
	out := make([]PolicyVersion, 0, len(versions))
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		out = append(out, PolicyVersion{VersionID: v.VersionID, PolicyDocument: v.Document, IsDefaultVersion: v.VersionID == p.DefaultVersion, CreateDate: v.CreatedAt})
	}
	return out, nil
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, a Actor, name, versionID string) error {
	acct, _, target, err := s.policyRef(ctx, a, "ram:SetDefaultPolicyVersion", PolicyTypeCustom, name)
	if err != nil {
		return s.refused(ctx, a, acct, "SetDefaultPolicyVersion", name, err)
	}
	if err := checkVersionID(versionID); err != nil {
		return s.refuse(ctx, a, acct, "SetDefaultPolicyVersion", name, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := s.sameCustomPolicy(ctx, tx, target)
		if err != nil {
			return err
		}
		versions, err := tx.PolicyVersions(ctx, p.PolicyID)
		if err != nil {
			return err
		}
		found := false
		for _, v := range versions {
			found = found || v.VersionID == versionID
		}
		if !found {
			return notFound("EntityNotExist.Policy.Version", "policy version")
		}
		if err := tx.SetDefaultPolicyVersion(ctx, p.PolicyID, versionID); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "SetDefaultPolicyVersion", p.PolicyName, map[string]any{"PolicyName": p.PolicyName, "VersionId": versionID}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "SetDefaultPolicyVersion", name, err)
	}
	return nil
}

// canonicalPolicy resolves a (type, name) to the policy's stored name, or
// EntityNotExist.Policy.
func (s *Service) canonicalPolicy(ctx context.Context, r interface {
	CustomPolicy(context.Context, string) (*store.CustomPolicy, error)
}, policyType, name string) (string, error) {
	if policyType == PolicyTypeSystem {
		sp, err := systemPolicy(name)
		return sp.Name, err
	}
	p, err := s.customPolicy(ctx, r, name)
	if err != nil {
		return "", err
	}
	return p.PolicyName, nil
}

// attachTo attaches or detaches inside one transaction, for a user, a
// group or a role. The action must be allowed on both the stored principal
// and the stored policy (no escalation).
func (s *Service) attachTo(ctx context.Context, a Actor, attach bool, policyType, policyName string, kind principalKind, principalName string) error {
	action := map[bool]string{true: "AttachPolicyTo", false: "DetachPolicyFrom"}[attach] + kind.entity()
	acct := s.accountID(ctx)
	var fe fieldErrors
	if kind.checkName(&fe, kind.String(), principalName); fe.err() != nil {
		return s.refuse(ctx, a, acct, action, policyName, fe.err())
	}
	checkPolicyType(&fe, policyType)
	checkPolicyName(&fe, "policy_name", policyName)
	if err := fe.err(); err != nil {
		return s.refuse(ctx, a, acct, action, policyName, err)
	}
	pres, canonical, found, err := s.lookupPolicy(ctx, s.st, acct, policyType, policyName)
	if err != nil {
		return err
	}
	prin, err := s.lookupPrincipal(ctx, s.st, acct, kind, principalName)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, a, "ram:"+action, prin.res, pres); err != nil {
		return err
	}
	var cp *store.CustomPolicy
	switch {
	case !found:
		err = notFound("EntityNotExist.Policy", "policy")
	case !prin.found():
		err = kind.notFound()
	case policyType == PolicyTypeCustom:
		cp, err = s.authorisedPolicy(ctx, canonical)
	}
	if err != nil {
		return s.refuse(ctx, a, acct, action, policyName, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if cp != nil {
			if _, err := s.sameCustomPolicy(ctx, tx, cp); err != nil {
				return err
			}
		}
		cur, err := s.samePrincipal(ctx, tx, prin)
		if err != nil {
			return err
		}
		at := cur.attachment(policyType, canonical)
		if attach {
			sys, custom, err := tx.CountAttachments(ctx, at)
			if err != nil {
				return err
			}
			if policyType == PolicyTypeSystem && sys >= MaxSystemPerPrincipal || policyType == PolicyTypeCustom && custom >= MaxCustomPerPrincipal {
				return limit("LimitExceeded."+kind.entity()+".Policy", fmt.Sprintf("A %s can have at most %d system and %d custom policies.", kind, MaxSystemPerPrincipal, MaxCustomPerPrincipal))
			}
			if err := tx.Attach(ctx, at); errors.Is(err, store.ErrConflict) {
				return conflict("EntityAlreadyExists."+kind.entity()+".Policy", "The policy is already attached.")
			} else if err != nil {
				return err
			}
		} else if err := tx.Detach(ctx, at); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist."+kind.entity()+".Policy", "attachment")
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, action, canonical, map[string]any{"PolicyType": policyType, "PolicyName": canonical, kind.entity() + "Name": cur.name()}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, action, policyName, err)
	}
	return nil
}

// AttachPolicyToUser attaches a policy to a user.
func (s *Service) AttachPolicyToUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	return s.attachTo(ctx, a, true, policyType, policyName, kindUser, userName)
}

// DetachPolicyFromUser detaches a policy from a user.
func (s *Service) DetachPolicyFromUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	return s.attachTo(ctx, a, false, policyType, policyName, kindUser, userName)
}

// AttachPolicyToGroup attaches a policy to a group.
func (s *Service) AttachPolicyToGroup(ctx context.Context, a Actor, policyType, policyName, groupName string) error {
	return s.attachTo(ctx, a, true, policyType, policyName, kindGroup, groupName)
}

// DetachPolicyFromGroup detaches a policy from a group.
func (s *Service) DetachPolicyFromGroup(ctx context.Context, a Actor, policyType, policyName, groupName string) error {
	return s.attachTo(ctx, a, false, policyType, policyName, kindGroup, groupName)
}

// policyOf describes an attachment's policy (with its attach date); ok is
// false when the policy no longer exists.
func (s *Service) policyOf(ctx context.Context, at store.Attachment) (p Policy, ok bool, err error) {
	if at.PolicyType == PolicyTypeSystem {
		sp, found := policy.LookupSystemPolicy(at.PolicyName)
		if !found {
			return p, false, nil
		}
		p = *systemView(sp, 0)
	} else {
		cp, err := s.st.CustomPolicy(ctx, at.PolicyName)
		if errors.Is(err, store.ErrNotFound) {
			return p, false, nil
		}
		if err != nil {
			return p, false, err
		}
		p = *customView(cp, 0)
	}
	p.AttachDate = at.AttachedAt
	return p, true, nil
}

// policiesOf describes attachments as policies.
func (s *Service) policiesOf(ctx context.Context, atts []store.Attachment) ([]Policy, error) {
	out := make([]Policy, 0, len(atts))
	for _, at := range atts {
		p, ok, err := s.policyOf(ctx, at)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// ListPoliciesForUser returns the policies attached to a user directly.
func (s *Service) ListPoliciesForUser(ctx context.Context, a Actor, userName string) ([]Policy, error) {
	return s.listAttached(ctx, a, kindUser, userName)
}

// ListPoliciesForGroup returns the policies attached to a group.
func (s *Service) ListPoliciesForGroup(ctx context.Context, a Actor, groupName string) ([]Policy, error) {
	return s.listAttached(ctx, a, kindGroup, groupName)
}

// listAttached lists the policies attached to a user, a group or a role.
func (s *Service) listAttached(ctx context.Context, a Actor, kind principalKind, name string) ([]Policy, error) {
	_, p, err := s.authorizePrincipal(ctx, a, "ram:ListPoliciesFor"+kind.entity(), kind, name)
	if err != nil {
		return nil, err
	}
	atts, err := p.attachments(ctx, s.st.Reads)
	if err != nil {
		return nil, err
	}
	return s.policiesOf(ctx, atts)
}

// ListEntitiesForPolicy returns the users, groups and roles a policy is attached to.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, a Actor, policyType, name string) ([]EntityUser, []EntityGroup, []EntityRole, error) {
	_, canonical, _, err := s.policyRef(ctx, a, "ram:ListEntitiesForPolicy", policyType, name)
	if err != nil {
		return nil, nil, nil, err
	}
	atts, err := s.st.PolicyAttachments(ctx, policyType, canonical)
	if err != nil {
		return nil, nil, nil, err
	}
	users, groups, roles := []EntityUser{}, []EntityGroup{}, []EntityRole{}
	for _, at := range atts {
		switch {
		case at.UserID != "":
			u, err := s.st.UserByID(ctx, at.UserID)
			if err != nil {
				return nil, nil, nil, err
			}
			users = append(users, EntityUser{UserID: u.UserID, UserName: u.UserName, DisplayName: u.DisplayName, AttachDate: at.AttachedAt})
		case at.RoleID != "":
			r, err := s.st.RoleByID(ctx, at.RoleID)
			if err != nil {
				return nil, nil, nil, err
			}
			roles = append(roles, EntityRole{Role: *r, AttachDate: at.AttachedAt})
		default:
			g, err := s.groupByID(ctx, at.GroupID)
			if err != nil {
				return nil, nil, nil, err
			}
			groups = append(groups, EntityGroup{GroupName: g.GroupName, Comments: g.Comments, AttachDate: at.AttachedAt})
		}
	}
	return users, groups, roles, nil
}
