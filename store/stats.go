package store

import (
	"context"
	"database/sql"
	"time"
)

// Health is what an operator watches of the store (/metrics).
type Health struct {
	// Read and Write are the reader pool's and the writer's connections.
	Read, Write sql.DBStats
	// JournalBacklog is the audit records answered but not yet folded into
	// the events table.
	JournalBacklog int
}

// Health returns the store's current figures.
func (s *Store) Health() Health {
	st := Health{Read: s.read.Stats(), Write: s.write.Stats()}
	if j := s.journal; j != nil {
		j.mu.Lock()
		st.JournalBacklog = len(j.items)
		j.mu.Unlock()
	}
	return st
}

// FoldObserver is told how long each background fold of the audit journal
// took, and whether it failed.
type FoldObserver func(d time.Duration, err error)

// SetFoldObserver installs fn; call it before serving.
func (s *Store) SetFoldObserver(fn FoldObserver) { s.foldObserver.Store(&fn) }

// settleObserved is the flusher's fold, timed for the observer.
func (s *Store) settleObserved() error {
	start := time.Now()
	err := s.Settle(context.Background())
	if fn := s.foldObserver.Load(); fn != nil {
		(*fn)(time.Since(start), err)
	}
	return err
}
