-- Custom policies and their versions. System policies are built in (the
-- policy package's catalogue) and never stored.
CREATE TABLE policies (
	policy_id         INTEGER PRIMARY KEY,
	policy_name       TEXT NOT NULL,
	policy_name_lower TEXT NOT NULL UNIQUE,
	description       TEXT NOT NULL DEFAULT '',
	default_version   TEXT NOT NULL,
	next_version      INTEGER NOT NULL DEFAULT 2,
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL
);

CREATE TABLE policy_versions (
	policy_id  INTEGER NOT NULL REFERENCES policies(policy_id) ON DELETE CASCADE,
	version_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	document   TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (policy_id, version_id)
);

-- Attachments of system or custom policies to users and groups. Exactly one
-- of user_id and group_id is set; deleting the user or group removes them.
CREATE TABLE policy_attachments (
	id          INTEGER PRIMARY KEY,
	policy_type TEXT NOT NULL CHECK (policy_type IN ('System', 'Custom')),
	policy_name TEXT NOT NULL,
	user_id     TEXT REFERENCES users(user_id) ON DELETE CASCADE,
	group_id    TEXT REFERENCES groups(group_id) ON DELETE CASCADE,
	attached_at TEXT NOT NULL,
	CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX policy_attachments_user ON policy_attachments(user_id, policy_type, policy_name) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX policy_attachments_group ON policy_attachments(group_id, policy_type, policy_name) WHERE group_id IS NOT NULL;
CREATE INDEX policy_attachments_policy ON policy_attachments(policy_type, policy_name);
