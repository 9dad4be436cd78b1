"""Errors whose messages are written for the person who asked."""


class ParameterError(ValueError):
    """A request the user can fix; the message says how."""


def check_date_range(start, end) -> None:
    if start and end and start > end:
        raise ParameterError(f"start date {start} is after end date {end}")
