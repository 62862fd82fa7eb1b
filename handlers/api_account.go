package handlers

import (
	"ramconsole/ram"
)

// OpenAPI actions on the account: alias, password policy, security preference.

type accountAliasResponse struct {
	apiMeta
	AccountAlias string
}

func apiSetAccountAlias(c *apiCall) (apiResponse, error) {
	return empty(c.svc.SetAccountAlias(c.ctx, c.actor, c.p["AccountAlias"]))
}

func apiGetAccountAlias(c *apiCall) (apiResponse, error) {
	alias, err := c.svc.GetAccountAlias(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	return &accountAliasResponse{AccountAlias: alias}, nil
}

func apiClearAccountAlias(c *apiCall) (apiResponse, error) {
	return empty(c.svc.ClearAccountAlias(c.ctx, c.actor))
}

// apiPasswordPolicy is RAM's PasswordPolicy.
type apiPasswordPolicy struct {
	MinimumPasswordLength      int
	RequireLowercaseCharacters bool
	RequireUppercaseCharacters bool
	RequireNumbers             bool
	RequireSymbols             bool
	HardExpiry                 bool
	MaxPasswordAge             int
	PasswordReusePrevention    int
	MaxLoginAttemps            int
}

type passwordPolicyResponse struct {
	apiMeta
	PasswordPolicy apiPasswordPolicy
}

func passwordPolicyAnswer(p ram.PasswordPolicy, err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	return &passwordPolicyResponse{PasswordPolicy: apiPasswordPolicy(p)}, nil
}

// apiSetPasswordPolicy changes the fields it names and keeps the others.
func apiSetPasswordPolicy(c *apiCall) (apiResponse, error) {
	ints := map[string]*int{}
	for _, name := range []string{"MinimumPasswordLength", "MaxPasswordAge", "PasswordReusePrevention", "MaxLoginAttemps"} {
		n, err := c.p.intOpt(name)
		if err != nil {
			return nil, err
		}
		ints[name] = n
	}
	bools := map[string]*bool{}
	for _, name := range []string{"RequireLowercaseCharacters", "RequireUppercaseCharacters", "RequireNumbers", "RequireSymbols", "HardExpiry"} {
		b, err := c.p.boolOpt(name)
		if err != nil {
			return nil, err
		}
		bools[name] = b
	}
	return passwordPolicyAnswer(c.svc.UpdatePasswordPolicy(c.ctx, c.actor, func(p *ram.PasswordPolicy) {
		setInt(&p.MinimumPasswordLength, ints["MinimumPasswordLength"])
		setInt(&p.MaxPasswordAge, ints["MaxPasswordAge"])
		setInt(&p.PasswordReusePrevention, ints["PasswordReusePrevention"])
		setInt(&p.MaxLoginAttemps, ints["MaxLoginAttemps"])
		setBool(&p.RequireLowercaseCharacters, bools["RequireLowercaseCharacters"])
		setBool(&p.RequireUppercaseCharacters, bools["RequireUppercaseCharacters"])
		setBool(&p.RequireNumbers, bools["RequireNumbers"])
		setBool(&p.RequireSymbols, bools["RequireSymbols"])
		setBool(&p.HardExpiry, bools["HardExpiry"])
	}))
}

func apiGetPasswordPolicy(c *apiCall) (apiResponse, error) {
	return passwordPolicyAnswer(c.svc.GetPasswordPolicy(c.ctx, c.actor))
}

// apiSecurityPreference is RAM's SecurityPreference: four nested objects.
type apiSecurityPreference struct {
	LoginProfilePreference struct {
		EnableSaveMFATicket       bool
		AllowUserToChangePassword bool
		LoginSessionDuration      int
		LoginNetworkMasks         string
	}
	AccessKeyPreference struct {
		AllowUserToManageAccessKeys bool
	}
	MFAPreference struct {
		AllowUserToManageMFADevices bool
	}
	PublicKeyPreference struct {
		AllowUserToManagePublicKeys bool
	}
}

type securityPreferenceResponse struct {
	apiMeta
	SecurityPreference apiSecurityPreference
}

func securityPreferenceAnswer(p ram.SecurityPreference, err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	out := &securityPreferenceResponse{}
	sp := &out.SecurityPreference
	sp.LoginProfilePreference.EnableSaveMFATicket = p.EnableSaveMFATicket
	sp.LoginProfilePreference.AllowUserToChangePassword = p.AllowUserToChangePassword
	sp.LoginProfilePreference.LoginSessionDuration = p.LoginSessionDuration
	sp.LoginProfilePreference.LoginNetworkMasks = p.LoginNetworkMasks
	sp.AccessKeyPreference.AllowUserToManageAccessKeys = p.AllowUserToManageAccessKeys
	sp.MFAPreference.AllowUserToManageMFADevices = p.AllowUserToManageMFADevices
	sp.PublicKeyPreference.AllowUserToManagePublicKeys = p.AllowUserToManagePublicKeys
	return out, nil
}

// apiSetSecurityPreference changes the fields it names and keeps the others.
func apiSetSecurityPreference(c *apiCall) (apiResponse, error) {
	bools := map[string]*bool{}
	for _, name := range []string{"EnableSaveMFATicket", "AllowUserToChangePassword", "AllowUserToManageAccessKeys",
		"AllowUserToManageMFADevices", "AllowUserToManagePublicKeys"} {
		b, err := c.p.boolOpt(name)
		if err != nil {
			return nil, err
		}
		bools[name] = b
	}
	hours, err := c.p.intOpt("LoginSessionDuration")
	if err != nil {
		return nil, err
	}
	masks := c.p.opt("LoginNetworkMasks")
	return securityPreferenceAnswer(c.svc.UpdateSecurityPreference(c.ctx, c.actor, func(p *ram.SecurityPreference) {
		setBool(&p.EnableSaveMFATicket, bools["EnableSaveMFATicket"])
		setBool(&p.AllowUserToChangePassword, bools["AllowUserToChangePassword"])
		setBool(&p.AllowUserToManageAccessKeys, bools["AllowUserToManageAccessKeys"])
		setBool(&p.AllowUserToManageMFADevices, bools["AllowUserToManageMFADevices"])
		setBool(&p.AllowUserToManagePublicKeys, bools["AllowUserToManagePublicKeys"])
		setInt(&p.LoginSessionDuration, hours)
		if masks != nil {
			p.LoginNetworkMasks = *masks
		}
	}))
}

func apiGetSecurityPreference(c *apiCall) (apiResponse, error) {
	return securityPreferenceAnswer(c.svc.GetSecurityPreference(c.ctx, c.actor))
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
