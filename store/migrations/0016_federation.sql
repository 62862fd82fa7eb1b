-- store/migrations (SQLite) 0016: federation in (SPEC §18). The account's
-- user-based SSO setting (one row), the SAML and OIDC identity providers
-- roles trust, the outstanding AuthnRequests of SP-initiated sign-ins (by
-- the hash of their RelayState), the assertion IDs accepted (replay, until
-- their NotOnOrAfter) and the JWKS fetched from OIDC issuers.
CREATE TABLE user_sso_settings (
	id                    INTEGER PRIMARY KEY CHECK (id = 1),
	sso_enabled           INTEGER NOT NULL DEFAULT 0,
	metadata_document     TEXT NOT NULL DEFAULT '',
	auxiliary_domain      TEXT NOT NULL DEFAULT '',
	sso_login_with_domain INTEGER NOT NULL DEFAULT 1,
	updated_at            TEXT NOT NULL
);

CREATE TABLE saml_providers (
	provider_id TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	name_lower  TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	metadata    TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE TABLE oidc_providers (
	provider_id         TEXT PRIMARY KEY,
	name                TEXT NOT NULL,
	name_lower          TEXT NOT NULL UNIQUE,
	issuer_url          TEXT NOT NULL UNIQUE,
	description         TEXT NOT NULL DEFAULT '',
	client_ids          TEXT NOT NULL DEFAULT '',
	fingerprints        TEXT NOT NULL DEFAULT '',
	issuance_limit_time INTEGER NOT NULL,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL
);

CREATE TABLE saml_requests (
	relay_hash TEXT PRIMARY KEY,
	request_id TEXT NOT NULL,
	next       TEXT NOT NULL DEFAULT '',
	expires_at TEXT NOT NULL
);
CREATE INDEX saml_requests_expires ON saml_requests(expires_at);

CREATE TABLE saml_assertions (
	issuer       TEXT NOT NULL,
	assertion_id TEXT NOT NULL,
	expires_at   TEXT NOT NULL,
	PRIMARY KEY (issuer, assertion_id)
);
CREATE INDEX saml_assertions_expires ON saml_assertions(expires_at);

CREATE TABLE oidc_provider_jwks (
	cache_key   TEXT PRIMARY KEY,
	provider_id TEXT NOT NULL,
	doc         BLOB NOT NULL,
	fetched_at  TEXT NOT NULL
);
CREATE INDEX oidc_provider_jwks_provider ON oidc_provider_jwks(provider_id);
