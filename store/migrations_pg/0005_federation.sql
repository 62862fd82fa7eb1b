-- store/migrations_pg 0005 (as store/migrations 0016): federation in (SPEC
-- §18). The account's user-based SSO setting (one row), the SAML and OIDC
-- identity providers roles trust, the outstanding AuthnRequests of
-- SP-initiated sign-ins (by the hash of their RelayState), the assertion
-- IDs accepted (replay, until their NotOnOrAfter) and the JWKS fetched from
-- OIDC issuers.
CREATE TABLE user_sso_settings (
	id                    BIGINT PRIMARY KEY CHECK (id = 1),
	sso_enabled           BIGINT NOT NULL DEFAULT 0,
	metadata_document     TEXT COLLATE "C" NOT NULL DEFAULT '',
	auxiliary_domain      TEXT COLLATE "C" NOT NULL DEFAULT '',
	sso_login_with_domain BIGINT NOT NULL DEFAULT 1,
	updated_at            TEXT COLLATE "C" NOT NULL
);

CREATE TABLE saml_providers (
	provider_id TEXT COLLATE "C" PRIMARY KEY,
	name        TEXT COLLATE "C" NOT NULL,
	name_lower  TEXT COLLATE "C" NOT NULL UNIQUE,
	description TEXT COLLATE "C" NOT NULL DEFAULT '',
	metadata    TEXT COLLATE "C" NOT NULL,
	created_at  TEXT COLLATE "C" NOT NULL,
	updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE oidc_providers (
	provider_id         TEXT COLLATE "C" PRIMARY KEY,
	name                TEXT COLLATE "C" NOT NULL,
	name_lower          TEXT COLLATE "C" NOT NULL UNIQUE,
	issuer_url          TEXT COLLATE "C" NOT NULL UNIQUE,
	description         TEXT COLLATE "C" NOT NULL DEFAULT '',
	client_ids          TEXT COLLATE "C" NOT NULL DEFAULT '',
	fingerprints        TEXT COLLATE "C" NOT NULL DEFAULT '',
	issuance_limit_time BIGINT NOT NULL,
	created_at          TEXT COLLATE "C" NOT NULL,
	updated_at          TEXT COLLATE "C" NOT NULL
);

CREATE TABLE saml_requests (
	relay_hash TEXT COLLATE "C" PRIMARY KEY,
	request_id TEXT COLLATE "C" NOT NULL,
	next       TEXT COLLATE "C" NOT NULL DEFAULT '',
	expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX saml_requests_expires ON saml_requests(expires_at);

CREATE TABLE saml_assertions (
	issuer       TEXT COLLATE "C" NOT NULL,
	assertion_id TEXT COLLATE "C" NOT NULL,
	expires_at   TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (issuer, assertion_id)
);
CREATE INDEX saml_assertions_expires ON saml_assertions(expires_at);

CREATE TABLE oidc_provider_jwks (
	cache_key   TEXT COLLATE "C" PRIMARY KEY,
	provider_id TEXT COLLATE "C" NOT NULL,
	doc         BYTEA NOT NULL,
	fetched_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX oidc_provider_jwks_provider ON oidc_provider_jwks(provider_id);
