-- query: revenue_breakdown
-- Revenue per period and value of one segment column (one row per period x value with orders).
select
    CAST(floor((date_diff('day', DATE '1970-01-01', CAST(event_time AS DATE)) + 3) / 7) AS INTEGER) as period,
    "platform" as segment_value,
    sum(revenue) as revenue
from events
where
    TRUE
    and revenue is not null
    and CAST(floor((date_diff('day', DATE '1970-01-01', CAST(event_time AS DATE)) + 3) / 7) AS INTEGER) between $start_period and $end_period
group by period, segment_value

-- parameters:
--   end_period = 2829
--   start_period = 2818
