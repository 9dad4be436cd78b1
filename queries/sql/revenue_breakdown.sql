-- Revenue per period and value of one segment column (one row per period x value with orders).
select
    {period_of_event_time} as period,
    {breakdown_column} as segment_value,
    sum(revenue) as revenue
from {events}
where
    {segment_filter}
    and revenue is not null
    and {period_of_event_time} between $start_period and $end_period
group by period, segment_value
