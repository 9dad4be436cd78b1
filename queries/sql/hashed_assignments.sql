-- Deterministic assignment for an experiment declared in configuration: every user active on
-- or after $hash_start is assigned at their first event from then on, to the variant whose
-- cumulative weight range holds the hash bucket of salt || user_id (md5, first 32 bits, in
-- [0, 1)); the same on every backend.
with first_seen as (
    select
        user_id,
        min(event_time) as assigned_at
    from {events}
    where event_time >= $hash_start
    group by user_id
)

select
    $experiment as experiment,
    user_id,
    case
        {variant_cases}
    end as variant,
    assigned_at
from first_seen
