package web

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"ramconsole/ram"
	"ramconsole/store"
)

// The applications (the OpenID provider's clients) in the console, SPEC
// §17.3: create with a one-time secret and CSV, validation, edit, secrets,
// revoking tokens, delete, and who sees which control.

var (
	appIDRE       = regexp.MustCompile(`data-testid="app-id">([0-9]{19})<`)
	appSecretRE   = regexp.MustCompile(`data-testid="app-secret">([A-Za-z0-9]{40,})<`)
	appSecretIDRE = regexp.MustCompile(`data-testid="app-secret-id">([A-Za-z0-9]+)<`)
	appCSVHrefRE  = regexp.MustCompile(`data-testid="app-secret-csv" href="([^"]+)"`)
)

// appForm is a valid create form for a WebApp named name; set overrides
// fields (a nil value removes the field).
func appForm(name string, set map[string][]string) url.Values {
	f := url.Values{"name": {name}, "display_name": {"The " + name}, "app_type": {"WebApp"},
		"redirect_uris": {"https://" + name + ".example/callback"}, "scopes": {"openid", "profile", "groups"},
		"access_token_validity": {"3600"}, "refresh_token_validity": {""}, "post_logout_redirect_uris": {""}}
	for k, v := range set {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

// createApp creates an application through the console and returns the
// page its creation redirects to (the one-time reveal page), unopened.
func createApp(t *testing.T, b *browser, f url.Values) page {
	t.Helper()
	b.get("/applications/new")
	p := b.post("/applications", f)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/applications/"+f.Get("name")+"/reveal/") {
		t.Fatalf("create %s: %d → %q, want 303 → its reveal page; body %.600s", f.Get("name"), p.status, p.header.Get("Location"), p.body)
	}
	return p
}

func appCount(t *testing.T, h *harness) int {
	t.Helper()
	apps, err := h.svc.ListApplications(context.Background(), rootActor())
	if err != nil {
		t.Fatal(err)
	}
	return len(apps)
}

func TestApplicationCreateWebAppRevealsTheSecretOnce(t *testing.T) {
	h := newHarness(t)
	owner, secret := h.setupOwner()
	acct := h.accountID()

	p := owner.get("/applications")
	expectStatus(t, p, http.StatusOK, "GET /applications")
	for _, want := range []string{`data-testid="applications-table"`, `data-testid="issuer-warning"`, "set --public-url: it is the OpenID issuer",
		`href="/applications/new"`, `href="/applications">Applications</a>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the applications page lacks %q", want)
		}
	}

	reveal := createApp(t, owner, appForm("wiki", nil))
	p = owner.get(reveal.header.Get("Location"))
	expectStatus(t, p, http.StatusOK, "the reveal page")
	appID := find(t, appIDRE, p.body, "AppId")
	value := find(t, appSecretRE, p.body, "AppSecret")
	secretID := find(t, appSecretIDRE, p.body, "AppSecretId")
	csvHref := find(t, appCSVHrefRE, p.body, "AppSecret.csv link")
	if !strings.HasPrefix(csvHref, "/applications/download/") {
		t.Errorf("the CSV link is %q", csvHref)
	}
	// Shown once: the reload does not show it.
	again := owner.get(reveal.header.Get("Location"))
	expectStatus(t, again, http.StatusGone, "the reveal page again")
	if strings.Contains(again.body, value) || strings.Contains(again.body, `data-testid="app-secret"`) {
		t.Errorf("the reloaded reveal page shows the secret")
	}
	// Stored as a hash only: the database never holds the value in clear.
	if bytes.Contains(h.rawDatabase(), []byte(value)) {
		t.Errorf("the database holds the application secret in clear")
	}

	// The CSV: another session of the same owner cannot take it (and does
	// not use it up); the creating session takes it once.
	other := h.signIn(secret)
	expectStatus(t, other.get(csvHref), http.StatusNotFound, "the CSV from another session")
	csvPage := owner.get(csvHref)
	expectStatus(t, csvPage, http.StatusOK, "the CSV")
	if ct := csvPage.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV Content-Type %q", ct)
	}
	if cd := csvPage.header.Get("Content-Disposition"); cd != `attachment; filename="AppSecret.csv"` {
		t.Errorf("CSV Content-Disposition %q", cd)
	}
	if want := "AppId,AppSecretId,AppSecretValue\n" + appID + "," + secretID + "," + value + "\n"; csvPage.body != want {
		t.Errorf("the CSV is %q, want %q", csvPage.body, want)
	}
	expectStatus(t, owner.get(csvHref), http.StatusNotFound, "the CSV a second time")

	// The application's page: settings, discovery hints, the secret by id
	// only, the simulator link, and no sign-in yet.
	p = owner.get("/applications/wiki")
	expectStatus(t, p, http.StatusOK, "GET /applications/wiki")
	simulator := "/simulator?" + url.Values{"action": {"oidc:SignIn"}, "resource": {ram.SignInARN(acct, "wiki")}}.Encode()
	for _, want := range []string{appID, secretID, "https://wiki.example/callback", "openid profile groups", "3600 s (1 hour)",
		"7776000 s (90 days)", "/oauth2/v1/auth", "/v1/token", "/v1/userinfo", "/v1/keys", `data-testid="issuer-warning"`,
		ram.ApplicationARN(acct, "wiki"), ram.SignInARN(acct, "wiki"), `href="` + html.EscapeString(simulator) + `"`,
		`data-testid="application-sign-ins-empty"`, `action="/applications/wiki/secrets"`, `action="/applications/wiki/revoke-tokens"`,
		`href="/applications/wiki/edit"`, `href="/applications/wiki/delete"`, `action="/applications/wiki/secrets/` + secretID + `/delete"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the application page lacks %q", want)
		}
	}
	if strings.Contains(p.body, value) {
		t.Errorf("the application page shows the secret")
	}
	if strings.Contains(p.body, `data-testid="http-redirect-warning"`) {
		t.Errorf("an https redirect is warned about")
	}
	// The simulator link opens the simulator with the action and resource.
	sim := owner.get(simulator)
	expectStatus(t, sim, http.StatusOK, "the simulator link")
	if !strings.Contains(sim.body, "oidc:SignIn") || !strings.Contains(sim.body, ram.SignInARN(acct, "wiki")) {
		t.Errorf("the simulator is not prefilled")
	}
	p = owner.get("/applications")
	if !strings.Contains(p.body, `href="/applications/wiki"`) || !strings.Contains(p.body, appID) {
		t.Errorf("the list lacks wiki")
	}
	// With --public-url the pages name it as the issuer and do not warn.
	if err := h.svc.SetPublicURL("https://ram.example.com"); err != nil {
		t.Fatal(err)
	}
	h.svc.SetIssuer("https://ram.example.com")
	p = owner.get("/applications/wiki")
	if strings.Contains(p.body, `data-testid="issuer-warning"`) || !strings.Contains(p.body, "https://ram.example.com/oauth2/v1/auth") {
		t.Errorf("with --public-url: the page still warns, or lacks the endpoints on it")
	}
}

func TestApplicationCreateNativeAppHasNoSecret(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	reveal := createApp(t, owner, appForm("cli", map[string][]string{"app_type": {"NativeApp"},
		"redirect_uris": {"http://127.0.0.1:8765/callback\nhttp://localhost/cb"}, "post_logout_redirect_uris": {"http://localhost/bye"}}))
	p := owner.get(reveal.header.Get("Location"))
	expectStatus(t, p, http.StatusOK, "the reveal page")
	find(t, appIDRE, p.body, "AppId")
	for _, absent := range []string{`data-testid="app-secret"`, `data-testid="app-secret-csv"`} {
		if strings.Contains(p.body, absent) {
			t.Errorf("a NativeApp's reveal page has %s", absent)
		}
	}
	_, secs, err := h.svc.ListAppSecrets(context.Background(), rootActor(), "cli", false)
	if err != nil || len(secs) != 0 {
		t.Errorf("the NativeApp has secrets %v, %v", secs, err)
	}
	p = owner.get("/applications/cli")
	for _, want := range []string{"NativeApp", "2592000 s (30 days)", "http://localhost/bye", `data-testid="application-no-secrets"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the NativeApp's page lacks %q", want)
		}
	}
	if strings.Contains(p.body, `action="/applications/cli/secrets"`) {
		t.Errorf("a NativeApp is offered a secret")
	}
	// A WebApp may redirect over http to another host, with a warning.
	createApp(t, owner, appForm("legacy", map[string][]string{"redirect_uris": {"http://legacy.example/cb"}}))
	if p := owner.get("/applications/legacy"); !strings.Contains(p.body, `data-testid="http-redirect-warning"`) {
		t.Errorf("no warning for an http redirect URI on another host")
	}
}

func TestApplicationInvalidInputIsRefusedAndNothingStored(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	createApp(t, owner, appForm("taken", nil))
	elevenURIs := ""
	for i := range 11 {
		elevenURIs += "https://app.example/cb" + string(rune('a'+i)) + "\n"
	}
	cases := []struct {
		rule   string
		set    map[string][]string
		field  string
		status int
	}{
		{"a name with a space and a bang is refused", map[string][]string{"name": {"bad name!"}}, "name", 422},
		{"an empty name is required, not a 404", map[string][]string{"name": {""}}, "name", 422},
		{"a name in use (in another case) is refused", map[string][]string{"name": {"TAKEN"}}, "name", 409},
		{"ServerApp is not served", map[string][]string{"app_type": {"ServerApp"}}, "app_type", 422},
		{"a NativeApp may not redirect over http to another host", map[string][]string{"app_type": {"NativeApp"},
			"redirect_uris": {"http://app.example/cb"}}, "redirect_uris", 422},
		{"a redirect URI may not have a fragment", map[string][]string{"redirect_uris": {"https://app.example/cb#top"}}, "redirect_uris", 422},
		{"a redirect URI may not have a wildcard", map[string][]string{"redirect_uris": {"https://*.example/cb"}}, "redirect_uris", 422},
		{"at most 10 redirect URIs", map[string][]string{"redirect_uris": {elevenURIs}}, "redirect_uris", 422},
		{"at least one redirect URI", map[string][]string{"redirect_uris": {"\n \n"}}, "redirect_uris", 422},
		{"a logout URI follows the same rules", map[string][]string{"post_logout_redirect_uris": {"ftp://app.example/bye"}}, "post_logout_redirect_uris", 422},
		{"an access token lives at least 900 s", map[string][]string{"access_token_validity": {"899"}}, "access_token_validity", 422},
		{"an access token lives at most 10800 s", map[string][]string{"access_token_validity": {"10801"}}, "access_token_validity", 422},
		{"a refresh token lifetime is a number", map[string][]string{"refresh_token_validity": {"forever"}}, "refresh_token_validity", 422},
		{"a refresh token lives at most a year", map[string][]string{"refresh_token_validity": {"31536001"}}, "refresh_token_validity", 422},
		{"a display name has at most 24 characters", map[string][]string{"display_name": {strings.Repeat("d", 25)}}, "display_name", 422},
		{"an unknown scope is refused", map[string][]string{"scopes": {"openid", "admin"}}, "scopes", 422},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			before := appCount(t, h)
			f := appForm("fresh", c.set)
			owner.get("/applications/new")
			p := owner.post("/applications", f)
			expectStatus(t, p, c.status, c.rule)
			if !strings.Contains(p.body, `data-testid="field-error" data-field="`+c.field+`"`) {
				t.Errorf("no message at %s:\n%.3000s", c.field, p.body)
			}
			for _, k := range []string{"display_name", "redirect_uris"} {
				if v := strings.TrimSpace(f.Get(k)); v != "" && !strings.Contains(p.body, html.EscapeString(v)) {
					t.Errorf("the typed %s %q is not kept", k, v)
				}
			}
			if after := appCount(t, h); after != before {
				t.Errorf("%d applications after a refused create, want %d", after, before)
			}
		})
	}
}

func TestApplicationEdit(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	createApp(t, owner, appForm("wiki", nil))
	p := owner.get("/applications/wiki/edit")
	expectStatus(t, p, http.StatusOK, "GET edit")
	if strings.Contains(p.body, `name="name"`) || strings.Contains(p.body, `name="app_type"`) {
		t.Errorf("the edit form posts the name or the type")
	}
	for _, want := range []string{`data-testid="application-name">wiki<`, `data-testid="application-type">WebApp<`, "https://wiki.example/callback",
		`value="3600"`, `value="7776000"`, `name="scopes" value="groups" checked`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the edit form lacks %q", want)
		}
	}
	edit := url.Values{"display_name": {"Team wiki"}, "redirect_uris": {"https://wiki.example/cb\nhttps://wiki.example/cb2"},
		"post_logout_redirect_uris": {"https://wiki.example/"}, "scopes": {"openid", "email"},
		"access_token_validity": {"900"}, "refresh_token_validity": {"7200"}}
	expectRedirect(t, owner.post("/applications/wiki/edit", edit), "/applications/wiki", "save")
	app, err := h.svc.GetApplication(context.Background(), rootActor(), "wiki", false)
	if err != nil {
		t.Fatal(err)
	}
	if app.DisplayName != "Team wiki" || strings.Join(app.RedirectURIs, " ") != "https://wiki.example/cb https://wiki.example/cb2" ||
		strings.Join(app.LogoutURIs, " ") != "https://wiki.example/" || strings.Join(app.Scopes, " ") != "openid email" ||
		app.AccessValidity != 900 || app.RefreshValidity != 7200 || app.AppType != "WebApp" {
		t.Errorf("after the edit: %+v", app.Application)
	}
	if p := owner.get("/applications/wiki"); !strings.Contains(p.body, "Application wiki saved.") || !strings.Contains(p.body, "Team wiki") {
		t.Errorf("the page does not show the saved application")
	}
	// Invalid: 422 with the message, the typed values kept, nothing changed.
	owner.get("/applications/wiki/edit")
	bad := url.Values{"display_name": {"Changed"}, "redirect_uris": {"https://wiki.example/cb#x"}, "scopes": {"openid"},
		"access_token_validity": {"60"}, "refresh_token_validity": {""}}
	p = owner.post("/applications/wiki/edit", bad)
	expectStatus(t, p, http.StatusUnprocessableEntity, "invalid edit")
	for _, field := range []string{"redirect_uris", "access_token_validity", "refresh_token_validity"} {
		if !strings.Contains(p.body, `data-field="`+field+`"`) {
			t.Errorf("no message at %s", field)
		}
	}
	if !strings.Contains(p.body, `value="Changed"`) || !strings.Contains(p.body, `data-testid="application-type">WebApp<`) {
		t.Errorf("the refused edit form lacks the typed values or the type")
	}
	if after, _ := h.svc.GetApplication(context.Background(), rootActor(), "wiki", false); after.DisplayName != "Team wiki" || after.AccessValidity != 900 {
		t.Errorf("a refused edit changed the application: %+v", after.Application)
	}
	expectStatus(t, owner.get("/applications/nope/edit"), http.StatusNotFound, "edit an unknown application")
}

func TestApplicationSecretsAndTokens(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	ctx := context.Background()
	createApp(t, owner, appForm("wiki", nil))
	owner.get("/applications/wiki")
	p := owner.post("/applications/wiki/secrets", nil)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/applications/wiki/reveal/") {
		t.Fatalf("create a second secret: %d → %q", p.status, p.header.Get("Location"))
	}
	r := owner.get(p.header.Get("Location"))
	second := find(t, appSecretIDRE, r.body, "the second secret's id")
	find(t, appSecretRE, r.body, "the second secret")
	find(t, appCSVHrefRE, r.body, "the second secret's CSV")

	// The third is refused with the reason, and none is made.
	p = owner.get("/applications/wiki")
	if !strings.Contains(p.body, `data-testid="application-secrets-full"`) || strings.Contains(p.body, `action="/applications/wiki/secrets"`) {
		t.Errorf("with two secrets the page still offers a third")
	}
	expectRedirect(t, owner.post("/applications/wiki/secrets", nil), "/applications/wiki", "a third secret")
	if p := owner.get("/applications/wiki"); !strings.Contains(p.body, "delete one first") {
		t.Errorf("the refusal of a third secret is not explained: %.2000s", p.body)
	}
	_, secs, err := h.svc.ListAppSecrets(ctx, rootActor(), "wiki", false)
	if err != nil || len(secs) != 2 {
		t.Fatalf("secrets after a refused third: %v, %v", secs, err)
	}

	// Delete one: it is gone at once; an unknown one is 404.
	owner.get("/applications/wiki")
	expectRedirect(t, owner.post("/applications/wiki/secrets/"+second+"/delete", nil), "/applications/wiki", "delete a secret")
	_, secs, _ = h.svc.ListAppSecrets(ctx, rootActor(), "wiki", false)
	if len(secs) != 1 || secs[0].SecretID == second {
		t.Errorf("after deleting %s: %v", second, secs)
	}
	owner.get("/applications/wiki")
	expectStatus(t, owner.post("/applications/wiki/secrets/"+second+"/delete", nil), http.StatusNotFound, "delete it again")

	// Revoke every token: said on the page, audited.
	owner.get("/applications/wiki")
	expectRedirect(t, owner.post("/applications/wiki/revoke-tokens", nil), "/applications/wiki", "revoke tokens")
	if p := owner.get("/applications/wiki"); !strings.Contains(p.body, "Every token of wiki is revoked") {
		t.Errorf("the revocation is not confirmed")
	}
	found := false
	for _, e := range h.events() {
		found = found || e.EventName == "RevokeApplicationTokens" && e.EventSource == "oidc" && !e.IsError
	}
	if !found {
		t.Errorf("no RevokeApplicationTokens event")
	}
}

// Recent sign-ins come from the audit log's oidc Authorize events of the
// application, newest first; other applications' are not listed.
func TestApplicationRecentSignIns(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	ctx := context.Background()
	acct := h.accountID()
	createApp(t, owner, appForm("wiki", nil))
	createApp(t, owner, appForm("grafana", nil))
	add := func(app, user, errorCode string) {
		ev := &store.Event{EventID: uuid.NewString(), EventVersion: "1", EventType: ram.EventConsoleOperation, EventSource: "oidc",
			EventName: "Authorize", ServiceName: "Ram", RequestID: uuid.NewString(), SourceIPAddress: "127.0.0.1", UserAgent: "test",
			UserIdentity: store.Identity{Type: "ram-user", AccountID: acct, UserName: user}, ResourceName: ram.ApplicationARN(acct, app)}
		if errorCode != "" {
			ev.IsError, ev.ErrorCode = true, errorCode
		}
		if err := h.st.Update(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	add("wiki", "alice", "")
	add("grafana", "mallory", "")
	add("wiki", "bob", "access_denied")
	p := owner.get("/applications/wiki")
	table := p.body[strings.Index(p.body, `data-testid="application-sign-ins"`):]
	if n := strings.Count(table, `data-testid="sign-in-row"`); n != 2 {
		t.Errorf("%d sign-in rows, want 2:\n%.3000s", n, table)
	}
	bob, alice := strings.Index(table, "bob"), strings.Index(table, "alice")
	if bob < 0 || alice < 0 || bob > alice || strings.Contains(table, "mallory") || !strings.Contains(table, "access_denied") {
		t.Errorf("the sign-ins are not wiki's, newest first, with the refusal:\n%.3000s", table)
	}
}

func TestApplicationDeleteNeedsTheNameTyped(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	createApp(t, owner, appForm("wiki", nil))
	p := owner.get("/applications/wiki/delete")
	expectStatus(t, p, http.StatusOK, "GET delete")
	if !strings.Contains(p.body, `data-testid="confirm-form"`) || !strings.Contains(p.body, `name="confirm"`) {
		t.Errorf("the delete page asks for no typed name")
	}
	expectStatus(t, owner.post("/applications/wiki/delete", url.Values{"confirm": {"wik"}}), http.StatusUnprocessableEntity, "delete without the name")
	expectStatus(t, owner.post("/applications/wiki/delete", nil), http.StatusUnprocessableEntity, "delete with nothing typed")
	if appCount(t, h) != 1 {
		t.Fatalf("a refused delete deleted")
	}
	expectRedirect(t, owner.post("/applications/wiki/delete", url.Values{"confirm": {"wiki"}}), "/applications", "delete")
	expectStatus(t, owner.get("/applications/wiki"), http.StatusNotFound, "the deleted application")
	if appCount(t, h) != 0 {
		t.Errorf("the application is still there")
	}
	expectStatus(t, owner.get("/applications/nope/delete"), http.StatusNotFound, "delete an unknown application")
}

// A read-only user (ReadOnlyAccess) sees the applications but no control
// that changes them, and every change is refused.
func TestApplicationsReadOnlyUser(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	createApp(t, owner, appForm("wiki", nil))
	_, secs, _ := h.svc.ListAppSecrets(context.Background(), rootActor(), "wiki", false)
	reader := h.ramUser(owner, "reader", []string{"ReadOnlyAccess"}, nil)

	for _, path := range []string{"/applications", "/applications/wiki"} {
		p := reader.get(path)
		expectStatus(t, p, http.StatusOK, "read-only GET "+path)
		for _, absent := range []string{`href="/applications/new"`, `/edit"`, `/delete"`, `action="/applications`} {
			if strings.Contains(p.body, absent) {
				t.Errorf("read-only %s offers %s", path, absent)
			}
		}
	}
	p := reader.get("/applications")
	if !strings.Contains(p.body, `data-testid="applications-table"`) || !strings.Contains(p.body, `href="/applications/wiki"`) ||
		!strings.Contains(p.body, `href="/applications">Applications</a>`) {
		t.Errorf("the read-only user does not see the list")
	}
	if p := reader.get("/applications/wiki"); !strings.Contains(p.body, secs[0].SecretID) || !strings.Contains(p.body, `data-testid="section-denied"`) {
		t.Errorf("the read-only user does not see the secret ids, or is not told why the sign-ins are hidden")
	}
	for _, path := range []string{"/applications/new", "/applications/wiki/edit", "/applications/wiki/delete"} {
		expectStatus(t, reader.get(path), http.StatusForbidden, "read-only GET "+path)
	}
	reader.get("/me")
	for path, f := range map[string]url.Values{
		"/applications":              appForm("mine", nil),
		"/applications/wiki/edit":    {"display_name": {"Mine"}, "redirect_uris": {"https://x.example/cb"}, "access_token_validity": {"900"}, "refresh_token_validity": {"7200"}},
		"/applications/wiki/secrets": nil,
		"/applications/wiki/secrets/" + secs[0].SecretID + "/delete": nil,
		"/applications/wiki/revoke-tokens":                           nil,
		"/applications/wiki/delete":                                  {"confirm": {"wiki"}},
	} {
		expectStatus(t, reader.post(path, f), http.StatusForbidden, "read-only POST "+path)
	}
	if appCount(t, h) != 1 {
		t.Errorf("the read-only user changed the applications")
	}
}

// A display name is text: markup in it is escaped on every page.
func TestApplicationDisplayNameIsEscaped(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	const xss = `<script>x</script>`
	reveal := createApp(t, owner, appForm("xss", map[string][]string{"display_name": {xss}}))
	pages := map[string]page{"reveal": owner.get(reveal.header.Get("Location"))}
	for _, path := range []string{"/applications", "/applications/xss", "/applications/xss/edit", "/applications/xss/delete"} {
		pages[path] = owner.get(path)
	}
	// The refused form shows the typed markup escaped too.
	owner.get("/applications/new")
	pages["refused form"] = owner.post("/applications", appForm("xss2", map[string][]string{"display_name": {xss}, "access_token_validity": {"1"}}))
	for what, p := range pages {
		if strings.Contains(p.body, xss) {
			t.Errorf("%s: the display name is not escaped", what)
		}
		if !strings.Contains(p.body, html.EscapeString(xss)) {
			t.Errorf("%s: the display name is not shown", what)
		}
	}
}

// No dead control on the application pages: every link, form and button
// of them names a route that answers, for the owner and for a read-only
// user, who meets no form that changes an application.
func TestApplicationPagesHaveNoDeadControl(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	createApp(t, owner, appForm("wiki", map[string][]string{"redirect_uris": {"http://wiki.example/cb"}}))
	createApp(t, owner, appForm("cli", map[string][]string{"app_type": {"NativeApp"}, "redirect_uris": {"http://127.0.0.1:7/cb"}}))
	ctx, acct := context.Background(), h.accountID()
	ev := &store.Event{EventID: uuid.NewString(), EventVersion: "1", EventType: ram.EventConsoleOperation, EventSource: "oidc",
		EventName: "Authorize", ServiceName: "Ram", RequestID: uuid.NewString(), SourceIPAddress: "127.0.0.1", UserAgent: "test",
		UserIdentity: store.Identity{Type: "root-account", AccountID: acct, UserName: "root"}, ResourceName: ram.ApplicationARN(acct, "wiki")}
	if err := h.st.Update(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
		t.Fatal(err)
	}
	reader := h.ramUser(owner, "reader", []string{"ReadOnlyAccess", "AliyunActionTrailReadOnlyAccess"}, nil)
	start := []string{"/applications", "/applications/new", "/applications/wiki", "/applications/cli", "/applications/wiki/edit", "/applications/wiki/delete"}
	problems, _ := walk(t, h, owner, start, func(string, control, *Route) string { return "" })
	for _, p := range problems {
		t.Errorf("owner: %s", p)
	}
	readOnly := func(page string, c control, r *Route) string {
		if c.method == http.MethodPost && strings.HasPrefix(r.Path, "/applications") {
			return page + ": the read-only user is offered POST " + c.target
		}
		return ""
	}
	problems, _ = walk(t, h, reader, []string{"/applications", "/applications/wiki", "/applications/cli"}, readOnly)
	for _, p := range problems {
		t.Errorf("read-only: %s", p)
	}
}
