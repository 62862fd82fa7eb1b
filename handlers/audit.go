package handlers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// auditPageSize is the number of events on one page of the audit log.
const auditPageSize = 50

// auditFields are the filter's query parameters, in the form's order.
var auditFields = []string{"user", "event", "service", "result", "source_ip", "access_key_id", "since", "from", "to"}

// auditPresets are the time presets of the audit page (the since parameter):
// the events of the last hour, day or week, counted from the request.
var auditPresets = []struct {
	Value, Label string
	Span         time.Duration
}{{"1h", "Last hour", time.Hour}, {"24h", "Last 24 hours", 24 * time.Hour}, {"7d", "Last 7 days", 7 * 24 * time.Hour}}

func eventHref(id string) string { return "/audit/" + url.PathEscape(id) }

// auditFilter reads the filter from the query string. The form carries the
// typed values and, for wrong ones, a message each (the page answers 422).
func auditFilter(c echo.Context, now time.Time) (ram.EventFilter, views.Form) {
	f := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, name := range auditFields {
		f.Values[name] = strings.TrimSpace(c.QueryParam(name))
		if len(f.Values[name]) > 256 {
			f.Errors[name] = "At most 256 characters."
		}
	}
	v := f.Values
	filter := ram.EventFilter{UserName: v["user"], EventName: v["event"], SourceIP: v["source_ip"], AccessKeyID: v["access_key_id"],
		ServiceName: v["service"]}
	switch v["result"] {
	case "", ram.ResultSuccess, ram.ResultFailure:
		filter.Result = v["result"]
	default:
		f.Errors["result"] = "Choose success or failure."
	}
	if v["source_ip"] != "" {
		if _, err := netip.ParseAddr(v["source_ip"]); err != nil {
			f.Errors["source_ip"] = "Not an IP address."
		}
	}
	var ok bool
	if v["from"] != "" {
		if filter.From, ok = parseAuditTime(v["from"], false); !ok {
			f.Errors["from"] = "Use YYYY-MM-DD, YYYY-MM-DDTHH:MM or RFC 3339 (2006-01-02T15:04:05Z)."
		}
	}
	if v["to"] != "" {
		if filter.To, ok = parseAuditTime(v["to"], true); !ok {
			f.Errors["to"] = "Use YYYY-MM-DD, YYYY-MM-DDTHH:MM or RFC 3339 (2006-01-02T15:04:05Z)."
		}
	}
	if since := v["since"]; since != "" {
		known := false
		for _, p := range auditPresets {
			if p.Value == since {
				known = true
				if v["from"] != "" {
					f.Errors["from"] = "Choose a preset or a start time, not both."
				} else {
					filter.From = now.Add(-p.Span)
				}
			}
		}
		if !known {
			f.Errors["since"] = "Choose 1h, 24h or 7d."
		}
	}
	if f.Errors["from"] == "" && f.Errors["to"] == "" && !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
		f.Errors["to"] = "The end must be after the start."
	}
	return filter, f
}

// parseAuditTime reads a filter time: a date, a date and minute (both UTC)
// or RFC 3339. As the end of a range (end), a date means the end of that day
// and a minute the end of that minute; RFC 3339 is inclusive to the
// millisecond. The result is an inclusive start or an exclusive end.
func parseAuditTime(s string, end bool) (time.Time, bool) {
	for _, l := range []struct {
		layout string
		span   time.Duration
	}{
		{"2006-01-02", 24 * time.Hour},
		{"2006-01-02T15:04", time.Minute},
		{"2006-01-02 15:04", time.Minute},
		{"2006-01-02T15:04:05", time.Second},
		{time.RFC3339Nano, 0},
	} {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if end {
			if l.span == 0 {
				t = t.Truncate(time.Millisecond).Add(time.Millisecond)
			} else {
				t = t.Add(l.span)
			}
		}
		return t, true
	}
	return time.Time{}, false
}

// auditQuery is the filter as a query string, without the cursor.
func auditQuery(f views.Form) url.Values {
	q := url.Values{}
	for _, name := range auditFields {
		if v := f.Values[name]; v != "" {
			q.Set(name, v)
		}
	}
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// AuditList handles GET /audit: the filtered log, newest first, paged by a
// seq cursor (before), with the hash chain's state.
func (h *Handlers) AuditList(c echo.Context) error {
	filter, form := auditFilter(c, h.RAM.Now())
	if b := c.QueryParam("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "The page cursor is not valid.")
		}
		filter.Before = n
	}
	return h.renderAudit(c, filter, form)
}

// AuditVerifyNow handles POST /audit/verify: a full verification of the
// hash chain (recorded), then back to the audit page, which shows it.
func (h *Handlers) AuditVerifyNow(c echo.Context) error {
	if err := h.RAM.VerifyAuditNow(ctx(c), ActorOf(c)); err != nil {
		return err
	}
	return redirect(c, "/audit")
}

func (h *Handlers) renderAudit(c echo.Context, filter ram.EventFilter, form views.Form) error {
	q := auditQuery(form)
	m := views.Audit{Layout: h.layout(c, "Audit log"), Filter: form,
		CSVHref: withQuery("/audit/export.csv", q), NDJSONHref: withQuery("/audit/export.ndjson", q)}
	auditLinks(&m, form)
	rep, err := h.RAM.AuditIntegrity(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	m.Chain = views.ChainStatus{Known: rep.Known, Verifying: rep.Verifying, OK: rep.OK, Events: rep.Events,
		Checkpoint: rep.Checkpoint, BrokenAt: rep.BrokenAt, Reason: rep.Reason}
	if !rep.FullAt.IsZero() {
		m.Chain.FullAt = rep.FullAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	m.Chain.FullRunning = rep.FullRunning
	if rep.OK {
		m.Chain.Through = rep.Checkpoint + rep.Events
	} else if rep.EventID != "" {
		m.Chain.BrokenHref = eventHref(rep.EventID)
	}
	if len(form.Errors) > 0 {
		m.Invalid = true
		return Render(c, http.StatusUnprocessableEntity, views.AuditPage(m))
	}
	page, err := h.RAM.LookupEvents(ctx(c), ActorOf(c), filter, auditPageSize)
	if err != nil {
		return err
	}
	for i := range page.Events {
		m.Rows = append(m.Rows, auditRow(&page.Events[i]))
	}
	if page.Next > 0 {
		next := auditQuery(form)
		next.Set("before", strconv.FormatInt(page.Next, 10))
		m.NextHref = withQuery("/audit", next)
	}
	if filter.Before > 0 {
		m.NewestHref = withQuery("/audit", q)
	}
	return Render(c, http.StatusOK, views.AuditPage(m))
}

// auditLinks fills the time presets (the filter with each "since") and the
// "Latest" link (the filter's first page, for events recorded since).
func auditLinks(m *views.Audit, form views.Form) {
	for _, p := range auditPresets {
		q := auditQuery(form)
		q.Del("from")
		q.Set("since", p.Value)
		m.Presets = append(m.Presets, views.Link{Label: p.Label, Href: withQuery("/audit", q), Active: form.Values["since"] == p.Value})
	}
	m.LatestHref = withQuery("/audit", auditQuery(form))
}

func auditRow(e *ram.AuditEvent) views.AuditRow {
	r := views.AuditRow{Time: eventTime(e.EventTime), TimeISO: e.EventTime, Event: e.EventName, Failed: e.IsError,
		ErrorCode: e.ErrorCode, SourceIP: e.SourceIPAddress, Href: eventHref(e.EventID), AccessKeyID: e.UserIdentity.AccessKeyID,
		Service: e.ServiceName, Resource: e.ResourceName}
	r.WhoType, r.Who = who(e)
	if r.Resource == "" {
		r.Resource = eventResource(e.RequestParameters)
	}
	return r
}

// eventResource names what an event without a resourceName acted on, from
// its request parameters: the user, group, policy or role it names.
func eventResource(params map[string]any) string {
	for _, k := range []struct{ key, kind string }{{"UserName", "user/"}, {"GroupName", "group/"}, {"PolicyName", "policy/"}, {"RoleName", "role/"}} {
		if v, _ := params[k.key].(string); v != "" {
			return k.kind + v
		}
	}
	return ""
}

// who is an event's identity for people: its type and its name.
func who(e *ram.AuditEvent) (string, string) {
	switch e.UserIdentity.Type {
	case "root-account":
		return "owner", e.UserIdentity.UserName
	case "ram-user":
		return "RAM user", e.UserIdentity.UserName
	}
	if name, _ := e.AdditionalEventData["loginAccount"].(string); name != "" {
		return e.UserIdentity.Type, strconv.Quote(name)
	}
	return e.UserIdentity.Type, ""
}

// eventTime shows a stored event time (RFC 3339, ms) for people.
func eventTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// AuditEventShow handles GET /audit/:id: one event in full, with links to
// the users, groups and policies it concerns that still exist.
func (h *Handlers) AuditEventShow(c echo.Context) error {
	e, err := h.RAM.GetEvent(ctx(c), ActorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	m := views.AuditEvent{Layout: h.layout(c, e.EventName), EventID: e.EventID, EventName: e.EventName, Failed: e.IsError,
		ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, Back: "/audit"}
	kv := func(list *[]views.KV, k, v string) {
		if v != "" {
			*list = append(*list, views.KV{Key: k, Value: v})
		}
	}
	result := "Success"
	if e.IsError {
		result = "Failed: " + e.ErrorCode
	}
	for _, f := range [][2]string{
		{"Event ID", e.EventID}, {"Time", eventTime(e.EventTime) + " (" + e.EventTime + ")"}, {"Event name", e.EventName},
		{"Event type", e.EventType}, {"Event source", e.EventSource}, {"Service", e.ServiceName}, {"Read/Write", e.EventRW},
		{"Result", result}, {"Error message", e.ErrorMessage}, {"Resource", e.ResourceName}, {"Request ID", e.RequestID},
		{"Source IP", e.SourceIPAddress}, {"User agent", e.UserAgent}, {"Event version", e.EventVersion},
	} {
		kv(&m.Facts, f[0], f[1])
	}
	id := e.UserIdentity
	for _, f := range [][2]string{{"Type", id.Type}, {"User name", id.UserName}, {"Principal ID", id.PrincipalID},
		{"Account ID", id.AccountID}, {"AccessKey ID", id.AccessKeyID}} {
		kv(&m.Identity, f[0], f[1])
	}
	m.RequestParameters = kvMap(e.RequestParameters)
	m.AdditionalData = kvMap(e.AdditionalEventData)
	for _, s := range h.RAM.EventSubjects(ctx(c), e) {
		l := views.SubjectLink{Kind: s.Kind, Name: s.Name}
		if s.Exists {
			switch s.Kind {
			case "user":
				l.Href = userHref(s.Name)
			case "group":
				l.Href = groupHref(s.Name)
			case "policy":
				l.Href = "/policies/" + url.PathEscape(s.PolicyType) + "/" + url.PathEscape(s.Name)
			}
		}
		m.Subjects = append(m.Subjects, l)
	}
	m.Chain = []views.KV{{Key: "Seq", Value: strconv.FormatInt(e.Seq, 10)}, {Key: "prevHash", Value: e.PrevHash}, {Key: "hash", Value: e.Hash}}
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(e.Body), "", "  ") == nil {
		m.JSON = pretty.String()
	} else {
		m.JSON = e.Body
	}
	return Render(c, http.StatusOK, views.AuditEventPage(m))
}

// kvMap lists a JSON object's members by key: strings as they are, other
// values as JSON.
func kvMap(m map[string]any) []views.KV {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]views.KV, 0, len(keys))
	for _, k := range keys {
		v, ok := m[k].(string)
		if !ok {
			b, _ := json.Marshal(m[k])
			v = string(b)
		}
		out = append(out, views.KV{Key: k, Value: v})
	}
	return out
}

// AuditExportCSV handles GET /audit/export.csv: the filtered events, oldest
// first, one row each, streamed; cells that a spreadsheet would take for a
// formula are neutralised.
func (h *Handlers) AuditExportCSV(c echo.Context) error {
	return h.export(c, "csv", "text/csv; charset=utf-8", "audit-events.csv", func(w *bufio.Writer) (func(e *ram.RawEvent) error, func() error) {
		cw := csv.NewWriter(w)
		header := false
		var row [len(csvColumns)]string
		var ev csvEvent
		each := func(e *ram.RawEvent) error {
			if !header {
				header = true
				if err := cw.Write(csvColumns[:]); err != nil {
					return err
				}
			}
			ev = csvEvent{}
			if err := json.Unmarshal(e.Body, &ev); err != nil {
				return fmt.Errorf("handlers: export event %d: %w", e.Seq, err)
			}
			ev.fill(&row, e)
			for i := range row {
				row[i] = neutralise(row[i])
			}
			return cw.Write(row[:])
		}
		done := func() error {
			if !header {
				if err := cw.Write(csvColumns[:]); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		}
		return each, done
	})
}

// AuditExportNDJSON handles GET /audit/export.ndjson: the filtered events,
// oldest first, each line the event's recorded JSON.
func (h *Handlers) AuditExportNDJSON(c echo.Context) error {
	return h.export(c, "ndjson", "application/x-ndjson", "audit-events.ndjson", func(w *bufio.Writer) (func(e *ram.RawEvent) error, func() error) {
		each := func(e *ram.RawEvent) error {
			w.Write(e.Body)
			return w.WriteByte('\n')
		}
		return each, func() error { return nil }
	})
}

// export streams the filtered events through the format's writer. Headers
// go out with the first byte, so a refusal before it is an ordinary error
// page; a failure after it aborts the connection, so a cut-short file never
// looks complete.
func (h *Handlers) export(c echo.Context, format, ctype, filename string,
	writer func(w *bufio.Writer) (each func(e *ram.RawEvent) error, done func() error)) error {
	filter, form := auditFilter(c, h.RAM.Now())
	if len(form.Errors) > 0 {
		return h.renderAudit(c, filter, form)
	}
	resp := c.Response()
	started := false
	start := func() {
		if !started {
			started = true
			resp.Header().Set(echo.HeaderContentType, ctype)
			resp.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
			resp.WriteHeader(http.StatusOK)
		}
	}
	bw := bufio.NewWriterSize(resp, 64<<10)
	each, done := writer(bw)
	err := h.RAM.ExportEvents(ctx(c), ActorOf(c), filter, format, func(e *ram.RawEvent) error {
		start()
		return each(e)
	})
	if err == nil {
		start()
		err = done()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && started {
		panic(http.ErrAbortHandler)
	}
	return err
}

// csvColumns are the CSV export's columns.
var csvColumns = [...]string{"eventTime", "eventId", "eventType", "eventSource", "eventName", "eventRW", "serviceName",
	"requestId", "userType", "userName", "principalId", "accountId", "accessKeyId", "sourceIpAddress", "userAgent",
	"resourceName", "isError", "errorCode", "errorMessage", "requestParameters", "additionalEventData", "seq", "prevHash", "hash"}

// csvEvent decodes what the CSV shows; the JSON objects stay as recorded.
type csvEvent struct {
	EventTime    string `json:"eventTime"`
	EventID      string `json:"eventId"`
	EventType    string `json:"eventType"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	EventRW      string `json:"eventRW"`
	ServiceName  string `json:"serviceName"`
	RequestID    string `json:"requestId"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		AccountID   string `json:"accountId"`
		UserName    string `json:"userName"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	SourceIPAddress     string          `json:"sourceIpAddress"`
	UserAgent           string          `json:"userAgent"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResourceName        string          `json:"resourceName"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	IsError             bool            `json:"isError"`
}

func (ev *csvEvent) fill(row *[len(csvColumns)]string, e *ram.RawEvent) {
	id := &ev.UserIdentity
	*row = [len(csvColumns)]string{ev.EventTime, ev.EventID, ev.EventType, ev.EventSource, ev.EventName, ev.EventRW, ev.ServiceName,
		ev.RequestID, id.Type, id.UserName, id.PrincipalID, id.AccountID, id.AccessKeyID, ev.SourceIPAddress, ev.UserAgent,
		ev.ResourceName, strconv.FormatBool(ev.IsError), ev.ErrorCode, ev.ErrorMessage, string(ev.RequestParameters),
		string(ev.AdditionalEventData), strconv.FormatInt(e.Seq, 10), e.PrevHash, e.Hash}
}

// neutralise prefixes a cell a spreadsheet would read as a formula (one
// starting with =, +, -, @, a tab or a carriage return) with a quote.
func neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
