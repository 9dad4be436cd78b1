"""Synthetic, deterministic demo data for the growth-analytics app.

Generative model (vectorised with numpy, one batch of users at a time):

* Calendar: the data covers the 15 calendar months that end on ``end_date``. Every day has
  a signup weight (mild exponential growth x weekday factor x yearly factor with a
  November/December bump) and an activity factor (weekday x yearly factor).
* Users draw a signup day from those weights, constant segments (platform, country and
  time zone, utm_source), a purchase propensity and a lifetime made of activity
  *episodes*. The first episode starts at signup and its daily intensity decays
  exponentially with a heavy-tailed per-user decay time: most users fade within weeks, a
  few stay loyal for months. Some users get a second episode weeks or months later: they
  churn and come back (resurrection).
* Sessions: episode arrivals are an inhomogeneous Poisson process (sampled by inverting the
  decaying intensity's CDF), thinned by the day's activity factor and collapsed to one
  session per user and day; the signup day always has one. Its local time of day follows a
  daily usage curve and is shifted to UTC with the user's time zone.
* A session holds one ``session`` event, 1 + Poisson ``page_view`` events seconds to
  minutes apart, sometimes an ``add_to_cart`` and, only after a cart, sometimes a
  ``purchase`` with log-normal revenue rounded to cents.
* Experiments are assigned from the sessions *before* the session contents are drawn, so
  effects live in the events: ``checkout_button`` treatment raises the purchase
  probability after assignment; ``onboarding_flow`` has no effect but loses a fifth of the
  B exposures (sample-ratio mismatch); ``pricing_page`` variant C trades fewer purchases
  for higher order values.

Each batch of users has its own ``np.random.default_rng`` seeded from (seed, batch index),
so the output depends only on (users, seed, end_date, batch_users).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

DEFAULT_USERS = 20_000
DEFAULT_SEED = 7
DEFAULT_BATCH_USERS = 50_000

EVENT_SCHEMA = pa.schema(
    [
        ("event_time", pa.timestamp("us")),
        ("user_id", pa.string()),
        ("event_type", pa.string()),
        ("revenue", pa.float64()),
        ("platform", pa.string()),
        ("country", pa.string()),
        ("utm_source", pa.string()),
    ]
)
ASSIGNMENT_SCHEMA = pa.schema(
    [
        ("experiment", pa.string()),
        ("user_id", pa.string()),
        ("variant", pa.string()),
        ("assigned_at", pa.timestamp("us")),
    ]
)

# Alphabetical, so that sorting by code sorts by the event_type string as well.
EVENT_TYPES = ("add_to_cart", "page_view", "purchase", "session")
_ADD_TO_CART, _PAGE_VIEW, _PURCHASE, _SESSION = range(len(EVENT_TYPES))

_US_PER_SECOND = 1_000_000
_US_PER_HOUR = 3600 * _US_PER_SECOND
_US_PER_DAY = 24 * _US_PER_HOUR

HISTORY_MONTHS = 15
SIGNUP_GROWTH_OVER_HISTORY = 2.5
WEEKDAY_SIGNUP_FACTOR = np.array([1.0, 1.02, 1.0, 0.97, 0.9, 0.66, 0.7])  # Monday first
WEEKDAY_ACTIVITY_FACTOR = np.array([1.0, 1.0, 0.98, 0.96, 0.9, 0.7, 0.74])
MONTH_FACTOR = np.array([0.95, 0.92, 0.95, 0.93, 0.92, 0.88, 0.86, 0.87, 0.93, 0.96, 1.12, 1.2])

PLATFORMS = ("web", "ios", "android")
PLATFORM_SHARE = np.array([0.46, 0.31, 0.23])
EXTRA_PAGE_VIEWS_MEAN = np.array([3.8, 3.1, 2.9])  # desktop sessions browse deeper
CART_RATE = np.array([0.20, 0.24, 0.17])

COUNTRIES = ("US", "GB", "DE", "FR", "IN", "BR", "CA", "JP")
COUNTRY_SHARE = np.array([0.38, 0.12, 0.10, 0.07, 0.13, 0.09, 0.06, 0.05])
COUNTRY_PRICE_LEVEL = np.array([1.1, 1.0, 1.0, 0.95, 0.45, 0.6, 1.05, 1.15])
# North American users spread over their continent's zones; others get the main zone.
COUNTRY_UTC_OFFSET_HOURS = np.array([-5.0, 0.0, 1.0, 1.0, 5.5, -3.0, -5.0, 9.0])
NORTH_AMERICA = (COUNTRIES.index("US"), COUNTRIES.index("CA"))
NORTH_AMERICA_EXTRA_OFFSETS = np.array([0.0, -1.0, -3.0])
NORTH_AMERICA_EXTRA_SHARE = np.array([0.5, 0.3, 0.2])

UTM_SOURCES = ("organic", "google", "facebook", "newsletter", "referral")
UTM_SHARE = np.array([0.42, 0.25, 0.16, 0.07, 0.10])

# Local-time usage curve: quiet nights, a lunch peak and an evening peak.
LOCAL_HOUR_WEIGHT = np.array(
    [0.6, 0.4, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 1.8, 2.2, 2.4, 2.6,
     2.9, 2.7, 2.5, 2.4, 2.5, 2.8, 3.2, 3.6, 3.8, 3.4, 2.4, 1.3]
)  # fmt: skip

FIRST_EPISODE_INTENSITY_MEDIAN = 0.33  # expected sessions per day right after signup
FIRST_EPISODE_DECAY_DAYS_MEDIAN = 9.0
FIRST_EPISODE_DECAY_SIGMA = 1.25  # heavy tail: the loyal users
COMEBACK_SHARE = 0.35
COMEBACK_MIN_GAP_DAYS = 28.0
COMEBACK_MEAN_EXTRA_GAP_DAYS = 75.0
COMEBACK_DECAY_DAYS_MEDIAN = 8.0

PAGE_VIEW_GAP_MIN_S, PAGE_VIEW_GAP_MEAN_S = 2.0, 45.0
CART_GAP_MIN_S, CART_GAP_MEAN_S = 3.0, 35.0
PURCHASE_GAP_MIN_S, PURCHASE_GAP_MEAN_S = 8.0, 80.0
PURCHASE_AFTER_CART_RATE = 0.4
ORDER_VALUE_MEDIAN, ORDER_VALUE_SIGMA = 45.0, 0.55

CHECKOUT_WINDOW_DAYS = 56
CHECKOUT_PURCHASE_LIFT = 1.15  # on purchase-after-cart; ~+12% on user-level conversion
CHECKOUT_MULTI_EXPOSURE_SHARE = 0.001
ONBOARDING_WINDOW_DAYS = 70
ONBOARDING_B_EXPOSURES_LOST = 0.2  # a buggy redirect drops B's exposure logs: ~44/56
PRICING_WINDOW_DAYS = 28
PRICING_VARIANTS = ("control", "B", "C")
PRICING_C_PURCHASE_FACTOR = 0.92
PRICING_C_ORDER_VALUE_FACTOR = 1.12
# Returning customers, each with a steady habit (how often they buy, how much), so their
# revenue before assignment predicts their revenue after it and CUPED narrows the interval.
# Free shipping raises order values; conversion stays as it was.
FREE_SHIPPING_WINDOW_DAYS = 42
FREE_SHIPPING_RETURNING_DAYS = 14  # first seen at least this long before assignment
FREE_SHIPPING_ORDER_VALUE_FACTOR = 1.25
HABIT_SIGMA, BASKET_SIGMA = 0.9, 0.5  # lognormal, mean one


@dataclass(frozen=True)
class DemoData:
    events: pa.Table
    assignments: pa.Table


@dataclass(frozen=True)
class _Calendar:
    n_days: int
    day_start_us: np.ndarray  # int64 microseconds since the epoch, one per day
    signup_cdf: np.ndarray
    activity_acceptance: np.ndarray  # probability an activity draw on that day is kept
    end_cutoff_us: int  # midnight after end_date: every event is before it


@dataclass(frozen=True)
class _Users:
    ids: pa.Array
    signup_day: np.ndarray
    platform: np.ndarray
    country: np.ndarray
    utm_source: np.ndarray
    utc_offset_us: np.ndarray
    purchase_propensity: np.ndarray

    @property
    def count(self) -> int:
        return len(self.signup_day)


@dataclass(frozen=True)
class _Sessions:
    """One row per active user-day, ordered by user then time."""

    user: np.ndarray
    start_us: np.ndarray


@dataclass(frozen=True)
class _Treatment:
    """Per-session multipliers that experiments apply to the session contents."""

    purchase_factor: np.ndarray
    order_value_factor: np.ndarray
    cart_factor: np.ndarray


def _months_before(date: dt.date, months: int) -> dt.date:
    month_index = date.year * 12 + date.month - 1 - months
    year, month = divmod(month_index, 12)
    next_month_first = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (next_month_first - dt.timedelta(days=1)).day
    return dt.date(year, month + 1, min(date.day, last_day))


def _build_calendar(end_date: dt.date) -> _Calendar:
    start_date = _months_before(end_date, HISTORY_MONTHS) + dt.timedelta(days=1)
    n_days = (end_date - start_date).days + 1
    days = np.datetime64(start_date, "D") + np.arange(n_days)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month_factor = MONTH_FACTOR[days.astype("datetime64[M]").astype(np.int64) % 12]
    growth = np.exp(np.log(SIGNUP_GROWTH_OVER_HISTORY) * np.arange(n_days) / n_days)
    signup_weight = growth * WEEKDAY_SIGNUP_FACTOR[weekday] * month_factor
    activity = WEEKDAY_ACTIVITY_FACTOR[weekday] * month_factor
    day_start_us = days.astype("datetime64[us]").astype(np.int64)
    return _Calendar(
        n_days=n_days,
        day_start_us=day_start_us,
        signup_cdf=np.cumsum(signup_weight) / signup_weight.sum(),
        activity_acceptance=activity / activity.max(),
        end_cutoff_us=int(day_start_us[-1]) + _US_PER_DAY,
    )


def _user_ids(first_user: int, count: int, total_users: int) -> pa.Array:
    width = max(6, len(str(total_users - 1)))
    return pa.array([f"u{index:0{width}d}" for index in range(first_user, first_user + count)])


def _draw_users(rng: np.random.Generator, ids: pa.Array, calendar: _Calendar) -> _Users:
    count = len(ids)
    signup_day = np.searchsorted(calendar.signup_cdf, rng.random(count), side="right")
    country = rng.choice(len(COUNTRIES), size=count, p=COUNTRY_SHARE)
    offset_hours = COUNTRY_UTC_OFFSET_HOURS[country]
    north_american = np.isin(country, NORTH_AMERICA)
    extra = rng.choice(NORTH_AMERICA_EXTRA_OFFSETS, size=count, p=NORTH_AMERICA_EXTRA_SHARE)
    offset_hours = offset_hours + np.where(north_american, extra, 0.0)
    return _Users(
        ids=ids,
        signup_day=np.minimum(signup_day, calendar.n_days - 1),
        platform=rng.choice(len(PLATFORMS), size=count, p=PLATFORM_SHARE),
        country=country,
        utm_source=rng.choice(len(UTM_SOURCES), size=count, p=UTM_SHARE),
        utc_offset_us=(offset_hours * _US_PER_HOUR).astype(np.int64),
        # Mean one, so the rates above are population averages.
        purchase_propensity=rng.lognormal(-0.125, 0.5, size=count),
    )


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def _episode_arrivals(
    rng: np.random.Generator,
    user: np.ndarray,
    start_day: np.ndarray,
    horizon_days: np.ndarray,
    intensity: np.ndarray,
    decay_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival days of intensity * exp(-t / decay) from start_day until the horizon."""
    length = np.maximum(horizon_days - start_day, 0.0)
    reachable_mass = -np.expm1(-length / decay_days)
    counts = rng.poisson(intensity * decay_days * reachable_mass)
    arrival_user = np.repeat(user, counts)
    uniform = rng.random(len(arrival_user))
    mass = np.repeat(reachable_mass, counts)
    elapsed = -np.repeat(decay_days, counts) * np.log1p(-uniform * mass)
    return arrival_user, np.repeat(start_day, counts) + elapsed


def _draw_active_days(
    rng: np.random.Generator, users: _Users, calendar: _Calendar
) -> tuple[np.ndarray, np.ndarray]:
    """Return (user, day) of every active day, sorted by user then day."""
    user = np.arange(users.count)
    signup = users.signup_day.astype(np.float64)
    horizon = np.full(users.count, float(calendar.n_days))
    intensity = np.minimum(_lognormal(rng, FIRST_EPISODE_INTENSITY_MEDIAN, 0.6, users.count), 0.95)
    decay = _lognormal(rng, FIRST_EPISODE_DECAY_DAYS_MEDIAN, FIRST_EPISODE_DECAY_SIGMA, users.count)
    first_user, first_day = _episode_arrivals(rng, user, signup, horizon, intensity, decay)

    comes_back = rng.random(users.count) < COMEBACK_SHARE
    gap = COMEBACK_MIN_GAP_DAYS + rng.exponential(COMEBACK_MEAN_EXTRA_GAP_DAYS, users.count)
    comeback_decay = _lognormal(rng, COMEBACK_DECAY_DAYS_MEDIAN, 0.8, users.count)
    comeback_intensity = intensity * rng.uniform(0.5, 1.0, users.count)
    second_user, second_day = _episode_arrivals(
        rng, user[comes_back], (signup + gap)[comes_back], horizon[comes_back],
        comeback_intensity[comes_back], comeback_decay[comes_back],
    )  # fmt: skip

    arrival_user = np.concatenate([first_user, second_user])
    arrival_day = np.concatenate([first_day, second_day]).astype(np.int64)
    kept = rng.random(len(arrival_day)) < calendar.activity_acceptance[arrival_day]
    # Signing up is itself a visit, so the signup day is always active.
    signup_keys = user * calendar.n_days + users.signup_day
    arrival_keys = (arrival_user * calendar.n_days + arrival_day)[kept]
    unique_keys = np.unique(np.concatenate([signup_keys, arrival_keys]))
    return unique_keys // calendar.n_days, unique_keys % calendar.n_days


def _draw_sessions(rng: np.random.Generator, users: _Users, calendar: _Calendar) -> _Sessions:
    user, day = _draw_active_days(rng, users, calendar)
    local_hour = rng.choice(24, size=len(user), p=LOCAL_HOUR_WEIGHT / LOCAL_HOUR_WEIGHT.sum())
    local_time_us = local_hour * _US_PER_HOUR + rng.integers(0, _US_PER_HOUR, len(user))
    # Wrapping keeps the session on its UTC day, so one session per day still holds.
    utc_time_us = (local_time_us - users.utc_offset_us[user]) % _US_PER_DAY
    return _Sessions(user=user, start_us=calendar.day_start_us[day] + utc_time_us)


def _first_session_since(
    sessions: _Sessions, since_us: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Users with a session at or after since_us (ever, if None) and their first one's start."""
    if since_us is None:
        in_window = np.arange(len(sessions.user))
    else:
        in_window = np.flatnonzero(sessions.start_us >= since_us)
    # Sessions are ordered by user then time, so a user's first row is their earliest.
    user, first = np.unique(sessions.user[in_window], return_index=True)
    return user, sessions.start_us[in_window[first]]


def _exposed_sessions(
    sessions: _Sessions, n_users: int, user: np.ndarray, assigned_at: np.ndarray
) -> np.ndarray:
    """Mask of sessions of `user` that start at or after their assignment."""
    assigned_by_user = np.full(n_users, np.iinfo(np.int64).max)
    assigned_by_user[user] = assigned_at
    return sessions.start_us >= assigned_by_user[sessions.user]


def _assignment_rows(
    experiment: str, users: _Users, user: np.ndarray, variant: list[str], assigned_at: np.ndarray
) -> pa.Table:
    return pa.table(
        {
            "experiment": pa.array([experiment] * len(user), pa.string()),
            "user_id": users.ids.take(pa.array(user, pa.int64())),
            "variant": pa.array(variant, pa.string()),
            "assigned_at": pa.array(assigned_at.astype("datetime64[us]")),
        },
        schema=ASSIGNMENT_SCHEMA,
    )


def _assign_checkout_button(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, calendar: _Calendar,
    treatment: _Treatment,
) -> pa.Table:  # fmt: skip
    since_us = calendar.end_cutoff_us - CHECKOUT_WINDOW_DAYS * _US_PER_DAY
    user, assigned_at = _first_session_since(sessions, since_us)
    treated = rng.random(len(user)) < 0.5
    exposed = _exposed_sessions(sessions, users.count, user[treated], assigned_at[treated])
    treatment.purchase_factor[exposed] *= CHECKOUT_PURCHASE_LIFT

    # A few users also see the other variant (e.g. a second device); the app must flag them.
    doubled = rng.random(len(user)) < CHECKOUT_MULTI_EXPOSURE_SHARE
    delay_us = rng.integers(5 * 60 * _US_PER_SECOND, 2 * _US_PER_DAY, len(user))
    second_at = np.minimum(assigned_at + delay_us, calendar.end_cutoff_us - 1)
    all_user = np.concatenate([user, user[doubled]])
    all_treated = np.concatenate([treated, ~treated[doubled]])
    all_assigned = np.concatenate([assigned_at, second_at[doubled]])
    variant = ["treatment" if is_treated else "control" for is_treated in all_treated]
    return _assignment_rows("checkout_button", users, all_user, variant, all_assigned)


def _assign_onboarding_flow(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, calendar: _Calendar
) -> pa.Table:
    # The first session is the signup, so "first session in window" means a new user.
    since_us = calendar.end_cutoff_us - ONBOARDING_WINDOW_DAYS * _US_PER_DAY
    user, first_start = _first_session_since(sessions)
    new = first_start >= since_us
    user, first_start = user[new], first_start[new]
    is_b = rng.random(len(user)) < 0.5
    logged = ~is_b | (rng.random(len(user)) >= ONBOARDING_B_EXPOSURES_LOST)
    variant = ["B" if b else "A" for b in is_b[logged]]
    return _assignment_rows("onboarding_flow", users, user[logged], variant, first_start[logged])


def _assign_pricing_page(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, calendar: _Calendar,
    treatment: _Treatment,
) -> pa.Table:  # fmt: skip
    since_us = calendar.end_cutoff_us - PRICING_WINDOW_DAYS * _US_PER_DAY
    user, assigned_at = _first_session_since(sessions, since_us)
    variant_code = rng.integers(0, len(PRICING_VARIANTS), len(user))
    is_c = variant_code == PRICING_VARIANTS.index("C")
    exposed = _exposed_sessions(sessions, users.count, user[is_c], assigned_at[is_c])
    treatment.purchase_factor[exposed] *= PRICING_C_PURCHASE_FACTOR
    treatment.order_value_factor[exposed] *= PRICING_C_ORDER_VALUE_FACTOR
    variant = [PRICING_VARIANTS[code] for code in variant_code]
    return _assignment_rows("pricing_page", users, user, variant, assigned_at)


def _mean_one_lognormal(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(-sigma ** 2 / 2, sigma, size)


def _assign_free_shipping(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, calendar: _Calendar,
    treatment: _Treatment,
) -> pa.Table:  # fmt: skip
    since_us = calendar.end_cutoff_us - FREE_SHIPPING_WINDOW_DAYS * _US_PER_DAY
    user, assigned_at = _first_session_since(sessions, since_us)
    first_user, first_start = _first_session_since(sessions)
    first_by_user = np.zeros(users.count, dtype=np.int64)
    first_by_user[first_user] = first_start
    returning = first_by_user[user] <= assigned_at - FREE_SHIPPING_RETURNING_DAYS * _US_PER_DAY
    user, assigned_at = user[returning], assigned_at[returning]
    habit, basket = np.ones(users.count), np.ones(users.count)
    habit[user] = _mean_one_lognormal(rng, HABIT_SIGMA, len(user))
    basket[user] = _mean_one_lognormal(rng, BASKET_SIGMA, len(user))
    treatment.cart_factor[:] *= habit[sessions.user]
    treatment.purchase_factor[:] *= habit[sessions.user]
    treatment.order_value_factor[:] *= basket[sessions.user]
    treated = rng.random(len(user)) < 0.5
    exposed = _exposed_sessions(sessions, users.count, user[treated], assigned_at[treated])
    treatment.order_value_factor[exposed] *= FREE_SHIPPING_ORDER_VALUE_FACTOR
    variant = ["free_shipping" if is_treated else "control" for is_treated in treated]
    return _assignment_rows("free_shipping", users, user, variant, assigned_at)


def _assign_experiments(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, calendar: _Calendar
) -> tuple[pa.Table, _Treatment]:
    treatment = _Treatment(
        purchase_factor=np.ones(len(sessions.user)),
        order_value_factor=np.ones(len(sessions.user)),
        cart_factor=np.ones(len(sessions.user)),
    )
    tables = [
        _assign_checkout_button(rng, users, sessions, calendar, treatment),
        _assign_onboarding_flow(rng, users, sessions, calendar),
        _assign_pricing_page(rng, users, sessions, calendar, treatment),
        _assign_free_shipping(rng, users, sessions, calendar, treatment),
    ]
    return pa.concat_tables(tables), treatment


def _gaps_us(rng: np.random.Generator, count: int, minimum_s: float, mean_s: float) -> np.ndarray:
    seconds = minimum_s + rng.exponential(mean_s, count)
    return (seconds * _US_PER_SECOND).astype(np.int64)


def _page_view_offsets(
    rng: np.random.Generator, page_views: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each page view from its session start, and each session's last offset."""
    gaps = _gaps_us(rng, int(page_views.sum()), PAGE_VIEW_GAP_MIN_S, PAGE_VIEW_GAP_MEAN_S)
    running = np.cumsum(gaps)
    session_end = np.cumsum(page_views)
    before_session = np.concatenate([[0], running[session_end[:-1] - 1]])
    offsets = running - np.repeat(before_session, page_views)
    return offsets, running[session_end - 1] - before_session


def _draw_session_events(
    rng: np.random.Generator, users: _Users, sessions: _Sessions, treatment: _Treatment
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (time_us, user, event_type code, revenue) of all events, unsorted."""
    n_sessions = len(sessions.user)
    platform = users.platform[sessions.user]
    page_views = 1 + rng.poisson(EXTRA_PAGE_VIEWS_MEAN[platform])
    page_view_offsets, last_offset = _page_view_offsets(rng, page_views)

    cart_probability = (CART_RATE[platform] * users.purchase_propensity[sessions.user]
                        * treatment.cart_factor)
    carted = rng.random(n_sessions) < np.minimum(cart_probability, 0.9)
    buy_probability = np.minimum(PURCHASE_AFTER_CART_RATE * treatment.purchase_factor, 0.95)
    purchased = carted & (rng.random(n_sessions) < buy_probability)
    cart_time = (
        sessions.start_us + last_offset + _gaps_us(rng, n_sessions, CART_GAP_MIN_S, CART_GAP_MEAN_S)
    )
    purchase_time = cart_time + _gaps_us(rng, n_sessions, PURCHASE_GAP_MIN_S, PURCHASE_GAP_MEAN_S)

    price_level = COUNTRY_PRICE_LEVEL[users.country[sessions.user[purchased]]]
    order_value = _lognormal(rng, ORDER_VALUE_MEDIAN, ORDER_VALUE_SIGMA, int(purchased.sum()))
    order_value *= price_level * treatment.order_value_factor[purchased]
    revenue = np.maximum(np.round(order_value, 2), 0.5)

    time_us = np.concatenate([
        sessions.start_us,
        np.repeat(sessions.start_us, page_views) + page_view_offsets,
        cart_time[carted],
        purchase_time[purchased],
    ])  # fmt: skip
    user = np.concatenate([
        sessions.user, np.repeat(sessions.user, page_views),
        sessions.user[carted], sessions.user[purchased],
    ])  # fmt: skip
    event_type = np.concatenate([
        np.full(n_sessions, _SESSION), np.full(len(page_view_offsets), _PAGE_VIEW),
        np.full(int(carted.sum()), _ADD_TO_CART), np.full(len(revenue), _PURCHASE),
    ]).astype(np.int8)  # fmt: skip
    revenue_column = np.concatenate([np.full(len(time_us) - len(revenue), np.nan), revenue])
    return time_us, user, event_type, revenue_column


def _events_batch(
    users: _Users,
    calendar: _Calendar,
    time_us: np.ndarray,
    user: np.ndarray,
    event_type: np.ndarray,
    revenue: np.ndarray,
) -> pa.RecordBatch:
    # Sessions late on end_date may spill past midnight; the data stops at the cutoff.
    kept = np.flatnonzero(time_us < calendar.end_cutoff_us)
    order = kept[np.lexsort((event_type[kept], user[kept], time_us[kept]))]
    user_index = pa.array(user[order])
    event_revenue = revenue[order]
    columns = [
        pa.array(time_us[order].astype("datetime64[us]")),
        users.ids.take(user_index),
        pa.array(EVENT_TYPES).take(pa.array(event_type[order])),
        pa.array(event_revenue, pa.float64(), mask=np.isnan(event_revenue)),
        pa.array(PLATFORMS).take(pa.array(users.platform[user[order]])),
        pa.array(COUNTRIES).take(pa.array(users.country[user[order]])),
        pa.array(UTM_SOURCES).take(pa.array(users.utm_source[user[order]])),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=EVENT_SCHEMA)


def _generate_batch(
    seed: int, batch_index: int, first_user: int, count: int, total_users: int,
    calendar: _Calendar,
) -> tuple[pa.RecordBatch, pa.Table]:  # fmt: skip
    rng = np.random.default_rng([seed, batch_index])
    users = _draw_users(rng, _user_ids(first_user, count, total_users), calendar)
    sessions = _draw_sessions(rng, users, calendar)
    assignments, treatment = _assign_experiments(rng, users, sessions, calendar)
    events = _events_batch(users, calendar, *_draw_session_events(rng, users, sessions, treatment))
    return events, assignments


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _iter_batches(
    users: int, seed: int, end_date: dt.date | None, batch_users: int
) -> Iterator[tuple[pa.RecordBatch, pa.Table]]:
    if users < 1 or batch_users < 1:
        raise ValueError("users and batch_users must be positive")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if isinstance(end_date, dt.datetime):
        end_date = end_date.date()
    calendar = _build_calendar(end_date or _utc_today())
    for batch_index in range(math.ceil(users / batch_users)):
        first_user = batch_index * batch_users
        count = min(batch_users, users - first_user)
        yield _generate_batch(seed, batch_index, first_user, count, users, calendar)


def iter_demo_batches(
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date | None = None,
    batch_users: int = DEFAULT_BATCH_USERS,
) -> Iterator[tuple[pa.RecordBatch, pa.Table]]:
    """Yield (events, assignments) of `batch_users` users at a time."""
    yield from _iter_batches(users, seed, end_date, batch_users)


def iter_demo_event_batches(
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    end_date: dt.date | None = None,
    batch_users: int = DEFAULT_BATCH_USERS,
) -> Iterator[pa.RecordBatch]:
    """Yield the events of `batch_users` users at a time, each batch sorted by
    (event_time, user_id, event_type). Memory stays bounded by one batch."""
    for events, _assignments in _iter_batches(users, seed, end_date, batch_users):
        yield events


def generate_demo(
    users: int = DEFAULT_USERS, seed: int = DEFAULT_SEED, end_date: dt.date | None = None
) -> DemoData:
    """Generate events and experiment assignments for `users` users.

    end_date defaults to today's UTC date; data ends on end_date (events up to some time on
    that day). Events are sorted by (event_time, user_id, event_type), assignments by
    (experiment, assigned_at, user_id, variant).
    """
    event_batches, assignment_tables = [], []
    for events, assignments in _iter_batches(users, seed, end_date, DEFAULT_BATCH_USERS):
        event_batches.append(events)
        assignment_tables.append(assignments)
    events = pa.Table.from_batches(event_batches, schema=EVENT_SCHEMA)
    if len(event_batches) > 1:
        events = events.sort_by(
            [("event_time", "ascending"), ("user_id", "ascending"), ("event_type", "ascending")]
        )
    assignments = pa.concat_tables(assignment_tables).sort_by(
        [
            ("experiment", "ascending"),
            ("assigned_at", "ascending"),
            ("user_id", "ascending"),
            ("variant", "ascending"),
        ]
    )
    return DemoData(events=events.combine_chunks(), assignments=assignments.combine_chunks())
