package ram

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"time"

	"ramconsole/store"
)

// AccessKey is a user's AccessKey (never with its secret).
type AccessKey = store.AccessKey

// NewAccessKey is a key just created: the only time its secret is known.
type NewAccessKey struct {
	AccessKeyID     string
	AccessKeySecret string
	Status          string
	CreateDate      time.Time
	UserName        string
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlnum(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alnum)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("ram: no randomness: " + err.Error())
		}
		b[i] = alnum[v.Int64()]
	}
	return string(b)
}

func accessKeySecretAD(id string) string { return "access_keys/" + id + "/secret" }

// createAccessKey makes a key for u inside tx, with its event.
func (s *Service) createAccessKey(ctx context.Context, tx *store.Tx, a Actor, acct string, u *store.User) (*NewAccessKey, error) {
	keys, err := tx.AccessKeys(ctx, u.UserID)
	if err != nil {
		return nil, err
	}
	if len(keys) >= MaxAccessKeys {
		return nil, limit("LimitExceeded.User.AccessKey", "A user can have at most 2 AccessKeys. Delete one first.")
	}
	id := "LTAI" + randomAlnum(20)
	secret := randomAlnum(30)
	k := &store.AccessKey{AccessKeyID: id, UserID: u.UserID, SecretEnc: s.sealer.Seal(accessKeySecretAD(id), []byte(secret)), Status: "Active"}
	if err := tx.CreateAccessKey(ctx, k); err != nil {
		return nil, err
	}
	ev := s.change(ctx, a, acct, "CreateAccessKey", u.UserName, map[string]any{"UserName": u.UserName})
	ev.AdditionalEventData = map[string]any{"AccessKeyId": id}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return nil, err
	}
	return &NewAccessKey{AccessKeyID: id, AccessKeySecret: secret, Status: "Active", CreateDate: k.CreatedAt, UserName: u.UserName}, nil
}

// keyOwner resolves whose AccessKeys an operation acts on, the named user
// or the caller when name is empty (RAM's rule for these actions), and
// authorises action on its stored ARN ("" for self-service, which the
// security preference governs).
func (s *Service) keyOwner(ctx context.Context, a Actor, name, action string) (string, *store.User, error) {
	if name != "" {
		return s.authorizeUser(ctx, a, action, name)
	}
	acct := s.accountID(ctx)
	if a.Principal == PrincipalRoot || a.Principal == "" {
		return acct, nil, &Error{Kind: EINVALID, Code: "MissingParameter", Message: "UserName is required: the account owner has no AccessKeys."}
	}
	if a.Principal.UserID() == "" {
		return acct, nil, &Error{Kind: EINVALID, Code: "MissingParameter", Message: "UserName is required: a role session has no AccessKeys."}
	}
	u, err := s.st.UserByID(ctx, a.Principal.UserID())
	if errors.Is(err, store.ErrNotFound) {
		return acct, nil, notFound("EntityNotExist.User", "user")
	}
	if err != nil {
		return acct, nil, err
	}
	if action != "" {
		err = s.authorize(ctx, a, action, userResource(acct, u))
	}
	return acct, u, err
}

// CreateAccessKey creates an AccessKey for the named user (or the caller).
func (s *Service) CreateAccessKey(ctx context.Context, a Actor, name string) (*NewAccessKey, error) {
	return s.createAccessKeyAs(ctx, a, name, "ram:CreateAccessKey")
}

func (s *Service) createAccessKeyAs(ctx context.Context, a Actor, name, action string) (*NewAccessKey, error) {
	acct, u, err := s.keyOwner(ctx, a, name, action)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "CreateAccessKey", name, err)
	}
	var k *NewAccessKey
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, u)
		if err != nil {
			return err
		}
		k, err = s.createAccessKey(ctx, tx, a, acct, u)
		return err
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateAccessKey", u.UserName, err)
	}
	return k, nil
}

// ListAccessKeys returns a user's keys (never their secrets).
func (s *Service) ListAccessKeys(ctx context.Context, a Actor, name string) ([]AccessKey, error) {
	_, u, err := s.keyOwner(ctx, a, name, "ram:ListAccessKeys")
	if err != nil {
		return nil, err
	}
	return s.st.AccessKeys(ctx, u.UserID)
}

// userKey finds a key of the named user; a key of another user is not found.
func (s *Service) userKey(ctx context.Context, tx *store.Tx, owner *store.User, keyID string) (*store.User, *store.AccessKey, error) {
	u, err := s.sameUser(ctx, tx, owner)
	if err != nil {
		return nil, nil, err
	}
	k, err := tx.AccessKey(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.UserID != u.UserID {
		return nil, nil, notFound("EntityNotExist.User.AccessKey", "AccessKey")
	}
	return u, k, err
}

// UpdateAccessKey sets a key Active or Inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, a Actor, name, keyID, status string) error {
	return s.updateAccessKeyAs(ctx, a, name, keyID, status, "ram:UpdateAccessKey")
}

func (s *Service) updateAccessKeyAs(ctx context.Context, a Actor, name, keyID, status, action string) error {
	acct, owner, err := s.keyOwner(ctx, a, name, action)
	if err != nil {
		return s.refused(ctx, a, acct, "UpdateAccessKey", keyID, err)
	}
	if status != "Active" && status != "Inactive" {
		return s.refuse(ctx, a, acct, "UpdateAccessKey", owner.UserName, &Error{Kind: EINVALID, Code: "InvalidParameter.Status", Message: "Status must be Active or Inactive."})
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, k, err := s.userKey(ctx, tx, owner, keyID)
		if err != nil {
			return err
		}
		if err := tx.SetAccessKeyStatus(ctx, k.AccessKeyID, status); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "UpdateAccessKey", u.UserName, map[string]any{"UserName": u.UserName, "UserAccessKeyId": k.AccessKeyID, "Status": status})
		// Deactivating a key ends the role sessions it started for good
		// (SPEC §12). Re-activating one ends any it left behind too: a
		// session of a key that was Inactive was ended by its deactivation,
		// and must not come back with the key.
		if status == "Inactive" || k.Status != "Active" {
			if err := endKeySessions(ctx, tx, ev, k.AccessKeyID); err != nil {
				return err
			}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "UpdateAccessKey", owner.UserName, err)
	}
	return nil
}

// DeleteAccessKey deletes a key, Active or Inactive: the OpenAPI's
// DeleteAccessKey, as Alibaba Cloud RAM's.
func (s *Service) DeleteAccessKey(ctx context.Context, a Actor, name, keyID string) error {
	return s.deleteAccessKeyAs(ctx, a, name, keyID, "ram:DeleteAccessKey", false)
}

// DeleteDisabledAccessKey deletes a key only when it is Inactive: the
// console's rule (RAM's console offers Delete only for a disabled key), so
// a key is switched off, and seen not to be missed, before it is gone.
func (s *Service) DeleteDisabledAccessKey(ctx context.Context, a Actor, name, keyID string) error {
	return s.deleteAccessKeyAs(ctx, a, name, keyID, "ram:DeleteAccessKey", true)
}

func (s *Service) deleteAccessKeyAs(ctx context.Context, a Actor, name, keyID, action string, disabledOnly bool) error {
	acct, owner, err := s.keyOwner(ctx, a, name, action)
	if err != nil {
		return s.refused(ctx, a, acct, "DeleteAccessKey", keyID, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, k, err := s.userKey(ctx, tx, owner, keyID)
		if err != nil {
			return err
		}
		if disabledOnly && k.Status == "Active" {
			return conflict("DeleteConflict.AccessKey.Active", "AccessKey "+k.AccessKeyID+" is Active. Disable it first, make sure nothing fails without it, then delete it.")
		}
		if err := tx.DeleteAccessKey(ctx, k.AccessKeyID); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "DeleteAccessKey", u.UserName, map[string]any{"UserName": u.UserName, "UserAccessKeyId": k.AccessKeyID})
		if err := endKeySessions(ctx, tx, ev, k.AccessKeyID); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteAccessKey", owner.UserName, err)
	}
	return nil
}

// endKeySessions ends, in the transaction that deactivates or deletes an
// AccessKey, the role sessions it started and those chained from them, so
// that nothing brings them back; ev, the change's event, says how many.
// The write moves the store's generation: cached sessions are re-read.
func endKeySessions(ctx context.Context, tx *store.Tx, ev *store.Event, keyID string) error {
	n, err := tx.EndRoleSessionsOfKey(ctx, keyID)
	if err != nil {
		return err
	}
	if n > 0 {
		if ev.AdditionalEventData == nil {
			ev.AdditionalEventData = map[string]any{}
		}
		ev.AdditionalEventData["endedSessions"] = n
	}
	return nil
}

// keyDownloadTTL is how long the one-time CSV link lives.
const keyDownloadTTL = 10 * time.Minute

// OfferKeyDownload makes the one-time CSV link of a new key, bound to the
// session that created it. It returns the token for the URL.
func (s *Service) OfferKeyDownload(ctx context.Context, sessionHash string, k *NewAccessKey) (string, error) {
	return s.offerOnce(ctx, sessionHash, k.AccessKeyID, []byte(k.AccessKeySecret))
}

// TakeKeyDownload returns the key id and secret of a one-time CSV link: once,
// to the session that created it, within ten minutes. Taking it is recorded
// (DownloadAccessKeyCSV, with the AccessKeyId — never the secret) in the
// transaction that uses the link up.
func (s *Service) TakeKeyDownload(ctx context.Context, a Actor, sessionHash, token string) (id, secret string, err error) {
	id, plain, err := s.takeOnce(ctx, sessionHash, token, "LTAI", func(tx *store.Tx, id string) error {
		ev := s.event(ctx, a, s.accountID(ctx), s.opType(a), EventDownloadAccessKeyCSV)
		ev.RequestParameters = map[string]any{"AccessKeyId": "LTAI" + id}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return "", "", err
	}
	return "LTAI" + id, string(plain), nil
}

// EventDownloadAccessKeyCSV records the download of a new key's CSV.
const EventDownloadAccessKeyCSV = "DownloadAccessKeyCSV"

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Self-service AccessKeys (/me): governed by the security preference's
// AllowUserToManageAccessKeys instead of policies (SPEC §4.3).

// errRoleSessionSelf refuses a user's self-service while it acts as a role
// (a console role switch): the role session has no password, MFA device or
// AccessKeys of its own, and the user's are not the role's to change.
var errRoleSessionSelf = &Error{Kind: EINVALID, Code: "NotSupport.RoleSession",
	Message: "You are acting as a role: switch back to manage your own password, MFA device and AccessKeys."}

var errSelfServiceKeys = &Error{Kind: EFORBIDDEN, Code: "NoPermission", Message: "Your administrator does not let users manage their own AccessKeys."}

func (s *Service) selfKeys(ctx context.Context, a Actor) error {
	if a.Principal == "" || a.Principal == PrincipalRoot {
		return &Error{Kind: EINVALID, Code: "NotSupport.Account", Message: "The account owner has no AccessKeys."}
	}
	if a.Principal.UserID() == "" {
		return errRoleSessionSelf
	}
	if !s.securityPreference(ctx).AllowUserToManageAccessKeys {
		return errSelfServiceKeys
	}
	return nil
}

// CreateOwnAccessKey creates an AccessKey for the signed-in RAM user.
func (s *Service) CreateOwnAccessKey(ctx context.Context, a Actor) (*NewAccessKey, error) {
	if err := s.selfKeys(ctx, a); err != nil {
		return nil, s.refuse(ctx, a, s.accountID(ctx), "CreateAccessKey", a.Name, err)
	}
	return s.createAccessKeyAs(ctx, a, "", "")
}

// UpdateOwnAccessKey sets one of the signed-in user's keys Active or Inactive.
func (s *Service) UpdateOwnAccessKey(ctx context.Context, a Actor, keyID, status string) error {
	if err := s.selfKeys(ctx, a); err != nil {
		return s.refuse(ctx, a, s.accountID(ctx), "UpdateAccessKey", keyID, err)
	}
	return s.updateAccessKeyAs(ctx, a, "", keyID, status, "")
}

// DeleteOwnAccessKey deletes one of the signed-in user's keys; like the
// console's DeleteDisabledAccessKey, only an Inactive one.
func (s *Service) DeleteOwnAccessKey(ctx context.Context, a Actor, keyID string) error {
	if err := s.selfKeys(ctx, a); err != nil {
		return s.refuse(ctx, a, s.accountID(ctx), "DeleteAccessKey", keyID, err)
	}
	return s.deleteAccessKeyAs(ctx, a, "", keyID, "", true)
}

// OwnAccessKeys lists the signed-in RAM user's keys (self-service).
func (s *Service) OwnAccessKeys(ctx context.Context, a Actor) ([]AccessKey, error) {
	if err := s.selfKeys(ctx, a); err != nil {
		return nil, err
	}
	_, u, err := s.keyOwner(ctx, a, "", "")
	if err != nil {
		return nil, err
	}
	return s.st.AccessKeys(ctx, u.UserID)
}

// OwnDetail is what /me shows the signed-in RAM user about itself. A role
// session is not a user: it has no detail of its own (/me shows the
// session instead).
func (s *Service) OwnDetail(ctx context.Context, a Actor) (*UserDetail, error) {
	if a.Principal.UserID() == "" {
		return nil, errRoleSessionSelf
	}
	u, err := s.st.UserByID(ctx, a.Principal.UserID())
	if err != nil {
		return nil, err
	}
	return s.userDetail(ctx, u)
}
