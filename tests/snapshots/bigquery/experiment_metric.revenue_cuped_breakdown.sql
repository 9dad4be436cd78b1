-- query: experiment_metric
-- One experiment's metric per user, summed per variant, assignment day and breakdown value:
-- what the mean, ratio and CUPED statistics need (queries/metric_stats.py), and nothing per
-- user. A user's `value` is the metric after assignment (within the window if one is set),
-- `denominator` their orders after assignment (the ratio's denominator), and `pre_value` the
-- same metric in the @pre_seconds before assignment (CUPED's covariate). Users assigned to
-- several variants are left out, as in experiment.sql, and counted on the 'excluded' row.
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

user_events as (
    select
        eligible.user_id,
        eligible.assigned_at is null or events.event_time >= eligible.assigned_at as is_after,
        events.revenue as value,
        case when events.revenue is not null then 1 else 0 end as is_order
    from eligible
    inner join `demo-project.analytics.events` as events on events.user_id = eligible.user_id
    where
        `platform` IN UNNEST(@filter_0)
        -- Only the events the metric reads: purchases for revenue, orders and AOV.
        and events.revenue is not null
        and (eligible.assigned_at is null or events.event_time >= TIMESTAMP_ADD(eligible.assigned_at, INTERVAL @pre_offset_seconds SECOND))
        and (
            @window_seconds is null
            or eligible.assigned_at is null
            or events.event_time <= TIMESTAMP_ADD(eligible.assigned_at, INTERVAL @window_seconds SECOND)
        )
),

per_user as (
    select
        eligible.user_id,
        eligible.variant,
        cast(eligible.assigned_at as date) as day,
        cast(coalesce(sum(case when user_events.is_after then user_events.value end), 0)
            as FLOAT64) as value,
        cast(coalesce(sum(case when user_events.is_after then user_events.is_order end), 0)
            as FLOAT64) as denominator,
        cast(coalesce(sum(case when not user_events.is_after then user_events.value end),
            0) as FLOAT64) as pre_value
    from eligible
    left join user_events on user_events.user_id = eligible.user_id
    group by eligible.user_id, eligible.variant, day
),

-- The breakdown: each user's value on their first event (where they came from, on what).
breakdown as (
    select
        user_id,
        segment
    from (
        select
            events.user_id,
            events.`country` as segment,
            row_number() over (
                partition by events.user_id order by events.event_time
            ) as position
        from `demo-project.analytics.events` as events
        where TRUE and events.user_id in (select user_id from eligible)
    ) as ranked
    where position = 1
)

select
    per_user.variant,
    per_user.day,
    'assigned' as kind,
    breakdown.segment,
    count(*) as users,
    sum(per_user.value) as value_sum,
    sum(per_user.value * per_user.value) as value_squares,
    sum(per_user.denominator) as denominator_sum,
    sum(per_user.denominator * per_user.denominator) as denominator_squares,
    sum(per_user.value * per_user.denominator) as value_denominator_products,
    sum(per_user.pre_value) as pre_sum,
    sum(per_user.pre_value * per_user.pre_value) as pre_squares,
    sum(per_user.value * per_user.pre_value) as value_pre_products
from per_user
left join breakdown on breakdown.user_id = per_user.user_id
group by per_user.variant, per_user.day, breakdown.segment

union all

select
    null as variant,
    null as day,
    'excluded' as kind,
    cast(null as STRING) as segment,
    count(*) as users,
    cast(0 as FLOAT64) as value_sum,
    cast(0 as FLOAT64) as value_squares,
    cast(0 as FLOAT64) as denominator_sum,
    cast(0 as FLOAT64) as denominator_squares,
    cast(0 as FLOAT64) as value_denominator_products,
    cast(0 as FLOAT64) as pre_sum,
    cast(0 as FLOAT64) as pre_squares,
    cast(0 as FLOAT64) as value_pre_products
from experiment_users
where variants > 1

-- parameters:
--   end_time = null
--   experiment = "pricing_page"
--   filter_0 = ["ios"]
--   pre_offset_seconds = -1209600
--   start_time = 2024-02-01T00:00:00
--   window_seconds = 604800
