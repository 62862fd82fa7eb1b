-- store/migrations_pg 0006: the latest credential report (SPEC §16.7), one
-- row. As store/migrations 0017.
CREATE TABLE credential_report (
	id           BIGINT PRIMARY KEY CHECK (id = 1),
	generated_at TEXT COLLATE "C" NOT NULL,
	content      TEXT COLLATE "C" NOT NULL
);
