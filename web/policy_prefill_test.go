package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// prefillField is what a browser shows in the new-policy form's field:
// an input's value attribute or a textarea's text (less the one newline
// HTML drops after <textarea>), unescaped.
func prefillField(t *testing.T, body, field string) string {
	t.Helper()
	in := regexp.MustCompile(`<input id="f-` + field + `" name="` + field + `" type="text" value="([^"]*)"`).FindStringSubmatch(body)
	if in != nil {
		return html.UnescapeString(in[1])
	}
	ta := regexp.MustCompile(`(?s)<textarea id="f-` + field + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if ta == nil {
		t.Fatalf("no %s field on the new-policy form", field)
	}
	return html.UnescapeString(strings.TrimPrefix(ta[1], "\n"))
}

// writeEvents counts the audit log's events other than reads.
func writeEvents(h *harness) int {
	n := 0
	for _, e := range h.events() {
		if e.EventRW != "Read" {
			n++
		}
	}
	return n
}

func TestPolicyNewPrefill(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/") // takes setup's flash

	doc := "\n{\n  \"Version\": \"1\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": [\"ram:GetUser\", \"ram:ListUsers\"], \"Resource\": \"*\"}\n  ]\n}\n"
	desc := "Generated from user/alice's activity 2024-01-01 – 2024-03-31 & <more>"
	prefill := url.Values{"name": {"FromDraft"}, "description": {desc}, "document": {doc}}

	t.Run("fills the form, creates nothing", func(t *testing.T) {
		before, writes := owner.get("/policies"), writeEvents(h)
		expectStatus(t, before, http.StatusOK, "GET /policies")
		p := owner.get("/policies/new?" + prefill.Encode())
		expectStatus(t, p, http.StatusOK, "GET /policies/new with values")
		for field, want := range map[string]string{"name": "FromDraft", "description": desc, "document": doc} {
			if got := prefillField(t, p.body, field); got != want {
				t.Errorf("%s field = %q, want %q", field, got, want)
			}
		}
		if strings.Contains(p.body, `data-testid="field-error"`) {
			t.Errorf("a pre-filled form shows field errors before anything is posted")
		}
		after := owner.get("/policies")
		if strings.Contains(after.body, "FromDraft") || writeEvents(h) != writes {
			t.Fatalf("GET /policies/new created something: listed %v, write events %d → %d",
				strings.Contains(after.body, "FromDraft"), writes, writeEvents(h))
		}
		if p := owner.get("/policies/Custom/FromDraft"); p.status != http.StatusNotFound {
			t.Fatalf("GET /policies/Custom/FromDraft after a GET of the form: %d, want 404", p.status)
		}
	})

	t.Run("posting the pre-filled form creates the policy", func(t *testing.T) {
		p := owner.get("/policies/new?" + prefill.Encode())
		form := url.Values{}
		for _, f := range []string{"name", "description", "document"} {
			form.Set(f, prefillField(t, p.body, f))
		}
		expectRedirect(t, owner.post("/policies", form), "/policies/Custom/FromDraft", "POST the pre-filled form")
		shown := owner.get("/policies/Custom/FromDraft")
		expectStatus(t, shown, http.StatusOK, "GET the new policy")
		if !strings.Contains(shown.body, html.EscapeString(desc)) || !strings.Contains(shown.body, "ram:ListUsers") {
			t.Errorf("the created policy lacks the pre-filled description or document")
		}
	})

	t.Run("escapes what it fills in", func(t *testing.T) {
		const xss = `"><script>alert(1)</script>`
		before := writeEvents(h)
		p := owner.get("/policies/new?" + url.Values{"name": {xss}, "description": {xss}, "document": {xss}}.Encode())
		expectStatus(t, p, http.StatusOK, "GET /policies/new with markup")
		if strings.Contains(p.body, "<script>alert(1)") {
			t.Fatalf("the link's markup reached the page unescaped")
		}
		for _, f := range []string{"name", "description", "document"} {
			if got := prefillField(t, p.body, f); got != xss {
				t.Errorf("%s field = %q, want the text as given", f, got)
			}
		}
		if writeEvents(h) != before {
			t.Errorf("GET /policies/new wrote to the audit log")
		}
		// Posting it is refused by the usual validation, nothing is created.
		form := url.Values{"name": {xss}, "description": {xss}, "document": {xss}}
		if r := owner.post("/policies", form); r.status == http.StatusSeeOther || r.status >= 500 {
			t.Fatalf("POST of an invalid pre-filled form: %d", r.status)
		}
	})

	t.Run("over-long values are not filled in", func(t *testing.T) {
		long := url.Values{
			"name":        {strings.Repeat("n", 129)},
			"description": {strings.Repeat("d", 1025)},
			"document":    {`{"Version":"1","Statement":[]}` + strings.Repeat(" ", 6144-29)},
		}
		p := owner.get("/policies/new?" + long.Encode())
		expectStatus(t, p, http.StatusOK, "GET /policies/new with over-long values")
		if got := prefillField(t, p.body, "name"); got != "" {
			t.Errorf("name field = %d characters, want empty", len(got))
		}
		if got := prefillField(t, p.body, "description"); got != "" {
			t.Errorf("description field = %d characters, want empty", len(got))
		}
		if got := prefillField(t, p.body, "document"); strings.Contains(got, `"Statement":[]`) || !strings.Contains(got, `"ram:Get*"`) {
			t.Errorf("document field = %.80q…, want the default template", got)
		}
		for field, msg := range map[string]string{
			"name":        "The link&#39;s policy name has 129 characters; at most 128 are allowed, so it was not filled in.",
			"description": "The link&#39;s description has 1025 characters; at most 1024 are allowed, so it was not filled in.",
			"document":    "The link&#39;s policy document has 6145 characters; at most 6144 are allowed, so it was not filled in.",
		} {
			if !strings.Contains(p.body, `data-testid="field-error" data-field="`+field+`">`+msg+`<`) {
				t.Errorf("no field message for the over-long %s", field)
			}
		}

		// At the limits the values are filled in as given.
		exact := url.Values{
			"name":        {strings.Repeat("n", 128)},
			"description": {strings.Repeat("d", 1024)},
			"document":    {`{"Version":"1","Statement":[]}` + strings.Repeat(" ", 6144-30)},
		}
		p = owner.get("/policies/new?" + exact.Encode())
		expectStatus(t, p, http.StatusOK, "GET /policies/new at the limits")
		for _, f := range []string{"name", "description", "document"} {
			if got := prefillField(t, p.body, f); got != exact.Get(f) {
				t.Errorf("%s field at the limit = %d characters, want %d", f, len(got), len(exact.Get(f)))
			}
		}
		if strings.Contains(p.body, `data-testid="field-error"`) {
			t.Errorf("values at the limits show field errors")
		}
	})
}
