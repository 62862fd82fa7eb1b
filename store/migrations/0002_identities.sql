-- RAM users. user_name_lower enforces case-insensitive uniqueness and serves
-- keyset paging; display_lower serves the search by display name.
CREATE TABLE users (
	user_id           TEXT PRIMARY KEY,
	user_name         TEXT NOT NULL,
	user_name_lower   TEXT NOT NULL UNIQUE,
	display_name      TEXT NOT NULL,
	display_lower     TEXT NOT NULL,
	email             TEXT NOT NULL DEFAULT '',
	mobile_phone      TEXT NOT NULL DEFAULT '',
	comments          TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	last_login_at     TEXT,
	failed_count      INTEGER NOT NULL DEFAULT 0,
	fail_window_start TEXT,
	locked_until      TEXT
);
CREATE INDEX users_display ON users(display_lower, user_name_lower);

-- Console access of a RAM user.
CREATE TABLE login_profiles (
	user_id                 TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
	password_hash           TEXT NOT NULL,
	password_reset_required INTEGER NOT NULL DEFAULT 0,
	mfa_bind_required       INTEGER NOT NULL DEFAULT 0,
	status                  TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
	password_changed_at     TEXT NOT NULL,
	created_at              TEXT NOT NULL,
	updated_at              TEXT NOT NULL
);

-- Hashes of earlier passwords, for PasswordReusePrevention.
CREATE TABLE password_history (
	id            INTEGER PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);

-- AccessKeys; the secret is sealed under the master key.
CREATE TABLE access_keys (
	access_key_id TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
	secret_enc    BLOB NOT NULL,
	status        TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
	created_at    TEXT NOT NULL,
	last_used_at  TEXT
);
CREATE INDEX access_keys_user ON access_keys(user_id);

-- One-time CSV downloads of a new AccessKey: bound to the creating session,
-- single use, ten minutes.
CREATE TABLE key_downloads (
	token_hash    TEXT PRIMARY KEY,
	session_hash  TEXT NOT NULL,
	access_key_id TEXT NOT NULL,
	secret_enc    BLOB NOT NULL,
	expires_at    TEXT NOT NULL
);

CREATE TABLE groups (
	group_id         TEXT PRIMARY KEY,
	group_name       TEXT NOT NULL,
	group_name_lower TEXT NOT NULL UNIQUE,
	comments         TEXT NOT NULL DEFAULT '',
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL
);

CREATE TABLE group_members (
	group_id  TEXT NOT NULL REFERENCES groups(group_id) ON DELETE CASCADE,
	user_id   TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
	joined_at TEXT NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id, group_id);

-- Account settings (password policy, security preference) as JSON.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- "Remember this device" tickets that skip the MFA step for 7 days.
CREATE TABLE mfa_tickets (
	token_hash TEXT PRIMARY KEY,
	principal  TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX mfa_tickets_principal ON mfa_tickets(principal);
