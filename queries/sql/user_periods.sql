-- One row per user x active period (integer period at the chosen grain), with the user's
-- previous and next active periods over their whole history.
-- Activity is every event that passes the segment filter; the date range never clips it.
with activity as (
    select distinct
        user_id,
        {period_of_event_time} as period
    from {events}
    where {segment_filter}
)

select
    user_id,
    period,
    lag(period) over user_history as prev_period,
    lead(period) over user_history as next_period
from activity
window user_history as (partition by user_id order by period)
