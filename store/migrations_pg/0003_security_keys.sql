-- store/migrations_pg 0003: security keys (WebAuthn credentials), a second
-- factor beside the TOTP device, up to 8 per identity; each identity's
-- random WebAuthn user handle. As store/migrations 0014.
CREATE TABLE security_keys (
	id                 TEXT COLLATE "C" PRIMARY KEY,
	principal          TEXT COLLATE "C" NOT NULL,
	name               TEXT COLLATE "C" NOT NULL,
	name_lower         TEXT COLLATE "C" NOT NULL,
	credential_id      BYTEA NOT NULL UNIQUE,
	public_key         BYTEA NOT NULL,
	aaguid             BYTEA NOT NULL,
	sign_count         BIGINT NOT NULL DEFAULT 0,
	transports         TEXT COLLATE "C" NOT NULL DEFAULT '',
	backup_eligible    BIGINT NOT NULL DEFAULT 0,
	backup_state       BIGINT NOT NULL DEFAULT 0,
	attestation_format TEXT COLLATE "C" NOT NULL DEFAULT '',
	created_at         TEXT COLLATE "C" NOT NULL,
	last_used_at       TEXT COLLATE "C",
	UNIQUE (principal, name_lower)
);

CREATE TABLE webauthn_handles (
	principal TEXT COLLATE "C" PRIMARY KEY,
	handle    BYTEA NOT NULL UNIQUE
);
