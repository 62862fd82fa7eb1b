-- Signature nonces of the OpenAPI: each accepted once per AccessKey, kept
-- until a request carrying it could no longer pass the ±15-minute check.
CREATE TABLE api_nonces (
	access_key_id TEXT NOT NULL,
	nonce         TEXT NOT NULL,
	expires_at    TEXT NOT NULL,
	PRIMARY KEY (access_key_id, nonce)
) WITHOUT ROWID;
CREATE INDEX api_nonces_expires ON api_nonces(expires_at);

-- Finding an API call's event by its RequestId (was it recorded already?).
CREATE INDEX events_request ON events(request_id) WHERE request_id <> '';
