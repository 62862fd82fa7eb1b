package ram

import (
	"context"
	"errors"

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

// OwnerMFAReset is what ResetOwnerMFA did.
type OwnerMFAReset struct {
	Removed bool     // the owner's device was removed
	Serial  string   // its serial
	Moved   []string // devices that held the owner's serial: "old → new"
	// KeysRemoved is how many security keys were removed.
	KeysRemoved int
}

// ResetOwnerMFA removes the owner's device from the host (a lost phone). The
// owner must bind a new one at the next sign-in; every owner session ends and
// remembered devices are forgotten. It recovers from any state: a device of
// someone else holding the owner's serial (left by a RAM user named root
// before the name was reserved, bound or not) gets a serial of its own, so
// the owner's is free. With no device to remove it succeeds all the same.
func (s *Service) ResetOwnerMFA(ctx context.Context, a Actor) (*OwnerMFAReset, error) {
	acctID := s.accountID(ctx)
	if acctID == "" {
		return nil, errNoAccount
	}
	var res OwnerMFAReset
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		res = OwnerMFAReset{}
		dev, err := tx.MFADeviceFor(ctx, string(PrincipalRoot))
		switch {
		case err == nil:
			if err := tx.DeleteMFADeviceFor(ctx, string(PrincipalRoot)); err != nil {
				return err
			}
			res.Removed, res.Serial = true, dev.Serial
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		keys, err := tx.DeleteSecurityKeysOf(ctx, string(PrincipalRoot))
		if err != nil {
			return err
		}
		res.KeysRemoved = len(keys)
		serial := ownerMFASerial(acctID)
		squat, err := tx.MFADeviceBySerial(ctx, serial)
		switch {
		case err == nil:
			moved, err := s.moveSerial(ctx, tx, squat.ID, serial)
			if err != nil {
				return err
			}
			res.Moved = append(res.Moved, serial+" → "+moved)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := s.endSessions(ctx, tx, PrincipalRoot, "", true); err != nil {
			return err
		}
		ev := s.hostEvent(ctx, a, acctID, "ResetOwnerMFA")
		ev.AdditionalEventData = map[string]any{"deviceRemoved": res.Removed}
		if len(keys) > 0 {
			ev.AdditionalEventData["securityKeys"] = removedKeysData(keys)
		}
		if res.Removed {
			ev.AdditionalEventData["SerialNumber"] = res.Serial
		}
		if len(res.Moved) > 0 {
			ev.AdditionalEventData["serialsMoved"] = res.Moved
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// moveSerial gives a device a free serial of its own, serial-<random>.
func (s *Service) moveSerial(ctx context.Context, tx *store.Tx, id int64, serial string) (string, error) {
	for try := 0; ; try++ {
		moved := serial + "-" + randomAlnum(6)
		err := tx.SetMFADeviceSerial(ctx, id, moved)
		if errors.Is(err, store.ErrConflict) && try < 5 {
			continue
		}
		return moved, err
	}
}
