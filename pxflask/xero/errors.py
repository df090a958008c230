"""Domain exceptions of the Xero gateway; messages are meant for the admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class XeroError(Exception):
    """Base class of every error the gateway raises."""

    # write(): results of the calls that completed before the error.
    partial_results: list[Any] | None = None


class XeroConfigError(XeroError):
    """A Xero-related setting is missing or malformed."""


class NotConnected(XeroError):
    """No usable Xero connection is stored."""


class NeedsReconnect(NotConnected):
    """The stored connection was made with other app credentials (it is kept)."""


class XeroAuthError(XeroError):
    """Xero refused the credentials, the code, the state or the token."""


class QuotaExhausted(XeroError):
    """The tenant's daily call budget is spent; work must resume later."""

    def __init__(self, resume_at: datetime, message: str | None = None) -> None:
        self.resume_at = resume_at
        super().__init__(
            message
            or f"Xero's daily call limit for this organisation is used up; "
            f"resume after {resume_at:%Y-%m-%d %H:%M} UTC"
        )


class RetriesExhausted(XeroError):
    """A call kept failing (429, 5xx, no answer) for the whole retry budget.

    Only that call failed: callers fail the records it carried (or the step that
    needed it) with the message, and the next run retries them.
    """

    def __init__(self, message: str, status: int = 0) -> None:
        self.status = status
        super().__init__(message)


class RateLimited(RetriesExhausted):
    """Xero kept answering 429 (minute limit) for the whole retry budget."""


class XeroUnavailable(RetriesExhausted):
    """Xero kept failing (5xx, timeouts, connection errors) for the retry budget."""


class XeroRequestError(XeroError):
    """Xero answered a request with a non-retryable error status."""

    def __init__(self, status: int, message: str, body: object = None) -> None:
        self.status = status
        self.message = message
        self.body = body
        super().__init__(f"Xero answered {status}: {message}")
