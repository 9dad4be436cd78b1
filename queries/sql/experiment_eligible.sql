-- An experiment's eligible users, as CTEs for the queries that read them (experiment.sql,
-- experiment_metric.sql): one variant per user (a user with several is left out here and
-- counted from experiment_users), assigned in the date range, in the segment.
assignments as (
    {assignments}
),

experiment_users as (
    select
        user_id,
        min(variant) as variant,
        count(distinct variant) as variants,
        min(assigned_at) as assigned_at
    from assignments
    where experiment = $experiment
    group by user_id
),

eligible as (
    select
        user_id,
        variant,
        assigned_at
    from experiment_users
    where
        variants = 1
        and (assigned_at is null or $start_time is null or assigned_at >= $start_time)
        and (assigned_at is null or $end_time is null or assigned_at < $end_time)
        and {segment_users}
)
