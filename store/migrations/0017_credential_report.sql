-- store/migrations (SQLite) 0017: the latest credential report (SPEC §16.7),
-- one row: when it was generated and its CSV (header line first). A new
-- report replaces it.
CREATE TABLE credential_report (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	generated_at TEXT NOT NULL,
	content      TEXT NOT NULL
);
