-- query: funnel
-- Ordered funnel: one row per breakdown value (a single row without a breakdown) with, for each
-- step k, the users who reached it and the median seconds from step k - 1.
-- A user enters with a step-1 event in [@start_time, @end_time) (an "attempt"); step k is the
-- earliest step-k event at or after step k - 1 and within @window_seconds of step 1. Each user
-- counts once, with their attempt that went furthest (the earliest such attempt).
with step_1 as (
    select
        user_id,
        `country` as breakdown_value,
        event_time as t1
    from `demo-project.analytics.events`
    where
        `platform` IN UNNEST(@filter_0)
        and event_type = @step_1
        and event_time >= @start_time
        and event_time < @end_time
),

-- query: funnel_step
-- Step 2: the earliest step-2 event >= t1 is the one whose previous
-- step-2 event (if any) is < t1, so the join finds at most one event per
-- attempt and needs no aggregate over the attempts.
step_2_events as (
    select
        user_id,
        event_time,
        lag(event_time) over (partition by user_id order by event_time) as previous_time
    from `demo-project.analytics.events`
    -- An event before @start_time can only be a previous_time, and one before t1, as null
    -- stands for; an event after @last_step_time is outside every attempt's window.
    where
        `platform` IN UNNEST(@filter_0)
        and event_type = @step_2
        and event_time >= @start_time
        and event_time <= @last_step_time
),

step_2 as (
    select
        previous.*,
        next_events.event_time as t2
    from step_1 as previous
    left join step_2_events as next_events
        on
            next_events.user_id = previous.user_id
            and next_events.event_time >= previous.t1
            and coalesce(next_events.previous_time < previous.t1, true)
            and next_events.event_time <= TIMESTAMP_ADD(previous.t1, INTERVAL @window_seconds SECOND)
),

-- query: funnel_step
-- Step 3: the earliest step-3 event > t2 is the one whose previous
-- step-3 event (if any) is <= t2, so the join finds at most one event per
-- attempt and needs no aggregate over the attempts.
step_3_events as (
    select
        user_id,
        event_time,
        lag(event_time) over (partition by user_id order by event_time) as previous_time
    from `demo-project.analytics.events`
    -- An event before @start_time can only be a previous_time, and one before t2, as null
    -- stands for; an event after @last_step_time is outside every attempt's window.
    where
        `platform` IN UNNEST(@filter_0)
        and event_type = @step_3
        and event_time >= @start_time
        and event_time <= @last_step_time
),

step_3 as (
    select
        previous.*,
        next_events.event_time as t3
    from step_2 as previous
    left join step_3_events as next_events
        on
            next_events.user_id = previous.user_id
            and next_events.event_time > previous.t2
            and coalesce(next_events.previous_time <= previous.t2, true)
            and next_events.event_time <= TIMESTAMP_ADD(previous.t1, INTERVAL @window_seconds SECOND)
),


attempts as (
    select
        *,
        case when t1 is not null then 1 else 0 end + case when t2 is not null then 1 else 0 end + case when t3 is not null then 1 else 0 end as steps_reached
    from step_3
),

-- Along one user's attempts every t_k grows with t1 (step k is the first step-k event after
-- step k - 1), so among attempts that reach equally far the earliest holds the smallest t1, t2,
-- ...: min() picks its times out of a few rows per user instead of ranking every attempt.
earliest_by_reach as (
    select
        user_id,
        breakdown_value,
        steps_reached,
        min(t1) as t1,
        min(t2) as t2,
        min(t3) as t3
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
        PERCENTILE_CONT(((UNIX_MICROS(t2) - UNIX_MICROS(t1)) / 1000000), 0.5) OVER (PARTITION BY breakdown_value) as median_seconds_2,
        PERCENTILE_CONT(((UNIX_MICROS(t3) - UNIX_MICROS(t2)) / 1000000), 0.5) OVER (PARTITION BY breakdown_value) as median_seconds_3
    from best_attempts
)

select
    breakdown_value,
    count(*) as users_1,
    count(t2) as users_2,
    max(median_seconds_2) as median_seconds_2,
    count(t3) as users_3,
    max(median_seconds_3) as median_seconds_3
from with_medians
group by breakdown_value
order by count(*) desc

-- parameters:
--   end_time = 2024-03-01T00:00:00
--   filter_0 = ["web"]
--   last_step_time = 2024-03-03T00:00:00
--   start_time = 2024-02-01T00:00:00
--   step_1 = "page_view"
--   step_2 = "purchase"
--   step_3 = "purchase"
--   window_seconds = 172800
