-- A custom policy's uid is random and never reused. policy_id, SQLite's
-- rowid, is reused when the newest policy is deleted, so nothing that
-- outlives a policy (a cache of compiled versions) may be keyed by it.
ALTER TABLE policies ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE policies SET uid = lower(hex(randomblob(16)));
