-- query: experiment
-- One experiment's users and conversions: one row per variant x day x kind, where kind is
-- 'assigned' (users by the day they were assigned), 'converted' (users by the day of their
-- first conversion at or after assignment) or 'excluded' (users assigned to several variants,
-- left out of every count; variant and day are null on that row).
with
-- An experiment's eligible users, as CTEs for the queries that read them (experiment.sql,
-- experiment_metric.sql): one variant per user (a user with several is left out here and
-- counted from experiment_users), assigned in the date range, in the segment.
assignments as (
    select experiment, user_id, variant, assigned_at from `demo-project.analytics.assignments`
),

experiment_users as (
    select
        user_id,
        min(variant) as variant,
        count(distinct variant) as variants,
        min(assigned_at) as assigned_at
    from assignments
    where experiment = @experiment
    group by user_id
),

eligible as (
    select
        user_id,
        variant,
        assigned_at
    from experiment_users
    where
        variants = 1
        and (assigned_at is null or @start_time is null or assigned_at >= @start_time)
        and (assigned_at is null or @end_time is null or assigned_at < @end_time)
        and user_id in (select user_id from `demo-project.analytics.events` where `platform` IN UNNEST(@filter_0))
),

conversions as (
    select
        eligible.user_id,
        min(events.event_time) as converted_at
    from eligible
    inner join `demo-project.analytics.events` as events on events.user_id = eligible.user_id
    where
        events.event_type = @conversion_event
        and `platform` IN UNNEST(@filter_0)
        and (eligible.assigned_at is null or events.event_time >= eligible.assigned_at)
        and (
            @window_seconds is null
            or eligible.assigned_at is null
            or events.event_time <= TIMESTAMP_ADD(eligible.assigned_at, INTERVAL @window_seconds SECOND)
        )
    group by eligible.user_id
)

select
    variant,
    cast(assigned_at as date) as day,
    'assigned' as kind,
    count(*) as users
from eligible
group by variant, day

union all

select
    eligible.variant,
    -- Users without an assignment time have no day in the daily series: keep their
    -- conversions out of it too (they still count in the totals).
    case when eligible.assigned_at is not null then cast(conversions.converted_at as date) end
        as day,
    'converted' as kind,
    count(*) as users
from conversions
inner join eligible on eligible.user_id = conversions.user_id
group by eligible.variant, day

union all

select
    null as variant,
    null as day,
    'excluded' as kind,
    count(*) as users
from experiment_users
where variants > 1

-- parameters:
--   conversion_event = "add_to_cart"
--   end_time = 2024-03-11T00:00:00
--   experiment = "pricing_page"
--   filter_0 = ["ios"]
--   start_time = 2024-02-01T00:00:00
--   window_seconds = 604800
