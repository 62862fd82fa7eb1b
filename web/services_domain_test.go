package web

import (
	"context"
	"strings"
	"testing"

	"ramconsole/ram"
)

const testOSSDef = `{"code": "oss", "name": "Object storage", "hosts": ["oss.example"], "style": "rest", "rules": [
	{"methods": ["GET", "HEAD"], "path": "/{bucket}/{key...}", "action": "oss:GetObject", "resource": "{bucket}/{key}"},
	{"methods": ["GET"], "path": "/{bucket}", "action": "oss:ListObjects", "resource": "{bucket}"}]}`

const testECSDef = `{"code": "ecs", "name": "Instances", "hosts": ["ecs.example", "ECS2.example"], "region": "cn-hangzhou", "style": "rpc",
	"resources": {"StopInstance": "instance/{InstanceId}", "*": "*"}}`

func TestServicesDomain(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	ctx := context.Background()
	svc := h.svc
	if _, err := svc.CreateService(ctx, rootActor(), testOSSDef); err != nil {
		t.Fatal(err)
	}
	ecs, err := svc.CreateService(ctx, rootActor(), testECSDef)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ecs.Hosts, ",") != "ecs.example,ecs2.example" {
		t.Errorf("hosts %v, want lower-case", ecs.Hosts)
	}
	// Create again: the code exists.
	if _, err := svc.CreateService(ctx, rootActor(), testECSDef); !hasCode(err, "EntityAlreadyExists.Service") {
		t.Errorf("create twice: %v", err)
	}
	// A host of another service is refused, naming it, and nothing changes.
	clash := strings.Replace(testECSDef, `"ecs.example", "ECS2.example"`, `"oss.example"`, 1)
	_, _, err = svc.ImportService(ctx, rootActor(), clash)
	if e, ok := ram.AsError(err); !ok || e.Fields["definition"] != `hosts[0]: "oss.example" already belongs to service oss` {
		t.Errorf("host clash: %v", err)
	}
	if got, _ := svc.GetService(ctx, rootActor(), "ecs"); got == nil || len(got.Hosts) != 2 {
		t.Errorf("the refused import changed ecs: %+v", got)
	}

	// ServiceForHost: case and port do not matter; an unknown host is EntityNotExist.Service.
	for _, host := range []string{"ecs.example", "ECS.Example:8443", "ecs2.example:80"} {
		d, err := svc.ServiceForHost(ctx, host)
		if err != nil || d.Code != "ecs" {
			t.Errorf("ServiceForHost(%q) = %v, %v", host, d, err)
		}
	}
	if _, err := svc.ServiceForHost(ctx, "nowhere.example"); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("unknown host: %v", err)
	} else if e, _ := ram.AsError(err); e.Kind != ram.ENOTFOUND {
		t.Errorf("unknown host kind %s", e.Kind)
	}
	// Cached: the same definition twice while nothing changes.
	d1, _ := svc.ServiceForHost(ctx, "ecs.example")
	d2, _ := svc.ServiceForHost(ctx, "ecs.example")
	if d1 != d2 {
		t.Errorf("the definition is parsed again without a change")
	}

	// Import replaces: ecs moves to another host; the old host is free at once.
	moved := strings.Replace(testECSDef, `"ecs.example", "ECS2.example"`, `"ecs3.example"`, 1)
	if _, created, err := svc.ImportService(ctx, rootActor(), moved); err != nil || created {
		t.Fatalf("import over ecs: created=%v %v", created, err)
	}
	if _, err := svc.ServiceForHost(ctx, "ecs.example"); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("the old host still answers: %v", err)
	}
	if d, err := svc.ServiceForHost(ctx, "ecs3.example"); err != nil || d.Code != "ecs" {
		t.Errorf("the new host: %v %v", d, err)
	}
	// Delete, then another service takes the host: the new one answers.
	if err := svc.DeleteService(ctx, rootActor(), "ecs"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ServiceForHost(ctx, "ecs3.example"); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("deleted service still answers: %v", err)
	}
	other := strings.NewReplacer(`"code": "ecs"`, `"code": "ecs-next"`, `"ecs.example", "ECS2.example"`, `"ecs3.example"`).Replace(testECSDef)
	if _, created, err := svc.ImportService(ctx, rootActor(), other); err != nil || !created {
		t.Fatalf("import a new service: %v %v", created, err)
	}
	if d, err := svc.ServiceForHost(ctx, "ECS3.example"); err != nil || d.Code != "ecs-next" {
		t.Errorf("after re-creation: %v %v", d, err)
	}

	// Export → import is a round trip.
	text, err := svc.ExportService(ctx, rootActor(), "oss")
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := svc.ImportService(ctx, rootActor(), text); err != nil || created {
		t.Errorf("re-import export: %v %v", created, err)
	}
	again, _ := svc.ExportService(ctx, rootActor(), "oss")
	if again != text {
		t.Errorf("export changed by a round trip:\n%s\n%s", text, again)
	}

	// UpdateService replaces the definition of the service it names, only.
	renamed := strings.Replace(testOSSDef, `"Object storage"`, `"Objects"`, 1)
	if got, err := svc.UpdateService(ctx, rootActor(), "OSS", renamed); err != nil || got.Name != "Objects" {
		t.Errorf("UpdateService: %+v %v", got, err)
	}
	if _, err := svc.UpdateService(ctx, rootActor(), "ecs-next", renamed); !hasCode(err, "InvalidParameter.Definition") {
		t.Errorf("UpdateService with another service's definition: %v", err)
	} else if e, _ := ram.AsError(err); e.Fields["definition"] != "code: the definition is of service oss, not ecs-next" {
		t.Errorf("message %q", e.Fields["definition"])
	}
	if _, err := svc.UpdateService(ctx, rootActor(), "gone", renamed); !hasCode(err, "EntityNotExist.Service") {
		t.Errorf("UpdateService of an unknown code: %v", err)
	}
	text, _ = svc.ExportService(ctx, rootActor(), "oss")

	// Paging.
	page, err := svc.ListServices(ctx, rootActor(), "", 1)
	if err != nil || len(page.Services) != 1 || !page.IsTruncated || page.Services[0].Code != "ecs-next" {
		t.Fatalf("page 1: %+v %v", page, err)
	}
	page, err = svc.ListServices(ctx, rootActor(), page.Marker, 1)
	if err != nil || len(page.Services) != 1 || page.IsTruncated || page.Services[0].Code != "oss" {
		t.Fatalf("page 2: %+v %v", page, err)
	}

	// Every change is audited under eventSource gateway.
	counts := map[string]int{}
	for _, e := range h.events() {
		if e.EventSource == "gateway" && !e.IsError {
			counts[e.EventName]++
		}
	}
	if counts["CreateService"] != 3 || counts["UpdateService"] != 3 || counts["DeleteService"] != 1 {
		t.Errorf("gateway events %v", counts)
	}
}

func hasCode(err error, code string) bool {
	e, ok := ram.AsError(err)
	return ok && e.Code == code
}
