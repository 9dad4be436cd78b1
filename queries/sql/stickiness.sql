-- Stickiness: per period (week or month) from $start_period to $end_period, how many users
-- were active on 1, 2, ... of its days, up to the period's length. Every period and every
-- count of days has its row, empty ones included.
with user_days as (
    select distinct
        user_id,
        {day_of_event} as day
    from {events}
    where {segment_filter}
),

per_user as (
    select
        {period_of_day} as period,
        user_id,
        count(*) as days_active
    from user_days
    group by 1, user_id
),

counts as (
    select
        period,
        days_active,
        count(*) as users
    from per_user
    where period between $start_period and $end_period
    group by period, days_active
),

active as (
    select
        period,
        sum(users) as active_users
    from counts
    group by period
),

cells as (
    select
        period,
        days_active
    from {period_series}, {days_series}
    where days_active <= {period_days}
)

select
    {period_start} as period_start,
    cells.days_active,
    coalesce(counts.users, 0) as users,
    coalesce(counts.users, 0) / active.active_users as share,
    cells.period < $first_incomplete_period as is_complete
from cells
left join counts on counts.period = cells.period and counts.days_active = cells.days_active
left join active on active.period = cells.period
order by cells.period, cells.days_active
