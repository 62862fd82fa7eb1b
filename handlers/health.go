package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Health handles GET /healthz: 200 once the database answers, 503 while it
// does not (a load balancer then sends requests to another node). The
// answer says which of the two, and nothing else.
func (h *Handlers) Health(c echo.Context) error {
	if err := h.RAM.Ping(ctx(c)); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "reachable"})
}
