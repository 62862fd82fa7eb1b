package ram

import (
	"sync/atomic"
	"testing"
	"time"
)

// An AccessKey's LastUsedDate is recorded at most once a minute (issue 7):
// the first use, then nothing until a minute has passed.
func TestKeyUseRecordedOnceAMinute(t *testing.T) {
	var last atomic.Int64
	c := &APICaller{AccessKeyID: "LTAIkey", lastUsed: &last}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if got := c.use(now); !got.Equal(now) {
		t.Fatalf("first use: %v, want it recorded", got)
	}
	if got := c.use(now.Add(59 * time.Second)); !got.IsZero() {
		t.Fatalf("a use 59 s later is recorded again: %v", got)
	}
	if got := c.use(now.Add(time.Minute)); !got.Equal(now.Add(time.Minute)) {
		t.Fatalf("a use a minute later: %v, want it recorded", got)
	}
}
