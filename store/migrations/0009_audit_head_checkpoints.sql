-- Signed checkpoints of the audit chain's head: the newest event's seq and
-- hash at a moment, with a MAC under a key derived from the master key (which
-- is not in the database). Verification requires the chain to reach the
-- newest one with the same hash, so deleting the newest events shows even
-- when sqlite_sequence is reset too. Each one is also written to the log.
-- Applying this migration also re-anchors an existing plain SHA-256 chain
-- (an AuditChainReanchored event, store/chain.go), from which it is keyed.
CREATE TABLE audit_head_checkpoints (
	id         INTEGER PRIMARY KEY,
	seq        INTEGER NOT NULL,
	hash       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	mac        TEXT NOT NULL
);
