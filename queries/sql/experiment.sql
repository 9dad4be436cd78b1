-- One experiment's users and conversions: one row per variant x day x kind, where kind is
-- 'assigned' (users by the day they were assigned), 'converted' (users by the day of their
-- first conversion at or after assignment) or 'excluded' (users assigned to several variants,
-- left out of every count; variant and day are null on that row).
with
{eligible_users},

conversions as (
    select
        eligible.user_id,
        min(events.event_time) as converted_at
    from eligible
    inner join {events} as events on events.user_id = eligible.user_id
    where
        events.event_type = $conversion_event
        and {segment_filter}
        and (eligible.assigned_at is null or events.event_time >= eligible.assigned_at)
        and (
            $window_seconds is null
            or eligible.assigned_at is null
            or events.event_time <= {window_end}
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
