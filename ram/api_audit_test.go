package ram

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatcherCommitsEveryJobOnce: under concurrent load every job is
// committed exactly once, batches group jobs, and no caller waits for more
// than its own batch to be written.
func TestBatcherCommitsEveryJobOnce(t *testing.T) {
	var b batcher
	var committed, batches atomic.Int64
	seen := sync.Map{}
	commit := func(batch []*apiJob) error {
		batches.Add(1)
		for _, j := range batch {
			if _, dup := seen.LoadOrStore(j, true); dup {
				t.Errorf("job committed twice")
			}
		}
		committed.Add(int64(len(batch)))
		time.Sleep(200 * time.Microsecond) // an fsync
		return nil
	}
	var wg sync.WaitGroup
	const workers, each = 32, 50
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				j := &apiJob{}
				b.run(j, commit)
				if j.err != nil {
					t.Error(j.err)
				}
			}
		}()
	}
	wg.Wait()
	if committed.Load() != workers*each {
		t.Fatalf("committed %d jobs, want %d", committed.Load(), workers*each)
	}
	if batches.Load() >= workers*each {
		t.Errorf("%d batches for %d jobs: nothing was grouped", batches.Load(), workers*each)
	}
	if b.running || len(b.pending) != 0 {
		t.Errorf("batcher left running=%v with %d pending", b.running, len(b.pending))
	}
}

func TestBatcherReportsCommitErrorsToEveryJob(t *testing.T) {
	var b batcher
	boom := errors.New("disk full")
	j := &apiJob{replayed: true}
	b.run(j, func([]*apiJob) error { return boom })
	if j.err != boom || j.replayed {
		t.Errorf("job after a failed commit: err %v, replayed %v", j.err, j.replayed)
	}
}
