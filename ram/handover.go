package ram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"ramconsole/store"
)

// One-time results. What a person must see exactly once (a new password, a
// new AccessKey's secret) is not rendered in answer to the POST that made
// it: it is sealed, kept for ten minutes bound to the session that made it,
// and taken once by the page the POST redirects to (POST/redirect/GET), so
// a reload never posts again and never shows the secret twice. The console
// credentials CSV of a new password is kept the same way. Both use the
// one-time download rows of AccessKey CSVs, told apart by a prefix where a
// key's id would be (an AccessKeyId always starts with LTAI).
const (
	oneTimeHandover    = "handover:"
	oneTimeCredentials = "credentials:"
)

// EventDownloadCredentialsCSV records the download of a new console
// password's CSV (with the UserName — never the password).
const EventDownloadCredentialsCSV = "DownloadCredentialsCSV"

func (s *Service) offerOnce(ctx context.Context, sessionHash, what string, secret []byte) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	th := tokenHash(token)
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateKeyDownload(ctx, store.KeyDownload{TokenHash: th, SessionHash: sessionHash, AccessKeyID: what,
			SecretEnc: s.sealer.Seal("key_downloads/"+th, secret), ExpiresAt: tx.Now().Add(keyDownloadTTL)})
	})
	return token, err
}

var errGoneOnce = notFound("EntityNotExist.Download", "download (it is used once, by the session that created it, within 10 minutes)")

// takeOnce uses up a one-time result of the kind prefix; record, when set,
// appends the event of taking it in the same transaction.
func (s *Service) takeOnce(ctx context.Context, sessionHash, token, prefix string, record func(tx *store.Tx, what string) error) (string, []byte, error) {
	th := tokenHash(token)
	var d *store.KeyDownload
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if sessionHash == "" {
			return store.ErrNotFound
		}
		if d, err = tx.TakeKeyDownload(ctx, th, sessionHash); err != nil {
			return err
		}
		if !strings.HasPrefix(d.AccessKeyID, prefix) {
			return store.ErrNotFound
		}
		if record != nil {
			return record(tx, strings.TrimPrefix(d.AccessKeyID, prefix))
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, errGoneOnce
	}
	if err != nil {
		return "", nil, err
	}
	plain, err := s.sealer.Open("key_downloads/"+th, d.SecretEnc)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimPrefix(d.AccessKeyID, prefix), plain, nil
}

// OfferHandover keeps a sealed one-time result (the hand-over sheet's
// content) for the session and returns the token of the page that shows it.
func (s *Service) OfferHandover(ctx context.Context, sessionHash string, sheet []byte) (string, error) {
	return s.offerOnce(ctx, sessionHash, oneTimeHandover, sheet)
}

// TakeHandover returns a one-time result once, to the session that made it,
// within ten minutes; after that it is ENOTFOUND.
func (s *Service) TakeHandover(ctx context.Context, sessionHash, token string) ([]byte, error) {
	_, b, err := s.takeOnce(ctx, sessionHash, token, oneTimeHandover, nil)
	return b, err
}

// OfferCredentialsDownload keeps the console credentials CSV of a new
// password of userName for a one-time download by the session; keyIDs
// name the AccessKeys whose secrets the file holds too.
func (s *Service) OfferCredentialsDownload(ctx context.Context, sessionHash, userName string, csv []byte, keyIDs ...string) (string, error) {
	what := userName
	if len(keyIDs) > 0 {
		what += "\n" + strings.Join(keyIDs, ",")
	}
	return s.offerOnce(ctx, sessionHash, oneTimeCredentials+what, csv)
}

// OfferBatchCredentialsDownload keeps the one credentials CSV of a batch
// of new users for a one-time download by the session, as
// OfferCredentialsDownload does for one user.
func (s *Service) OfferBatchCredentialsDownload(ctx context.Context, sessionHash string, userNames []string, csv []byte) (string, error) {
	// A user name never holds a comma.
	return s.OfferCredentialsDownload(ctx, sessionHash, strings.Join(userNames, ","), csv)
}

// TakeCredentialsDownload returns the user name and CSV of a one-time
// credentials download: once, to the session that made it, within ten
// minutes. Taking it is recorded (DownloadCredentialsCSV with the UserName,
// or the UserNames of a batch, and the AccessKeyId of a key in the file —
// never a password or secret) in the transaction that uses the link up.
func (s *Service) TakeCredentialsDownload(ctx context.Context, a Actor, sessionHash, token string) (string, []byte, error) {
	what, b, err := s.takeOnce(ctx, sessionHash, token, oneTimeCredentials, func(tx *store.Tx, what string) error {
		userName, keyIDs, _ := strings.Cut(what, "\n")
		ev := s.event(ctx, a, s.accountID(ctx), s.opType(a), EventDownloadCredentialsCSV)
		ev.RequestParameters = map[string]any{"UserName": userName}
		if names := strings.Split(userName, ","); len(names) > 1 {
			ev.RequestParameters = map[string]any{"UserNames": names}
		}
		if keyIDs != "" {
			ev.RequestParameters["AccessKeyId"] = keyIDs
		}
		return tx.AppendEvent(ctx, ev)
	})
	userName, _, _ := strings.Cut(what, "\n")
	return userName, b, err
}

// LogonName is the name a RAM user signs in with: UserName@alias, or
// UserName@AccountId until an alias is set.
func (s *Service) LogonName(ctx context.Context, userName string) string {
	return s.LogonNames(ctx)(userName)
}

// LogonNames returns LogonName for any number of users, the account read
// once.
func (s *Service) LogonNames(ctx context.Context) func(userName string) string {
	acct, err := s.st.Account(ctx)
	if err != nil {
		return func(userName string) string { return userName }
	}
	alias := displayAlias(acct)
	return func(userName string) string { return userName + "@" + alias }
}

// SignInSteps is what a RAM user's next console sign-in asks after the
// password: the code of the bound MFA device or binding one, then a new
// password.
type SignInSteps struct {
	MFACode     bool
	BindMFA     bool
	NewPassword bool
}

// NextSignInSteps says what userName's next console sign-in asks after the
// password, for the hand-over sheet of a password its caller has just set
// (and was authorised to): it authorises nothing and tells nothing that
// sheet does not show.
func (s *Service) NextSignInSteps(ctx context.Context, userName string) (SignInSteps, error) {
	u, err := s.st.UserByName(ctx, userName)
	if err != nil {
		return SignInSteps{}, err
	}
	lp, err := s.st.LoginProfile(ctx, u.UserID)
	if err != nil {
		return SignInSteps{}, err
	}
	c := userCredential(u, lp)
	hasDevice, err := s.st.HasSecondFactor(ctx, string(c.principal))
	if err != nil {
		return SignInSteps{}, err
	}
	return SignInSteps{MFACode: hasDevice, BindMFA: !hasDevice && s.mustBindMFA(ctx, c),
		NewPassword: s.stepAfterMFA(ctx, c) == StepChangePassword}, nil
}
