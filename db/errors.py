"""The store's own exceptions: the services catch these, never a driver's."""
from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used as configured (a clear message for the operator)."""


class StoreUnavailable(StoreError):
    """The database went away; this request fails, a later one reconnects."""

    # The loop logs errors marked expected in one line, without a traceback: an outage is
    # the operator's news, not a bug report.
    expected = True


class UsernameTaken(StoreError):
    pass


class PhoneTaken(StoreError):
    pass
