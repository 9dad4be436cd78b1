-- Revenue per calendar period: one row per period from the first period with events to the
-- period holding the data's last day ($last_period), empty periods included.
-- An order is an event with a revenue value (zero included); paying users have at least one
-- order in the period; active users have any event in it.
with period_events as (
    select
        user_id,
        revenue,
        {period_of_event_time} as period
    from {events}
    where {segment_filter}
),

totals as (
    select
        period,
        sum(revenue) as revenue,
        count(revenue) as orders,
        count(distinct case when revenue is not null then user_id end) as paying_users,
        count(distinct user_id) as active_users
    from period_events
    group by period
),

bounds as (
    select min(period) as first_period
    from period_events
),

calendar as (
    select period
    from bounds, {calendar_series}
)

select
    {period_start} as period_start,
    coalesce(totals.revenue, 0) as revenue,
    coalesce(totals.orders, 0) as orders,
    coalesce(totals.paying_users, 0) as paying_users,
    coalesce(totals.active_users, 0) as active_users,
    case when totals.orders > 0 then totals.revenue / totals.orders end as aov,
    case
        when totals.active_users > 0 then coalesce(totals.revenue, 0) / totals.active_users
    end as arpu,
    calendar.period < $first_incomplete_period as is_complete
from calendar
left join totals on totals.period = calendar.period
where calendar.period between $start_period and $end_period
order by calendar.period
