"""Errors a command can be refused with. Each carries a stable code for the wire protocol."""

from __future__ import annotations


class DomainError(Exception):
    """A user error: the command is refused, nothing changes, the connection stays open.

    Codes: invalid, forbidden, banned, not_found, conflict, rate_limited, not_interactive.
    """

    def __init__(self, code: str, message: str, *, retry_after: int | None = None,
                 limit: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # For the client to say what to do: seconds to wait (rate_limited), the length not to
        # exceed (invalid: too long).
        self.retry_after, self.limit = retry_after, limit
