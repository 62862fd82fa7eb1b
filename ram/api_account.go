package ram

import (
	"context"
	"errors"
	"time"

	"ramconsole/store"
)

// GetAccessKeyLastUsed returns when a key of the named user (or of the
// caller, when name is empty) was last used; zero when never.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, a Actor, name, keyID string) (time.Time, error) {
	_, u, err := s.keyOwner(ctx, a, name, "ram:GetAccessKeyLastUsed")
	if err != nil {
		return time.Time{}, err
	}
	if err := s.st.Settle(ctx); err != nil { // uses still in the journal
		return time.Time{}, err
	}
	k, err := s.st.AccessKey(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.UserID != u.UserID {
		return time.Time{}, notFound("EntityNotExist.User.AccessKey", "AccessKey")
	}
	if err != nil {
		return time.Time{}, err
	}
	return k.LastUsedAt, nil
}

// ClearAccountAlias removes the alias: the AccountId serves until another
// is set.
func (s *Service) ClearAccountAlias(ctx context.Context, a Actor) error {
	return s.SetAccountAlias(ctx, a, "")
}

// ChangeOwnPassword is the OpenAPI's ChangePassword: the calling RAM user
// changes its own console password with the old one. It is the console's
// password change without a confirmation field or a session to keep, and
// like it self-service: the security preference's AllowUserToChangePassword
// governs it, not policies (SPEC §4.3).
func (s *Service) ChangeOwnPassword(ctx context.Context, a Actor, oldPassword, newPassword string) error {
	if a.Principal == "" || a.Principal == PrincipalRoot {
		return &Error{Kind: EINVALID, Code: "NotSupport.Account", Message: "Only a RAM user can change its password through the API."}
	}
	return s.ChangePassword(ctx, a, ChangePasswordInput{Current: oldPassword, New: newPassword, Confirm: newPassword}, "")
}

// UpdatePasswordPolicy changes the password policy field by field: the
// OpenAPI's SetPasswordPolicy, whose parameters are all optional, leaves
// the fields it does not name as they are. It is authorised and audited as
// SetPasswordPolicy.
func (s *Service) UpdatePasswordPolicy(ctx context.Context, a Actor, change func(*PasswordPolicy)) (PasswordPolicy, error) {
	p := s.passwordPolicy(ctx)
	change(&p)
	return s.SetPasswordPolicy(ctx, a, p)
}

// UpdateSecurityPreference changes the security preference field by field
// (the OpenAPI's SetSecurityPreference), authorised and audited as
// SetSecurityPreference.
func (s *Service) UpdateSecurityPreference(ctx context.Context, a Actor, change func(*SecurityPreference)) (SecurityPreference, error) {
	p := s.securityPreference(ctx)
	change(&p)
	return s.SetSecurityPreference(ctx, a, p)
}
