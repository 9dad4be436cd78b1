-- query: growth
-- Growth accounting: one row per calendar period from the first active period to the period
-- holding the data's last day ($last_period), empty periods included.
-- new: first-ever active period; retained: also active in the previous period;
-- resurrected: active before, but not in the previous period; churned: active in the
-- previous period, not in this one. Only rows from $start_period to $end_period are returned,
-- but every status is computed over the whole history.
with user_periods as (
    -- query: user_periods
-- One row per user x active period (integer period at the chosen grain), with the user's
-- previous and next active periods over their whole history.
-- Activity is every event that passes the segment filter; the date range never clips it.
with activity as (
    select distinct
        user_id,
        period as period
    from activity_month
    where list_contains($filter_0, "event_type") AND list_contains($filter_1, "platform")
)

select
    user_id,
    period,
    lag(period) over user_history as prev_period,
    lead(period) over user_history as next_period
from activity
window user_history as (partition by user_id order by period)

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
    make_date(CAST(floor(period / 12) AS INTEGER), period % 12 + 1, 1) as period_start,
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
--   end_period = 24290
--   filter_0 = ["purchase"]
--   filter_1 = ["ios", "web"]
--   first_incomplete_period = 24290
--   last_period = 24290
--   start_period = 24288
