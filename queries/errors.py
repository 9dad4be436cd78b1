"""Errors whose messages are written for the person who asked."""


class ParameterError(ValueError):
    """A request the user can fix; the message says how."""
