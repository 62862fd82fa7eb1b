package handlers

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// handoverSheet is the one-time content of the hand-over page: what an
// administrator gives the person or program a new identity is for.
type handoverSheet struct {
	Title          string
	UserName       string
	LogonName      string
	LogonURL       string
	Password       string
	Generated      bool
	KeyID          string
	KeySecret      string
	KeyCSV         string
	CredentialsCSV string
	Back           string
	// Admin: the sheet of an administrator (next steps on the user's
	// page), not of a person's own key on /me.
	Admin bool
	// KeyInCredentials: the AccessKey is in the credentials CSV too (a
	// user created with both); AccessKey.csv stays offered for programs.
	KeyInCredentials bool
	// SignIn is what the person's next sign-in asks after the password.
	SignIn ram.SignInSteps
	// Users: the sheet of a batch, a line per new user (CredentialsCSV is
	// then the one CSV of all of them).
	Users []handoverUser `json:",omitempty"`
}

// handoverUser is one new user of a batch's hand-over sheet.
type handoverUser struct {
	UserName, LogonName, Password, KeyID, KeySecret string
}

// handOver keeps the sheet (and the one-time CSV downloads of its
// secrets) for this session and redirects to the page that shows it once:
// POST/redirect/GET, so a reload never posts again.
func (h *Handlers) handOver(c echo.Context, sh handoverSheet, key *ram.NewAccessKey) error {
	sess := SessionOf(c).IDHash()
	if key != nil {
		sh.KeyID, sh.KeySecret = key.AccessKeyID, key.AccessKeySecret
	}
	if key != nil { // AccessKey.csv, as SPEC §3 gives it, also beside the credentials file
		token, err := h.RAM.OfferKeyDownload(ctx(c), sess, key)
		if err != nil {
			return err
		}
		sh.KeyCSV = "/accesskeys/download/" + token
	}
	if sh.Password != "" {
		// One file for everything the sheet hands over, in the columns of a
		// batch's: every hand-over CSV has one format.
		sh.LogonName, sh.LogonURL = h.RAM.LogonName(ctx(c), sh.UserName), logonURL(c)
		sh.KeyInCredentials = key != nil
		file := batchCSV([]handoverUser{{UserName: sh.UserName, LogonName: sh.LogonName, Password: sh.Password,
			KeyID: sh.KeyID, KeySecret: sh.KeySecret}}, sh.LogonURL)
		var keyIDs []string
		if key != nil {
			keyIDs = append(keyIDs, key.AccessKeyID)
		}
		token, err := h.RAM.OfferCredentialsDownload(ctx(c), sess, sh.UserName, file, keyIDs...)
		if err != nil {
			return err
		}
		sh.CredentialsCSV = "/credentials/download/" + token
		if sh.SignIn, err = h.RAM.NextSignInSteps(ctx(c), sh.UserName); err != nil {
			return err
		}
	}
	return h.showOnce(c, sh)
}

// showOnce keeps the sheet sealed for this session and redirects to the
// page that takes it.
func (h *Handlers) showOnce(c echo.Context, sh handoverSheet) error {
	b, err := json.Marshal(sh)
	if err != nil {
		return err
	}
	token, err := h.RAM.OfferHandover(ctx(c), SessionOf(c).IDHash(), b)
	if err != nil {
		return err
	}
	return redirect(c, "/handover/"+token)
}

// Handover handles GET /handover/:token: the hand-over sheet, shown once;
// after that (a reload, the back button) it says the secret can no longer
// be shown.
func (h *Handlers) Handover(c echo.Context) error {
	b, err := h.RAM.TakeHandover(ctx(c), SessionOf(c).IDHash(), c.Param("token"))
	if ram.ErrorKind(err) == ram.ENOTFOUND {
		m := views.Reveal{Layout: h.layout(c, "Shown once"), Title: "Shown once", Gone: true}
		return Render(c, http.StatusGone, views.RevealPage(m))
	}
	if err != nil {
		return err
	}
	var sh handoverSheet
	if err := json.Unmarshal(b, &sh); err != nil {
		return err
	}
	if len(sh.Users) > 0 {
		return Render(c, http.StatusOK, views.BatchRevealPage(h.batchReveal(c, sh)))
	}
	m := views.Reveal{Layout: h.layout(c, sh.Title), Title: sh.Title, UserName: sh.UserName, LogonName: sh.LogonName,
		LogonURL: sh.LogonURL, Password: sh.Password, Generated: sh.Generated, KeyID: sh.KeyID, KeySecret: sh.KeySecret,
		CSVHref: sh.KeyCSV, CredentialsHref: sh.CredentialsCSV, Back: sh.Back}
	m.KeyInCredentials = sh.KeyInCredentials
	m.SignInMFACode, m.SignInBindMFA, m.SignInNewPassword = sh.SignIn.MFACode, sh.SignIn.BindMFA, sh.SignIn.NewPassword
	if sh.Admin {
		base := userHref(sh.UserName)
		m.NextSteps = []views.Link{{Label: "Add to a group", Href: base + "#groups"},
			{Label: "Grant permissions", Href: base + "#policies"}, {Label: "View user", Href: base}}
	}
	return Render(c, http.StatusOK, views.RevealPage(m))
}

// CredentialsDownload handles GET /credentials/download/:token: the
// one-time CSV of a hand-over sheet (batchCSV: each user's logon name,
// password and logon URL, and AccessKey when created with one), only for
// the session that set it, within 10 minutes; audited.
func (h *Handlers) CredentialsDownload(c echo.Context) error {
	_, body, err := h.RAM.TakeCredentialsDownload(ctx(c), ActorOf(c), SessionOf(c).IDHash(), c.Param("token"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="credentials.csv"`)
	return c.Blob(http.StatusOK, "text/csv", body)
}

// logonURL is where RAM users sign in, as the overview shows it.
func logonURL(c echo.Context) string {
	scheme := "http"
	if c.IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host + "/login"
}

func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
