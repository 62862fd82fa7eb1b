-- RAM roles: identities with no password and no key, assumed through STS
-- by whoever their trust policy (assume_role_policy) names.
CREATE TABLE roles (
	role_id              TEXT PRIMARY KEY,
	role_name            TEXT NOT NULL,
	role_name_lower      TEXT NOT NULL UNIQUE,
	description          TEXT NOT NULL DEFAULT '',
	assume_role_policy   TEXT NOT NULL,
	max_session_duration INTEGER NOT NULL,
	created_at           TEXT NOT NULL,
	updated_at           TEXT NOT NULL
);

-- Policies attach to roles too: exactly one of user_id, group_id and
-- role_id is set. SQLite cannot change a CHECK in place, so the table is
-- rebuilt (nothing references it).
CREATE TABLE policy_attachments_v2 (
	id          INTEGER PRIMARY KEY,
	policy_type TEXT NOT NULL CHECK (policy_type IN ('System', 'Custom')),
	policy_name TEXT NOT NULL,
	user_id     TEXT REFERENCES users(user_id) ON DELETE CASCADE,
	group_id    TEXT REFERENCES groups(group_id) ON DELETE CASCADE,
	role_id     TEXT REFERENCES roles(role_id) ON DELETE CASCADE,
	attached_at TEXT NOT NULL,
	CHECK ((user_id IS NOT NULL) + (group_id IS NOT NULL) + (role_id IS NOT NULL) = 1)
);
INSERT INTO policy_attachments_v2(id, policy_type, policy_name, user_id, group_id, attached_at)
	SELECT id, policy_type, policy_name, user_id, group_id, attached_at FROM policy_attachments;
DROP TABLE policy_attachments;
ALTER TABLE policy_attachments_v2 RENAME TO policy_attachments;
CREATE UNIQUE INDEX policy_attachments_user ON policy_attachments(user_id, policy_type, policy_name) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX policy_attachments_group ON policy_attachments(group_id, policy_type, policy_name) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX policy_attachments_role ON policy_attachments(role_id, policy_type, policy_name) WHERE role_id IS NOT NULL;
CREATE INDEX policy_attachments_policy ON policy_attachments(policy_type, policy_name);

-- STS role sessions: what a temporary AccessKey (STS.…) and its security
-- token stand for. The secret is sealed under the master key and the token
-- kept only as a hash; deleting a row ends the session at once (revocation,
-- a changed trust policy, the role's deletion).
CREATE TABLE role_sessions (
	access_key_id    TEXT PRIMARY KEY,
	role_id          TEXT NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
	session_name     TEXT NOT NULL,
	source_principal TEXT NOT NULL,
	source_name      TEXT NOT NULL,
	source_key_id    TEXT NOT NULL DEFAULT '',
	secret_enc       BLOB NOT NULL,
	token_hash       TEXT NOT NULL,
	session_policy   TEXT NOT NULL DEFAULT '',
	mfa_present      INTEGER NOT NULL DEFAULT 0,
	created_at       TEXT NOT NULL,
	expires_at       TEXT NOT NULL
);
CREATE INDEX role_sessions_role ON role_sessions(role_id);
CREATE INDEX role_sessions_expires ON role_sessions(expires_at);
