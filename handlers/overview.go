package handlers

import (
	"net/http"

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
		Checks: []views.Check{
			{Label: "Owner MFA bound", OK: ov.OwnerHasMFA, Hint: "the owner's password alone never opens the console"},
			{Label: "Account alias set", OK: ov.AliasSet, Hint: "RAM users sign in as name@" + ov.Alias},
		},
	}
	return Render(c, http.StatusOK, views.OverviewPage(m))
}
