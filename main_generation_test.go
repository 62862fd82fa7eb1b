package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
)

// `service import` next to a running server (SQLite, the CLI in a store of
// its own as a second process has) is enforced by the server: the gateway's
// cached definition of a host gives way to the imported one.
func TestServiceImportNextToARunningServer(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	ctx := context.Background()
	srv, sealer, err := openStore(ctx, dir, "", true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	gateway := ram.New(srv, sealer)

	importFile := func(def string) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "ecs.json")
		if err := os.WriteFile(p, []byte(def), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := run([]string{"service", "import", "--data", dir, p}, &out, &errOut); code != 0 {
			t.Fatalf("service import = %d: %s", code, errOut.String())
		}
	}
	// waitFor polls the server until cond holds, far beyond the second
	// SPEC §13 allows (the test machine may be busy).
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("the running server does not enforce %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("the running server enforced %s after %v", what, time.Since(start))
	}
	hostIs := func(host, code string) func() bool {
		return func() bool {
			d, err := gateway.ServiceForHost(ctx, host)
			if code == "" {
				e, ok := ram.AsError(err)
				return ok && e.Code == "EntityNotExist.Service"
			}
			return err == nil && d.Code == code
		}
	}

	def := `{"code": "ecs", "name": "Instances", "hosts": ["ecs.internal.example"], "style": "rpc", "resources": {"*": "*"}}`
	importFile(def)
	waitFor("the imported service", hostIs("ecs.internal.example", "ecs")) // now cached
	importFile(strings.Replace(def, "ecs.internal.example", "ecs2.internal.example", 1))
	waitFor("the re-imported service's hosts", hostIs("ecs.internal.example", ""))
	if !hostIs("ecs2.internal.example", "ecs")() {
		t.Errorf("the re-imported service's new host is not found")
	}
}
