-- The account: one per deployment.
CREATE TABLE account (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	account_id  TEXT NOT NULL,
	alias       TEXT,
	created_at  TEXT NOT NULL
);

-- The owner (the root identity): signs in with an email address.
CREATE TABLE owner (
	id                  INTEGER PRIMARY KEY CHECK (id = 1),
	email               TEXT NOT NULL,
	password_hash       TEXT NOT NULL,
	password_changed_at TEXT NOT NULL,
	failed_count        INTEGER NOT NULL DEFAULT 0,
	fail_window_start   TEXT,
	locked_until        TEXT,
	last_login_at       TEXT,
	created_at          TEXT NOT NULL
);

-- Virtual MFA devices. principal is 'root' or 'user/<UserId>' while bound.
CREATE TABLE mfa_devices (
	id          INTEGER PRIMARY KEY,
	serial      TEXT NOT NULL UNIQUE,
	principal   TEXT UNIQUE,
	seed_enc    BLOB NOT NULL,
	last_step   INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL,
	bound_at    TEXT
);

-- Server-side console sessions; the cookie holds a random id, this table its SHA-256.
CREATE TABLE sessions (
	id_hash     TEXT PRIMARY KEY,
	principal   TEXT NOT NULL DEFAULT '',
	data        TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_principal ON sessions(principal) WHERE principal <> '';
CREATE INDEX sessions_expires ON sessions(expires_at);

-- The audit log: ActionTrail-shaped events in a SHA-256 hash chain.
CREATE TABLE events (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	event_id       TEXT NOT NULL UNIQUE,
	event_time     TEXT NOT NULL,
	event_type     TEXT NOT NULL,
	event_source   TEXT NOT NULL,
	event_name     TEXT NOT NULL,
	user_type      TEXT NOT NULL,
	user_name      TEXT NOT NULL DEFAULT '',
	principal_id   TEXT NOT NULL DEFAULT '',
	access_key_id  TEXT NOT NULL DEFAULT '',
	source_ip      TEXT NOT NULL DEFAULT '',
	request_id     TEXT NOT NULL DEFAULT '',
	resource_name  TEXT NOT NULL DEFAULT '',
	error_code     TEXT NOT NULL DEFAULT '',
	is_error       INTEGER NOT NULL DEFAULT 0,
	body           TEXT NOT NULL,
	prev_hash      TEXT NOT NULL,
	hash           TEXT NOT NULL
);
CREATE INDEX events_time ON events(event_time);
CREATE INDEX events_user ON events(user_name, seq);
CREATE INDEX events_name ON events(event_name, seq);

-- Where the chain starts after old events were pruned.
CREATE TABLE audit_checkpoints (
	id          INTEGER PRIMARY KEY,
	after_seq   INTEGER NOT NULL,
	last_hash   TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
