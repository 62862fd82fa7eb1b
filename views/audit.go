package views

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// AuditRow is one event in the audit table.
type AuditRow struct {
	Time, TimeISO string
	WhoType, Who  string
	AccessKeyID   string
	Event         string
	Failed        bool
	ErrorCode     string
	SourceIP      string
	Service       string
	Resource      string // the resource's name or ARN ("" for none)
	Href          string // the event's page
}

// ChainStatus is the hash chain's state as the audit page shows it.
type ChainStatus struct {
	Known      bool // a verification has finished
	Verifying  bool // a background verification is catching up
	OK         bool
	Events     int64
	Through    int64  // the newest verified seq
	Checkpoint int64  // the seq the chain starts after (pruned before)
	BrokenAt   int64  // seq of the first broken event
	BrokenHref string // its page, when its eventId is readable
	Reason     string
	// FullAt is when every event was last verified ("" for not yet);
	// FullRunning is true while that runs.
	FullAt      string
	FullRunning bool
}

// Audit is the audit log page: the filter form, a page of events, links to
// the next page and to the exports of the filtered set.
type Audit struct {
	Layout     Layout
	Filter     Form // values and messages of user, event, result, source_ip, from, to, access_key_id
	Invalid    bool // a filter is wrong: nothing is listed
	Rows       []AuditRow
	NextHref   string
	NewestHref string // back to the first page, when paging
	LatestHref string // the filter's first page, with the events recorded since
	Presets    []Link // the time presets: last hour, day, week
	CSVHref    string
	NDJSONHref string
	Chain      ChainStatus
}

// KV is one labelled value on the event page.
type KV struct {
	Key, Value string
}

// SubjectLink is a user, group or policy an event concerns.
type SubjectLink struct {
	Kind, Name, Href string // Href is "" when it no longer exists
}

// AuditEvent is one event's page.
type AuditEvent struct {
	Layout            Layout
	EventID           string
	EventName         string
	Failed            bool
	ErrorCode         string
	ErrorMessage      string
	Facts             []KV // when, what, where
	Identity          []KV
	RequestParameters []KV
	AdditionalData    []KV
	Subjects          []SubjectLink
	Chain             []KV // seq, prevHash, hash
	JSON              string
	Back              string
}

func int64Text(n int64) string { return strconv.FormatInt(n, 10) }

// Link is a labelled link, marked when it is the page's current choice.
type Link struct {
	Label, Href string
	Active      bool
}

// breakAtSeparators writes an ARN or a name escaped, with a line break
// opportunity (<wbr>) after each ':' and '/', so a long ARN wraps at its
// separators rather than inside a name.
func breakAtSeparators(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for {
			i := strings.IndexAny(s, ":/")
			if i < 0 {
				_, err := io.WriteString(w, templ.EscapeString(s))
				return err
			}
			if _, err := io.WriteString(w, templ.EscapeString(s[:i+1])+"<wbr>"); err != nil {
				return err
			}
			s = s[i+1:]
		}
	})
}
