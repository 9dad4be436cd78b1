-- One experiment's metric per user, summed per variant, assignment day and breakdown value:
-- what the mean, ratio and CUPED statistics need (queries/metric_stats.py), and nothing per
-- user. A user's `value` is the metric after assignment (within the window if one is set),
-- `denominator` their orders after assignment (the ratio's denominator), and `pre_value` the
-- same metric in the $pre_seconds before assignment (CUPED's covariate). Users assigned to
-- several variants are left out, as in experiment.sql, and counted on the 'excluded' row.
with
{eligible_users},

user_events as (
    select
        eligible.user_id,
        eligible.assigned_at is null or events.event_time >= eligible.assigned_at as is_after,
        {metric_value} as value,
        case when events.revenue is not null then 1 else 0 end as is_order
    from eligible
    inner join {events} as events on events.user_id = eligible.user_id
    where
        {segment_filter}
        -- Only the events the metric reads: purchases for revenue, orders and AOV.
        and {metric_events}
        and (eligible.assigned_at is null or events.event_time >= {pre_start})
        and (
            $window_seconds is null
            or eligible.assigned_at is null
            or events.event_time <= {window_end}
        )
),

per_user as (
    select
        eligible.user_id,
        eligible.variant,
        cast(eligible.assigned_at as date) as day,
        cast(coalesce({per_user}(case when user_events.is_after then user_events.value end), 0)
            as {float_type}) as value,
        cast(coalesce(sum(case when user_events.is_after then user_events.is_order end), 0)
            as {float_type}) as denominator,
        cast(coalesce({per_user}(case when not user_events.is_after then user_events.value end),
            0) as {float_type}) as pre_value
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
            {breakdown_column} as segment,
            row_number() over (
                partition by events.user_id order by events.event_time
            ) as position
        from {events} as events
        where {breakdown_needed} and events.user_id in (select user_id from eligible)
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
    cast(null as {string_type}) as segment,
    count(*) as users,
    cast(0 as {float_type}) as value_sum,
    cast(0 as {float_type}) as value_squares,
    cast(0 as {float_type}) as denominator_sum,
    cast(0 as {float_type}) as denominator_squares,
    cast(0 as {float_type}) as value_denominator_products,
    cast(0 as {float_type}) as pre_sum,
    cast(0 as {float_type}) as pre_squares,
    cast(0 as {float_type}) as value_pre_products
from experiment_users
where variants > 1
