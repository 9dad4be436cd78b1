-- query: segment_values
-- The most frequent values of one segment column (one row per value), for filter pickers.
select
    `platform` as value,
    count(*) as events
from `demo-project.analytics.events`
where `platform` is not null
group by `platform`
order by events desc, value
limit @max_values

-- parameters:
--   max_values = 200
