package ram

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"ramconsole/store"
)

// checkAlias returns a message when alias breaks SPEC §1: 3–32 characters of
// [a-z0-9-], no leading, trailing or double hyphen.
func checkAlias(alias string) string {
	if len(alias) < 3 || len(alias) > 32 {
		return "Use 3 to 32 characters."
	}
	for _, c := range alias {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "Use lowercase letters, digits and hyphens only."
		}
	}
	if alias[0] == '-' || alias[len(alias)-1] == '-' || strings.Contains(alias, "--") {
		return "Hyphens cannot start or end the alias or stand twice in a row."
	}
	return ""
}

// normalizeEmail returns the bare address, or a message when it is not one.
func normalizeEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "Enter an email address."
	}
	if len(s) > 254 {
		return "", "Use at most 254 characters."
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", "Enter an address like name@example.com."
	}
	return strings.ToLower(s), ""
}

func emailLocal(email string) string {
	if i := strings.IndexByte(email, '@'); i > 0 {
		return email[:i]
	}
	return email
}

// displayAlias is the alias, or the AccountId until one is set.
func displayAlias(a *store.Account) string {
	if a.Alias != "" {
		return a.Alias
	}
	return a.AccountID
}

// Identity is who a console session belongs to.
type Identity struct {
	Principal   Principal
	Name        string // email for the owner, UserName for a RAM user
	DisplayName string
	IsOwner     bool
	HasMFA      bool
}

// Identity returns the signed-in identity of a principal; an EAUTH error when
// it no longer exists or may no longer use the console.
func (s *Service) Identity(ctx context.Context, principal Principal) (*Identity, error) {
	if principal == PrincipalRoot {
		o, err := s.st.Owner(ctx)
		if err != nil {
			return nil, err
		}
		id := &Identity{Principal: principal, Name: o.Email, DisplayName: o.Email, IsOwner: true}
		has, err := s.st.HasSecondFactor(ctx, string(principal))
		if err != nil {
			return nil, err
		}
		id.HasMFA = has
		return id, nil
	}
	u, lp, hasMFA, err := s.st.UserLogin(ctx, principal.UserID())
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: EAUTH, Code: "EntityNotExist.User", Message: "The user no longer exists."}
	}
	if err != nil {
		return nil, err
	}
	if lp == nil || lp.Status != "Active" {
		return nil, &Error{Kind: EAUTH, Code: "NoLoginProfile", Message: "Console access was removed."}
	}
	return &Identity{Principal: principal, Name: u.UserName, DisplayName: u.DisplayName, HasMFA: hasMFA}, nil
}

// Overview is the account's summary for the console's first page.
type Overview struct {
	AccountID   string
	Alias       string // the alias, or the AccountId until set
	AliasSet    bool
	OwnerEmail  string
	OwnerHasMFA bool
	Stats       store.Stats
	// PolicyStrong: the password policy asks for at least 12 characters and locks out guessing.
	PolicyStrong bool
}

// Overview returns the account summary.
func (s *Service) Overview(ctx context.Context) (*Overview, error) {
	acct, err := s.st.Account(ctx)
	if err != nil {
		return nil, err
	}
	o, err := s.st.Owner(ctx)
	if err != nil {
		return nil, err
	}
	ov := &Overview{AccountID: acct.AccountID, Alias: displayAlias(acct), AliasSet: acct.Alias != "", OwnerEmail: o.Email}
	if ov.OwnerHasMFA, err = s.st.HasSecondFactor(ctx, string(PrincipalRoot)); err != nil {
		return nil, err
	}
	if ov.Stats, err = s.st.Stats(ctx, s.Now().Add(-90*24*time.Hour)); err != nil {
		return nil, err
	}
	p := s.passwordPolicy(ctx)
	ov.PolicyStrong = p.MinimumPasswordLength >= 12 && p.MaxLoginAttemps > 0
	return ov, nil
}

// Ping reports whether the database answers.
func (s *Service) Ping(ctx context.Context) error { return s.st.Ping(ctx) }

// Unavailable reports whether err is the database not answering (down, or
// unreachable): the request decided nothing and may be retried (503).
func Unavailable(err error) bool { return store.IsUnavailable(err) }

// DisplayAlias is the alias, or the AccountId until one is set ("" before setup).
func (s *Service) DisplayAlias(ctx context.Context) string {
	acct, err := s.st.Account(ctx)
	if err != nil {
		return ""
	}
	return displayAlias(acct)
}
