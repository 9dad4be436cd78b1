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
    # The csv module quotes a field holding the line terminator ("\n") but not a bare "\r",
    # which strict readers take for a line break: such a row is written fully quoted.
    quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        cells = [format_cell(_plain(value)) for value in row]
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)


def _plain(value: object) -> object:
    """numpy scalars to Python ones, so formatting sees bool/int/float."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
