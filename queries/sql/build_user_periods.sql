-- BigQuery's `build`, after the first: the per-grain user histories (user_periods.sql's rows)
-- from the table already built for the periods before $since_period, whose days did not
-- change, and from the events since $since_time (that period's first moment) for the rest.
-- Each user's last kept period gets its next period from the new rows, and their first new
-- row its previous period from the kept ones.
with new_activity as (
    select distinct
        user_id,
        {period_of_event_time} as period
    from {events}
    where event_time >= $since_time
),

kept as (
    select user_id, period, prev_period, next_period
    from {histories}
    where period < $since_period
),

last_kept as (
    select user_id, max(period) as period
    from kept
    group by user_id
),

first_new as (
    select user_id, min(period) as period
    from new_activity
    group by user_id
),

joined as (
    select user_id, period from last_kept
    union all
    select user_id, period from new_activity
),

new_rows as (
    select
        user_id,
        period,
        lag(period) over user_history as prev_period,
        lead(period) over user_history as next_period
    from joined
    window user_history as (partition by user_id order by period)
)

select
    kept.user_id,
    kept.period,
    kept.prev_period,
    case when kept.period = last_kept.period then first_new.period else kept.next_period end
        as next_period
from kept
inner join last_kept on last_kept.user_id = kept.user_id
left join first_new on first_new.user_id = kept.user_id

union all

select user_id, period, prev_period, next_period
from new_rows
where period >= $since_period
