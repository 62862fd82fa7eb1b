package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Copying a SQLite installation into PostgreSQL (`ramconsole migrate`).

// copyTables are the tables a copy carries, parents before children. Not
// copied: console sessions, "remember this device" tickets, one-time
// downloads and the OpenID provider's pending requests, codes and tokens (a copy ends every console session: its users sign in again on
// the new database), outstanding SAML sign-ins and cached OIDC issuers' JWKS
// (fetched again), SQLite's own bookkeeping (migrations, the journal's
// mark), and the access review's rollups: the new database's mark is 0, so
// its first start rolls every copied event up again. Unexpired nonces move from SQLite's log into api_nonces.
var copyTables = []string{
	"account", "owner", "settings", "users", "login_profiles", "password_history", "access_keys",
	"groups", "group_members", "mfa_devices", "policies", "policy_versions", "roles", "policy_attachments",
	"role_sessions", "services", "service_hosts", "security_keys", "webauthn_handles", "oidc_keys", "applications", "app_secrets",
	"user_sso_settings", "saml_providers", "oidc_providers", "saml_assertions", "credential_report",
	"events", "audit_checkpoints", "audit_head_checkpoints",
}

// identityColumns are the copied tables' generated ids, whose sequences
// must continue after the copied rows.
var identityColumns = map[string]string{
	"password_history": "id", "mfa_devices": "id", "policies": "policy_id", "policy_attachments": "id",
	"audit_checkpoints": "id", "audit_head_checkpoints": "id",
}

// CopyReport says what a copy carried.
type CopyReport struct {
	Rows   map[string]int64 // by table
	Nonces int
	Chain  ChainReport // the copy's audit chain, verified
}

// ErrTargetNotEmpty is returned by CopyTo when the target holds data.
var ErrTargetNotEmpty = errors.New("store: the target database is not empty (it holds an account, users or audit events); migrate copies only into a new, empty database")

// CopyTo copies everything s (a SQLite store, with its journal folded)
// holds into the empty PostgreSQL database at url, in one transaction, then
// verifies the copy's audit chain with the same master key: it must verify
// and end at the same head as the source's. A target holding data is
// refused (ErrTargetNotEmpty) and left untouched.
func (s *Store) CopyTo(ctx context.Context, url string) (CopyReport, error) {
	rep := CopyReport{Rows: map[string]int64{}}
	if s.pg {
		return rep, errors.New("store: migrate copies from a SQLite data directory")
	}
	if !IsPostgres(url) {
		return rep, errors.New("store: migrate copies into a postgres:// database")
	}
	if err := s.Settle(ctx); err != nil {
		return rep, err
	}
	srcChain, err := s.VerifyChain(ctx)
	if err != nil {
		return rep, err
	}
	if !srcChain.OK {
		return rep, fmt.Errorf("store: the source's audit chain does not verify (seq %d: %s); not copying it", srcChain.BrokenAt, srcChain.Reason)
	}
	// The target's schema, by opening it as a store.
	dst, err := openPG(ctx, url, s.now, nil)
	if err != nil {
		return rep, err
	}
	dst.keys = s.keys
	defer dst.Close()

	src, err := s.read.BeginTx(ctx, nil) // one snapshot of the source
	if err != nil {
		return rep, fmt.Errorf("store: copy: %w", err)
	}
	defer src.Rollback()
	err = dst.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM users)
			+ (SELECT count(*) FROM events) + (SELECT count(*) FROM audit_checkpoints)`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrTargetNotEmpty
		}
		for _, table := range copyTables {
			c, err := copyTable(ctx, src, tx.Tx, table)
			if err != nil {
				return fmt.Errorf("copy %s: %w", table, err)
			}
			rep.Rows[table] = c
			if col := identityColumns[table]; col != "" && c > 0 {
				if _, err := tx.Tx.ExecContext(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), (SELECT max(%s) FROM %s))", table, col, col, table)); err != nil {
					return fmt.Errorf("copy %s: %w", table, err)
				}
			}
		}
		// The highest seq ever used, as SQLite remembers it.
		var maxSeq int64
		if err := src.QueryRowContext(ctx, s.qMaxSeqEver()).Scan(&maxSeq); err != nil {
			return err
		}
		if _, err := tx.Tx.ExecContext(ctx, "UPDATE events_seq SET n = greatest(n, ?) WHERE id = 1", maxSeq); err != nil {
			return err
		}
		rep.Nonces, err = copyNonces(ctx, src, tx.Tx, timeText(s.Now()))
		return err
	}, true)
	if err != nil {
		return rep, fmt.Errorf("store: copy: %w", err)
	}
	rep.Chain, err = dst.VerifyChain(ctx)
	if err != nil {
		return rep, err
	}
	if !rep.Chain.OK {
		return rep, fmt.Errorf("store: the copy's audit chain does not verify (seq %d: %s)", rep.Chain.BrokenAt, rep.Chain.Reason)
	}
	if rep.Chain.Head != srcChain.Head || rep.Chain.Events != srcChain.Events {
		return rep, fmt.Errorf("store: the copy's audit chain ends at seq %d (%d events), the source's at seq %d (%d events)",
			rep.Chain.Head.Seq, rep.Chain.Events, srcChain.Head.Seq, srcChain.Events)
	}
	return rep, nil
}

// copyTable copies every row of table, column by column as named.
func copyTable(ctx context.Context, src *sql.Tx, dst *sql.Tx, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	ins, err := dst.PrepareContext(ctx, "INSERT INTO "+table+"("+strings.Join(cols, ", ")+") VALUES ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+")")
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// copyNonces moves the unexpired nonces of SQLite's log into api_nonces.
func copyNonces(ctx context.Context, src *sql.Tx, dst *sql.Tx, now string) (int, error) {
	rows, err := src.QueryContext(ctx, "SELECT nonces FROM api_nonce_log WHERE expires_at >= ?", now)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var data string
		var list [][3]string
		if err := rows.Scan(&data); err != nil {
			return n, err
		}
		if err := json.Unmarshal([]byte(data), &list); err != nil {
			return n, err
		}
		for _, v := range list {
			if v[2] < now {
				continue
			}
			if _, err := dst.ExecContext(ctx, "INSERT INTO api_nonces(access_key_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", v[0], v[1], v[2]); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, rows.Err()
}
