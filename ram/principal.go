package ram

import (
	"context"
	"errors"

	"ramconsole/store"
)

// principalKind is a kind of identity that policies attach to: a RAM user,
// a group or a role. One value drives what differs between them (names,
// lookups, error codes, attachments), so attaching, detaching, listing and
// authorising are written once.
type principalKind int

const (
	kindUser principalKind = iota
	kindGroup
	kindRole
)

// String is the kind as ARNs and forms spell it: user, group, role.
func (k principalKind) String() string { return [...]string{"user", "group", "role"}[k] }

// entity is the kind as RAM's actions and error codes spell it.
func (k principalKind) entity() string { return [...]string{"User", "Group", "Role"}[k] }

// checkName checks a name of the kind, for the form field field.
func (k principalKind) checkName(fe *fieldErrors, field, name string) {
	if k == kindRole {
		checkRoleName(fe, field, "RoleName", name)
		return
	}
	checkName(fe, field, k.entity()+"Name", k.String()+" name", name)
}

// notFound is the error of a name of the kind that matches nothing.
func (k principalKind) notFound() error { return notFound("EntityNotExist."+k.entity(), k.String()) }

// principal is a user, group or role as it is stored, with the Resource
// an operation on it is authorised against; none of user, group and role
// is set when the name matched nothing (the Resource is then the name as
// spelled).
type principal struct {
	kind  principalKind
	res   Resource
	user  *store.User
	group *store.Group
	role  *store.Role
}

// found reports whether the name matched a stored principal.
func (p principal) found() bool { return p.user != nil || p.group != nil || p.role != nil }

// name is the stored name.
func (p principal) name() string {
	switch {
	case p.user != nil:
		return p.user.UserName
	case p.group != nil:
		return p.group.GroupName
	case p.role != nil:
		return p.role.RoleName
	}
	return ""
}

// attachment is an attachment of a policy to the principal.
func (p principal) attachment(policyType, policyName string) store.Attachment {
	at := store.Attachment{PolicyType: policyType, PolicyName: policyName}
	switch {
	case p.user != nil:
		at.UserID = p.user.UserID
	case p.group != nil:
		at.GroupID = p.group.GroupID
	case p.role != nil:
		at.RoleID = p.role.RoleID
	}
	return at
}

// attachments are the policies attached to the principal directly.
func (p principal) attachments(ctx context.Context, r store.Reads) ([]store.Attachment, error) {
	switch {
	case p.user != nil:
		return r.UserAttachments(ctx, p.user.UserID)
	case p.group != nil:
		return r.GroupAttachments(ctx, p.group.GroupID)
	case p.role != nil:
		return r.RoleAttachments(ctx, p.role.RoleID)
	}
	return nil, nil
}

// lookupPrincipal finds the principal of kind k named name.
func (s *Service) lookupPrincipal(ctx context.Context, r reader, acct string, k principalKind, name string) (principal, error) {
	p := principal{kind: k}
	var err error
	switch k {
	case kindUser:
		p.user, err = r.UserByName(ctx, name)
	case kindGroup:
		p.group, err = r.GroupByName(ctx, name)
	default:
		p.role, err = r.RoleByName(ctx, name)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return principal{kind: k, res: unresolved(acct, k.String(), name)}, nil
	case err != nil:
		return p, err
	case p.user != nil:
		p.res = userResource(acct, p.user)
	case p.group != nil:
		p.res = groupResource(acct, p.group)
	default:
		p.res = roleResource(acct, p.role)
	}
	return p, nil
}

// authorizePrincipal authorises action on the named principal's stored
// ARN and returns it; a name that matches nothing is authorised as
// spelled, then is EntityNotExist.<Kind>.
func (s *Service) authorizePrincipal(ctx context.Context, a Actor, action string, k principalKind, name string) (string, principal, error) {
	acct := s.accountID(ctx)
	var fe fieldErrors
	if k.checkName(&fe, "name", name); fe.err() != nil {
		return acct, principal{}, fe.err()
	}
	p, err := s.lookupPrincipal(ctx, s.st, acct, k, name)
	if err != nil {
		return acct, principal{}, err
	}
	if err := s.authorize(ctx, a, action, p.res); err != nil {
		return acct, principal{}, err
	}
	if !p.found() {
		return acct, principal{}, k.notFound()
	}
	return acct, p, nil
}

// samePrincipal re-reads, inside a write transaction, the principal an
// operation was authorised on: by id, and only while it still has the name
// it was authorised under (a rename in between must not change what is
// acted on; a role deleted and created again under its name has another
// id).
func (s *Service) samePrincipal(ctx context.Context, tx *store.Tx, p principal) (principal, error) {
	cur := principal{kind: p.kind, res: p.res}
	var err error
	switch {
	case p.user != nil:
		cur.user, err = tx.UserByID(ctx, p.user.UserID)
	case p.group != nil:
		cur.group, err = tx.GroupByID(ctx, p.group.GroupID)
	case p.role != nil:
		cur.role, err = tx.RoleByID(ctx, p.role.RoleID)
	default:
		return cur, p.kind.notFound()
	}
	if errors.Is(err, store.ErrNotFound) {
		return cur, p.kind.notFound()
	}
	if err != nil {
		return cur, err
	}
	if cur.name() != p.name() {
		return cur, conflict("Conflict."+p.kind.entity()+".Renamed", "The "+p.kind.String()+" was renamed meanwhile. Try again.")
	}
	return cur, nil
}
