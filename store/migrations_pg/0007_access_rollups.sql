-- store/migrations_pg 0007: the access review's rollups (SPEC §16.1). As
-- store/migrations 0018.
CREATE TABLE access_calls (
	principal    TEXT COLLATE "C" NOT NULL,
	action_key   TEXT COLLATE "C" NOT NULL,
	resources    TEXT COLLATE "C" NOT NULL,
	day          TEXT COLLATE "C" NOT NULL,
	action       TEXT COLLATE "C" NOT NULL,
	allowed      BIGINT NOT NULL,
	denied       BIGINT NOT NULL,
	last_allowed TEXT COLLATE "C" NOT NULL,
	last_denied  TEXT COLLATE "C" NOT NULL,
	last_at      TEXT COLLATE "C" NOT NULL,
	last_ip      TEXT COLLATE "C" NOT NULL,
	mfa          BIGINT NOT NULL,
	secure       BIGINT NOT NULL,
	PRIMARY KEY (principal, action_key, resources, day)
);

CREATE TABLE access_statements (
	policy_key TEXT COLLATE "C" NOT NULL,
	version    TEXT COLLATE "C" NOT NULL,
	statement  BIGINT NOT NULL,
	principal  TEXT COLLATE "C" NOT NULL,
	day        TEXT COLLATE "C" NOT NULL,
	count      BIGINT NOT NULL,
	last_used  TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (policy_key, version, statement, principal, day)
);

CREATE TABLE access_latest (
	subject TEXT COLLATE "C" PRIMARY KEY,
	last_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE access_mark (
	id    BIGINT PRIMARY KEY CHECK (id = 1),
	seq   BIGINT NOT NULL,
	epoch BIGINT NOT NULL DEFAULT 0
);
INSERT INTO access_mark(id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
