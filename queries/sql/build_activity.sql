-- BigQuery's `build`, after the first: the per-grain activity (distinct user x period x event
-- type x segment values) kept for the periods before $since_period, and read from the events
-- since $since_time for the rest.
select {columns}
from {activity}
where period < $since_period

union all

select distinct {event_columns}
from {events}
where event_time >= $since_time
