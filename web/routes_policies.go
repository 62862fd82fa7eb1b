package web

import "ramconsole/handlers"

// policyRoutes are the policies' and the simulator's console routes (SPEC §5).
func policyRoutes(h *handlers.Handlers) []Route {
	return nil
}
