-- query: revenue
-- Revenue per calendar period: one row per period from the first period with events to the
-- period holding the data's last day ($last_period), empty periods included.
-- An order is an event with a revenue value (zero included); paying users have at least one
-- order in the period; active users have any event in it.
-- One row per user x period with an event (queries/revenue.py: active_user_periods_sql).
with active_user_periods as (
    -- query: active_periods
-- One row per user x period in which the user did a returning event.
select distinct
    user_id,
    period as period
from activity_day
where list_contains($active_0, "platform")

),

active_totals as (
    select
        period,
        count(*) as active_users
    from active_user_periods
    group by period
),

-- Orders are a small share of the events: counting them apart from the active users keeps the
-- distinct count of paying users off the scan of every event.
order_totals as (
    select
        date_diff('day', DATE '1970-01-01', CAST(event_time AS DATE)) as period,
        sum(revenue) as revenue,
        count(*) as orders,
        count(distinct user_id) as paying_users
    from events
    where
        list_contains($filter_0, "platform")
        and revenue is not null
        and date_diff('day', DATE '1970-01-01', CAST(event_time AS DATE)) between $start_period and $end_period
    group by period
),

bounds as (
    select min(period) as first_period
    from active_totals
),

calendar as (
    select period
    from bounds, unnest(generate_series(bounds.first_period, $last_period)) AS period_series(period)
)

select
    DATE '1970-01-01' + CAST(calendar.period AS INTEGER) as period_start,
    coalesce(order_totals.revenue, 0) as revenue,
    coalesce(order_totals.orders, 0) as orders,
    coalesce(order_totals.paying_users, 0) as paying_users,
    coalesce(active_totals.active_users, 0) as active_users,
    case when order_totals.orders > 0 then order_totals.revenue / order_totals.orders end as aov,
    case
        when active_totals.active_users > 0
            then coalesce(order_totals.revenue, 0) / active_totals.active_users
    end as arpu,
    calendar.period < $first_incomplete_period as is_complete
from calendar
left join active_totals on active_totals.period = calendar.period
left join order_totals on order_totals.period = calendar.period
where calendar.period between $start_period and $end_period
order by calendar.period

-- parameters:
--   active_0 = ["android"]
--   end_period = 19782
--   filter_0 = ["android"]
--   first_incomplete_period = 19803
--   last_period = 19802
--   start_period = 19754
