-- query: revenue_breakdown
-- Revenue per period and value of one segment column (one row per period x value with orders).
select
    CAST(FLOOR((DATE_DIFF(DATE(event_time), DATE '1970-01-01', DAY) + 3) / 7) AS INT64) as period,
    `platform` as segment_value,
    sum(revenue) as revenue
from `demo-project.analytics.events`
where
    TRUE
    and revenue is not null
    and CAST(FLOOR((DATE_DIFF(DATE(event_time), DATE '1970-01-01', DAY) + 3) / 7) AS INT64) between @start_period and @end_period
group by period, segment_value

-- parameters:
--   end_period = 2829
--   start_period = 2818
