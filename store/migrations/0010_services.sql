-- Resource services (SPEC §13): the enterprise's own services behind the
-- gateway. definition is the canonical JSON of the service's definition
-- (what export gives and import takes); name, region and style repeat it
-- for lists. A host belongs to one service at most.
CREATE TABLE services (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	region     TEXT NOT NULL,
	style      TEXT NOT NULL,
	definition TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE service_hosts (
	host_lower TEXT PRIMARY KEY,
	code       TEXT NOT NULL REFERENCES services(code) ON DELETE CASCADE
);
CREATE INDEX service_hosts_code ON service_hosts(code);
