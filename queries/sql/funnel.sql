-- Ordered funnel: one row per breakdown value (a single row without a breakdown) with, for each
-- step k, the users who reached it and the median seconds from step k - 1.
-- A user enters with a step-1 event in [$start_time, $end_time) (an "attempt"); step k is the
-- earliest step-k event at or after step k - 1 and within $window_seconds of step 1. Each user
-- counts once, with their attempt that went furthest (the earliest such attempt).
with step_1 as (
    select
        user_id,
        {breakdown_value} as breakdown_value,
        event_time as t1
    from {events}
    where
        {segment_filter}
        and event_type = $step_1
        and event_time >= $start_time
        and event_time < $end_time
),

{later_steps}

attempts as (
    select
        *,
        {steps_reached} as steps_reached
    from step_{step_count}
),

-- Along one user's attempts every t_k grows with t1 (step k is the first step-k event after
-- step k - 1), so among attempts that reach equally far the earliest holds the smallest t1, t2,
-- ...: min() picks its times out of a few rows per user instead of ranking every attempt.
earliest_by_reach as (
    select
        user_id,
        breakdown_value,
        steps_reached,
        {earliest_times}
    from attempts
    group by user_id, breakdown_value, steps_reached
),

best_attempts as (
    select *
    from earliest_by_reach
    -- BigQuery has long required a WHERE, GROUP BY or HAVING next to QUALIFY.
    where true
    qualify row_number() over (
        partition by user_id order by steps_reached desc, t1
    ) = 1
),

-- Exact medians are window functions on BigQuery, so they are computed per breakdown value
-- here and carried through the aggregate below.
with_medians as (
    select
        *,
        {step_medians}
    from best_attempts
)

select
    breakdown_value,
    {step_aggregates}
from with_medians
group by breakdown_value
order by count(*) desc
