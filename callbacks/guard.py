"""One place that turns a failing query into an error card, so the rest of the page works, and
that keeps each panel's queries for the diagnostics."""

from __future__ import annotations

import logging
from collections.abc import Callable

from callbacks.diagnostics import remember
from layouts.components import error_card
from queries.backends import BackendError
from queries.filters import FilterError
from queries.query_log import collecting

log = logging.getLogger(__name__)
UNEXPECTED = "An unexpected error occurred; the server log has the details."


def guarded(panel: str, compute: Callable, on_failure: Callable):
    """compute(), or on_failure(card, message) when the backend or the request fails."""
    with collecting() as records:
        try:
            return compute()
        except (BackendError, FilterError) as error:
            message = str(error)
        except Exception:  # a bug in one panel must not take the page down
            log.exception("%s failed", panel)
            message = UNEXPECTED
        finally:
            remember(records)
    return on_failure(error_card(f"{panel} could not be loaded", message), message)
