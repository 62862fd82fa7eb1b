package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The resource services in the console (SPEC §13): create, show, export →
// import, refusals that keep the typed text, and delete.
func TestServicesConsole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	ctx := context.Background()

	owner.get("/services/new")
	expectRedirect(t, owner.post("/services", url.Values{"definition": {testOSSDef}}), "/services/oss", "create oss")
	p := owner.get("/services/oss")
	expectStatus(t, p, http.StatusOK, "show oss")
	for _, want := range []string{"oss.example", `data-testid="service-rules"`, "{bucket}/{key}", "oss:ListObjects",
		"acs:gateway::" + h.accountID() + ":service/oss", `href="/services/oss/export"`, "Service oss created."} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the service page lacks %q", want)
		}
	}
	owner.get("/services/new")
	expectRedirect(t, owner.post("/services", url.Values{"definition": {testECSDef}}), "/services/ecs", "create ecs")
	p = owner.get("/services/ecs")
	if !strings.Contains(p.body, `data-testid="service-resources"`) || !strings.Contains(p.body, "ecs:StopInstance") || !strings.Contains(p.body, "instance/{InstanceId}") {
		t.Errorf("the rpc service page lacks its resources:\n%s", p.body)
	}
	p = owner.get("/services")
	if !strings.Contains(p.body, `<a href="/services">Services</a>`) && !strings.Contains(p.body, `href="/services"`) {
		t.Errorf("no Services in the navigation")
	}
	if !strings.Contains(p.body, `data-testid="services-table"`) || !strings.Contains(p.body, `href="/services/ecs"`) || !strings.Contains(p.body, "ecs.example, ecs2.example") {
		t.Errorf("the list lacks the services")
	}

	// Export → import round trip.
	exp := owner.get("/services/oss/export")
	expectStatus(t, exp, http.StatusOK, "export")
	if ct := exp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("export Content-Type %q", ct)
	}
	if cd := exp.header.Get("Content-Disposition"); cd != `attachment; filename="oss.json"` {
		t.Errorf("export Content-Disposition %q", cd)
	}
	owner.get("/services")
	expectRedirect(t, owner.post("/services/import", url.Values{"definition": {exp.body}}), "/services/oss", "re-import oss")
	if p := owner.get("/services/oss"); !strings.Contains(p.body, "replaced by the imported definition") {
		t.Errorf("the import does not say it replaced oss")
	}
	if again := owner.get("/services/oss/export"); again.body != exp.body {
		t.Errorf("the round trip changed the definition:\n%s\n%s", exp.body, again.body)
	}
	// An import of a new code creates it.
	owner.get("/services")
	fresh := strings.NewReplacer(`"code": "oss"`, `"code": "files"`, `"oss.example"`, `"files.example"`, `"oss:`, `"files:`).Replace(testOSSDef)
	expectRedirect(t, owner.post("/services/import", url.Values{"definition": {fresh}}), "/services/files", "import files")

	// A host of another service: refused with the message, the typed text kept, nothing changed.
	clash := strings.Replace(testECSDef, `"ecs.example", "ECS2.example"`, `"oss.example"`, 1)
	before := len(h.events())
	for _, path := range []string{"/services", "/services/import"} {
		owner.get("/services/new")
		p = owner.post(path, url.Values{"definition": {clash}})
		if path == "/services" {
			clash2 := strings.Replace(clash, `"code": "ecs"`, `"code": "ecs-b"`, 1)
			p = owner.post(path, url.Values{"definition": {clash2}})
			clash = clash2
		}
		expectStatus(t, p, http.StatusConflict, path+" with a taken host")
		if !strings.Contains(p.body, html.EscapeString(`hosts[0]: "oss.example" already belongs to service oss`)) {
			t.Errorf("%s: the host clash is not explained:\n%s", path, p.body)
		}
		if !strings.Contains(p.body, html.EscapeString(clash)) {
			t.Errorf("%s: the typed definition is not kept", path)
		}
	}
	if d, err := h.svc.ServiceForHost(ctx, "oss.example"); err != nil || d.Code != "oss" {
		t.Errorf("oss.example now: %v %v", d, err)
	}
	if _, err := h.svc.GetService(ctx, rootActor(), "ecs-b"); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("the refused create made ecs-b: %v", err)
	}
	if len(h.events()) == before {
		t.Errorf("the refusals are not audited")
	}

	// Bad definitions: the validator's message next to the text, the text kept, 422.
	for _, bad := range []struct{ text, msg string }{
		{`{"code": "x"`, "The definition is not valid JSON"},
		{`{"code": "Bad", "name": "n", "hosts": ["h.example"], "style": "rpc"}`, `code: "Bad" must be 2–32 lower-case letters`},
		{`{"code": "web", "name": "n", "hosts": ["h.example:80"], "style": "soap"}`, `style: "soap" must be rpc or rest`},
	} {
		for _, path := range []string{"/services", "/services/import"} {
			owner.get("/services/new")
			p = owner.post(path, url.Values{"definition": {bad.text}})
			expectStatus(t, p, http.StatusUnprocessableEntity, path+" "+bad.text)
			if !strings.Contains(p.body, `data-field="definition"`) || !strings.Contains(p.body, html.EscapeString(bad.msg)) {
				t.Errorf("%s %s: the message %q is not shown:\n%s", path, bad.text, bad.msg, p.body)
			}
			if !strings.Contains(p.body, html.EscapeString(bad.text)) {
				t.Errorf("%s %s: the typed text is not kept", path, bad.text)
			}
		}
	}

	// An unknown code is 404; delete needs the code typed.
	expectStatus(t, owner.get("/services/nope"), http.StatusNotFound, "unknown service")
	owner.get("/services/ecs/delete")
	expectStatus(t, owner.post("/services/ecs/delete", url.Values{"confirm": {"ec"}}), http.StatusUnprocessableEntity, "delete without the code")
	expectRedirect(t, owner.post("/services/ecs/delete", url.Values{"confirm": {"ecs"}}), "/services", "delete ecs")
	if _, err := h.svc.ServiceForHost(ctx, "ecs.example"); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("the deleted service still owns its host: %v", err)
	}
	expectStatus(t, owner.get("/services/ecs"), http.StatusNotFound, "deleted service")
}

// A RAM user without gateway permissions sees and changes nothing; one
// allowed only gateway:GetService on one service sees that one only.
func TestServicesNeedGatewayPermissions(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/services/new")
	expectRedirect(t, owner.post("/services", url.Values{"definition": {testOSSDef}}), "/services/oss", "create oss")
	admin := h.ramUser(owner, "ramadmin", []string{"AliyunRAMFullAccess"}, nil)
	reader := h.ramUser(owner, "reader", nil, map[string]string{"ReadOSS": `{"Version":"1","Statement":[{"Effect":"Allow",
		"Action":"gateway:GetService","Resource":"acs:gateway::*:service/oss"}]}`})

	for _, get := range []string{"/services", "/services/new", "/services/oss", "/services/oss/export", "/services/oss/delete"} {
		expectStatus(t, admin.get(get), http.StatusForbidden, "RAM admin GET "+get)
	}
	admin.get("/me")
	moved := strings.Replace(testOSSDef, `"oss.example"`, `"stolen.example"`, 1)
	expectStatus(t, admin.post("/services", url.Values{"definition": {strings.Replace(moved, `"oss"`, `"oss2"`, 1)}}), http.StatusForbidden, "create")
	expectStatus(t, admin.post("/services/import", url.Values{"definition": {moved}}), http.StatusForbidden, "import over oss")
	expectStatus(t, admin.post("/services/import", url.Values{"definition": {`{"bad"`}}), http.StatusForbidden, "import of a bad definition")
	expectStatus(t, admin.post("/services/oss/delete", url.Values{"confirm": {"oss"}}), http.StatusForbidden, "delete")
	if d, err := h.svc.ServiceForHost(context.Background(), "oss.example"); err != nil || d.Code != "oss" {
		t.Errorf("oss changed: %v %v", d, err)
	}

	expectStatus(t, reader.get("/services/oss"), http.StatusOK, "GetService on oss")
	expectStatus(t, reader.get("/services/oss/export"), http.StatusOK, "export oss")
	expectStatus(t, reader.get("/services"), http.StatusForbidden, "list without ListServices")
	expectStatus(t, reader.get("/services/OSS"), http.StatusOK, "GetService on oss spelled OSS")
	expectStatus(t, reader.get("/services/other"), http.StatusForbidden, "an unknown code is authorised as spelled")
}
