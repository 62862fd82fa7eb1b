-- The events of one resource service (SPEC §13): its usage page and the
-- audit page's service filter read them through this index, newest first
-- or from a point in time (seq bounds, as the other filters).
CREATE INDEX events_service ON events(json_extract(body, '$.serviceName'), seq);
