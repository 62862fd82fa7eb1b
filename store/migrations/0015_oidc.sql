-- store/migrations (SQLite) 0015: the OpenID provider (SPEC §17). Signing
-- keys (private halves sealed with the master key), applications and the
-- hashes of their secrets, pending authorization requests, codes, and the
-- token families a code starts (refresh tokens rotate within a family;
-- revoking a family kills its every token). Codes, tokens and secrets are
-- stored as SHA-256 hashes only.
CREATE TABLE oidc_keys (
	kid         TEXT PRIMARY KEY,
	private_enc BLOB NOT NULL,
	public_jwk  TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	retired_at  TEXT,
	dropped     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE applications (
	app_id           TEXT PRIMARY KEY,
	app_name         TEXT NOT NULL,
	app_name_lower   TEXT NOT NULL UNIQUE,
	display_name     TEXT NOT NULL,
	app_type         TEXT NOT NULL,
	redirect_uris    TEXT NOT NULL,
	logout_uris      TEXT NOT NULL DEFAULT '',
	scopes           TEXT NOT NULL,
	required_scopes  TEXT NOT NULL DEFAULT '',
	secret_required  INTEGER NOT NULL DEFAULT 0,
	access_validity  INTEGER NOT NULL,
	refresh_validity INTEGER NOT NULL,
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL
);

CREATE TABLE app_secrets (
	secret_id   TEXT PRIMARY KEY,
	app_id      TEXT NOT NULL REFERENCES applications(app_id) ON DELETE CASCADE,
	secret_hash TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
CREATE INDEX app_secrets_app ON app_secrets(app_id);

CREATE TABLE oidc_requests (
	id_hash      TEXT PRIMARY KEY,
	session_hash TEXT NOT NULL,
	data         TEXT NOT NULL,
	expires_at   TEXT NOT NULL
);

CREATE TABLE oidc_codes (
	code_hash  TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL,
	family     TEXT NOT NULL,
	data       TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT
);

CREATE TABLE oidc_families (
	family     TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL,
	principal  TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oidc_families_principal ON oidc_families(principal);
CREATE INDEX oidc_families_app ON oidc_families(app_id);

CREATE TABLE oidc_tokens (
	token_hash TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	family     TEXT NOT NULL,
	scopes     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	rotated_at TEXT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);
CREATE INDEX oidc_codes_expires ON oidc_codes(expires_at);
CREATE INDEX oidc_requests_expires ON oidc_requests(expires_at);
