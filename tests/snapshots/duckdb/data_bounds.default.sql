-- query: data_bounds
-- One row: the first and last day with events in the whole data set, unfiltered.
select
    cast(min(event_time) as date) as first_day,
    cast(max(event_time) as date) as last_day,
    count(*) as events
from events

-- parameters:
--   (none)
