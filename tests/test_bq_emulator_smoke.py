"""The BigQuery emulator answers the real client: a dataset, a load and a parameterised query."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from google.cloud import bigquery

from tests.bq_emulator import ASSIGNMENTS_SCHEMA, events_schema, load_frame
from tests.conftest import events_table

UTC = dt.UTC


@pytest.fixture
def emulator(bigquery_emulator):
    return bigquery_emulator


def test_loaded_rows_come_back_through_a_bound_parameter(emulator):
    client = emulator.client()
    rows = [
        ("2024-03-10T23:30:00", "u1", "signup", None, "web"),
        ("2024-03-11T00:15:00.250000", "u1", "purchase", 9.5, "web"),
        ("2024-03-11T08:00:00", "u2", "purchase", 20.0, "ios"),
    ]
    table = load_frame(
        client, "smoke.events", events_table(rows, ("platform",)), events_schema(("platform",))
    )
    assert table.num_rows == 3
    # BigQuery answers legacy type names (FLOAT), the emulator the names given (FLOAT64).
    legacy = {"FLOAT64": "FLOAT", "INT64": "INTEGER", "BOOL": "BOOLEAN"}
    assert [(f.name, legacy.get(f.field_type, f.field_type)) for f in table.schema] == [
        ("event_time", "TIMESTAMP"), ("user_id", "STRING"), ("event_type", "STRING"),
        ("revenue", "FLOAT"), ("platform", "STRING"),
    ]

    job = client.query(
        "select user_id, event_time, revenue, DATE(event_time) as day from smoke.events "
        "where event_type = @kind and user_id in unnest(@users) order by event_time",
        job_config=bigquery.QueryJobConfig(query_parameters=[
            bigquery.ScalarQueryParameter("kind", "STRING", "purchase"),
            bigquery.ArrayQueryParameter("users", "STRING", ["u1", "u2"]),
        ]),
    )
    assert [tuple(row.values()) for row in job.result()] == [
        ("u1", dt.datetime(2024, 3, 11, 0, 15, 0, 250000, tzinfo=UTC), 9.5, dt.date(2024, 3, 11)),
        ("u2", dt.datetime(2024, 3, 11, 8, 0, tzinfo=UTC), 20.0, dt.date(2024, 3, 11)),
    ]


def test_a_dataframe_loads_and_reads_back_as_a_dataframe(emulator):
    client = emulator.client()
    frame = pd.DataFrame({
        "experiment": ["exp", "exp", "other"],
        "user_id": ["u1", "u2", "u1"],
        "variant": ["control", "treatment", "control"],
        "assigned_at": pd.to_datetime(
            ["2024-03-01 00:00:00", "2024-03-01 12:00:00", "2024-03-02 00:00:00"]
        ),
    })
    load_frame(client, "smoke.assignments", frame, ASSIGNMENTS_SCHEMA)

    back = client.query(
        "select variant, count(*) as users, min(assigned_at) as first from smoke.assignments "
        "where experiment = @experiment and (@since is null or assigned_at >= @since) "
        "group by variant order by variant",
        job_config=bigquery.QueryJobConfig(query_parameters=[
            bigquery.ScalarQueryParameter("experiment", "STRING", "exp"),
            bigquery.ScalarQueryParameter("since", "TIMESTAMP", None),
        ]),
    ).result().to_arrow(create_bqstorage_client=False).to_pandas()  # as the app reads results
    assert back["variant"].tolist() == ["control", "treatment"]
    assert back["users"].tolist() == [1, 1]
    assert back["first"].tolist() == [
        pd.Timestamp("2024-03-01 00:00:00", tz="UTC"), pd.Timestamp("2024-03-01 12:00:00", tz="UTC")
    ]
