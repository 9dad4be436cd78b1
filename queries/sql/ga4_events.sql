-- A Google Analytics 4 BigQuery export as the app's events (BigQuery only): its daily tables
-- events_YYYYMMDD, read through one wildcard. The suffix bounds keep a view to the shards of
-- the days it reads (queries/query_spec.py's reads_days), which BigQueryBackend.run binds as
-- YYYYMMDD suffixes a day wider on each side, since the tables follow the property's time
-- zone and event_timestamp is UTC; a view that names no days reads every table. The intraday
-- tables (events_intraday_...) sort after every date and are not read.
-- Revenue is a purchase's ecommerce.purchase_revenue, so only purchases are orders.
select
    user_pseudo_id as user_id,
    timestamp_micros(event_timestamp) as event_time,
    event_name as event_type,
    case when event_name = 'purchase' then ecommerce.purchase_revenue end as revenue,
    device.category as device_category,
    geo.country as country,
    traffic_source.source as traffic_source
from {events}
where
    _table_suffix between $events_first_day and $events_last_day
    and user_pseudo_id is not null
