package store

import (
	"context"
	"fmt"
	"time"
)

// UsageRow is one line of a resource service's usage (SPEC §13): the
// gateway's decisions for one day, action and operator, allowed and denied.
type UsageRow struct {
	Day    string // YYYY-MM-DD, UTC
	Action string // the action's name part, the events' eventName
	// OperatorType is the userIdentity type (ram-user, assumed-role,
	// root-account, or unknown when nobody could be identified); Operator
	// is the user's name, or a role session's RoleName/SessionName.
	OperatorType, Operator string
	Allowed, Denied        int64
}

// ServiceUsage sums the decisions recorded for the service code from from
// (inclusive) to to (exclusive; zero means now), newest day first, then by
// action and operator. It reads the events through their service index, from
// the first event at from: its cost is that of the period's events.
func (s *Store) ServiceUsage(ctx context.Context, code string, from, to time.Time) ([]UsageRow, error) {
	if err := s.Settle(ctx); err != nil {
		return nil, err
	}
	lo, ok, err := firstSeqAt(ctx, s.read, timeText(from))
	if err != nil || !ok {
		return nil, err
	}
	end := "9999"
	if !to.IsZero() {
		end = timeText(to)
	}
	rows, err := s.read.QueryContext(ctx, qServiceUsage, code, lo, end)
	if err != nil {
		return nil, fmt.Errorf("store: service usage: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*UsageRow, error) {
		var r UsageRow
		if err := scan(&r.Day, &r.Action, &r.OperatorType, &r.Operator, &r.Allowed, &r.Denied); err != nil {
			return nil, fmt.Errorf("store: service usage: %w", err)
		}
		return &r, nil
	})
}

// qServiceUsage reads one service's events from a seq on (through the
// events_service index: the period's events of the service, no others).
const qServiceUsage = `SELECT substr(event_time, 1, 10), event_name, user_type, user_name,
	sum(CASE WHEN is_error = 0 THEN 1 ELSE 0 END), sum(CASE WHEN is_error = 0 THEN 0 ELSE 1 END)
	FROM events WHERE service_name = ? AND seq >= ? AND event_time < ? AND event_type = 'ApiCall'
	GROUP BY 1, 2, 3, 4 ORDER BY 1 DESC, 2, 4`
