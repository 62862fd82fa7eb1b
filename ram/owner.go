package ram

import (
	"context"

	"ramconsole/store"
)

// The owner's recovery on the host (`ramconsole owner …`): each is a
// ConsoleOperation on the owner with eventSource "host", written directly
// when a running server holds the audit journal.

// errNoAccount answers a host command on a data directory without an account.
var errNoAccount = &Error{Kind: ENOTFOUND, Code: "EntityNotExist", Message: "The account has not been set up."}

// hostEvent is the event of a host command acting on the owner.
func (s *Service) hostEvent(ctx context.Context, a Actor, acctID, name string) *store.Event {
	ev := s.event(ctx, Actor{Principal: PrincipalRoot, RequestID: a.RequestID, SourceIP: a.SourceIP, UserAgent: a.UserAgent},
		acctID, EventConsoleOperation, name)
	ev.EventSource = "host"
	return ev
}

// UnlockOwner clears the owner's sign-in lockout.
func (s *Service) UnlockOwner(ctx context.Context, a Actor) error {
	acctID := s.accountID(ctx)
	if acctID == "" {
		return errNoAccount
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		o, err := tx.Owner(ctx)
		if err != nil {
			return err
		}
		if err := tx.ClearOwnerFailures(ctx, false); err != nil {
			return err
		}
		ev := s.hostEvent(ctx, a, acctID, "UnlockOwner")
		ev.AdditionalEventData = map[string]any{"wasLocked": o.LockedUntil.After(tx.Now()), "failedCount": o.FailedCount}
		return tx.AppendEvent(ctx, ev)
	})
}

// ResetOwnerPassword sets the owner's password from the host, checked by
// the owner's rules; every owner session ends, remembered devices are
// forgotten and the lockout is cleared.
func (s *Service) ResetOwnerPassword(ctx context.Context, a Actor, password, confirm string) error {
	acctID := s.accountID(ctx)
	if acctID == "" {
		return errNoAccount
	}
	o, err := s.st.Owner(ctx)
	if err != nil {
		return err
	}
	acct, err := s.st.Account(ctx)
	if err != nil {
		return err
	}
	if password != confirm {
		return &Error{Kind: EINVALID, Code: "InvalidParameter.NewPassword.Mismatch", Message: "The two passwords differ."}
	}
	rules := PasswordRules{MinLength: max(OwnerMinPasswordLength, s.passwordPolicy(ctx).MinimumPasswordLength),
		Names: []string{emailLocal(o.Email), acct.Alias}}
	if msg := CheckPassword(password, rules); msg != "" {
		return &Error{Kind: EINVALID, Code: "InvalidParameter.NewPassword.TooWeak", Message: msg}
	}
	hash := HashPassword(password)
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetOwnerPassword(ctx, hash); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, PrincipalRoot, "", true); err != nil {
			return err
		}
		if err := tx.ClearOwnerFailures(ctx, false); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.hostEvent(ctx, a, acctID, "ResetOwnerPassword"))
	})
}
