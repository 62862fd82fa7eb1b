package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"ramconsole/store"
)

// Security keys (SPEC §15) in Chromium, with the DevTools protocol's
// virtual authenticators standing in for USB keys. The console's public
// URL is http://localhost:PORT, so the browser goes there (not to
// 127.0.0.1, an IP address cannot be an RP ID); Chromium resolves localhost
// and *.localhost to the loopback address the test server listens on.

// bkHarness is a harness whose public URL makes security keys
// available, and that URL.
func bkHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	base := bkBase(t, h, "localhost")
	if err := h.svc.SetPublicURL(base); err != nil {
		t.Fatal(err)
	}
	if !h.svc.SecurityKeySupport().Available {
		t.Fatalf("security keys are not available at %s: %s", base, h.svc.SecurityKeySupport().Reason)
	}
	return h, base
}

// bkBase is http://host:PORT for the harness's server.
func bkBase(t *testing.T, h *harness, host string) string {
	t.Helper()
	u, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + host + ":" + u.Port()
}

// bkEnable turns on the tab's WebAuthn domain: from now on only
// virtual authenticators answer navigator.credentials.
func bkEnable(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
}

// bkAddKey plugs in a USB CTAP2 security key that is touched at once
// whenever asked (no PIN, no resident keys).
func bkAddKey(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportUsb, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

func bkRemoveKey(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) {
	t.Helper()
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id}); err != nil {
		t.Fatalf("WebAuthn.removeVirtualAuthenticator: %v", err)
	}
}

// bkCredentials lists the credentials a virtual key holds.
func bkCredentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// bkCeremony presses a ceremony form's button: webauthn.js asks the virtual
// key, writes the answer and submits the form. It returns the response of
// the page the form led to (after its redirect, if any).
func bkCeremony(ctx context.Context, button string) (*network.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(button)); err != nil {
		return nil, err
	}
	return chromedp.RunResponse(ctx, chromedp.Click(button))
}

// bkMustCeremony is bkCeremony that fails the test unless the form led to a
// page at path with status.
func bkMustCeremony(t *testing.T, ctx context.Context, button, path string, status int64, what string) *network.Response {
	t.Helper()
	resp, err := bkCeremony(ctx, button)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("%s: %v", what, err)
	}
	u, _ := url.Parse(resp.URL)
	if resp.Status != status || u == nil || u.Path != path {
		dumpPage(t, ctx)
		t.Fatalf("%s: led to %d %s, want %d %s", what, resp.Status, resp.URL, status, path)
	}
	return resp
}

// bkRefused presses the button of a ceremony form that the browser cannot
// answer (no key holds a usable credential): webauthn.js shows its error
// and nothing is posted. It returns the error shown.
func bkRefused(t *testing.T, ctx context.Context, form string) string {
	t.Helper()
	before, _ := chromedp.Run(ctx, chromedp.Location())
	err := do(ctx,
		chromedp.Click(form+` [data-webauthn-start]`),
		chromedp.WaitVisible(form+` [data-testid=security-key-error]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("pressing the button of %s shows no error: %v", form, err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(form+` [data-testid=security-key-error]`))
	if after, _ := chromedp.Run(ctx, chromedp.Location()); after != before {
		t.Errorf("the refused ceremony left %s for %s", before, after)
	}
	return msg
}

// bkAddCredential is WebAuthn.addCredential with a credential of the
// members it needs: cdproto's webauthn.Credential always sends
// generateCmtgKeyOnNextOperation, which Chromium refuses ("CMTG is not
// supported by this authenticator") unless the authenticator has the
// cmtgKey extension.
var bkAddCredential = cdp.Command[bkAddCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type bkAddCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      bkCredential             `json:"credential"`
}

// bkCredential is a non-resident credential: its id, RP ID, ECDSA P-256
// private key (PKCS #8) and sign count.
type bkCredential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	SignCount            float64 `json:"signCount"`
}

// bkCount is how many elements match a CSS selector.
func bkCount(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func bkHeader(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

var bkScriptRE = regexp.MustCompile(`^/static/([0-9a-f]{12})/webauthn\.js$`)

// bkCSP is the Content-Security-Policy every console page sent before
// security keys, which ceremony pages keep byte for byte (SPEC §15.3).
const bkCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// bkCheckCeremonyPage checks a page that runs a ceremony (SPEC §15.3): the
// console's Content-Security-Policy unchanged, no inline script, handler
// attribute or javascript: URL, and exactly one script, webauthn.js at its
// content-hashed URL, deferred, served as JavaScript.
func bkCheckCeremonyPage(t *testing.T, ctx context.Context, h *harness, resp *network.Response, what string) {
	t.Helper()
	if csp := bkHeader(resp, "Content-Security-Policy"); csp != bkCSP {
		t.Errorf("%s: Content-Security-Policy = %q, want the console's %q", what, csp, bkCSP)
	}
	if n := bkCount(t, ctx, `script:not([src])`); n != 0 {
		t.Errorf("%s: %d inline scripts", what, n)
	}
	if n := bkCount(t, ctx, `[data-webauthn]`); n == 0 {
		t.Errorf("%s: no ceremony form", what)
	}
	odd, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('*')].flatMap(e =>
		[...e.attributes].filter(a => a.name.startsWith('on') || /^\s*javascript:/i.test(a.value)).map(a => e.tagName + ' ' + a.name))`))
	if err != nil || len(odd) != 0 {
		t.Errorf("%s: handler attributes or javascript: URLs %v (%v)", what, odd, err)
	}
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.scripts].map(s => s.getAttribute('src') + (s.defer ? ' defer' : ''))`))
	if err != nil || len(scripts) != 1 {
		t.Fatalf("%s: scripts %v (%v), want webauthn.js alone", what, scripts, err)
	}
	src, deferred := strings.CutSuffix(scripts[0], " defer")
	m := bkScriptRE.FindStringSubmatch(src)
	if m == nil || !deferred {
		t.Fatalf("%s: script %q, want <script defer src=/static/<12 hex>/webauthn.js>", what, scripts[0])
	}
	r, err := http.Get(h.srv.URL + src)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	sum := sha256.Sum256(body)
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "javascript") || hex.EncodeToString(sum[:])[:12] != m[1] {
		t.Errorf("%s: %s answers %d %q, SHA-256 %x", what, src, r.StatusCode, r.Header.Get("Content-Type"), sum[:6])
	}
}

// bkEvents are the audit events named name about a security key, oldest
// first (h.events() lists the newest first).
func bkEvents(h *harness, name string) []store.StoredEvent {
	var out []store.StoredEvent
	evs := h.events()
	for i := len(evs) - 1; i >= 0; i-- {
		if e := evs[i]; e.EventName == name && e.AdditionalEventData["mfaType"] == "webauthn" {
			out = append(out, e)
		}
	}
	return out
}

// bkLastEvent is the newest audit event named name about a key.
func bkLastEvent(t *testing.T, h *harness, name string) store.StoredEvent {
	t.Helper()
	evs := bkEvents(h, name)
	if len(evs) == 0 {
		t.Fatalf("no %s event with mfaType webauthn", name)
	}
	return evs[len(evs)-1]
}

// bkSignIn submits a username and password on the sign-in form.
func bkSignIn(username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		return chromedp.Do(ctx,
			chromedp.WaitVisible(`input[name=username]`),
			chromedp.SendKeys(`input[name=username]`, username),
			chromedp.SendKeys(`input[name=password]`, password),
			chromedp.Click(`button[type=submit]`),
		)
	})
}

const bkSignOut = `header form[action="/logout"] button`

// TestBrowserSecurityKeyJourney: the owner sets up the console with a
// security key instead of a TOTP device, signs in with password and key,
// adds a second key from another authenticator, deletes the first with
// password and the second key, signs in with the one left; then a key whose
// signatures do not verify is refused at sign-in, audited, and counted
// toward the lockout exactly as wrong codes are.
func TestBrowserSecurityKeyJourney(t *testing.T) {
	ctx := newChrome(t)
	h, base := bkHarness(t)
	bkEnable(t, ctx)
	keyA := bkAddKey(t, ctx)

	// First-run setup; the binding step offers a key beside the TOTP device.
	err := do(ctx,
		chromedp.Navigate(base+"/setup?token="+h.token),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, testOwnerEmail),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
		chromedp.SendKeys(`input[name=confirm_password]`, testOwnerPW),
		chromedp.SendKeys(`input[name=alias]`, testAlias),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=mfa-bind-security-key]`),
		chromedp.Click(`[data-testid=mfa-bind-security-key]`),
		chromedp.WaitVisible(`[data-testid=security-key-register-form]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("setup up to the key's registration: %v", err)
	}
	// The page again, for its headers (a fresh challenge, as any render).
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/mfa/security-keys/new"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET /mfa/security-keys/new during the binding: %v %v", resp, err)
	}
	bkCheckCeremonyPage(t, ctx, h, resp, "/mfa/security-keys/new")
	if n := bkCount(t, ctx, `[data-testid=security-key-register-form] input[name=password]`); n != 0 {
		t.Errorf("the owner without any factor is asked for a password to register the first key")
	}
	opts, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const pk = JSON.parse(document.querySelector('[data-webauthn=create]').dataset.options).publicKey;
		return {rp: pk.rp.id, attestation: pk.attestation || 'none', residentKey: pk.authenticatorSelection.residentKey,
			uv: pk.authenticatorSelection.userVerification, timeout: pk.timeout, exclude: (pk.excludeCredentials || []).length};
	})()`))
	if err != nil || opts["rp"] != "localhost" || opts["attestation"] != "none" || opts["residentKey"] != "discouraged" ||
		opts["uv"] != "discouraged" || opts["timeout"] != float64(300000) || opts["exclude"] != float64(0) {
		t.Errorf("registration options %v (%v)", opts, err)
	}

	// The key is the owner's factor: on to the overview.
	if err := do(ctx, chromedp.SendKeys(`input[name=name]`, "YubiKey A")); err != nil {
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-register]`, "/", 200, "register the first key during setup")
	if err := do(ctx, chromedp.WaitVisible(`[data-testid=account-id]`)); err != nil {
		t.Fatalf("overview after binding a key: %v", err)
	}
	credsA := bkCredentials(t, ctx, keyA)
	if len(credsA) != 1 || credsA[0].RpID != "localhost" || credsA[0].IsResidentCredential {
		t.Fatalf("the virtual key holds %+v", credsA)
	}
	credA := base64.RawURLEncoding.EncodeToString(credsA[0].CredentialID)
	if ev := bkLastEvent(t, h, "BindMFADevice"); ev.IsError || ev.AdditionalEventData["credentialId"] != credA ||
		ev.AdditionalEventData["name"] != "YubiKey A" || ev.AdditionalEventData["aaguid"] == nil {
		t.Errorf("BindMFADevice event %+v, want credentialId %s", ev.Event, credA)
	}

	// Sign out, and in with password and key: no code is asked (no TOTP device).
	err = do(ctx,
		chromedp.Click(bkSignOut),
		bkSignIn(testOwnerEmail, testOwnerPW),
		chromedp.WaitVisible(`[data-testid=security-key-login]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("password step: %v", err)
	}
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(base+"/login/mfa"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET /login/mfa: %v %v", resp, err)
	}
	bkCheckCeremonyPage(t, ctx, h, resp, "/login/mfa")
	if n := bkCount(t, ctx, `form[action="/login/mfa"]`) + bkCount(t, ctx, `input[name=code]`); n != 0 {
		t.Errorf("/login/mfa offers a code form to an owner without a TOTP device")
	}
	saveShot(t, ctx, "login-security-key")
	bkMustCeremony(t, ctx, `[data-testid=security-key-login]`, "/", 200, "sign in with the key")
	if err := do(ctx, chromedp.WaitVisible(`[data-testid=account-id]`)); err != nil {
		t.Fatal(err)
	}
	if ev := bkLastEvent(t, h, "ConsoleSignin"); ev.IsError || ev.AdditionalEventData["credentialId"] != credA {
		t.Errorf("ConsoleSignin event %+v", ev.Event)
	}

	// A second key, from another authenticator; the first does not answer
	// (it would be excluded anyway). Six minutes after the last factor
	// check, the password is asked.
	if _, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: keyA, Enabled: false}); err != nil {
		t.Fatal(err)
	}
	keyB := bkAddKey(t, ctx)
	h.clock.Advance(6 * time.Minute)
	err = do(ctx,
		chromedp.Navigate(base+"/mfa/security-keys"),
		chromedp.WaitVisible(`[data-testid=security-key-add]`),
		chromedp.Click(`[data-testid=security-key-add]`),
		chromedp.WaitVisible(`[data-testid=security-key-register-form] input[name=password]`),
		chromedp.SendKeys(`input[name=name]`, "YubiKey B"),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("open the form of a second key: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`JSON.parse(document.querySelector('[data-webauthn=create]').dataset.options).publicKey.excludeCredentials.length`)); n != 1 {
		t.Errorf("excludeCredentials lists %d keys, want the first one", n)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-register]`, "/mfa/security-keys", 200, "register the second key")
	if n := bkCount(t, ctx, `[data-testid=security-key-row]`); n != 2 {
		t.Fatalf("%d keys listed after adding the second", n)
	}
	if flash, _ := chromedp.Run(ctx, chromedp.Text(`body`)); !strings.Contains(flash, "Security key YubiKey B added") {
		t.Errorf("no flash for the added key")
	}
	if len(bkCredentials(t, ctx, keyB)) != 1 || len(bkCredentials(t, ctx, keyA)) != 1 {
		t.Errorf("the second key was not made by the second authenticator")
	}
	saveShot(t, ctx, "security-keys")

	// Delete the first key, confirming with the password and the second key.
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid=security-key-row]')]
		.find(r => r.textContent.includes('YubiKey A')).querySelector('[data-testid=security-key-delete]').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(href, "/mfa/security-keys/") {
		t.Fatalf("the delete link of the first key: %q %v", href, err)
	}
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(base+href))
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET %s: %v %v", href, resp, err)
	}
	bkCheckCeremonyPage(t, ctx, h, resp, href)
	if n := bkCount(t, ctx, `input[name=code]`); n != 0 {
		t.Errorf("the deletion asks for a code of an owner without a TOTP device")
	}
	if err := do(ctx, chromedp.SendKeys(`[data-testid=security-key-delete-form] input[name=password]`, testOwnerPW)); err != nil {
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-delete-confirm]`, "/mfa/security-keys", 200, "delete the first key")
	rows, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=security-key-row] td:first-child')].map(td => td.textContent)`))
	if len(rows) != 1 || rows[0] != "YubiKey B" {
		t.Fatalf("keys left: %v", rows)
	}
	credB := base64.RawURLEncoding.EncodeToString(bkCredentials(t, ctx, keyB)[0].CredentialID)
	if ev := bkLastEvent(t, h, "UnbindMFADevice"); ev.IsError || ev.AdditionalEventData["credentialId"] != credA {
		t.Errorf("UnbindMFADevice event %+v", ev.Event)
	}

	// The first authenticator is unplugged; sign in with the key left.
	bkRemoveKey(t, ctx, keyA)
	err = do(ctx,
		chromedp.Click(bkSignOut),
		bkSignIn(testOwnerEmail, testOwnerPW),
	)
	if err != nil {
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-login]`, "/", 200, "sign in with the remaining key")
	if ev := bkLastEvent(t, h, "ConsoleSignin"); ev.AdditionalEventData["credentialId"] != credB {
		t.Errorf("signed in with %v, want %s", ev.AdditionalEventData["credentialId"], credB)
	}

	// A key whose signature does not verify: refused, audited, counted.
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{
		AuthenticatorID: keyB, IsBogusSignature: bkPtr(true)}); err != nil {
		t.Fatal(err)
	}
	err = do(ctx,
		chromedp.Click(bkSignOut),
		bkSignIn(testOwnerEmail, testOwnerPW),
		chromedp.WaitVisible(`[data-testid=security-key-login]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	failuresBefore := len(bkFailedChecks(h))
	challenges := map[string]bool{}
	bkChallenge := func() string {
		t.Helper()
		c, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.parse(document.querySelector('[data-webauthn=get]').dataset.options).publicKey.challenge`))
		if err != nil || len(c) < 16 || challenges[c] {
			t.Fatalf("the sign-in page's challenge %q (%v) is missing or was issued before", c, err)
		}
		challenges[c] = true
		return c
	}
	for i := 1; i <= 5; i++ {
		bkChallenge()
		bkMustCeremony(t, ctx, `[data-testid=security-key-login]`, "/login/mfa/webauthn", 422, "a bogus signature")
		flash, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=flash]`))
		if flash != "The security key could not be verified" {
			t.Fatalf("attempt %d: flash %q", i, flash)
		}
		if n := bkCount(t, ctx, `[data-testid=security-key-login]`); n != 1 {
			t.Fatalf("attempt %d: the refused page offers no new try", i)
		}
	}
	failed := bkFailedChecks(h)[failuresBefore:]
	if len(failed) != 5 {
		t.Fatalf("%d failed CheckMFA webauthn events after 5 bogus signatures", len(failed))
	}
	for _, ev := range failed {
		if ev.ErrorCode != "SecurityKeyNotVerified" || ev.UserIdentity.Type != "root-account" {
			t.Errorf("failed check audited as %q %q by %q", ev.ErrorCode, ev.ErrorMessage, ev.UserIdentity.Type)
		}
	}
	// SPEC §15.5: a key's CheckMFA event names the key (credentialId,
	// aaguid, name); the one that answered is one of the owner's.
	if ev := failed[0]; ev.AdditionalEventData["credentialId"] != credB || ev.AdditionalEventData["name"] != "YubiKey B" {
		t.Errorf("the failed check of the owner's key YubiKey B does not name it: additionalEventData %v", ev.AdditionalEventData)
	}

	// Five failures lock the owner (MaxLoginAttemps), as five wrong codes
	// do: the key, honest again, is refused.
	if _, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{AuthenticatorID: keyB}); err != nil {
		t.Fatal(err)
	}
	bkChallenge()
	bkMustCeremony(t, ctx, `[data-testid=security-key-login]`, "/login/mfa/webauthn", 422, "a good key after five failures")
	if ev := bkFailedChecks(h); len(ev) != failuresBefore+6 || ev[len(ev)-1].ErrorCode != "AccountLocked" {
		t.Errorf("the good key after five failures was not refused as locked: %+v", ev[len(ev)-1].Event)
	}
	if n := bkCount(t, ctx, `[data-testid=account-id]`); n != 0 {
		t.Errorf("signed in although locked")
	}
	// The audit log never holds a ceremony's data (SPEC §15.5).
	for _, e := range h.events() {
		leak := strings.Contains(e.Body, "attestationObject") || strings.Contains(e.Body, "clientDataJSON") ||
			strings.Contains(e.Body, "authenticatorData")
		for c := range challenges {
			leak = leak || strings.Contains(e.Body, c)
		}
		if leak {
			t.Errorf("an audit event records a ceremony's data: %s", e.Body)
		}
	}
}

// bkFailedChecks are the failed CheckMFA events of security keys.
func bkFailedChecks(h *harness) []store.StoredEvent {
	var out []store.StoredEvent
	for _, e := range bkEvents(h, "CheckMFA") {
		if e.IsError {
			out = append(out, e)
		}
	}
	return out
}

func bkPtr[T any](v T) *T { return &v }

// TestBrowserSecurityKeyUserJourney: a RAM user with console access and a
// TOTP device adds a key; the key is lost and the user signs in with TOTP
// still; the owner removes the key from the user's page and the user's
// session ends.
func TestBrowserSecurityKeyUserJourney(t *testing.T) {
	ctx := newChrome(t)
	h, base := bkHarness(t)
	owner, ownerSecret := h.setupOwner()
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {"mia"}, "console_login": {"true"}, "password": {ramUserPW}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create mia: %d %.300s", p.status, p.body)
	}
	// mia binds a TOTP device (plain HTTP, on 127.0.0.1).
	m := h.browser()
	m.get("/login")
	if p := m.post("/login", url.Values{"username": {"mia@" + testAlias}, "password": {ramUserPW}}); p.status != http.StatusSeeOther {
		t.Fatalf("mia signs in: %d", p.status)
	}
	p = m.get("/mfa/bind")
	sm := secretRE.FindStringSubmatch(p.body)
	if sm == nil {
		t.Fatalf("no MFA secret for mia: %.500s", p.body)
	}
	miaSecret := sm[1]
	if p := m.post("/mfa/bind", url.Values{"code1": {h.code(miaSecret, -1)}, "code2": {h.code(miaSecret, 0)}}); p.status != http.StatusSeeOther {
		t.Fatalf("mia binds TOTP: %d %.500s", p.status, p.body)
	}
	h.clock.Advance(30 * time.Second)

	// In Chromium, at the public URL: mia signs in with TOTP (no key yet,
	// so no key form) and adds a key without retyping her password.
	bkEnable(t, ctx)
	key := bkAddKey(t, ctx)
	err := do(ctx,
		chromedp.Navigate(base+"/login"),
		bkSignIn("mia@"+testAlias, ramUserPW),
		chromedp.WaitVisible(`input[name=code]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatal(err)
	}
	if n := bkCount(t, ctx, `[data-webauthn]`) + bkCount(t, ctx, `script`); n != 0 {
		t.Errorf("/login/mfa of an identity without keys has a key form or a script")
	}
	err = do(ctx,
		chromedp.SendKeys(`input[name=code]`, h.code(miaSecret, 0)),
		chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
		chromedp.Navigate(base+"/mfa/security-keys"),
		chromedp.WaitVisible(`[data-testid=security-keys-empty]`),
		chromedp.Click(`[data-testid=security-key-add]`),
		chromedp.WaitVisible(`[data-testid=security-key-register-form]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("mia opens the key form: %v", err)
	}
	if n := bkCount(t, ctx, `[data-testid=security-key-register-form] input[name=password]`); n != 0 {
		t.Errorf("a password is asked right after a factor check")
	}
	if err := do(ctx, chromedp.SendKeys(`input[name=name]`, "Mia's key")); err != nil {
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-register]`, "/mfa/security-keys", 200, "mia registers a key")
	if n := bkCount(t, ctx, `[data-testid=security-key-row]`); n != 1 {
		t.Fatalf("mia has %d keys listed", n)
	}
	cred := base64.RawURLEncoding.EncodeToString(bkCredentials(t, ctx, key)[0].CredentialID)
	if ev := bkLastEvent(t, h, "BindMFADevice"); ev.IsError || ev.ResourceName != "mia" || ev.AdditionalEventData["credentialId"] != cred {
		t.Errorf("BindMFADevice event %+v", ev.Event)
	}

	// The key is lost: the sign-in offers both, and the code still works.
	bkRemoveKey(t, ctx, key)
	h.clock.Advance(30 * time.Second)
	err = do(ctx,
		chromedp.Click(bkSignOut),
		bkSignIn("mia@"+testAlias, ramUserPW),
		chromedp.WaitVisible(`[data-testid=security-key-login]`),
		chromedp.WaitVisible(`form[action="/login/mfa"] input[name=code]`),
		chromedp.SendKeys(`form[action="/login/mfa"] input[name=code]`, h.code(miaSecret, 0)),
		chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("mia signs in with TOTP without her key: %v", err)
	}

	// The owner, in the same browser at 127.0.0.1 (another host, so
	// another cookie: mia's session stays), removes mia's key.
	h.clock.Advance(30 * time.Second)
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, ownerSecret),
		chromedp.Navigate(h.srv.URL+"/users/mia"),
		chromedp.WaitVisible(`[data-testid=user-security-key-row]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("the owner opens mia's page: %v", err)
	}
	if row, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=user-security-key-row]`)); !strings.Contains(row, "Mia's key") {
		t.Errorf("mia's key row says %q", row)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/me"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("mia's session before the removal: %v %v", resp, err)
	}
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+"/users/mia"),
		chromedp.WaitVisible(`[data-testid=user-security-key-remove]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=user-security-key-remove]`, "/users/mia", 200, "the owner removes mia's key")
	if n := bkCount(t, ctx, `[data-testid=user-security-key-row]`); n != 0 {
		t.Errorf("mia's key is still listed")
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`body`)); !strings.Contains(body, "Security key Mia's key of mia removed") {
		t.Errorf("no flash for the removal")
	}
	if ev := bkLastEvent(t, h, "UnbindMFADevice"); ev.IsError || ev.ResourceName != "mia" || ev.AdditionalEventData["credentialId"] != cred ||
		ev.UserIdentity.Type != "root-account" {
		t.Errorf("UnbindMFADevice event %+v", ev.Event)
	}
	// mia's session ended.
	resp, err = chromedp.Run(ctx, chromedp.NavigateResponse(base+"/me"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bkCount(t, ctx, `[data-testid=me-name]`); n != 0 || bkCount(t, ctx, `input[name=username]`) != 1 {
		dumpPage(t, ctx)
		t.Errorf("mia's session survived the removal of her key (%d %s)", resp.Status, resp.URL)
	}
}

// TestBrowserSecurityKeyOtherRPID: a key answers only for its RP ID. The
// console is at console.localhost. A copy of a registered credential (same
// id and private key) scoped to another RP ID is not offered by the
// browser. When the console moves to keys.console.localhost, the key
// registered for console.localhost is not offered either (orphaned, SPEC
// §15.1); TOTP still signs in and nothing is locked. (An answer signed
// for another RP ID that does reach the server is refused for its rpIdHash
// and counted: TestSecurityKeyFailuresCountTowardTheLock, with a software
// key, since whether Chromium makes such an answer at all depends on its
// related-origin lookups.)
func TestBrowserSecurityKeyOtherRPID(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	base := bkBase(t, h, "console.localhost")
	if err := h.svc.SetPublicURL(base); err != nil {
		t.Fatal(err)
	}
	_, secret := h.setupOwner()
	bkEnable(t, ctx)
	keyA := bkAddKey(t, ctx)
	err := do(ctx,
		chromedp.Navigate(base+"/login"),
		ownerSignsIn(h, secret),
		chromedp.Navigate(base+"/mfa/security-keys/new"),
		chromedp.WaitVisible(`[data-testid=security-key-register-form]`),
		chromedp.SendKeys(`input[name=name]`, "Desk key"),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatal(err)
	}
	bkMustCeremony(t, ctx, `[data-testid=security-key-register]`, "/mfa/security-keys", 200, "register a key")
	registered := bkCredentials(t, ctx, keyA)
	if len(registered) != 1 || registered[0].RpID != "console.localhost" {
		t.Fatalf("the key holds %+v", registered)
	}
	orig := bkCredential{CredentialID: registered[0].CredentialID, RpID: registered[0].RpID,
		PrivateKey: registered[0].PrivateKey, SignCount: registered[0].SignCount}

	// The same credential scoped to other.localhost, in another key: the
	// browser does not offer it, nothing is posted or counted.
	bkRemoveKey(t, ctx, keyA)
	keyC := bkAddKey(t, ctx)
	other := orig
	other.RpID = "other.localhost"
	if _, err := chromedp.Call(ctx, bkAddCredential, bkAddCredentialParams{AuthenticatorID: keyC, Credential: other}); err != nil {
		t.Fatalf("WebAuthn.addCredential: %v", err)
	}
	err = do(ctx,
		chromedp.Click(bkSignOut),
		bkSignIn(testOwnerEmail, testOwnerPW),
		chromedp.WaitVisible(`[data-testid=security-key-login]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	checks := len(bkEvents(h, "CheckMFA"))
	start := time.Now()
	msg := bkRefused(t, ctx, `[data-testid=security-key-login-form]`)
	t.Logf("a credential of another RP ID: the page says %q after %v", msg, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(msg, "did not answer") {
		t.Errorf("the error shown is %q", msg)
	}
	if n := len(bkEvents(h, "CheckMFA")); n != checks {
		t.Errorf("%d key checks were recorded although nothing was posted", n-checks)
	}

	// The console moves to keys.console.localhost; the key holds the
	// credential for console.localhost only: orphaned.
	bkRemoveKey(t, ctx, keyC)
	keyD := bkAddKey(t, ctx)
	if _, err := chromedp.Call(ctx, bkAddCredential, bkAddCredentialParams{AuthenticatorID: keyD, Credential: orig}); err != nil {
		t.Fatalf("WebAuthn.addCredential: %v", err)
	}
	moved := bkBase(t, h, "keys.console.localhost")
	if err := h.svc.SetPublicURL(moved); err != nil {
		t.Fatal(err)
	}
	err = do(ctx,
		chromedp.Navigate(moved+"/login"),
		bkSignIn(testOwnerEmail, testOwnerPW),
		chromedp.WaitVisible(`[data-testid=security-key-login]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("sign in at the new address: %v", err)
	}
	if rp, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.parse(document.querySelector('[data-webauthn=get]').dataset.options).publicKey.rpId`)); rp != "keys.console.localhost" {
		t.Errorf("sign-in options name RP ID %q", rp)
	}
	msg = bkRefused(t, ctx, `[data-testid=security-key-login-form]`)
	if !strings.Contains(msg, "did not answer") {
		t.Errorf("the error shown is %q", msg)
	}
	if n := len(bkEvents(h, "CheckMFA")); n != checks {
		t.Errorf("%d key checks were recorded although nothing was posted", n-checks)
	}

	// TOTP signs in; nothing was locked.
	h.clock.Advance(30 * time.Second)
	err = do(ctx,
		chromedp.SendKeys(`form[action="/login/mfa"] input[name=code]`, h.code(secret, 0)),
		chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=account-id]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("TOTP after the orphaned key: %v", err)
	}
	for _, e := range h.events() {
		if e.ErrorCode == "AccountLocked" {
			t.Errorf("something was locked: %+v", e.Event)
		}
	}
}

// TestBrowserSecurityKeyUnavailable (plain HTTP): without a usable public
// URL no page has a key form, button or link, /mfa/security-keys says why,
// and the key routes answer 404 (not counted as failures); TOTP works.
func TestBrowserSecurityKeyUnavailable(t *testing.T) {
	h := newHarness(t)
	noKeyUI := func(p page, what string) {
		t.Helper()
		for _, s := range []string{`data-webauthn`, `data-testid="security-key-add"`, `data-testid="mfa-bind-security-key"`,
			`data-testid="mfa-security-keys"`, `data-testid="security-key-login"`, `webauthn.js`, `<script`} {
			if strings.Contains(p.body, s) {
				t.Errorf("%s has %s without a public URL", what, s)
			}
		}
	}
	b := h.browser()
	expectStatus(t, b.get("/setup?token="+h.token), 200, "GET /setup")
	expectRedirect(t, b.post("/setup", url.Values{"token": {h.token}, "email": {testOwnerEmail}, "password": {testOwnerPW},
		"confirm_password": {testOwnerPW}, "alias": {testAlias}}), "/mfa/bind", "POST /setup")
	p := b.get("/mfa/bind")
	expectStatus(t, p, 200, "GET /mfa/bind")
	noKeyUI(p, "the forced /mfa/bind")
	secret := secretRE.FindStringSubmatch(p.body)[1]
	p = b.get("/mfa/security-keys")
	expectStatus(t, p, 200, "GET /mfa/security-keys")
	noKeyUI(p, "/mfa/security-keys")
	if !strings.Contains(p.body, `data-testid="security-keys-unavailable"`) || !strings.Contains(p.body, "set --public-url to the https address of the console") {
		t.Errorf("/mfa/security-keys does not say why keys are unavailable: %.800s", p.body)
	}
	expectStatus(t, b.get("/mfa/security-keys/new"), 404, "GET /mfa/security-keys/new")
	expectStatus(t, b.post("/mfa/security-keys", url.Values{"name": {"k"}, "credential": {"{}"}}), 404, "POST /mfa/security-keys")
	b.get("/mfa/bind")
	expectRedirect(t, b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}}), "/", "POST /mfa/bind")
	h.clock.Advance(30 * time.Second)

	s := h.browser()
	s.get("/login")
	expectRedirect(t, s.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "POST /login")
	p = s.get("/login/mfa")
	noKeyUI(p, "/login/mfa")
	if !strings.Contains(p.body, `action="/login/mfa"`) {
		t.Errorf("/login/mfa has no code form")
	}
	for i := 0; i < 6; i++ {
		expectStatus(t, s.post("/login/mfa/webauthn", url.Values{"credential": {`{"id":"x"}`}}), 404, "POST /login/mfa/webauthn")
	}
	expectRedirect(t, s.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "TOTP after six posts to the key route")
	for _, path := range []string{"/", "/mfa/bind", "/mfa/security-keys"} {
		p := s.get(path)
		expectStatus(t, p, 200, "GET "+path)
		noKeyUI(p, path)
	}
	expectStatus(t, s.get("/mfa/security-keys/x/delete"), 404, "GET /mfa/security-keys/x/delete")
	s.get("/")
	expectStatus(t, s.post("/mfa/security-keys/x/delete", url.Values{"password": {testOwnerPW}, "code": {"123456"}}), 404, "POST /mfa/security-keys/x/delete")
	if n := len(bkEvents(h, "CheckMFA")); n != 0 {
		t.Errorf("%d key checks recorded while keys are unavailable", n)
	}

	// An IP address, or plain http to a host other than localhost, is not
	// enough either, each with its reason.
	for public, reason := range map[string]string{
		h.srv.URL:                   "security keys need a host name, not an IP address",
		"http://ram.example.com":    "set --public-url to the https address of the console",
		"http://[::1]:8080":         "security keys need a host name, not an IP address",
		"https://ram.example.com:8": "",
	} {
		if err := h.svc.SetPublicURL(public); err != nil {
			t.Fatalf("SetPublicURL(%q): %v", public, err)
		}
		p := s.get("/mfa/security-keys")
		if reason == "" {
			if !strings.Contains(p.body, `data-testid="security-key-add"`) {
				t.Errorf("keys are not offered with --public-url %s", public)
			}
			continue
		}
		noKeyUI(p, "/mfa/security-keys with --public-url "+public)
		if !strings.Contains(p.body, reason) {
			t.Errorf("with --public-url %s /mfa/security-keys does not say %q", public, reason)
		}
		noKeyUI(s.get("/mfa/bind"), "/mfa/bind with --public-url "+public)
	}
}

// The POST routes that check a password or a second factor for security
// keys are rate-limited per client address like /login/mfa and /mfa/unbind
// (signInPaths): the key's sign-in step, and adding or deleting a key with
// the password.
func TestSecurityKeyPostsRateLimitedLikeSignIn(t *testing.T) {
	for _, p := range []string{"/login/mfa/webauthn", "/mfa/security-keys", "/mfa/security-keys/:id/delete"} {
		if !signInPaths[p] {
			t.Errorf("POST %s checks a password or a factor but is not rate-limited with the sign-in routes", p)
		}
	}
}
