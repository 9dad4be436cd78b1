-- Ordered funnel: one row per breakdown value (a single row without a breakdown) with, for each
-- step k, the users who reached it and the median seconds from step k - 1.
-- A user enters with a step-1 event in [$start_time, $end_time) (an "attempt"); step k is the
-- earliest step-k event at or after step k - 1 and within $window_seconds of step 1. Each user
-- counts once, with their attempt that went furthest (the earliest such attempt).
with step_events as (
    select
        user_id,
        event_type,
        event_time,
        {breakdown_value} as breakdown_value
    from {events}
    where {segment_filter} and {step_filter}
),

step_1 as (
    select
        user_id,
        breakdown_value,
        event_time as anchor,
        event_time as t1
    from step_events
    where event_type = $step_1 and event_time >= $start_time and event_time < $end_time
),

{later_steps}

best_attempts as (
    select *
    from step_{step_count}
    -- BigQuery has long required a WHERE, GROUP BY or HAVING next to QUALIFY.
    where true
    qualify row_number() over (
        partition by user_id order by {steps_reached} desc, anchor
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
