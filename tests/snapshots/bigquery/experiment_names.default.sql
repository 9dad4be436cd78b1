-- query: experiment_names
-- One row per experiment in the assignments table, with its assigned users.
select
    experiment,
    count(distinct user_id) as users
from `demo-project.analytics.assignments`
group by experiment
order by experiment

-- parameters:
--   (none)
