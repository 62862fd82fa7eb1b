package ram

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"

	"ramconsole/store"
)

// apiEventRW is ActionTrail's eventRW of an API action: Read for Get* and
// List*, Write for everything else.
func apiEventRW(name string) string {
	if strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") {
		return "Read"
	}
	return "Write"
}

// APICall is an OpenAPI call to record when the operation did not record it
// itself: a read, or a call refused before the operation ran (a bad
// signature, a missing parameter, an unknown action, a name that is not
// valid).
type APICall struct {
	Action       string
	Resource     string
	Params       map[string]any
	ErrorCode    string
	ErrorMessage string
	// Recorded is true when the operation wrote its event already; only
	// the nonce and the key's use are then written.
	Recorded bool
	// Caller, Nonce and Timestamp, for an authenticated call whose nonce is
	// recorded here (a read): in the same transaction as the event.
	Caller    *APICaller
	Nonce     string
	Timestamp time.Time
}

// RecordAPICall writes a call's audit event (eventType ApiCall) and, for an
// authenticated read, its nonce and the key's use, in one transaction. When
// the nonce turns out to be used already, the event records the refusal and
// ErrNonceUsed is returned: the caller must answer SignatureNonceUsed.
//
// Concurrent calls are committed together (group commit): one transaction
// and one fsync for every call that arrived while the previous batch was
// being written. Each call still gets its own event, and is answered only
// once its batch is durable.
func (s *Service) RecordAPICall(ctx context.Context, a Actor, call APICall) error {
	a.API = true
	if call.Recorded && (call.Caller == nil || call.Nonce == "") {
		return nil // nothing left to write
	}
	j := &apiJob{a: a, call: call}
	s.apiBatch().run(j, func(batch []*apiJob) error {
		return s.st.Update(ctx, func(tx *store.Tx) error {
			for _, j := range batch {
				if err := s.recordAPICall(ctx, tx, j); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if j.err != nil {
		return j.err
	}
	if j.replayed {
		return ErrNonceUsed
	}
	return nil
}

func (s *Service) recordAPICall(ctx context.Context, tx *store.Tx, j *apiJob) error {
	a, call := j.a, j.call
	if call.Caller != nil && call.Nonce != "" {
		fresh, err := s.useNonce(ctx, tx, call.Caller.AccessKeyID, call.Nonce, call.Timestamp)
		if err != nil {
			return err
		}
		if !fresh {
			j.replayed = true
			call.Recorded = false
			call.ErrorCode, call.ErrorMessage = ErrNonceUsed.Code, ErrNonceUsed.Message
		} else if tx.Now().Sub(call.Caller.LastUsed) >= time.Minute {
			if err := tx.MarkAccessKeyUsed(ctx, call.Caller.AccessKeyID); err != nil {
				return err
			}
		}
	}
	if call.Recorded {
		return nil
	}
	ev := s.event(ctx, a, s.accountID(ctx), EventAPICall, call.Action)
	ev.EventRW = apiEventRW(call.Action)
	if a.AccessKeyID != "" {
		ev.UserIdentity.AccessKeyID = truncate(a.AccessKeyID, 64)
	}
	ev.ResourceName = call.Resource
	ev.RequestParameters = call.Params
	if call.ErrorCode != "" {
		failEvent(ev, call.ErrorCode, call.ErrorMessage)
	}
	return tx.AppendEvent(ctx, ev)
}

// apiJob is one call waiting for its batch to commit.
type apiJob struct {
	a        Actor
	call     APICall
	replayed bool
	err      error
	done     chan struct{} // closed when the job's batch is committed
	lead     chan struct{} // signalled when the job is to commit the next batch
}

// batcher commits jobs in groups. A job that finds no batch being written
// writes every job queued so far (up to maxBatch) in one transaction; when
// more jobs queued meanwhile, it hands the next batch to the oldest of
// them, so no caller writes more than one batch.
type batcher struct {
	mu      sync.Mutex
	pending []*apiJob
	running bool
}

// maxBatch bounds a batch, so one transaction stays short.
const maxBatch = 256

func (b *batcher) run(j *apiJob, commit func([]*apiJob) error) {
	j.done, j.lead = make(chan struct{}), make(chan struct{}, 1)
	b.mu.Lock()
	b.pending = append(b.pending, j)
	if b.running {
		b.mu.Unlock()
		select {
		case <-j.done:
			return
		case <-j.lead: // j is pending[0] now: it writes the next batch
			b.mu.Lock()
		}
	}
	b.running = true
	n := min(len(b.pending), maxBatch)
	batch := b.pending[:n:n]
	b.pending = b.pending[n:]
	b.mu.Unlock()
	err := commit(batch)
	for _, bj := range batch {
		if err != nil {
			bj.err, bj.replayed = err, false
		}
		if bj != j {
			close(bj.done)
		}
	}
	b.mu.Lock()
	if len(b.pending) > 0 {
		b.pending[0].lead <- struct{}{}
	} else {
		b.running = false
	}
	b.mu.Unlock()
}

// apiBatchers holds each service's batcher, keyed weakly so that a service
// no longer in use (tests make many) is not kept alive by it.
var apiBatchers sync.Map // weak.Pointer[Service] → *batcher

// apiBatch is the service's batcher of API audit writes.
func (s *Service) apiBatch() *batcher {
	key := weak.Make(s)
	if b, ok := apiBatchers.Load(key); ok {
		return b.(*batcher)
	}
	b, loaded := apiBatchers.LoadOrStore(key, &batcher{})
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[Service]) { apiBatchers.Delete(k) }, key)
	}
	return b.(*batcher)
}

// EventRecorded reports whether an event of the request was written (by
// the operation, or by its refusal).
func (s *Service) EventRecorded(ctx context.Context, requestID string) (bool, error) {
	return s.st.HasEventForRequest(ctx, requestID)
}
