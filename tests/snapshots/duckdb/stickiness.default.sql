-- query: stickiness
-- Stickiness: per period (week or month) from $start_period to $end_period, how many users
-- were active on 1, 2, ... of its days, up to the period's length. Every period and every
-- count of days has its row, empty ones included.
with user_days as (
    select distinct
        user_id,
        period as day
    from activity_day
    where TRUE
),

per_user as (
    select
        CAST(floor((date_diff('day', DATE '1970-01-01', CAST(DATE '1970-01-01' + CAST(day AS INTEGER) AS DATE)) + 3) / 7) AS INTEGER) as period,
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
    from unnest(generate_series($start_period, $end_period)) AS period_series(period), unnest(generate_series(1, 31)) AS days_active_series(days_active)
    where days_active <= 7
)

select
    DATE '1969-12-29' + CAST(7 * cells.period AS INTEGER) as period_start,
    cells.days_active,
    coalesce(counts.users, 0) as users,
    coalesce(counts.users, 0) / active.active_users as share,
    cells.period < $first_incomplete_period as is_complete
from cells
left join counts on counts.period = cells.period and counts.days_active = cells.days_active
left join active on active.period = cells.period
order by cells.period, cells.days_active

-- parameters:
--   end_period = 2829
--   first_incomplete_period = 2829
--   start_period = 2818
