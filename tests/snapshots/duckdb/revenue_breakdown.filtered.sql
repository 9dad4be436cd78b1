-- query: revenue_breakdown
-- Revenue per period and value of one segment column (one row per period x value with orders).
select
    (year(event_time) * 12 + month(event_time) - 1) as period,
    "platform" as segment_value,
    sum(revenue) as revenue
from events
where
    list_contains($filter_0, "country")
    and revenue is not null
    and (year(event_time) * 12 + month(event_time) - 1) between $start_period and $end_period
group by period, segment_value

-- parameters:
--   end_period = 24290
--   filter_0 = ["US"]
--   start_period = 24288
