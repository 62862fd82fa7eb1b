package web

// mountAPI serves the RAM OpenAPI (SPEC §6) on the same listener.
func (a *App) mountAPI() {}
