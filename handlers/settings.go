package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

func boolText(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func policyForm(p ram.PasswordPolicy) views.Form {
	return views.Form{Values: map[string]string{
		"MinimumPasswordLength":      strconv.Itoa(p.MinimumPasswordLength),
		"RequireLowercaseCharacters": boolText(p.RequireLowercaseCharacters),
		"RequireUppercaseCharacters": boolText(p.RequireUppercaseCharacters),
		"RequireNumbers":             boolText(p.RequireNumbers),
		"RequireSymbols":             boolText(p.RequireSymbols),
		"HardExpiry":                 boolText(p.HardExpiry),
		"MaxPasswordAge":             strconv.Itoa(p.MaxPasswordAge),
		"PasswordReusePrevention":    strconv.Itoa(p.PasswordReusePrevention),
		"MaxLoginAttemps":            strconv.Itoa(p.MaxLoginAttemps),
	}}
}

func prefForm(p ram.SecurityPreference) views.Form {
	return views.Form{Values: map[string]string{
		"EnableSaveMFATicket":         boolText(p.EnableSaveMFATicket),
		"AllowUserToChangePassword":   boolText(p.AllowUserToChangePassword),
		"AllowUserToManageAccessKeys": boolText(p.AllowUserToManageAccessKeys),
		"AllowUserToManageMFADevices": boolText(p.AllowUserToManageMFADevices),
		"EnforceMFAForLogin":          boolText(p.EnforceMFAForLogin),
		"LoginSessionDuration":        strconv.Itoa(p.LoginSessionDuration),
		"LoginNetworkMasks":           p.LoginNetworkMasks,
	}}
}

// settingsModel fills the settings page; forms passed in replace the stored
// values. A section the viewer may not change is shown as its values, and
// one it may not read names the permission (asking is not recorded as a
// refusal: the page only looks).
func (h *Handlers) settingsModel(c echo.Context, policy, pref, alias *views.Form) (views.Settings, error) {
	a, acct := ActorOf(c), ram.AccountRef()
	m := views.Settings{Layout: h.layout(c, "Settings")}
	sup := h.RAM.SecurityKeySupport()
	m.Keys = views.KeySettings{Available: sup.Available, Reason: sup.Reason, Origin: sup.Origin, RPID: sup.RPID}
	m.CanSetPolicy = h.can(c, "ram:SetPasswordPolicy", acct)
	m.CanSetPref = h.can(c, "ram:SetSecurityPreference", acct)
	m.CanSetAlias = h.can(c, "ram:SetAccountAlias", acct)
	if policy == nil {
		p, err := h.RAM.GetPasswordPolicy(ctx(c), a)
		if err != nil {
			return m, err
		}
		f := policyForm(p)
		policy = &f
		m.PolicyFacts = policyFacts(p)
	}
	if pref == nil {
		if h.can(c, "ram:GetSecurityPreference", acct) {
			p, err := h.RAM.GetSecurityPreference(ctx(c), a)
			if err != nil {
				return m, err
			}
			f := prefForm(p)
			pref = &f
			m.PrefFacts = prefFacts(p)
		} else {
			pref, m.PrefDenied, m.CanSetPref = &views.Form{}, "ram:GetSecurityPreference", false
		}
	}
	if alias == nil {
		if h.can(c, "ram:GetAccountAlias", acct) {
			al, err := h.RAM.GetAccountAlias(ctx(c), a)
			if err != nil {
				return m, err
			}
			if al == h.RAM.AccountID(ctx(c)) {
				al = "" // none set: the AccountId serves
			}
			alias = &views.Form{Values: map[string]string{"alias": al}}
			m.AliasFacts = aliasFacts(al, h.RAM.AccountID(ctx(c)))
		} else {
			alias, m.AliasDenied, m.CanSetAlias = &views.Form{}, "ram:GetAccountAlias", false
		}
	}
	m.Policy, m.Pref, m.Alias = *policy, *pref, *alias
	m.AccountID = h.RAM.AccountID(ctx(c))
	return m, nil
}

// policyFacts, prefFacts and aliasFacts are the settings as a viewer who
// may not change them reads them.
func policyFacts(p ram.PasswordPolicy) []views.Fact {
	return []views.Fact{
		{Label: "Minimum length", Value: strconv.Itoa(p.MinimumPasswordLength)},
		{Label: "Require a lowercase letter", Value: yesNo(p.RequireLowercaseCharacters)},
		{Label: "Require an uppercase letter", Value: yesNo(p.RequireUppercaseCharacters)},
		{Label: "Require a number", Value: yesNo(p.RequireNumbers)},
		{Label: "Require a symbol", Value: yesNo(p.RequireSymbols)},
		{Label: "Maximum password age", Value: countOr(p.MaxPasswordAge, " days", "Passwords never expire")},
		{Label: "Block sign-in with an expired password", Value: yesNo(p.HardExpiry)},
		{Label: "Remembered passwords", Value: countOr(p.PasswordReusePrevention, "", "Off")},
		{Label: "Failed sign-ins before a one-hour lock", Value: countOr(p.MaxLoginAttemps, "", "No lockout")},
	}
}

func prefFacts(p ram.SecurityPreference) []views.Fact {
	networks := p.LoginNetworkMasks
	if strings.TrimSpace(networks) == "" {
		networks = "Anywhere"
	}
	return []views.Fact{
		{Label: "Require MFA for every RAM user with console access", Value: yesNo(p.EnforceMFAForLogin)},
		{Label: "Users may remember a device for 7 days", Value: yesNo(p.EnableSaveMFATicket)},
		{Label: "Users may change their own passwords", Value: yesNo(p.AllowUserToChangePassword)},
		{Label: "Users may bind and unbind their own MFA devices", Value: yesNo(p.AllowUserToManageMFADevices)},
		{Label: "Users may manage their own AccessKeys", Value: yesNo(p.AllowUserToManageAccessKeys)},
		{Label: "Session duration", Value: strconv.Itoa(p.LoginSessionDuration) + " hours"},
		{Label: "Allowed sign-in networks", Value: networks},
	}
}

func aliasFacts(alias, accountID string) []views.Fact {
	if alias == "" {
		return []views.Fact{{Label: "Alias", Value: "None: RAM users sign in as name@" + accountID}}
	}
	return []views.Fact{{Label: "Alias", Value: alias}}
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// countOr is n with its unit, or none when n is 0.
func countOr(n int, unit, none string) string {
	if n == 0 {
		return none
	}
	return strconv.Itoa(n) + unit
}

// Settings handles GET /settings.
func (h *Handlers) Settings(c echo.Context) error {
	m, err := h.settingsModel(c, nil, nil, nil)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.SettingsPage(m))
}

// intField parses a number field, noting a message when it is not one.
func intField(vals map[string]string, errs map[string]string, name string) int {
	v := strings.TrimSpace(vals[name])
	n, err := strconv.Atoi(v)
	if err != nil {
		errs[name] = "Enter a whole number."
	}
	return n
}

// mergeProblems adds the domain's messages for the fields that parsed, so
// every wrong field is named in one pass (a field that is not a number
// keeps that message).
func mergeProblems(errs, problems map[string]string) {
	if len(errs) == 0 {
		return // the domain checks again and names every problem itself
	}
	for k, v := range problems {
		if _, ok := errs[k]; !ok {
			errs[k] = v
		}
	}
}

// PasswordPolicySave handles POST /settings/password-policy.
func (h *Handlers) PasswordPolicySave(c echo.Context) error {
	names := []string{"MinimumPasswordLength", "MaxPasswordAge", "PasswordReusePrevention", "MaxLoginAttemps"}
	vals := form(c, names...)
	errs := map[string]string{}
	p := ram.PasswordPolicy{
		MinimumPasswordLength:      intField(vals, errs, "MinimumPasswordLength"),
		MaxPasswordAge:             intField(vals, errs, "MaxPasswordAge"),
		PasswordReusePrevention:    intField(vals, errs, "PasswordReusePrevention"),
		MaxLoginAttemps:            intField(vals, errs, "MaxLoginAttemps"),
		RequireLowercaseCharacters: checked(c, "RequireLowercaseCharacters"),
		RequireUppercaseCharacters: checked(c, "RequireUppercaseCharacters"),
		RequireNumbers:             checked(c, "RequireNumbers"),
		RequireSymbols:             checked(c, "RequireSymbols"),
		HardExpiry:                 checked(c, "HardExpiry"),
	}
	mergeProblems(errs, ram.PasswordPolicyProblems(p))
	var err error
	if len(errs) == 0 {
		_, err = h.RAM.SetPasswordPolicy(ctx(c), ActorOf(c), p)
		if fields, ok := fieldErrors(err); ok {
			errs, err = fields, nil
		}
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		f := policyForm(p)
		for k, v := range vals {
			f.Values[k] = v
		}
		f.Errors = errs
		m, err := h.settingsModel(c, &f, nil, nil)
		if err != nil {
			return err
		}
		return Render(c, http.StatusUnprocessableEntity, views.SettingsPage(m))
	}
	return flashDone(c, "/settings", "Password policy saved.")
}

// SecurityPreferenceSave handles POST /settings/security.
func (h *Handlers) SecurityPreferenceSave(c echo.Context) error {
	vals := form(c, "LoginSessionDuration", "LoginNetworkMasks")
	errs := map[string]string{}
	p := ram.SecurityPreference{
		LoginSessionDuration:        intField(vals, errs, "LoginSessionDuration"),
		LoginNetworkMasks:           vals["LoginNetworkMasks"],
		EnableSaveMFATicket:         checked(c, "EnableSaveMFATicket"),
		AllowUserToChangePassword:   checked(c, "AllowUserToChangePassword"),
		AllowUserToManageAccessKeys: checked(c, "AllowUserToManageAccessKeys"),
		AllowUserToManageMFADevices: checked(c, "AllowUserToManageMFADevices"),
		EnforceMFAForLogin:          checked(c, "EnforceMFAForLogin"),
	}
	mergeProblems(errs, ram.SecurityPreferenceProblems(p))
	var err error
	if len(errs) == 0 {
		_, err = h.RAM.SetSecurityPreference(ctx(c), ActorOf(c), p)
		if fields, ok := fieldErrors(err); ok {
			errs, err = fields, nil
		}
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		f := prefForm(p)
		for k, v := range vals {
			f.Values[k] = v
		}
		f.Errors = errs
		m, err := h.settingsModel(c, nil, &f, nil)
		if err != nil {
			return err
		}
		return Render(c, http.StatusUnprocessableEntity, views.SettingsPage(m))
	}
	return flashDone(c, "/settings", "Security settings saved.")
}

// AliasSave handles POST /settings/alias; an empty alias clears it.
func (h *Handlers) AliasSave(c echo.Context) error {
	alias := strings.TrimSpace(c.FormValue("alias"))
	err := h.RAM.SetAccountAlias(ctx(c), ActorOf(c), alias)
	if fields, ok := fieldErrors(err); ok {
		f := views.Form{Values: map[string]string{"alias": alias}, Errors: fields}
		m, err := h.settingsModel(c, nil, nil, &f)
		if err != nil {
			return err
		}
		return Render(c, http.StatusUnprocessableEntity, views.SettingsPage(m))
	}
	if err != nil {
		return err
	}
	if alias == "" {
		return flashDone(c, "/settings", "Account alias cleared; RAM users sign in as name@AccountId.")
	}
	return flashDone(c, "/settings", "Account alias set; RAM users now sign in as name@"+alias+".")
}
