-- query: ltv
-- Revenue cohorts: one row per cohort x period_index, from k = 0 to the period holding the
-- data's last day ($last_period). A cohort is the users whose first active period (whole
-- history) it is, as in retention; a cell is the revenue its members brought in period
-- cohort + k. Every cell has its row, empty ones included.
with cohort_members as (
    -- query: first_periods
-- One row per user: the first period (whole history) in which they did a cohort event.
select
    user_id,
    min(period) as cohort
from activity_week
where list_contains($cohort_filter_0, "country")
group by user_id

),

cohorts as (
    select
        cohort,
        count(*) as cohort_size
    from cohort_members
    where cohort between $first_cohort and $last_cohort
    group by cohort
),

revenue_periods as (
    select
        user_id,
        CAST(floor((date_diff('day', DATE '1970-01-01', CAST(event_time AS DATE)) + 3) / 7) AS INTEGER) as period,
        sum(revenue) as revenue
    from events
    where revenue is not null and list_contains($revenue_filter_0, "country")
    group by 1, 2
),

member_revenue as (
    select
        cohort_members.cohort,
        revenue_periods.period - cohort_members.cohort as period_index,
        sum(revenue_periods.revenue) as revenue
    from cohort_members
    inner join revenue_periods on revenue_periods.user_id = cohort_members.user_id
    where
        cohort_members.cohort between $first_cohort and $last_cohort
        and revenue_periods.period >= cohort_members.cohort
    group by 1, 2
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
        coalesce(member_revenue.revenue, 0) as revenue
    from cells
    left join member_revenue
        on member_revenue.cohort = cells.cohort
        and member_revenue.period_index = cells.period_index
)

select
    DATE '1969-12-29' + CAST(7 * cohort AS INTEGER) as cohort_start,
    cohort_size,
    period_index,
    revenue,
    sum(revenue) over (
        partition by cohort order by period_index rows between unbounded preceding and current row
    ) / cohort_size as cumulative_revenue_per_user,
    revenue / nullif(first_value(revenue) over (partition by cohort order by period_index), 0)
        as revenue_retention,
    cohort + period_index < $first_incomplete_period as is_complete
from counted
order by cohort, period_index

-- parameters:
--   cohort_filter_0 = ["US"]
--   first_cohort = 2818
--   first_incomplete_period = 2829
--   last_cohort = 2829
--   last_period = 2829
--   revenue_filter_0 = ["US"]
