"""Errors whose messages are written for the person who asked.

Every error a user can act on is a UserError: panels show its message as it is (an error card
for a failing backend, a notice for a request to fix), the CLI prints it after `error:`, and
anything else is a bug, logged with its traceback and shown as "unexpected"."""


class UserError(Exception):
    """A failure whose message is safe to show and says what to do."""


class ParameterError(UserError, ValueError):
    """A request the user can fix; the message says how."""


def check_date_range(start, end) -> None:
    if start and end and start > end:
        raise ParameterError(f"start date {start} is after end date {end}")
