-- store/migrations (SQLite) 0014: security keys (WebAuthn credentials), a
-- second factor beside the TOTP device, up to 8 per identity. principal is
-- "root" or "user/<UserId>"; a credential id belongs to one key of anyone.
-- webauthn_handles gives each identity a random user handle (not its id).
CREATE TABLE security_keys (
	id                 TEXT PRIMARY KEY,
	principal          TEXT NOT NULL,
	name               TEXT NOT NULL,
	name_lower         TEXT NOT NULL,
	credential_id      BLOB NOT NULL UNIQUE,
	public_key         BLOB NOT NULL,
	aaguid             BLOB NOT NULL,
	sign_count         INTEGER NOT NULL DEFAULT 0,
	transports         TEXT NOT NULL DEFAULT '',
	backup_eligible    INTEGER NOT NULL DEFAULT 0,
	backup_state       INTEGER NOT NULL DEFAULT 0,
	attestation_format TEXT NOT NULL DEFAULT '',
	created_at         TEXT NOT NULL,
	last_used_at       TEXT,
	UNIQUE (principal, name_lower)
);

CREATE TABLE webauthn_handles (
	principal TEXT PRIMARY KEY,
	handle    BLOB NOT NULL UNIQUE
);
