-- The events of one resource service (SPEC §13): the gateway's decisions
-- carry the service's code as their serviceName, which the events'
-- service_name column repeats, so its usage page and the audit page's
-- service filter read them through an index, from a point in time on (seq
-- bounds, as the other filters). The column is added by this migration's
-- hook (or by migration 9's, whose re-anchor event is written with it),
-- which then fills it from the events' bodies and creates the index.
SELECT 1;
