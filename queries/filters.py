"""Segment filters: which events count as activity.

Columns come only from the allow-list of the events table's segment columns (plus
event_type); values always travel as bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from queries.dialect import Dialect
from queries.errors import UserError

ACTIVITY_COLUMN = "event_type"


class FilterError(UserError, ValueError):
    """A filter that names an unknown column or is malformed."""


@dataclass(frozen=True)
class SegmentFilter:
    """Within a column the values are alternatives (OR); across columns all must hold (AND)."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Values a column must not have (a breakdown's "other"); an empty value passes.
    exclusions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]] | None) -> SegmentFilter:
        conditions = []
        for column, values in sorted((mapping or {}).items()):
            chosen = tuple(sorted({str(v) for v in values or ()}))
            if chosen:
                conditions.append((column, chosen))
        return cls(tuple(conditions))

    @classmethod
    def parse(cls, expressions: Iterable[str]) -> SegmentFilter:
        """From command-line `COLUMN=VALUE` items; a column given twice matches either value."""
        mapping: dict[str, list[str]] = {}
        for expression in expressions:
            column, separator, value = expression.partition("=")
            if not separator or not column.strip():
                raise FilterError(f"filter {expression!r} is not of the form COLUMN=VALUE")
            mapping.setdefault(column.strip(), []).append(value)
        return cls.from_mapping(mapping)

    @property
    def selects(self) -> bool:
        """Whether it leaves any event out."""
        return bool(self.conditions or self.exclusions)

    def as_dict(self) -> dict[str, list[str]]:
        return {column: list(values) for column, values in self.conditions}

    def without_values(self, column: str, values: Iterable[str]) -> SegmentFilter:
        """This filter, also refusing `values` of `column`."""
        excluded = dict(self.exclusions) | {column: tuple(sorted({str(v) for v in values}))}
        return SegmentFilter(self.conditions, tuple(sorted(excluded.items())))

    def validate(self, allowed_columns: Iterable[str]) -> None:
        allowed = set(allowed_columns)
        for column, _ in self.conditions + self.exclusions:
            if column not in allowed:
                choices = ", ".join(sorted(allowed)) or "none"
                raise FilterError(f"cannot filter on {column!r}: filterable columns are {choices}")

    def with_values(self, column: str, values: Iterable[str] | None) -> SegmentFilter:
        """This filter with `column` restricted to `values` instead (unchanged when None)."""
        if values is None:
            return self
        return SegmentFilter.from_mapping(self.as_dict() | {column: list(values)})

    def to_sql(
        self, dialect: Dialect, allowed_columns: Iterable[str], prefix: str = "filter"
    ) -> tuple[str, dict]:
        """A boolean SQL expression over the events table and its bound parameters; `prefix`
        keeps parameter names apart when one query holds several filters."""
        self.validate(allowed_columns)
        clauses, params = [], {}
        for position, (column, values) in enumerate(self.conditions):
            parameter = f"{prefix}_{position}"
            clauses.append(dialect.in_list(dialect.quote(column), parameter))
            params[parameter] = list(values)
        for position, (column, values) in enumerate(self.exclusions):
            parameter = f"{prefix}_not_{position}"
            listed = dialect.in_list(dialect.quote(column), parameter)
            clauses.append(f"NOT coalesce({listed}, FALSE)")
            params[parameter] = list(values)
        return (" AND ".join(clauses) or "TRUE"), params
