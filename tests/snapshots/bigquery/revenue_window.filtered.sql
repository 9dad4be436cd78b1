-- query: revenue_window
-- One row: revenue, orders and paying users in the window [@start_time, @end_time) and in the
-- previous window of equal length [@previous_start_time, @start_time).
with window_events as (
    select
        user_id,
        revenue,
        event_time >= @start_time as is_current
    from `demo-project.analytics.events`
    where
        `platform` IN UNNEST(@filter_0)
        and revenue is not null
        and event_time >= @previous_start_time
        and event_time < @end_time
)

select
    coalesce(sum(case when is_current then revenue end), 0) as revenue,
    coalesce(sum(case when not is_current then revenue end), 0) as previous_revenue,
    -- countif over no rows is null, not 0.
    coalesce(countif(is_current), 0) as orders,
    coalesce(countif(not is_current), 0) as previous_orders,
    count(distinct case when is_current then user_id end) as paying_users,
    count(distinct case when not is_current then user_id end) as previous_paying_users
from window_events

-- parameters:
--   end_time = 2024-03-15T00:00:00
--   filter_0 = ["ios"]
--   previous_start_time = 2024-02-16T00:00:00
--   start_time = 2024-03-01T00:00:00
