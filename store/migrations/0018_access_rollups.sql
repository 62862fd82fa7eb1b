-- store/migrations (SQLite) 0018: the access review's rollups (SPEC §16.1),
-- derived from the events' recorded authorizations and kept outside the
-- hash chain. Principals are keyed by id (user/<UserId>, role/<RoleId>,
-- root); policies by a never-reused id (Custom/<UID>, System/<name>).
--
-- access_calls: per principal, action (lower case), resource set (one
-- resource as it is, more as a sorted JSON array) and UTC day: allowed and denied counts, the last of each,
-- and the context of the latest (source address, MFA, HTTPS) for the
-- least-privilege draft's replay.
CREATE TABLE access_calls (
	principal    TEXT NOT NULL,
	action_key   TEXT NOT NULL,
	resources    TEXT NOT NULL,
	day          TEXT NOT NULL,
	action       TEXT NOT NULL,
	allowed      INTEGER NOT NULL,
	denied       INTEGER NOT NULL,
	last_allowed TEXT NOT NULL,
	last_denied  TEXT NOT NULL,
	last_at      TEXT NOT NULL,
	last_ip      TEXT NOT NULL,
	mfa          INTEGER NOT NULL,
	secure       INTEGER NOT NULL,
	PRIMARY KEY (principal, action_key, resources, day)
) WITHOUT ROWID;

-- access_statements: per policy statement (of a version), principal and
-- day: how many decisions it was credited with, and the last.
CREATE TABLE access_statements (
	policy_key TEXT NOT NULL,
	version    TEXT NOT NULL,
	statement  INTEGER NOT NULL,
	principal  TEXT NOT NULL,
	day        TEXT NOT NULL,
	count      INTEGER NOT NULL,
	last_used  TEXT NOT NULL,
	PRIMARY KEY (policy_key, version, statement, principal, day)
) WITHOUT ROWID;

-- access_latest: the latest counted decision ever, per principal
-- (principal/<key>), per statement (statement/<policy key>/<version>/<n>)
-- and per role assumed (assumed/<role ARN, lower case>): the unused list
-- reads these rows instead of the daily ones.
CREATE TABLE access_latest (
	subject TEXT PRIMARY KEY,
	last_at TEXT NOT NULL
) WITHOUT ROWID;

-- access_mark: the last event seq the rollups include (at start the events
-- after it are rolled up), and an epoch a rebuild or a prune moves.
CREATE TABLE access_mark (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	seq   INTEGER NOT NULL,
	epoch INTEGER NOT NULL DEFAULT 0
);
INSERT INTO access_mark(id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
