-- The most frequent values of one segment column (one row per value), for filter pickers.
select
    {column} as value,
    count(*) as events
from {events}
where {column} is not null
group by {column}
order by events desc, value
limit $max_values
