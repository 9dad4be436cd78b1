-- BigQuery's `build` (queries/bigquery_build.py): the events of each day and a checksum of
-- their rows, every column included. The build compares them with those of its last run to
-- find the first day that changed.
select
    date(event_time) as day,
    count(*) as events,
    bit_xor(farm_fingerprint(to_json_string(events))) as checksum
from {events} as events
group by day
