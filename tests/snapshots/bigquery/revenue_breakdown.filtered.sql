-- query: revenue_breakdown
-- Revenue per period and value of one segment column (one row per period x value with orders).
select
    (EXTRACT(YEAR FROM event_time) * 12 + EXTRACT(MONTH FROM event_time) - 1) as period,
    `platform` as segment_value,
    sum(revenue) as revenue
from `demo-project.analytics.events`
where
    `country` IN UNNEST(@filter_0)
    and revenue is not null
    and (EXTRACT(YEAR FROM event_time) * 12 + EXTRACT(MONTH FROM event_time) - 1) between @start_period and @end_period
group by period, segment_value

-- parameters:
--   end_period = 24290
--   filter_0 = ["US"]
--   start_period = 24288
