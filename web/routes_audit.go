package web

import "ramconsole/handlers"

// auditRoutes are the audit log's console routes (SPEC §5, §7).
func auditRoutes(h *handlers.Handlers) []Route {
	return nil
}
