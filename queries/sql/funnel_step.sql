step_{step} as (
    select
        {previous_columns},
        min(next_events.event_time) as t{step}
    from step_{previous} as previous
    left join step_events as next_events
        on
            next_events.user_id = previous.user_id
            and next_events.event_type = $step_{step}
            and next_events.event_time {after} previous.t{previous}
            and next_events.event_time <= {window_end}
    group by {previous_columns}
),
