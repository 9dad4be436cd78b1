-- bigquery-public-data.thelook_ecommerce as the app's events (BigQuery only; the tables are
-- those of the configured dataset): every signed-in web event, plus one `order` event per
-- order that was not cancelled, carrying the sum of its items' sale prices as revenue.
select
    cast(web.user_id as string) as user_id,
    web.created_at as event_time,
    web.event_type,
    cast(null as float64) as revenue,
    web.traffic_source,
    web.browser,
    users.country
from {events} as web
left join {users} as users on users.id = web.user_id
where web.user_id is not null

union all

select
    cast(orders.user_id as string) as user_id,
    orders.created_at as event_time,
    'order' as event_type,
    items.revenue,
    users.traffic_source,
    cast(null as string) as browser,
    users.country
from {orders} as orders
inner join (
    select
        order_id,
        sum(sale_price) as revenue
    from {order_items}
    group by order_id
) as items on items.order_id = orders.order_id
left join {users} as users on users.id = orders.user_id
where orders.status != 'Cancelled'
