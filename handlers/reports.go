package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// The credential report's console pages (SPEC §16.7): the latest report as
// a table, generating a new one, and its CSV.

// reportTimeLayout is how the page shows the report's generation time.
const reportTimeLayout = "2006-01-02T15:04:05Z"

// CredentialReport handles GET /reports/credentials: the latest report (one
// is generated first when there is none).
func (h *Handlers) CredentialReport(c echo.Context) error {
	rep, err := h.RAM.CredentialReport(ctx(c), ActorOf(c), "html")
	if err != nil {
		return err
	}
	m := views.CredentialReport{Layout: h.layout(c, "Credential report"), Generated: rep.GeneratedAt.UTC().Format(reportTimeLayout),
		Columns: ram.CredentialReportColumns[:], Rows: rep.Rows,
		CanGenerate: h.can(c, ram.ActionGenerateCredentialReport, ram.AnyRef())}
	return Render(c, http.StatusOK, views.CredentialReportPage(m))
}

// CredentialReportGenerate handles POST /reports/credentials: a new report.
func (h *Handlers) CredentialReportGenerate(c echo.Context) error {
	rep, err := h.RAM.GenerateCredentialReport(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	return flashDone(c, "/reports/credentials", "A new credential report was generated at "+rep.GeneratedAt.UTC().Format(reportTimeLayout)+".")
}

// CredentialReportCSV handles GET /reports/credentials.csv: the latest
// report with the API's columns and rows, each cell neutralised as the
// audit export's are.
func (h *Handlers) CredentialReportCSV(c echo.Context) error {
	rep, err := h.RAM.CredentialReport(ctx(c), ActorOf(c), "csv")
	if err != nil {
		return err
	}
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentDisposition, `attachment; filename="credential-report.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", ram.CredentialReportCSV(rep.Rows, neutralise))
}
