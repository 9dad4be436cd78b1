-- query: growth
-- Growth accounting: one row per calendar period from the first active period to the period
-- holding the data's last day ($last_period), empty periods included.
-- new: first-ever active period; retained: also active in the previous period;
-- resurrected: active before, but not in the previous period; churned: active in the
-- previous period, not in this one. Only rows from $start_period to $end_period are returned,
-- but every status is computed over the whole history.
with user_periods as (
    select user_id, period, prev_period, next_period from user_periods_week
),

statuses as (
    select
        period,
        count(*) as active_users,
        countif(prev_period is null) as new_users,
        countif(prev_period = period - 1) as retained_users,
        countif(prev_period < period - 1) as resurrected_users
    from user_periods
    group by period
),

churn as (
    select
        period + 1 as period,
        count(*) as churned_users
    from user_periods
    where next_period is null or next_period > period + 1
    group by period
),

bounds as (
    select min(period) as first_period
    from user_periods
),

calendar as (
    select period
    from bounds, unnest(generate_series(bounds.first_period, $last_period)) AS period_series(period)
),

accounts as (
    select
        calendar.period,
        coalesce(statuses.new_users, 0) as new_users,
        coalesce(statuses.retained_users, 0) as retained_users,
        coalesce(statuses.resurrected_users, 0) as resurrected_users,
        coalesce(churn.churned_users, 0) as churned_users,
        coalesce(statuses.active_users, 0) as active_users
    from calendar
    left join statuses on statuses.period = calendar.period
    left join churn on churn.period = calendar.period
),

with_previous as (
    select
        *,
        lag(active_users) over (order by period) as previous_active_users
    from accounts
)

select
    DATE '1969-12-29' + CAST(7 * period AS INTEGER) as period_start,
    new_users,
    retained_users,
    resurrected_users,
    churned_users,
    active_users,
    case
        when previous_active_users > 0 then retained_users / previous_active_users
    end as retention_rate,
    case
        when churned_users > 0 then (new_users + resurrected_users) / churned_users
    end as quick_ratio,
    period < $first_incomplete_period as is_complete
from with_previous
where period between $start_period and $end_period
order by period

-- parameters:
--   end_period = 2829
--   first_incomplete_period = 2829
--   last_period = 2829
--   start_period = 2818
