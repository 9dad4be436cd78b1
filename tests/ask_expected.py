"""Expected answers for the ask tests, computed a second way: Python sets and pandas over the raw
event rows, without the app's SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from app.demo import generate_demo
from app.storage import Source, load

DATA_END = dt.date(2025, 6, 18)  # a Wednesday: June 2025 and its last week are incomplete


def demo_database(folder: Path, users: int = 1500) -> Path:
    data = generate_demo(users=users, seed=23, end_date=DATA_END)
    path = folder / "demo.duckdb"
    load(path, Source("demo-events", table=data.events),
         Source("demo-assignments", table=data.assignments))
    return path


def raw_events(db: Path, where: str = "true") -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(f"select * from events where {where}").df()


def raw_assignments(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute("select * from assignments").df()


def monthly_growth(events: pd.DataFrame, last_day: dt.date = DATA_END) -> pd.DataFrame:
    """Growth accounting per calendar month by walking sets of user ids month by month."""
    months = events["event_time"].dt.to_period("M")
    active = events.groupby(months)["user_id"].agg(set).to_dict()
    calendar = pd.period_range(min(active), pd.Period(last_day, "M"), freq="M")
    seen: set = set()
    previous: set = set()
    rows = []
    for month in calendar:
        users = active.get(month, set())
        rows.append({
            "month": month,
            "new": len(users - seen),
            "retained": len(users & previous),
            "resurrected": len((users - previous) & seen),
            "churned": len(previous - users),
            "active": len(users),
            "previous_active": len(previous) if month != calendar[0] else None,
            "complete": month.end_time.date() <= last_day,
        })
        seen |= users
        previous = users
    return pd.DataFrame(rows).set_index("month")


def first_months(events: pd.DataFrame) -> pd.Series:
    return events.groupby("user_id")["event_time"].min().dt.to_period("M")


def cohort_retained(events: pd.DataFrame, cohort: pd.Period, later: pd.Period) -> tuple[int, int]:
    """(cohort size, members active in `later`)."""
    firsts = first_months(events)
    members = set(firsts[firsts == cohort].index)
    active_later = set(events.loc[events["event_time"].dt.to_period("M") == later, "user_id"])
    return len(members), len(members & active_later)


def revenue_between(events: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    day = events["event_time"].dt.date
    return float(events.loc[(day >= start) & (day <= end), "revenue"].sum())


def experiment_counts(db: Path, experiment: str, conversion: str = "purchase") -> pd.DataFrame:
    """Users and converters per variant: users in one variant only, converting with an event at
    or after their assignment."""
    assignments = raw_assignments(db)
    assignments = assignments[assignments["experiment"] == experiment]
    variants = assignments.groupby("user_id")["variant"].nunique()
    single = assignments[assignments["user_id"].isin(variants[variants == 1].index)]
    per_user = single.groupby("user_id").agg(variant=("variant", "first"),
                                             assigned_at=("assigned_at", "min"))
    events = raw_events(db, f"event_type = '{conversion}'")
    joined = events.merge(per_user, left_on="user_id", right_index=True)
    after = joined["assigned_at"].isna() | (joined["event_time"] >= joined["assigned_at"])
    converted = set(joined.loc[after, "user_id"])
    per_user["converted"] = per_user.index.isin(converted)
    return per_user.groupby("variant").agg(users=("converted", "size"),
                                           converters=("converted", "sum"))
