package ram

import (
	"context"
	"errors"

	"ramconsole/policy"
	"ramconsole/store"
)

// Authorisation names resources by the ARNs of the stored entities, never by
// a request's spelling of them: names are unique case-insensitively, so
// "ADMIN" finds the user stored as "admin", and a Deny on user/admin must
// refuse it. A Resource can therefore only be built from a looked-up user,
// group or policy (or a named collection); the only place that builds one
// from a typed name is the resolver, for a name that matches nothing (which
// is authorised as spelled and then answers 404).

// Resource is a resource ARN to authorise against.
type Resource struct{ arn string }

// ARN is the resource's ARN.
func (r Resource) ARN() string { return r.arn }

func userResource(acct string, u *store.User) Resource {
	return Resource{"acs:ram:*:" + acct + ":user/" + u.UserName}
}

func groupResource(acct string, g *store.Group) Resource {
	return Resource{"acs:ram:*:" + acct + ":group/" + g.GroupName}
}

// serviceResource is a resource service's ARN (SPEC §13).
func serviceResource(acct string, sv *store.ResourceService) Resource {
	return Resource{"acs:gateway::" + acct + ":service/" + sv.Code}
}

func roleResource(acct string, r *store.Role) Resource {
	return Resource{"acs:ram:*:" + acct + ":role/" + r.RoleName}
}

func customPolicyResource(acct string, p *store.CustomPolicy) Resource {
	return Resource{"acs:ram:*:" + acct + ":policy/" + p.PolicyName}
}

func systemPolicyResource(sp policy.SystemPolicy) Resource {
	return Resource{"acs:ram:*:" + systemPolicyAccountPart + ":policy/" + sp.Name}
}

// The collections that list and create actions name.
func allUsersResource(acct string) Resource    { return Resource{"acs:ram:*:" + acct + ":user/*"} }
func allGroupsResource(acct string) Resource   { return Resource{"acs:ram:*:" + acct + ":group/*"} }
func allPoliciesResource(acct string) Resource { return Resource{"acs:ram:*:" + acct + ":policy/*"} }
func allRolesResource(acct string) Resource    { return Resource{"acs:ram:*:" + acct + ":role/*"} }
func allServicesResource(acct string) Resource {
	return Resource{"acs:gateway::" + acct + ":service/*"}
}
func accountResource(acct string) Resource { return Resource{"acs:ram:*:" + acct + ":*"} }

// anyResource is "*", the resource of actions on no particular resource.
var anyResource = Resource{"*"}

// unresolved is the resource of a name that matches nothing: authorised as
// spelled, so that a refusal does not reveal whether the entity exists.
func unresolved(acct, kind, name string) Resource {
	return Resource{"acs:ram:*:" + acct + ":" + kind + "/" + name}
}

// PolicyARN is the ARN the console shows for a policy.
func PolicyARN(acct string, p *Policy) string {
	if p.PolicyType == PolicyTypeSystem {
		return "acs:ram:*:" + systemPolicyAccountPart + ":policy/" + p.PolicyName
	}
	return "acs:ram:*:" + acct + ":policy/" + p.PolicyName
}

// reader is what lookups need: the store's readers or a write transaction.
type reader interface {
	UserByName(context.Context, string) (*store.User, error)
	GroupByName(context.Context, string) (*store.Group, error)
	RoleByName(context.Context, string) (*store.Role, error)
	CustomPolicy(context.Context, string) (*store.CustomPolicy, error)
}

// lookupUser finds the named user and its Resource; u is nil (and the
// Resource spelled as asked) when no user has the name.
func (s *Service) lookupUser(ctx context.Context, r reader, acct, name string) (Resource, *store.User, error) {
	p, err := s.lookupPrincipal(ctx, r, acct, kindUser, name)
	return p.res, p.user, err
}

// lookupGroup is lookupUser for groups.
func (s *Service) lookupGroup(ctx context.Context, r reader, acct, name string) (Resource, *store.Group, error) {
	p, err := s.lookupPrincipal(ctx, r, acct, kindGroup, name)
	return p.res, p.group, err
}

// lookupRole is lookupUser for roles.
func (s *Service) lookupRole(ctx context.Context, r reader, acct, name string) (Resource, *store.Role, error) {
	p, err := s.lookupPrincipal(ctx, r, acct, kindRole, name)
	return p.res, p.role, err
}

// lookupService is lookupUser for resource services; a code that matches
// nothing is authorised as spelled.
func (s *Service) lookupService(ctx context.Context, r store.Reads, acct, code string) (Resource, *store.ResourceService, error) {
	sv, err := r.ResourceService(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{"acs:gateway::" + acct + ":service/" + code}, nil, nil
	}
	if err != nil {
		return Resource{}, nil, err
	}
	return serviceResource(acct, sv), sv, nil
}

// lookupPolicy finds a policy of a type; found is false when none has the
// name. The Resource of a custom policy carries its stored name.
func (s *Service) lookupPolicy(ctx context.Context, r reader, acct, policyType, name string) (res Resource, canonical string, found bool, err error) {
	if policyType == PolicyTypeSystem {
		sp, ok := policy.LookupSystemPolicy(name)
		if !ok {
			return Resource{"acs:ram:*:" + systemPolicyAccountPart + ":policy/" + name}, "", false, nil
		}
		return systemPolicyResource(sp), sp.Name, true, nil
	}
	p, err := r.CustomPolicy(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return unresolved(acct, "policy", name), "", false, nil
	}
	if err != nil {
		return Resource{}, "", false, err
	}
	return customPolicyResource(acct, p), p.PolicyName, true, nil
}

// authorizeUser authorises action on the named user's stored ARN and returns
// the user (authorizePrincipal).
func (s *Service) authorizeUser(ctx context.Context, a Actor, action, name string) (string, *store.User, error) {
	acct, p, err := s.authorizePrincipal(ctx, a, action, kindUser, name)
	return acct, p.user, err
}

// authorizeGroup is authorizeUser for groups.
func (s *Service) authorizeGroup(ctx context.Context, a Actor, action, name string) (string, *store.Group, error) {
	acct, p, err := s.authorizePrincipal(ctx, a, action, kindGroup, name)
	return acct, p.group, err
}

// authorizeRole is authorizeUser for roles.
func (s *Service) authorizeRole(ctx context.Context, a Actor, action, name string) (string, *store.Role, error) {
	acct, p, err := s.authorizePrincipal(ctx, a, action, kindRole, name)
	return acct, p.role, err
}

// refused records err's event, unless authorize has already recorded it (a
// NoPermission) or there is nobody to record it for.
func (s *Service) refused(ctx context.Context, a Actor, acct, eventName, resource string, err error) error {
	if e, ok := AsError(err); ok && (e.Code == "NoPermission" || e.Kind == EAUTH) {
		return err
	}
	return s.refuse(ctx, a, acct, eventName, resource, err)
}

// sameUser re-reads, inside a write transaction, the user an operation was
// authorised on (samePrincipal).
func (s *Service) sameUser(ctx context.Context, tx *store.Tx, u *store.User) (*store.User, error) {
	p, err := s.samePrincipal(ctx, tx, principal{kind: kindUser, user: u})
	return p.user, err
}

// sameGroup is sameUser for groups.
func (s *Service) sameGroup(ctx context.Context, tx *store.Tx, g *store.Group) (*store.Group, error) {
	p, err := s.samePrincipal(ctx, tx, principal{kind: kindGroup, group: g})
	return p.group, err
}

// sameRole is sameUser for roles.
func (s *Service) sameRole(ctx context.Context, tx *store.Tx, r *store.Role) (*store.Role, error) {
	p, err := s.samePrincipal(ctx, tx, principal{kind: kindRole, role: r})
	return p.role, err
}

// Ref names what a console route is about, as the request spells it; the
// service resolves it to a Resource (Authorize, Allowed).
type Ref struct {
	kind       string // user, group, policy, or a collection
	policyType string
	name       string
}

// Refs of the route table.
func UserRef(name string) Ref    { return Ref{kind: "user", name: name} }
func RoleRef(name string) Ref    { return Ref{kind: "role", name: name} }
func ServiceRef(code string) Ref { return Ref{kind: "service", name: code} }
func AllServicesRef() Ref        { return Ref{kind: "services"} }

// ApplicationRef names an application by name; AllApplicationsRef all of them.
func ApplicationRef(name string) Ref { return Ref{kind: "application", name: name} }
func AllApplicationsRef() Ref        { return Ref{kind: "applications"} }
func AllRolesRef() Ref               { return Ref{kind: "roles"} }
func GroupRef(name string) Ref       { return Ref{kind: "group", name: name} }
func PolicyRef(policyType, name string) Ref {
	return Ref{kind: "policy", policyType: policyType, name: name}
}
func AllUsersRef() Ref    { return Ref{kind: "users"} }
func AllGroupsRef() Ref   { return Ref{kind: "groups"} }
func AllPoliciesRef() Ref { return Ref{kind: "policies"} }
func AccountRef() Ref     { return Ref{kind: "account"} }
func AnyRef() Ref         { return Ref{kind: "any"} }

// SAMLProviderRef and OIDCProviderRef name an identity provider by name;
// AllSAMLProvidersRef and AllOIDCProvidersRef all of them (SPEC §18.6).
func SAMLProviderRef(name string) Ref { return Ref{kind: "saml-provider", name: name} }
func AllSAMLProvidersRef() Ref        { return Ref{kind: "saml-provider", name: "*"} }
func OIDCProviderRef(name string) Ref { return Ref{kind: "oidc-provider", name: name} }
func AllOIDCProvidersRef() Ref        { return Ref{kind: "oidc-provider", name: "*"} }

// resolve turns refs into Resources, each from the stored entity.
func (s *Service) resolve(ctx context.Context, acct string, refs []Ref) ([]Resource, error) {
	out := make([]Resource, 0, len(refs))
	for _, ref := range refs {
		var res Resource
		var err error
		switch ref.kind {
		case "user":
			res, _, err = s.lookupUser(ctx, s.st, acct, ref.name)
		case "group":
			res, _, err = s.lookupGroup(ctx, s.st, acct, ref.name)
		case "role":
			res, _, err = s.lookupRole(ctx, s.st, acct, ref.name)
		case "roles":
			res = allRolesResource(acct)
		case "service":
			res, _, err = s.lookupService(ctx, s.st.Reads, acct, ref.name)
		case "services":
			res = allServicesResource(acct)
		case "application":
			// The stored name's spelling; a name that matches nothing is
			// authorised as spelled, then is not found.
			res = Resource{ApplicationARN(acct, ref.name)}
			if app, err := s.st.ApplicationByName(ctx, ref.name); err == nil {
				res = Resource{ApplicationARN(acct, app.AppName)}
			}
		case "applications":
			res = Resource{ApplicationARN(acct, "*")}
		case "saml-provider":
			// As applications: the stored spelling, else as spelled.
			res = Resource{SAMLProviderARN(acct, ref.name)}
			if ref.name == "*" {
				break
			}
			if p, err := s.st.SAMLProviderByName(ctx, ref.name); err == nil {
				res = Resource{SAMLProviderARN(acct, p.Name)}
			}
		case "oidc-provider":
			res = Resource{OIDCProviderARN(acct, ref.name)}
			if ref.name == "*" {
				break
			}
			if p, err := s.st.OIDCProviderByName(ctx, ref.name); err == nil {
				res = Resource{OIDCProviderARN(acct, p.Name)}
			}
		case "policy":
			t := ref.policyType
			if t != PolicyTypeSystem {
				t = PolicyTypeCustom
			}
			res, _, _, err = s.lookupPolicy(ctx, s.st, acct, t, ref.name)
		case "users":
			res = allUsersResource(acct)
		case "groups":
			res = allGroupsResource(acct)
		case "policies":
			res = allPoliciesResource(acct)
		case "account":
			res = accountResource(acct)
		case "any":
			res = anyResource
		default:
			return nil, errors.New("ram: unknown resource reference")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}
