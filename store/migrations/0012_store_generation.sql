-- The generation of cached data, as on PostgreSQL: every write transaction
-- that changes something a cache may hold adds one, and every process that
-- opened the database polls it, so a change another process commits (a CLI
-- command next to a running server) reaches the server's caches.
CREATE TABLE store_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO store_generation(id, n) VALUES (1, 0);
