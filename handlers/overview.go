package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"ramconsole/views"
)

// Overview handles GET /: the account, the RAM users' logon URL and the
// security checklist.
func (h *Handlers) Overview(c echo.Context) error {
	if id := IdentityOf(c); id != nil && !id.IsOwner {
		return redirect(c, "/me")
	}
	ov, err := h.RAM.Overview(ctx(c))
	if err != nil {
		return err
	}
	// Without users the checks of users have nothing to check yet: "Done"
	// would read as checked.
	noUsers := ""
	if ov.Stats.Users == 0 {
		noUsers = "No users yet"
	}
	scheme := "http"
	if c.IsTLS() {
		scheme = "https"
	}
	m := views.Overview{
		Layout:    h.layout(c, "Overview"),
		AccountID: ov.AccountID,
		Alias:     ov.Alias,
		LogonURL:  scheme + "://" + c.Request().Host + "/login",
		LogonName: "<UserName>@" + ov.Alias,
		Counts: []views.Count{
			{Label: "Users", Value: ov.Stats.Users, Href: "/users"},
			{Label: "Groups", Value: ov.Stats.Groups, Href: "/groups"},
			{Label: "Custom policies", Value: ov.Stats.CustomPolicies, Href: "/policies?type=Custom"},
		},
		Checks: []views.Check{
			{Label: "Owner MFA bound", OK: ov.OwnerHasMFA, Hint: "the owner's password alone never opens the console", Href: "/mfa/bind"},
			{Label: "Every user with console access has MFA", OK: ov.Stats.ConsoleUsersWithoutMFA == 0, Pending: noUsers,
				Hint: plural(ov.Stats.ConsoleUsersWithoutMFA, "user signs", "users sign") + " in without MFA", Href: "/users?status=no_mfa",
				FixHref: "/settings#login-settings", FixLabel: "Require MFA for every sign-in"},
			{Label: "No AccessKey unused for 90 days", OK: ov.Stats.KeysUnused90Days == 0, Pending: noUsers,
				Hint: plural(ov.Stats.KeysUnused90Days, "key has", "keys have") + " not been used for 90 days; disable or delete them",
				Href: "/users?status=stale_keys", FixHref: "/access/unused", FixLabel: "Review unused access"},
			{Label: "Strong password policy", OK: ov.PolicyStrong, Hint: "at least 12 characters and a lockout after failed sign-ins",
				Href: "/settings#password-policy"},
			{Label: "Account alias set", OK: ov.AliasSet, Hint: "RAM users sign in as name@" + ov.Alias, Href: "/settings#alias"},
		},
	}
	m.Empty = ov.Stats.Users == 0 && ov.Stats.Groups == 0 && ov.Stats.CustomPolicies == 0
	return Render(c, http.StatusOK, views.OverviewPage(m))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
