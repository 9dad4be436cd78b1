-- query: retention
-- Retention triangle: one row per cohort x period_index, from k = 0 to the period holding the
-- data's last day ($last_period). A cohort is the users whose first cohort event (whole
-- history) falls in that period; only cohorts from $first_cohort to $last_cohort are kept.
-- Exact mode counts members active in period cohort + k; unbounded mode counts members active
-- in cohort + k or any later period.
with cohort_members as (
    select user_id, period as cohort from user_periods_month where prev_period is null
),

active_periods as (
    select user_id, period from user_periods_month
),

cohorts as (
    select
        cohort,
        count(*) as cohort_size
    from cohort_members
    where cohort between $first_cohort and $last_cohort
    group by cohort
),

member_activity as (
    select
        cohort_members.cohort,
        cohort_members.user_id,
        active_periods.period - cohort_members.cohort as period_index
    from cohort_members
    inner join active_periods on active_periods.user_id = cohort_members.user_id
    where
        cohort_members.cohort between $first_cohort and $last_cohort
        and active_periods.period >= cohort_members.cohort
),

exact_counts as (
    select
        cohort,
        period_index,
        count(*) as users_at_index
    from member_activity
    group by cohort, period_index
),

last_indexes as (
    select
        cohort,
        max(period_index) as last_index
    from member_activity
    group by cohort, user_id
),

-- Users whose last returning period is k; summed over k and above, they are the users
-- active in period k or later.
unbounded_counts as (
    select
        cohort,
        last_index as period_index,
        count(*) as users_at_index
    from last_indexes
    group by cohort, last_index
),

cells as (
    select
        cohorts.cohort,
        cohorts.cohort_size,
        period_index
    from cohorts, unnest(generate_series(0, $last_period - cohorts.cohort)) AS period_index_series(period_index)
),

counted as (
    select
        cells.cohort,
        cells.cohort_size,
        cells.period_index,
        coalesce(counts.users_at_index, 0) as users_at_index
    from cells
    left join unbounded_counts as counts
        on counts.cohort = cells.cohort and counts.period_index = cells.period_index
),

retained as (
    select
        cohort,
        cohort_size,
        period_index,
        sum(users_at_index) over (partition by cohort order by period_index desc) as retained_users
    from counted
)

select
    make_date(CAST(floor(cohort / 12) AS INTEGER), cohort % 12 + 1, 1) as cohort_start,
    cohort_size,
    period_index,
    retained_users,
    retained_users / cohort_size as retention_rate,
    cohort + period_index < $first_incomplete_period as is_complete
from retained
order by cohort, period_index

-- parameters:
--   first_cohort = 24289
--   first_incomplete_period = 24290
--   last_cohort = 24290
--   last_period = 24290
