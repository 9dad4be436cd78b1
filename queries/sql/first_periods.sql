-- One row per user: the first period (whole history) in which they did a cohort event.
select
    user_id,
    min({period_of_event_time}) as cohort
from {events}
where {event_filter}
group by user_id
