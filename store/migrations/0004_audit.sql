-- Indexes for the audit log's filters: each serves "newest first, keyset on
-- seq" for one filter (user and event name have theirs since 0001; time
-- ranges become seq bounds through events_time).
CREATE INDEX events_error ON events(is_error, seq);
CREATE INDEX events_source_ip ON events(source_ip, seq);
CREATE INDEX events_access_key ON events(access_key_id, seq);
