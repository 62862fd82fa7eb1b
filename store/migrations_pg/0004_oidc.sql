-- store/migrations_pg 0004 (as store/migrations 0015): the OpenID provider (SPEC §17). Signing
-- keys (private halves sealed with the master key), applications and the
-- hashes of their secrets, pending authorization requests, codes, and the
-- token families a code starts (refresh tokens rotate within a family;
-- revoking a family kills its every token). Codes, tokens and secrets are
-- stored as SHA-256 hashes only.
CREATE TABLE oidc_keys (
	kid         TEXT COLLATE "C" PRIMARY KEY,
	private_enc BYTEA NOT NULL,
	public_jwk  TEXT COLLATE "C" NOT NULL,
	created_at  TEXT COLLATE "C" NOT NULL,
	retired_at  TEXT COLLATE "C",
	dropped     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE applications (
	app_id           TEXT COLLATE "C" PRIMARY KEY,
	app_name         TEXT COLLATE "C" NOT NULL,
	app_name_lower   TEXT COLLATE "C" NOT NULL UNIQUE,
	display_name     TEXT COLLATE "C" NOT NULL,
	app_type         TEXT COLLATE "C" NOT NULL,
	redirect_uris    TEXT COLLATE "C" NOT NULL,
	logout_uris      TEXT COLLATE "C" NOT NULL DEFAULT '',
	scopes           TEXT COLLATE "C" NOT NULL,
	required_scopes  TEXT COLLATE "C" NOT NULL DEFAULT '',
	secret_required  BIGINT NOT NULL DEFAULT 0,
	access_validity  BIGINT NOT NULL,
	refresh_validity BIGINT NOT NULL,
	created_at       TEXT COLLATE "C" NOT NULL,
	updated_at       TEXT COLLATE "C" NOT NULL
);

CREATE TABLE app_secrets (
	secret_id   TEXT COLLATE "C" PRIMARY KEY,
	app_id      TEXT COLLATE "C" NOT NULL REFERENCES applications(app_id) ON DELETE CASCADE,
	secret_hash TEXT COLLATE "C" NOT NULL,
	created_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX app_secrets_app ON app_secrets(app_id);

CREATE TABLE oidc_requests (
	id_hash      TEXT COLLATE "C" PRIMARY KEY,
	session_hash TEXT COLLATE "C" NOT NULL,
	data         TEXT COLLATE "C" NOT NULL,
	expires_at   TEXT COLLATE "C" NOT NULL
);

CREATE TABLE oidc_codes (
	code_hash  TEXT COLLATE "C" PRIMARY KEY,
	app_id     TEXT COLLATE "C" NOT NULL,
	family     TEXT COLLATE "C" NOT NULL,
	data       TEXT COLLATE "C" NOT NULL,
	expires_at TEXT COLLATE "C" NOT NULL,
	used_at    TEXT COLLATE "C"
);

CREATE TABLE oidc_families (
	family     TEXT COLLATE "C" PRIMARY KEY,
	app_id     TEXT COLLATE "C" NOT NULL,
	principal  TEXT COLLATE "C" NOT NULL,
	data       TEXT COLLATE "C" NOT NULL,
	created_at TEXT COLLATE "C" NOT NULL,
	revoked    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oidc_families_principal ON oidc_families(principal);
CREATE INDEX oidc_families_app ON oidc_families(app_id);

CREATE TABLE oidc_tokens (
	token_hash TEXT COLLATE "C" PRIMARY KEY,
	kind       TEXT COLLATE "C" NOT NULL,
	family     TEXT COLLATE "C" NOT NULL,
	scopes     TEXT COLLATE "C" NOT NULL,
	created_at TEXT COLLATE "C" NOT NULL,
	expires_at TEXT COLLATE "C" NOT NULL,
	rotated_at TEXT COLLATE "C"
);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);
CREATE INDEX oidc_codes_expires ON oidc_codes(expires_at);
CREATE INDEX oidc_requests_expires ON oidc_requests(expires_at);
