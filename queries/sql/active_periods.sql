-- One row per user x period in which the user did a returning event.
select distinct
    user_id,
    {period_of_event_time} as period
from {events}
where {event_filter}
