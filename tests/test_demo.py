"""Tests for the synthetic demo data: schema, determinism and the growth patterns it shows."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from app.demo import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    DemoData,
    generate_demo,
    iter_demo_event_batches,
)

END_DATE = dt.date(2025, 3, 16)
SMALL_USERS = 2_000
# Enough assigned users that a ~12% relative lift is several standard errors wide.
EXPERIMENT_USERS = 40_000

EXPECTED_EVENT_SCHEMA = pa.schema(
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
EXPECTED_ASSIGNMENT_SCHEMA = pa.schema(
    [
        ("experiment", pa.string()),
        ("user_id", pa.string()),
        ("variant", pa.string()),
        ("assigned_at", pa.timestamp("us")),
    ]
)


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate_demo(SMALL_USERS, DEFAULT_SEED, END_DATE)


@pytest.fixture(scope="module")
def small_events(small: DemoData) -> pd.DataFrame:
    return small.events.to_pandas()


@pytest.fixture(scope="module")
def large() -> DemoData:
    return generate_demo(EXPERIMENT_USERS, DEFAULT_SEED, END_DATE)


def _single_variant_assignments(assignments: pd.DataFrame, experiment: str) -> pd.DataFrame:
    rows = assignments[assignments["experiment"] == experiment]
    variants_per_user = rows.groupby("user_id")["variant"].nunique()
    return rows[rows["user_id"].isin(variants_per_user[variants_per_user == 1].index)]


def test_defaults_are_as_documented():
    assert (DEFAULT_USERS, DEFAULT_SEED) == (20_000, 7)


def test_schemas_and_column_order(small: DemoData):
    assert small.events.schema == EXPECTED_EVENT_SCHEMA
    assert small.assignments.schema == EXPECTED_ASSIGNMENT_SCHEMA
    assert small.events.column_names == [field.name for field in EXPECTED_EVENT_SCHEMA]


def test_event_volume_is_about_thirty_per_user(small: DemoData):
    assert 0.8 * 30 <= small.events.num_rows / SMALL_USERS <= 1.2 * 30


def test_revenue_null_unless_purchase_and_positive_for_purchases(small_events: pd.DataFrame):
    is_purchase = small_events["event_type"] == "purchase"
    assert is_purchase.any()
    assert small_events.loc[~is_purchase, "revenue"].isna().all()
    purchase_revenue = small_events.loc[is_purchase, "revenue"]
    assert purchase_revenue.notna().all()
    assert (purchase_revenue > 0).all()
    assert np.allclose(purchase_revenue, purchase_revenue.round(2))


def test_value_sets_ids_and_constant_segments(small_events: pd.DataFrame):
    assert set(small_events["event_type"]) == {"session", "page_view", "add_to_cart", "purchase"}
    assert set(small_events["platform"]) == {"web", "ios", "android"}
    assert set(small_events["country"]) == {"US", "GB", "DE", "FR", "IN", "BR", "CA", "JP"}
    assert set(small_events["utm_source"]) == {
        "organic", "google", "facebook", "newsletter", "referral",
    }  # fmt: skip
    assert small_events["user_id"].str.fullmatch(r"u\d{6}").all()
    segments_per_user = small_events.groupby("user_id")[["platform", "country", "utm_source"]]
    assert (segments_per_user.nunique() == 1).all().all()


def test_events_end_on_end_date_and_are_sorted(small_events: pd.DataFrame):
    end_cutoff = pd.Timestamp(END_DATE + dt.timedelta(days=1))
    assert (small_events["event_time"] < end_cutoff).all()
    assert small_events["event_time"].max().date() == END_DATE
    sort_columns = ["event_time", "user_id", "event_type"]
    assert small_events[sort_columns].equals(
        small_events[sort_columns].sort_values(sort_columns, ignore_index=True)
    )


def test_every_user_starts_with_a_session(small_events: pd.DataFrame):
    first_event_type = small_events.groupby("user_id")["event_type"].first()
    assert (first_event_type == "session").all()


def test_purchases_follow_an_add_to_cart(small_events: pd.DataFrame):
    purchases = small_events[small_events["event_type"] == "purchase"]
    carts = small_events[small_events["event_type"] == "add_to_cart"]
    matched = pd.merge_asof(
        purchases[["event_time", "user_id"]],
        carts[["event_time", "user_id"]].rename(columns={"event_time": "cart_time"}),
        left_on="event_time",
        right_on="cart_time",
        by="user_id",
        allow_exact_matches=False,
        tolerance=pd.Timedelta(hours=1),
    )
    assert matched["cart_time"].notna().all()


def test_determinism_and_seed_sensitivity(small: DemoData):
    again = generate_demo(SMALL_USERS, DEFAULT_SEED, END_DATE)
    assert again.events.equals(small.events)
    assert again.assignments.equals(small.assignments)
    other_seed = generate_demo(SMALL_USERS, DEFAULT_SEED + 1, END_DATE)
    assert not other_seed.events.equals(small.events)


def test_batches_are_deterministic_sorted_and_match_generate_demo(small: DemoData):
    def collect(batch_users: int) -> list[pa.RecordBatch]:
        return list(iter_demo_event_batches(SMALL_USERS, DEFAULT_SEED, END_DATE, batch_users))

    chunked = collect(batch_users=700)
    assert len(chunked) == 3
    assert all(batch.schema == EXPECTED_EVENT_SCHEMA for batch in chunked)
    assert all(a.equals(b) for a, b in zip(chunked, collect(batch_users=700), strict=True))
    for batch in chunked:
        times = batch.column("event_time").to_numpy().astype(np.int64)
        assert (np.diff(times) >= 0).all()
    chunked_users = pa.Table.from_batches(chunked).column("user_id").unique()
    assert len(chunked_users) == SMALL_USERS

    # A single batch holds everybody, so it is exactly generate_demo's events.
    single = pa.Table.from_batches(collect(batch_users=50_000))
    assert single.equals(small.events)


def test_default_end_date_is_today_utc():
    today = dt.datetime.now(dt.UTC).date()
    events = generate_demo(users=50).events.to_pandas()
    assert events["event_time"].max() < pd.Timestamp(today + dt.timedelta(days=1))


def test_history_spans_about_fifteen_months(small_events: pd.DataFrame):
    first_date = small_events["event_time"].min().date()
    assert 14 * 30.4 <= (END_DATE - first_date).days <= 16 * 30.4


def _monthly_activity(events: pd.DataFrame) -> pd.DataFrame:
    month = events["event_time"].dt.year * 12 + events["event_time"].dt.month - 1
    active = pd.DataFrame({"user_id": events["user_id"], "month": month}).drop_duplicates()
    return active.sort_values(["user_id", "month"], ignore_index=True)


def test_churn_and_resurrection(small_events: pd.DataFrame):
    active = _monthly_activity(small_events)
    month_gap = active.groupby("user_id")["month"].diff()
    # Active in month m, absent in m + 1, active again later.
    resurrected = active.loc[month_gap >= 2, "user_id"].nunique()
    assert resurrected / SMALL_USERS > 0.05

    first_month = active.groupby("user_id")["month"].min()
    observable = first_month[first_month <= active["month"].max() - 2]
    active_pairs = pd.MultiIndex.from_frame(active)
    third_month = pd.MultiIndex.from_arrays([observable.index, observable.to_numpy() + 2])
    share_active_in_third_month = third_month.isin(active_pairs).mean()
    assert share_active_in_third_month < 0.5


def test_weekend_activity_is_lower(small_events: pd.DataFrame):
    events_per_day = small_events.groupby(small_events["event_time"].dt.normalize()).size()
    is_weekend = events_per_day.index.day_of_week >= 5
    assert events_per_day[is_weekend].mean() < 0.9 * events_per_day[~is_weekend].mean()


def test_checkout_button_treatment_converts_more(large: DemoData):
    assignments = _single_variant_assignments(large.assignments.to_pandas(), "checkout_button")
    purchases = large.events.filter(pc.equal(large.events["event_type"], "purchase"))
    purchases = purchases.select(["user_id", "event_time"]).to_pandas()
    joined = assignments.merge(purchases, on="user_id", how="left")
    joined["converted"] = joined["event_time"] >= joined["assigned_at"]
    per_user = joined.groupby(["user_id", "variant"])["converted"].any().reset_index()
    conversion = per_user.groupby("variant")["converted"].mean()
    assert set(conversion.index) == {"control", "treatment"}
    assert conversion["treatment"] > 1.03 * conversion["control"]
    treatment_share = (per_user["variant"] == "treatment").mean()
    assert 0.47 < treatment_share < 0.53


def test_checkout_button_has_a_few_multi_variant_users(large: DemoData):
    rows = large.assignments.to_pandas()
    rows = rows[rows["experiment"] == "checkout_button"]
    variants_per_user = rows.groupby("user_id")["variant"].nunique()
    multi_variant_users = int((variants_per_user > 1).sum())
    assert 1 <= multi_variant_users <= 0.005 * len(variants_per_user)


def test_onboarding_flow_has_sample_ratio_mismatch(large: DemoData):
    rows = large.assignments.to_pandas()
    rows = rows[rows["experiment"] == "onboarding_flow"]
    assert set(rows["variant"]) == {"A", "B"}
    assert rows["user_id"].is_unique
    assert 0.35 < (rows["variant"] == "B").mean() < 0.47


def test_pricing_page_has_three_variants(large: DemoData):
    rows = large.assignments.to_pandas()
    rows = rows[rows["experiment"] == "pricing_page"]
    assert set(rows["variant"]) == {"control", "B", "C"}
    assert rows["user_id"].is_unique


def test_assignments_happen_within_the_data(large: DemoData):
    assignments = large.assignments.to_pandas()
    assert (assignments["assigned_at"] < pd.Timestamp(END_DATE + dt.timedelta(days=1))).all()
    known_users = set(large.events.column("user_id").unique().to_pylist())
    assert set(assignments["user_id"]) <= known_users
