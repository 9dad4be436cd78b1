-- Step {step}: the earliest step-{step} event {after} t{previous} is the one whose previous
-- step-{step} event (if any) is {not_after} t{previous}, so the join finds at most one event per
-- attempt and needs no aggregate over the attempts.
step_{step}_events as (
    select
        user_id,
        event_time,
        lag(event_time) over (partition by user_id order by event_time) as previous_time
    from {events}
    -- An event before $start_time can only be a previous_time, and one before t{previous}, as null
    -- stands for; an event after $last_step_time is outside every attempt's window.
    where
        {segment_filter}
        and event_type = $step_{step}
        and event_time >= $start_time
        and event_time <= $last_step_time
),

step_{step} as (
    select
        previous.*,
        next_events.event_time as t{step}
    from step_{previous} as previous
    left join step_{step}_events as next_events
        on
            next_events.user_id = previous.user_id
            and next_events.event_time {after} previous.t{previous}
            and coalesce(next_events.previous_time {not_after} previous.t{previous}, true)
            and next_events.event_time <= {window_end}
),
