package ram

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strings"
	"time"

	"ramconsole/store"
)

// LoginProfile is a user's console access.
type LoginProfile = store.LoginProfile

// passwordRules are the rules a new password of the named identity must meet.
func (s *Service) passwordRules(ctx context.Context, names ...string) PasswordRules {
	p := s.passwordPolicy(ctx)
	r := PasswordRules{MinLength: p.MinimumPasswordLength, RequireLowercase: p.RequireLowercaseCharacters,
		RequireUppercase: p.RequireUppercaseCharacters, RequireNumbers: p.RequireNumbers, RequireSymbols: p.RequireSymbols}
	if acct, err := s.st.Account(ctx); err == nil && acct.Alias != "" {
		names = append(names, acct.Alias)
	}
	r.Names = names
	return r
}

// checkNewPassword returns a message when password breaks the policy.
func (s *Service) checkNewPassword(ctx context.Context, password string, names ...string) string {
	return CheckPassword(password, s.passwordRules(ctx, names...))
}

// GeneratePassword returns a random password that meets the policy: 20
// characters (or the policy's minimum, if longer) with every class. It never
// begins with a character a spreadsheet takes for a formula (=, +, -, @), so
// a credentials CSV holds it unchanged.
func (s *Service) GeneratePassword(ctx context.Context) string {
	n := max(20, s.passwordPolicy(ctx).MinimumPasswordLength)
	classes := []string{"abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!@#$%^&*-_=+"}
	all := classes[0] + classes[1] + classes[2] + classes[3]
	pick := func(set string) byte {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			panic("ram: no randomness: " + err.Error())
		}
		return set[i.Int64()]
	}
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = pick(all)
		}
		for i, c := range classes {
			b[i] = pick(c)
		}
		// Shuffle so the classes are not always first.
		for i := len(b) - 1; i > 0; i-- {
			j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
			b[i], b[j.Int64()] = b[j.Int64()], b[i]
		}
		if !strings.ContainsRune("=+-@", rune(b[0])) && CheckPassword(string(b), PasswordRules{MinLength: n}) == "" {
			return string(b)
		}
	}
}

// putLoginProfile writes a login profile with a new password inside tx, with
// its event (eventName CreateLoginProfile or UpdateLoginProfile).
func (s *Service) putLoginProfile(ctx context.Context, tx *store.Tx, a Actor, acct string, u *store.User, password string, resetRequired, mfaRequired bool, eventName string) error {
	// Inside the transaction: a slot holder never waits for the writer, so
	// waiting here for a slot is bounded (DefaultHashWait) and cannot deadlock.
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return s.putLoginProfileHash(ctx, tx, a, acct, u, hash, resetRequired, mfaRequired, eventName)
}

// putLoginProfileHash is putLoginProfile with the password hashed already.
func (s *Service) putLoginProfileHash(ctx context.Context, tx *store.Tx, a Actor, acct string, u *store.User, hash string, resetRequired, mfaRequired bool, eventName string) error {
	lp := &store.LoginProfile{UserID: u.UserID, PasswordHash: hash, PasswordResetRequired: resetRequired,
		MFABindRequired: mfaRequired, Status: "Active", PasswordChangedAt: tx.Now()}
	if err := tx.PutLoginProfile(ctx, lp); err != nil {
		return err
	}
	if keep := s.passwordPolicy(ctx).PasswordReusePrevention; keep > 0 {
		if err := tx.AddPasswordHistory(ctx, u.UserID, hash, keep); err != nil {
			return err
		}
	}
	ev := s.event(ctx, a, acct, s.opType(a), eventName)
	ev.ResourceName = u.UserName
	ev.RequestParameters = map[string]any{"UserName": u.UserName, "PasswordResetRequired": resetRequired, "MFABindRequired": mfaRequired}
	return tx.AppendEvent(ctx, ev)
}

// LoginProfileInput creates a login profile.
type LoginProfileInput struct {
	Password              string
	GeneratePassword      bool
	PasswordResetRequired bool
	MFABindRequired       bool
}

// CreateLoginProfile gives a user console access. It returns the generated
// password when one was asked for.
func (s *Service) CreateLoginProfile(ctx context.Context, a Actor, name string, in LoginProfileInput) (*LoginProfile, string, error) {
	acct, target, err := s.authorizeUser(ctx, a, "ram:CreateLoginProfile", name)
	if err != nil {
		return nil, "", s.refused(ctx, a, acct, "CreateLoginProfile", name, err)
	}
	var lp *LoginProfile
	password := in.Password
	generated := ""
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		if _, err := tx.LoginProfile(ctx, u.UserID); err == nil {
			return conflict("EntityAlreadyExists.User.LoginProfile", "The user already has console access.")
		}
		if in.GeneratePassword {
			password = s.GeneratePassword(ctx)
			generated = password
		} else if msg := s.checkNewPassword(ctx, password, u.UserName, u.DisplayName); msg != "" {
			return &Error{Kind: EINVALID, Code: "InvalidParameter.Password.TooWeak", Message: msg, Fields: map[string]string{"password": msg}}
		}
		if err := s.putLoginProfile(ctx, tx, a, acct, u, password, in.PasswordResetRequired, in.MFABindRequired, "CreateLoginProfile"); err != nil {
			return err
		}
		lp, err = tx.LoginProfile(ctx, u.UserID)
		return err
	})
	if err != nil {
		return nil, "", s.refuse(ctx, a, acct, "CreateLoginProfile", name, err)
	}
	return lp, generated, nil
}

// GetLoginProfile returns a user's login profile.
func (s *Service) GetLoginProfile(ctx context.Context, a Actor, name string) (*LoginProfile, error) {
	_, u, err := s.authorizeUser(ctx, a, "ram:GetLoginProfile", name)
	if err != nil {
		return nil, err
	}
	lp, err := s.st.LoginProfile(ctx, u.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EntityNotExist.User.LoginProfile", "login profile")
	}
	return lp, err
}

// LoginProfileUpdate names what to change; nil leaves a field as it is.
type LoginProfileUpdate struct {
	Password              *string
	GeneratePassword      bool
	PasswordResetRequired *bool
	MFABindRequired       *bool
	Status                *string // Active | Inactive (a ramconsole extension)
}

// UpdateLoginProfile resets the password, changes the flags or activates
// and deactivates console access. A new password or a deactivation ends all
// of the user's sessions. It returns the generated password, if any.
func (s *Service) UpdateLoginProfile(ctx context.Context, a Actor, name string, up LoginProfileUpdate) (string, error) {
	acct, target, err := s.authorizeUser(ctx, a, "ram:UpdateLoginProfile", name)
	if err != nil {
		return "", s.refused(ctx, a, acct, "UpdateLoginProfile", name, err)
	}
	generated := ""
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		lp, err := tx.LoginProfile(ctx, u.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.User.LoginProfile", "login profile")
		}
		if err != nil {
			return err
		}
		params := map[string]any{"UserName": u.UserName}
		revoke := false
		if up.GeneratePassword {
			p := s.GeneratePassword(ctx)
			up.Password, generated = &p, p
		}
		if up.Password != nil {
			if !up.GeneratePassword {
				if msg := s.checkNewPassword(ctx, *up.Password, u.UserName, u.DisplayName); msg != "" {
					return &Error{Kind: EINVALID, Code: "InvalidParameter.Password.TooWeak", Message: msg, Fields: map[string]string{"password": msg}}
				}
			}
			if lp.PasswordHash, err = s.hashPassword(ctx, *up.Password); err != nil {
				return err
			}
			lp.PasswordChangedAt = tx.Now()
			params["Password"] = "(reset)"
			revoke = true
			if keep := s.passwordPolicy(ctx).PasswordReusePrevention; keep > 0 {
				if err := tx.AddPasswordHistory(ctx, u.UserID, lp.PasswordHash, keep); err != nil {
					return err
				}
			}
		}
		if up.PasswordResetRequired != nil {
			lp.PasswordResetRequired = *up.PasswordResetRequired
			params["PasswordResetRequired"] = *up.PasswordResetRequired
		}
		if up.MFABindRequired != nil {
			lp.MFABindRequired = *up.MFABindRequired
			params["MFABindRequired"] = *up.MFABindRequired
		}
		if up.Status != nil {
			if *up.Status != "Active" && *up.Status != "Inactive" {
				return &Error{Kind: EINVALID, Code: "InvalidParameter.Status", Message: "Status must be Active or Inactive.",
					Fields: map[string]string{"status": "Choose Active or Inactive."}}
			}
			if *up.Status == "Inactive" {
				revoke = true
			}
			lp.Status = *up.Status
			params["Status"] = *up.Status
		}
		if err := tx.PutLoginProfile(ctx, lp); err != nil {
			return err
		}
		if revoke {
			if err := s.endSessions(ctx, tx, UserPrincipal(u.UserID), "", true); err != nil {
				return err
			}
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "UpdateLoginProfile", u.UserName, params))
	})
	if err != nil {
		return "", s.refuse(ctx, a, acct, "UpdateLoginProfile", name, err)
	}
	return generated, nil
}

// DeleteLoginProfile removes a user's console access and ends its sessions.
func (s *Service) DeleteLoginProfile(ctx context.Context, a Actor, name string) error {
	acct, target, err := s.authorizeUser(ctx, a, "ram:DeleteLoginProfile", name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeleteLoginProfile", name, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		if err := tx.DeleteLoginProfile(ctx, u.UserID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.User.LoginProfile", "login profile")
		} else if err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, UserPrincipal(u.UserID), "", true); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "DeleteLoginProfile", u.UserName, map[string]any{"UserName": u.UserName}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteLoginProfile", name, err)
	}
	return nil
}

// endSessions ends every session of principal but keep, and with tickets
// also forgets its remembered devices; the applications' tokens it holds
// are revoked too (SPEC §17.5).
func (s *Service) endSessions(ctx context.Context, tx *store.Tx, principal Principal, keep string, tickets bool) error {
	if err := revokeOIDCOf(ctx, tx, principal); err != nil {
		return err
	}
	return s.endConsoleSessions(ctx, tx, principal, keep, tickets)
}

// endConsoleSessions is endSessions that leaves the applications' tokens:
// for a factor added (a stronger identity, nothing to revoke).
func (s *Service) endConsoleSessions(ctx context.Context, tx *store.Tx, principal Principal, keep string, tickets bool) error {
	if err := tx.DeleteSessionsFor(ctx, string(principal), keep); err != nil {
		return err
	}
	if tickets {
		return tx.DeleteMFATickets(ctx, string(principal))
	}
	return nil
}

// passwordExpired reports whether a password set at changed is past the policy's age.
func passwordExpired(p PasswordPolicy, changed, now time.Time) bool {
	return p.MaxPasswordAge > 0 && now.Sub(changed) >= time.Duration(p.MaxPasswordAge)*24*time.Hour
}
