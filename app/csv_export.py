"""CSV for scripts and spreadsheets: ISO dates, full float precision, empty undefined cells."""

from __future__ import annotations

import csv
import datetime as dt
import math
from typing import IO

import pandas as pd

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def format_cell(value: object) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    if pd.isna(value):
        return ""
    return str(value)


def write_csv(frame: pd.DataFrame, handle: IO[str]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([format_cell(_plain(value)) for value in row])


def _plain(value: object) -> object:
    """numpy scalars to Python ones, so formatting sees bool/int/float."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
