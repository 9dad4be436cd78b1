-- query: engagement
-- Daily engagement from $start_day to $end_day (epoch days): DAU, and WAU and MAU, the
-- distinct users of the 7 and 28 days that end on each day. Each active day starts a span in
-- which its user counts: 1 day for DAU, up to 7 or 28 for WAU and MAU, cut short where the
-- user's next active day starts a span of its own. One user's spans never overlap, so a
-- running sum of span starts and ends counts every user once.
with user_days as (
    select distinct
        user_id,
        period as day
    from activity_day
    where list_contains($filter_0, "event_type")
),

spans as (
    select
        day,
        lead(day) over (partition by user_id order by day) as next_day
    from user_days
),

changes as (
    select day as change_day, 1 as dau, 1 as wau, 1 as mau from spans
    union all
    select day + 1, -1, 0, 0 from spans
    union all
    select least(coalesce(next_day, day + 7), day + 7), 0, -1, 0 from spans
    union all
    select least(coalesce(next_day, day + 28), day + 28), 0, 0, -1 from spans
),

deltas as (
    select
        change_day,
        sum(dau) as dau,
        sum(wau) as wau,
        sum(mau) as mau
    from changes
    group by change_day
),

calendar as (
    select day
    from unnest(generate_series($first_day, $end_day)) AS day_series(day)
),

running as (
    select
        calendar.day,
        sum(coalesce(deltas.dau, 0)) over (order by calendar.day) as dau,
        sum(coalesce(deltas.wau, 0)) over (order by calendar.day) as wau,
        sum(coalesce(deltas.mau, 0)) over (order by calendar.day) as mau
    from calendar
    left join deltas on deltas.change_day = calendar.day
)

select
    DATE '1970-01-01' + CAST(running.day AS INTEGER) as day,
    dau,
    wau,
    mau,
    case when wau > 0 then dau / wau end as dau_over_wau,
    case when mau > 0 then dau / mau end as dau_over_mau,
    case when mau > 0 then wau / mau end as wau_over_mau
from running
where day between $start_day and $end_day
order by running.day

-- parameters:
--   end_day = 19782
--   filter_0 = ["purchase"]
--   first_day = 19723
--   start_day = 19754
