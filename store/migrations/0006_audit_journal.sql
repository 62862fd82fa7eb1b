-- How far the audit journal is folded into events: a replay at start
-- folds only the records after this place (segment number, byte offset).
CREATE TABLE audit_journal_mark (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	segment     INTEGER NOT NULL,
	byte_offset INTEGER NOT NULL
);

-- Used OpenAPI signature nonces, kept until they expire. The journal's
-- owner checks nonces in memory and reloads them from here at start, so a
-- fold of the journal writes its nonces as one row: a JSON array of
-- [AccessKeyId, nonce, expiry], with the newest expiry to know when the row
-- can go.
CREATE TABLE api_nonce_log (
	seq        INTEGER PRIMARY KEY,
	expires_at TEXT NOT NULL,
	nonces     TEXT NOT NULL
);
CREATE INDEX api_nonce_log_expires ON api_nonce_log(expires_at);
INSERT INTO api_nonce_log(expires_at, nonces)
	SELECT max(expires_at), json_group_array(json_array(access_key_id, nonce, expires_at)) FROM api_nonces
	HAVING count(*) > 0;
DROP TABLE api_nonces;

-- Most events succeed: only failures need an index to be found quickly.
DROP INDEX events_error;
CREATE INDEX events_failed ON events(seq) WHERE is_error = 1;

-- Time ranges are found by a binary search over seq (event times never
-- decrease along it), and whether a request left an event is known by the
-- request itself: neither needs an index any more, and every event is
-- cheaper to write without them.
DROP INDEX events_time;
DROP INDEX events_request;
