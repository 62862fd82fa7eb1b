package handlers

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// The batch form: rows at first, rows "Add rows" adds, and how many posted
// rows a refused form shows again (more than a batch takes, so a row over
// the limit is shown with its message; the form itself never offers more
// than ram.MaxUsersPerBatch).
const (
	batchRowsDefault = 5
	batchRowsStep    = 5
	maxBatchFormRows = 2 * ram.MaxUsersPerBatch
)

var batchAccessFields = []string{"console_login", "generate_password", "password_reset_required", "mfa_bind_required", "create_access_key"}

// userBatchForm handles GET /users/new?rows=N: the batch form with N empty
// rows (1 to ram.MaxUsersPerBatch; anything else that is not a number
// gives the default).
func (h *Handlers) userBatchForm(c echo.Context) error {
	n, err := strconv.Atoi(c.QueryParam("rows"))
	if err != nil {
		n = batchRowsDefault
	}
	n = min(max(n, 1), ram.MaxUsersPerBatch)
	rows := make([]views.BatchRow, n)
	for i := range rows {
		rows[i].N = i + 1
	}
	vals := map[string]string{"generate_password": "true", "password_reset_required": "true", "mfa_bind_required": "true"}
	return h.renderBatch(c, http.StatusOK, rows, views.Form{Values: vals}, false)
}

// UserBatchCreate handles POST /users/batch: several users at once, with
// the same access, all of them or none (SPEC §5). Repeated name and
// display_name fields are the rows; empty rows are left out. With add_rows
// it only shows the form again with what was typed and more rows.
func (h *Handlers) UserBatchCreate(c echo.Context) error {
	rows, in := batchRows(c)
	vals := form(c, batchAccessFields...)
	if add, err := strconv.Atoi(c.FormValue("add_rows")); err == nil && add > 0 {
		for n := min(len(rows)+batchRowsStep, ram.MaxUsersPerBatch); len(rows) < n; {
			rows = append(rows, views.BatchRow{N: len(rows) + 1})
		}
		return h.renderBatch(c, http.StatusOK, rows, views.Form{Values: vals}, false)
	}
	access := ram.BatchAccess{ConsoleLogin: checked(c, "console_login"), PasswordResetRequired: checked(c, "password_reset_required"),
		MFABindRequired: checked(c, "mfa_bind_required"), AccessKey: checked(c, "create_access_key")}
	if c.FormValue("password") != "" || access.ConsoleLogin && vals["generate_password"] == "false" {
		// A typed password is never silently replaced by generated ones.
		errs := map[string]string{"console_login": "A batch generates a password for each user. To type a password, create the user on its own."}
		return h.renderBatch(c, http.StatusUnprocessableEntity, rows, views.Form{Values: vals, Errors: errs}, true)
	}
	created, err := h.RAM.CreateUsers(ctx(c), ActorOf(c), in, access)
	if fields, ok := fieldErrors(err); ok {
		errs := map[string]string{}
		for key, msg := range fields {
			field, row, _ := strings.Cut(key, ".")
			n, _ := strconv.Atoi(row)
			switch {
			case n >= 1 && n <= len(rows) && field == "name":
				rows[n-1].NameError = msg
			case n >= 1 && n <= len(rows) && field == "display_name":
				rows[n-1].DisplayError = msg
			case row == "":
				errs[key] = msg
			}
		}
		return h.renderBatch(c, http.StatusUnprocessableEntity, rows, views.Form{Values: vals, Errors: errs}, true)
	}
	if err != nil {
		return err
	}
	if !access.ConsoleLogin && !access.AccessKey {
		return flashDone(c, "/users", strconv.Itoa(len(created))+" users created, without console access or AccessKeys.")
	}
	return h.handOverBatch(c, created)
}

// batchRows reads the posted rows: every row as typed, to show again (at
// most maxBatchFormRows), and the rows that are not empty, to create.
func batchRows(c echo.Context) ([]views.BatchRow, []ram.BatchUserInput) {
	_ = c.Request().ParseForm()
	names, displays := c.Request().PostForm["name"], c.Request().PostForm["display_name"]
	var rows []views.BatchRow
	var in []ram.BatchUserInput
	for i := range max(len(names), len(displays)) {
		r := views.BatchRow{N: i + 1}
		if i < len(names) {
			r.Name = strings.TrimSpace(names[i])
		}
		if i < len(displays) {
			r.DisplayName = strings.TrimSpace(displays[i])
		}
		if i < maxBatchFormRows {
			rows = append(rows, r)
		}
		if r.Name != "" || r.DisplayName != "" {
			in = append(in, ram.BatchUserInput{Row: r.N, UserName: r.Name, DisplayName: r.DisplayName})
		}
	}
	if len(rows) == 0 {
		rows = append(rows, views.BatchRow{N: 1})
	}
	return rows, in
}

func (h *Handlers) renderBatch(c echo.Context, status int, rows []views.BatchRow, f views.Form, refused bool) error {
	m := views.UserBatch{Layout: h.layout(c, "Create users"), Rows: rows, Form: f, Max: ram.MaxUsersPerBatch, Refused: refused}
	if len(rows) < ram.MaxUsersPerBatch {
		m.AddRows = min(batchRowsStep, ram.MaxUsersPerBatch-len(rows))
	}
	return Render(c, status, views.UserBatchPage(m))
}

// handOverBatch shows the batch's one hand-over sheet, with one one-time
// CSV of every user's credentials, through the single user's path.
func (h *Handlers) handOverBatch(c echo.Context, created []ram.BatchCreated) error {
	sh := handoverSheet{Title: strconv.Itoa(len(created)) + " users created", Back: "/users", Admin: true, LogonURL: logonURL(c)}
	names := make([]string, len(created))
	logonName := h.RAM.LogonNames(ctx(c))
	for i, b := range created {
		u := handoverUser{UserName: b.User.UserName, Password: b.Password}
		if b.Password != "" {
			u.LogonName = logonName(u.UserName)
		}
		if b.AccessKey != nil {
			u.KeyID, u.KeySecret = b.AccessKey.AccessKeyID, b.AccessKey.AccessKeySecret
		}
		sh.Users, names[i] = append(sh.Users, u), u.UserName
	}
	token, err := h.RAM.OfferBatchCredentialsDownload(ctx(c), SessionOf(c).IDHash(), names, batchCSV(sh.Users, sh.LogonURL))
	if err != nil {
		return err
	}
	sh.CredentialsCSV = "/credentials/download/" + token
	return h.showOnce(c, sh)
}

// batchCSVHeader is the first line of a batch's credentials CSV (SPEC §5),
// and so of every hand-over CSV: one user's is a batch of one.
var batchCSVHeader = []string{"UserName", "LogonName", "Password", "AccessKeyId", "AccessKeySecret", "LogonUrl"}

// batchCSV is the one credentials file of a batch: a line per user, its
// console sign-in (logon name, password, logon URL) when it has one and its
// AccessKey when it has one. Every cell is formula-safe (csvCell);
// generated passwords never need it.
func batchCSV(users []handoverUser, logonURL string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(batchCSVHeader)
	for _, u := range users {
		at := ""
		if u.Password != "" {
			at = logonURL
		}
		_ = w.Write([]string{csvCell(u.UserName), csvCell(u.LogonName), csvCell(u.Password), csvCell(u.KeyID), csvCell(u.KeySecret), csvCell(at)})
	}
	w.Flush()
	return b.Bytes()
}

// batchReveal is the page model of a batch's hand-over sheet. Its next
// steps act on all the new users, offered only to a viewer who may open them.
func (h *Handlers) batchReveal(c echo.Context, sh handoverSheet) views.BatchReveal {
	m := views.BatchReveal{Layout: h.layout(c, sh.Title), Title: sh.Title, LogonURL: sh.LogonURL, CSVHref: sh.CredentialsCSV, Back: sh.Back}
	who := url.Values{}
	for _, u := range sh.Users {
		m.Users = append(m.Users, views.HandoverUser{Name: u.UserName, Href: userHref(u.UserName), LogonName: u.LogonName,
			Password: u.Password, KeyID: u.KeyID, KeySecret: u.KeySecret})
		m.Passwords = m.Passwords || u.Password != ""
		m.Keys = m.Keys || u.KeyID != ""
		who.Add("user", u.UserName)
	}
	if h.can(c, "ram:ListGroups", ram.AllGroupsRef()) {
		m.NextSteps = append(m.NextSteps, views.Link{Label: "Add them to a group", Href: withQuery("/bulk/users/add-to-group", who)})
	}
	if h.can(c, "ram:ListPolicies", ram.AllPoliciesRef()) {
		m.NextSteps = append(m.NextSteps, views.Link{Label: "Grant them permissions", Href: withQuery("/permissions/new", who)})
	}
	m.NextSteps = append(m.NextSteps, views.Link{Label: "Users", Href: "/users"})
	return m
}
