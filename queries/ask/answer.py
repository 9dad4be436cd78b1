"""What an answer carries, wherever it came from (the built-in analyst or the model)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

# The numbers shown under an answer; a larger result is cut (the SQL shows how to get it all).
MAX_NUMBER_ROWS = 30


@dataclass(frozen=True)
class Answer:
    text: str
    bullets: tuple[str, ...] = ()
    numbers: pd.DataFrame | None = None
    sql: tuple[str, ...] = ()
    # Warnings for the reader: refused SQL, an incomplete period, the model being unavailable.
    notes: tuple[str, ...] = ()
    refused: bool = False
    source: str = "analyst"  # or "model"

    def to_dict(self) -> dict:
        """JSON-safe, for the drawer's session store."""
        return {
            "text": self.text,
            "bullets": list(self.bullets),
            "numbers": frame_records(self.numbers),
            "sql": list(self.sql),
            "notes": list(self.notes),
            "refused": self.refused,
            "source": self.source,
        }

    def as_text(self) -> str:
        """The command line's form: the answer, then the numbers, then the SQL used."""
        parts = [self.text, *(f"- {bullet}" for bullet in self.bullets)]
        parts += [f"Note: {note}" for note in self.notes]
        if self.numbers is not None and not self.numbers.empty:
            parts += ["", "Numbers:", self.numbers.head(MAX_NUMBER_ROWS).to_string(index=False)]
        for position, sql in enumerate(self.sql, start=1):
            parts += ["", f"SQL {position}:", sql.strip()]
        return "\n".join(parts)


def plain(value):
    """A cell as JSON can carry it: dates as ISO text, NaN as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


def frame_records(frame: pd.DataFrame | None) -> dict | None:
    if frame is None:
        return None
    head = frame.head(MAX_NUMBER_ROWS)
    return {
        "columns": [str(column) for column in head.columns],
        "rows": [[plain(value) for value in row] for row in head.itertuples(index=False)],
        "total_rows": len(frame),
    }

