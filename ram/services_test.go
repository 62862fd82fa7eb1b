package ram

import (
	"strings"
	"testing"
)

// service is a minimal rpc definition of code on hosts.
func service(code string, hosts ...string) string {
	return `{"code": "` + code + `", "name": "` + strings.ToUpper(code) + `", "hosts": ["` + strings.Join(hosts, `", "`) + `"], "style": "rpc", "resources": {"*": "*"}}`
}

// The resource services' rules, on one account (the host lookups use
// their own service, deleted at their end).
func TestServices(t *testing.T) {
	onOneAccount(t,
		part{"ServiceForHost", testServiceForHost},
		part{"import and export", testImportService},
	)
}

// Import creates a service or replaces the definition of the one with its
// code; export gives the canonical JSON that imports back unchanged. A host
// belongs to one service at a time.
func testImportService(t *testing.T, e *testEnv) {
	creator := e.granted(t, "creator", doc(allow([]string{"*"}, ActionCreateService)))
	reader := e.member(t, "reader", "ReadOnlyAccess")
	importAs := func(a Actor, text string, created bool) func() error {
		return func() error {
			_, c, err := e.svc.ImportService(e.ctx, a, text)
			if err == nil && c != created {
				t.Errorf("import created %t, want %t", c, created)
			}
			return err
		}
	}
	exported := func() string {
		t.Helper()
		text, err := e.svc.ExportService(e.ctx, reader, "ecs")
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	evs := e.expect(t, importAs(creator, testECS, true), "", "CreateService")
	if ev := only(t, evs); ev.EventSource != "gateway" || ev.ServiceName != "Gateway" || ev.ResourceName != "ecs" {
		t.Errorf("the creation's event: %+v", ev.Event)
	}
	first := exported()
	e.expect(t, importAs(e.owner, first, false), "", "UpdateService")
	if again := exported(); again != first {
		t.Errorf("an export imported back exports as\n%s\nwant\n%s", again, first)
	}
	moved := strings.Replace(testECS, `"hosts": ["ecs.internal.example"]`, `"hosts": ["ECS.Internal.Example", "ECS2.internal.example"]`, 1)
	e.check(t, []rule{
		{"replacing needs gateway:UpdateService", importAs(creator, moved, false), "NoPermission", []string{"UpdateService/NoPermission"}},
		{"the owner replaces the definition", importAs(e.owner, moved, false), "", []string{"UpdateService"}},
		{"another service cannot take a host in any case", importAs(e.owner, service("vm", "ecs2.INTERNAL.example"), true),
			"EntityAlreadyExists.Service.Host", []string{"CreateService/EntityAlreadyExists.Service.Host"}},
		{"a definition that is not JSON is refused", importAs(e.owner, "{", true),
			"InvalidParameter.Definition", []string{"CreateService/InvalidParameter.Definition"}},
		{"a definition without hosts is refused", importAs(e.owner, service("vm"), true),
			"InvalidParameter.Definition", []string{"CreateService/InvalidParameter.Definition"}},
		{"a user without gateway permissions creates nothing", importAs(reader, service("vm", "vm.example"), true),
			"NoPermission", []string{"CreateService/NoPermission"}},
		{"CreateService does not replace", func() error { return ignore(e.svc.CreateService(e.ctx, e.owner, testECS)) },
			"EntityAlreadyExists.Service", []string{"CreateService/EntityAlreadyExists.Service"}},
		{"UpdateService keeps the service's code", func() error { return ignore(e.svc.UpdateService(e.ctx, e.owner, "ecs", service("vm", "vm.example"))) },
			"InvalidParameter.Definition", []string{"UpdateService/InvalidParameter.Definition"}},
	})
	if got := exported(); !strings.Contains(got, `"ecs.internal.example"`) || !strings.Contains(got, `"ecs2.internal.example"`) || strings.Contains(got, "ECS") {
		t.Errorf("the export after the replacement names its hosts in lower case:\n%s", got)
	}
	if sv, err := e.svc.ServiceForHost(e.ctx, "ecs2.internal.example"); err != nil || sv.Code != "ecs" {
		t.Errorf("ServiceForHost(ecs2) = %+v, %v", sv, err)
	}
	// Replaced without it, the host is free again, at once.
	e.expect(t, importAs(e.owner, testECS, false), "", "UpdateService")
	if sv, err := e.svc.ServiceForHost(e.ctx, "ecs2.internal.example"); errCode(err) != "EntityNotExist.Service" {
		t.Errorf("ServiceForHost(ecs2) after the host was dropped = %+v, %v", sv, err)
	}
	e.expect(t, importAs(e.owner, service("vm", "ecs2.internal.example"), true), "", "CreateService")
	page, err := e.svc.ListServices(e.ctx, reader, "", 1)
	if err != nil || len(page.Services) != 1 || page.Services[0].Code != "ecs" || !page.IsTruncated {
		t.Fatalf("ListServices(1) = %+v, %v", page, err)
	}
	if next, err := e.svc.ListServices(e.ctx, reader, page.Marker, 1); err != nil || len(next.Services) != 1 || next.Services[0].Code != "vm" || next.IsTruncated {
		t.Errorf("the second page: %+v, %v", next, err)
	}
}

// ServiceForHost compares hosts case-insensitively and without the port;
// a deleted service's hosts belong to nobody.
func testServiceForHost(t *testing.T, e *testEnv) {
	if _, _, err := e.svc.ImportService(e.ctx, e.owner, service("lookup", "API.Lookup.example")); err != nil {
		t.Fatal(err)
	}
	lookup := func(host string) string {
		sv, err := e.svc.ServiceForHost(e.ctx, host)
		if err != nil {
			return errCode(err)
		}
		return sv.Code
	}
	for _, tc := range []struct{ host, want string }{
		{"api.lookup.example", "lookup"},
		{"API.LOOKUP.Example", "lookup"},
		{"api.lookup.example:8443", "lookup"},
		{"Api.Lookup.Example:443", "lookup"},
		{"api.lookup.example.", "lookup"},
		{" api.lookup.example ", "lookup"},
		{"lookup.example", "EntityNotExist.Service"},
		{"api.lookup.example.attacker.example", "EntityNotExist.Service"},
		{"xapi.lookup.example", "EntityNotExist.Service"},
		{"", "EntityNotExist.Service"},
	} {
		// Twice: the second answer comes from the cache.
		for range 2 {
			if got := lookup(tc.host); got != tc.want {
				t.Errorf("ServiceForHost(%q) = %s, want %s", tc.host, got, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		code   string
		events []string
	}{
		{"a service is deleted", "", []string{"DeleteService"}},
		{"a deleted service is EntityNotExist.Service", "EntityNotExist.Service", []string{"DeleteService/EntityNotExist.Service"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.expect(t, func() error { return e.svc.DeleteService(e.ctx, e.owner, "lookup") }, tc.code, tc.events...)
		})
	}
	if got := lookup("API.lookup.example:80"); got != "EntityNotExist.Service" {
		t.Errorf("ServiceForHost after the delete = %s", got)
	}
}
