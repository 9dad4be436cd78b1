-- query: stickiness
-- Stickiness: per period (week or month) from @start_period to @end_period, how many users
-- were active on 1, 2, ... of its days, up to the period's length. Every period and every
-- count of days has its row, empty ones included.
with user_days as (
    select distinct
        user_id,
        DATE_DIFF(DATE(event_time), DATE '1970-01-01', DAY) as day
    from `demo-project.analytics.events`
    where `platform` IN UNNEST(@filter_0)
),

per_user as (
    select
        (EXTRACT(YEAR FROM DATE_ADD(DATE '1970-01-01', INTERVAL day DAY)) * 12 + EXTRACT(MONTH FROM DATE_ADD(DATE '1970-01-01', INTERVAL day DAY)) - 1) as period,
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
    where period between @start_period and @end_period
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
    from UNNEST(GENERATE_ARRAY(@start_period, @end_period)) AS period, UNNEST(GENERATE_ARRAY(1, 31)) AS days_active
    where days_active <= DATE_DIFF(DATE(DIV(((period + 1)), 12), MOD(((period + 1)), 12) + 1, 1), DATE(DIV((period), 12), MOD((period), 12) + 1, 1), DAY)
)

select
    DATE(DIV((cells.period), 12), MOD((cells.period), 12) + 1, 1) as period_start,
    cells.days_active,
    coalesce(counts.users, 0) as users,
    coalesce(counts.users, 0) / active.active_users as share,
    cells.period < @first_incomplete_period as is_complete
from cells
left join counts on counts.period = cells.period and counts.days_active = cells.days_active
left join active on active.period = cells.period
order by cells.period, cells.days_active

-- parameters:
--   end_period = 24290
--   filter_0 = ["web"]
--   first_incomplete_period = 24290
--   start_period = 24288
