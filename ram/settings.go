package ram

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"time"

	"ramconsole/store"
)

// PasswordPolicy is the account's password policy, with RAM's field names.
type PasswordPolicy struct {
	MinimumPasswordLength      int
	RequireLowercaseCharacters bool
	RequireUppercaseCharacters bool
	RequireNumbers             bool
	RequireSymbols             bool
	HardExpiry                 bool
	MaxPasswordAge             int // days; 0 = never expires
	PasswordReusePrevention    int // remembered passwords; 0 = off
	MaxLoginAttemps            int // RAM's spelling; 0 = no lockout
}

// DefaultPasswordPolicy is the policy until the owner changes it (SPEC §8: 12 characters).
var DefaultPasswordPolicy = PasswordPolicy{MinimumPasswordLength: 12, MaxLoginAttemps: defaultMaxLoginAttempts}

// SecurityPreference is the account's login and self-service settings.
type SecurityPreference struct {
	EnableSaveMFATicket         bool
	AllowUserToChangePassword   bool
	AllowUserToManageAccessKeys bool
	AllowUserToManageMFADevices bool
	AllowUserToManagePublicKeys bool
	LoginSessionDuration        int    // hours, 1–24
	LoginNetworkMasks           string // ';'-separated CIDRs; empty = anywhere
	// EnforceMFAForLogin requires every RAM user with console access to use MFA (a ramconsole setting).
	EnforceMFAForLogin bool
}

// DefaultSecurityPreference is RAM's default.
var DefaultSecurityPreference = SecurityPreference{
	AllowUserToChangePassword:   true,
	AllowUserToManageMFADevices: true,
	LoginSessionDuration:        6,
}

const (
	settingPasswordPolicy     = "password_policy"
	settingSecurityPreference = "security_preference"
)

// Password policy and preference limits (as in RAM).
const (
	minPolicyPasswordLength = 8
	maxPolicyPasswordLength = 32
	maxPasswordAgeDays      = 1095
	maxReusePrevention      = 24
	maxLoginAttemptsLimit   = 32
	maxNetworkMasks         = 40
)

func loadSetting[T any](ctx context.Context, r interface {
	Setting(context.Context, string) (string, error)
}, name string, def T) (T, error) {
	v, err := r.Setting(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	out := def
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return def, err
	}
	return out, nil
}

// PasswordPolicy returns the account's password policy (no authorisation:
// sign-in and password changes need it).
func (s *Service) passwordPolicy(ctx context.Context) PasswordPolicy {
	p, err := loadSetting(ctx, s.st, settingPasswordPolicy, DefaultPasswordPolicy)
	if err != nil {
		return DefaultPasswordPolicy
	}
	return p
}

func (s *Service) securityPreference(ctx context.Context) SecurityPreference {
	p, err := loadSetting(ctx, s.st, settingSecurityPreference, DefaultSecurityPreference)
	if err != nil {
		return DefaultSecurityPreference
	}
	return p
}

// SessionLifetime is how long a console session lasts once signed in.
func (s *Service) SessionLifetime(ctx context.Context) time.Duration {
	return time.Duration(s.securityPreference(ctx).LoginSessionDuration) * time.Hour
}

// SelfService reports what the security preference lets RAM users do for themselves.
func (s *Service) SelfService(ctx context.Context) SecurityPreference {
	return s.securityPreference(ctx)
}

// GetPasswordPolicy returns the password policy.
func (s *Service) GetPasswordPolicy(ctx context.Context, a Actor) (PasswordPolicy, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:GetPasswordPolicy", accountResource(acct)); err != nil {
		return PasswordPolicy{}, err
	}
	return s.passwordPolicy(ctx), nil
}

// SetPasswordPolicy replaces the password policy.
func (s *Service) SetPasswordPolicy(ctx context.Context, a Actor, p PasswordPolicy) (PasswordPolicy, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:SetPasswordPolicy", accountResource(acct)); err != nil {
		return p, err
	}
	if fe := checkPasswordPolicy(p); fe.err() != nil {
		err := fe.err()
		return p, s.refuse(ctx, a, acct, "SetPasswordPolicy", "", err)
	}
	body, _ := json.Marshal(p)
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, settingPasswordPolicy, string(body)); err != nil {
			return err
		}
		ev := s.event(ctx, a, acct, s.opType(a), "SetPasswordPolicy")
		ev.RequestParameters = structParams(p)
		return tx.AppendEvent(ctx, ev)
	})
	return p, err
}

// PasswordPolicyProblems returns the message of each field of p that
// SetPasswordPolicy would refuse, so a form shows them all at once.
func PasswordPolicyProblems(p PasswordPolicy) map[string]string { return checkPasswordPolicy(p).fields }

// SecurityPreferenceProblems is PasswordPolicyProblems for the security
// preference.
func SecurityPreferenceProblems(p SecurityPreference) map[string]string {
	return checkSecurityPreference(p).fields
}

func checkSecurityPreference(p SecurityPreference) fieldErrors {
	var fe fieldErrors
	if p.LoginSessionDuration < 1 || p.LoginSessionDuration > 24 {
		fe.add("LoginSessionDuration", "InvalidParameter.LoginSessionDuration", "Use 1 to 24 hours.")
	}
	if _, msg := normalizeNetworkMasks(p.LoginNetworkMasks); msg != "" {
		fe.add("LoginNetworkMasks", "InvalidParameter.LoginNetworkMasks", "%s", msg)
	}
	return fe
}

func checkPasswordPolicy(p PasswordPolicy) fieldErrors {
	var fe fieldErrors
	if p.MinimumPasswordLength < minPolicyPasswordLength || p.MinimumPasswordLength > maxPolicyPasswordLength {
		fe.add("MinimumPasswordLength", "InvalidParameter.MinimumPasswordLength.Range", "Use a length from %d to %d.", minPolicyPasswordLength, maxPolicyPasswordLength)
	}
	if p.MaxPasswordAge < 0 || p.MaxPasswordAge > maxPasswordAgeDays {
		fe.add("MaxPasswordAge", "InvalidParameter.MaxPasswordAge.Range", "Use 0 (never) to %d days.", maxPasswordAgeDays)
	}
	if p.PasswordReusePrevention < 0 || p.PasswordReusePrevention > maxReusePrevention {
		fe.add("PasswordReusePrevention", "InvalidParameter.PasswordReusePrevention.Range", "Use 0 (off) to %d.", maxReusePrevention)
	}
	if p.MaxLoginAttemps < 0 || p.MaxLoginAttemps > maxLoginAttemptsLimit {
		fe.add("MaxLoginAttemps", "InvalidParameter.MaxLoginAttemps.Range", "Use 0 (off) to %d.", maxLoginAttemptsLimit)
	}
	return fe
}

// GetSecurityPreference returns the security preference.
func (s *Service) GetSecurityPreference(ctx context.Context, a Actor) (SecurityPreference, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:GetSecurityPreference", accountResource(acct)); err != nil {
		return SecurityPreference{}, err
	}
	return s.securityPreference(ctx), nil
}

// SetSecurityPreference replaces the security preference.
func (s *Service) SetSecurityPreference(ctx context.Context, a Actor, p SecurityPreference) (SecurityPreference, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:SetSecurityPreference", accountResource(acct)); err != nil {
		return p, err
	}
	if fe := checkSecurityPreference(p); fe.err() != nil {
		err := fe.err()
		return p, s.refuse(ctx, a, acct, "SetSecurityPreference", "", err)
	}
	p.LoginNetworkMasks, _ = normalizeNetworkMasks(p.LoginNetworkMasks)
	body, _ := json.Marshal(p)
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, settingSecurityPreference, string(body)); err != nil {
			return err
		}
		ev := s.event(ctx, a, acct, s.opType(a), "SetSecurityPreference")
		ev.RequestParameters = structParams(p)
		return tx.AppendEvent(ctx, ev)
	})
	return p, err
}

// normalizeNetworkMasks checks ';'-separated CIDRs (or addresses) and
// returns them canonical.
func normalizeNetworkMasks(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == ' ' }) {
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return "", `"` + truncate(part, 64) + `" is not an IP address or CIDR block.`
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, pfx.Masked().String())
	}
	if len(out) > maxNetworkMasks {
		return "", "Use at most 40 network masks."
	}
	return strings.Join(out, ";"), ""
}

// inNetworks reports whether ip is inside one of the ';'-separated masks.
func inNetworks(masks, ip string) bool {
	if masks == "" {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, m := range strings.Split(masks, ";") {
		if pfx, err := netip.ParsePrefix(m); err == nil && pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// GetAccountAlias returns the alias, or the AccountId while none is set
// (SPEC §1; RAM's GetAccountAlias answers the same).
func (s *Service) GetAccountAlias(ctx context.Context, a Actor) (string, error) {
	acct, err := s.st.Account(ctx)
	if err != nil {
		return "", err
	}
	if err := s.authorize(ctx, a, "ram:GetAccountAlias", accountResource(acct.AccountID)); err != nil {
		return "", err
	}
	return displayAlias(acct), nil
}

// SetAccountAlias sets the alias; every RAM user's logon name changes with it.
// An empty alias clears it (the AccountId serves until another is set).
func (s *Service) SetAccountAlias(ctx context.Context, a Actor, alias string) error {
	acct := s.accountID(ctx)
	name := "SetAccountAlias"
	if alias == "" {
		name = "ClearAccountAlias"
	}
	if err := s.authorize(ctx, a, "ram:"+name, accountResource(acct)); err != nil {
		return err
	}
	if alias != "" {
		if msg := checkAlias(alias); msg != "" {
			code := "InvalidParameter.AccountAlias.Format"
			if len(alias) < 3 || len(alias) > 32 {
				code = "InvalidParameter.AccountAlias.Length"
			}
			return s.refuse(ctx, a, acct, name, "", &Error{Kind: EINVALID, Code: code, Message: "Please correct the highlighted fields.",
				Fields: map[string]string{"alias": msg}})
		}
	}
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetAlias(ctx, alias); err != nil {
			return err
		}
		ev := s.event(ctx, a, acct, s.opType(a), name)
		if alias != "" {
			ev.RequestParameters = map[string]any{"AccountAlias": alias}
		}
		return tx.AppendEvent(ctx, ev)
	})
}
