package ram

import (
	"context"
	"testing"
	"time"
)

// The account settings' rules, on one account.
func TestSettings(t *testing.T) {
	onOneAccount(t,
		part{"password policy", testPasswordPolicy},
		part{"security preference", testSecurityPreference},
		part{"account alias", testAccountAlias},
	)
}

// setter makes operations that set the default settings def, changed by
// an actor.
func setter[T any](e *testEnv, def T, set func(context.Context, Actor, T) (T, error)) func(Actor, func(*T)) func() error {
	return func(a Actor, change func(*T)) func() error {
		p := def
		change(&p)
		return func() error { return ignore(set(e.ctx, a, p)) }
	}
}

// The password policy takes RAM's ranges; a refused one changes nothing,
// an accepted one is in force at once.
func testPasswordPolicy(t *testing.T, e *testEnv) {
	reader := e.member(t, "policy-reader", "AliyunRAMReadOnlyAccess")
	if p, err := e.svc.GetPasswordPolicy(e.ctx, reader); err != nil || p != DefaultPasswordPolicy {
		t.Errorf("GetPasswordPolicy before any change = %+v, %v; want the default", p, err)
	}
	set := setter(e, DefaultPasswordPolicy, e.svc.SetPasswordPolicy)
	e.check(t, []rule{
		{"a length under 8 is refused", set(e.owner, func(p *PasswordPolicy) { p.MinimumPasswordLength = 7 }),
			"InvalidParameter.MinimumPasswordLength.Range", []string{"SetPasswordPolicy/InvalidParameter.MinimumPasswordLength.Range"}},
		{"a length over 32 is refused", set(e.owner, func(p *PasswordPolicy) { p.MinimumPasswordLength = 33 }),
			"InvalidParameter.MinimumPasswordLength.Range", []string{"SetPasswordPolicy/InvalidParameter.MinimumPasswordLength.Range"}},
		{"a password age over 1095 days is refused", set(e.owner, func(p *PasswordPolicy) { p.MaxPasswordAge = 1096 }),
			"InvalidParameter.MaxPasswordAge.Range", []string{"SetPasswordPolicy/InvalidParameter.MaxPasswordAge.Range"}},
		{"remembering more than 24 passwords is refused", set(e.owner, func(p *PasswordPolicy) { p.PasswordReusePrevention = 25 }),
			"InvalidParameter.PasswordReusePrevention.Range", []string{"SetPasswordPolicy/InvalidParameter.PasswordReusePrevention.Range"}},
		{"a negative attempt limit is refused", set(e.owner, func(p *PasswordPolicy) { p.MaxLoginAttemps = -1 }),
			"InvalidParameter.MaxLoginAttemps.Range", []string{"SetPasswordPolicy/InvalidParameter.MaxLoginAttemps.Range"}},
		{"a read-only user may not change it", set(reader, func(p *PasswordPolicy) { p.MinimumPasswordLength = 16 }),
			"NoPermission", []string{"SetPasswordPolicy/NoPermission"}},
		{"the owner sets a stricter policy", set(e.owner, func(p *PasswordPolicy) { p.MinimumPasswordLength, p.RequireSymbols = 16, true }),
			"", []string{"SetPasswordPolicy"}},
	})
	if p, err := e.svc.GetPasswordPolicy(e.ctx, reader); err != nil || p.MinimumPasswordLength != 16 || !p.RequireSymbols {
		t.Errorf("GetPasswordPolicy = %+v, %v", p, err)
	}
	e.newUser(t, "ops")
	login := func(password string) func() error {
		return func() error {
			return ignore2(e.svc.CreateLoginProfile(e.ctx, e.owner, "ops", LoginProfileInput{Password: password}))
		}
	}
	for _, weak := range []string{"Quiet-Harbor7!", "Quiet2Harbor7Lamp"} { // too short; no symbol
		e.expect(t, login(weak), "InvalidParameter.Password.TooWeak", "CreateLoginProfile/InvalidParameter.Password.TooWeak")
	}
	e.expect(t, login("Quiet2Harbor7Lamp!"), "", "CreateLoginProfile")
	if pw := e.svc.GeneratePassword(e.ctx); len(pw) < 20 || CheckPassword(pw, e.svc.passwordRules(e.ctx)) != "" {
		t.Errorf("GeneratePassword() = %q breaks the policy", pw)
	}
}

// The security preference takes 1 to 24 hours and CIDR lists, stores the
// lists canonical, and governs the session lifetime.
func testSecurityPreference(t *testing.T, e *testEnv) {
	reader := e.member(t, "pref-reader", "AliyunRAMReadOnlyAccess")
	set := setter(e, DefaultSecurityPreference, e.svc.SetSecurityPreference)
	e.check(t, []rule{
		{"a session of 0 hours is refused", set(e.owner, func(p *SecurityPreference) { p.LoginSessionDuration = 0 }),
			"InvalidParameter.LoginSessionDuration", []string{"SetSecurityPreference/InvalidParameter.LoginSessionDuration"}},
		{"a session of 25 hours is refused", set(e.owner, func(p *SecurityPreference) { p.LoginSessionDuration = 25 }),
			"InvalidParameter.LoginSessionDuration", []string{"SetSecurityPreference/InvalidParameter.LoginSessionDuration"}},
		{"a mask that is no address is refused", set(e.owner, func(p *SecurityPreference) { p.LoginNetworkMasks = "10.0.0.0/8;10.0.0.300" }),
			"InvalidParameter.LoginNetworkMasks", []string{"SetSecurityPreference/InvalidParameter.LoginNetworkMasks"}},
		{"a read-only user may not change it", set(reader, func(p *SecurityPreference) { p.LoginSessionDuration = 1 }),
			"NoPermission", []string{"SetSecurityPreference/NoPermission"}},
		{"the owner sets sessions and networks", set(e.owner, func(p *SecurityPreference) {
			p.LoginSessionDuration, p.LoginNetworkMasks, p.AllowUserToManageAccessKeys = 2, "10.1.2.3/8, 192.0.2.7", true
		}), "", []string{"SetSecurityPreference"}},
	})
	p, err := e.svc.GetSecurityPreference(e.ctx, reader)
	if err != nil || p.LoginNetworkMasks != "10.0.0.0/8;192.0.2.7/32" || !p.AllowUserToManageAccessKeys {
		t.Errorf("GetSecurityPreference = %+v, %v", p, err)
	}
	if d := e.svc.SessionLifetime(e.ctx); d != 2*time.Hour {
		t.Errorf("SessionLifetime = %v, want 2h", d)
	}
}

// The alias takes 3 to 32 of [a-z0-9-] without edge or double hyphens;
// cleared, the AccountId stands in, in the logon names too.
func testAccountAlias(t *testing.T, e *testEnv) {
	reader := e.member(t, "alias-reader", "AliyunRAMReadOnlyAccess")
	set := func(a Actor, alias string) func() error {
		return func() error { return e.svc.SetAccountAlias(e.ctx, a, alias) }
	}
	e.check(t, []rule{
		{"two characters are too few", set(e.owner, "ab"), "InvalidParameter.AccountAlias.Length", []string{"SetAccountAlias/InvalidParameter.AccountAlias.Length"}},
		{"upper case is refused", set(e.owner, "Acme"), "InvalidParameter.AccountAlias.Format", []string{"SetAccountAlias/InvalidParameter.AccountAlias.Format"}},
		{"a leading hyphen is refused", set(e.owner, "-acme"), "InvalidParameter.AccountAlias.Format", []string{"SetAccountAlias/InvalidParameter.AccountAlias.Format"}},
		{"a double hyphen is refused", set(e.owner, "ac--me"), "InvalidParameter.AccountAlias.Format", []string{"SetAccountAlias/InvalidParameter.AccountAlias.Format"}},
		{"a read-only user may not set it", set(reader, "acme-corp"), "NoPermission", []string{"SetAccountAlias/NoPermission"}},
		{"the owner sets it", set(e.owner, "acme-corp"), "", []string{"SetAccountAlias"}},
	})
	if alias, err := e.svc.GetAccountAlias(e.ctx, reader); err != nil || alias != "acme-corp" || e.svc.LogonName(e.ctx, "reader") != "reader@acme-corp" {
		t.Errorf("GetAccountAlias = %q, %v; logon name %s", alias, err, e.svc.LogonName(e.ctx, "reader"))
	}
	e.expect(t, set(reader, ""), "NoPermission", "ClearAccountAlias/NoPermission")
	e.expect(t, set(e.owner, ""), "", "ClearAccountAlias")
	acct := e.svc.AccountID(e.ctx)
	if alias, err := e.svc.GetAccountAlias(e.ctx, reader); err != nil || alias != acct || e.svc.LogonName(e.ctx, "reader") != "reader@"+acct {
		t.Errorf("GetAccountAlias after clearing = %q, %v; want the AccountId %s", alias, err, acct)
	}
}
