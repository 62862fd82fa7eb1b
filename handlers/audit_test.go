package handlers

import (
	"testing"
	"time"
)

func TestNeutralise(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"equals starts a formula", "=1+1", "'=1+1"},
		{"plus starts a formula", "+SUM(A1)", "'+SUM(A1)"},
		{"minus starts a formula", "-2+3", "'-2+3"},
		{"at starts a formula", "@cmd", "'@cmd"},
		{"a tab starts a formula", "\tx", "'\tx"},
		{"a carriage return starts a formula", "\rx", "'\rx"},
		{"plain text is kept", "alice", "alice"},
		{"an inner equals is kept", "a=b", "a=b"},
		{"empty stays empty", "", ""},
	}
	for _, tc := range cases {
		if got := neutralise(tc.in); got != tc.want {
			t.Errorf("%s: neutralise(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestParseAuditTime(t *testing.T) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		in   string
		end  bool
		want time.Time
		ok   bool
	}{
		{"a date starts at midnight UTC", "2026-11-26", false, day, true},
		{"a date as the end includes the whole day", "2026-11-26", true, day.AddDate(0, 0, 1), true},
		{"a minute", "2026-11-26T09:30", false, day.Add(9*time.Hour + 30*time.Minute), true},
		{"a minute as the end includes it", "2026-11-26T09:30", true, day.Add(9*time.Hour + 31*time.Minute), true},
		{"RFC 3339 with a zone is converted to UTC", "2026-11-26T10:00:00+01:00", false, day.Add(9 * time.Hour), true},
		{"RFC 3339 as the end is inclusive to the millisecond", "2026-11-26T09:00:00Z", true, day.Add(9*time.Hour + time.Millisecond), true},
		{"words are refused", "yesterday", false, time.Time{}, false},
		{"a month 13 is refused", "2026-13-01", false, time.Time{}, false},
	}
	for _, tc := range cases {
		got, ok := parseAuditTime(tc.in, tc.end)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: parseAuditTime(%q, %v) = %v, %v; want %v, %v", tc.name, tc.in, tc.end, got, ok, tc.want, tc.ok)
		}
	}
}
