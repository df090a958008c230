"""Bounded request bodies: one cap for the app, smaller ones per view, chunked too.

Flask's MAX_CONTENT_LENGTH refuses a Content-Length over the cap (413) before a
byte is read. A chunked body has no Content-Length: servers that de-chunk (the
Werkzeug dev server of `pxflask demo`, gunicorn) set `wsgi.input_terminated`, and
Werkzeug then reads at most the cap but hands over the first `cap` bytes of a
longer body as if they were all of it. CappedInput reads the body in the sizes
asked for and raises 413 as soon as a byte beyond the cap arrives, so no body is
ever held whole and none is silently cut.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property

APP_MAX_BODY = 2 * 1024 * 1024
"""The app-wide cap: the largest form (settings with every mapping) is a few KiB."""

View = TypeVar("View", bound=Callable[..., Any])


def max_body(limit: int) -> Callable[[View], View]:
    """Give a view its own body cap in bytes (the app's cap still applies)."""

    def mark(view: View) -> View:
        view.max_body = limit  # type: ignore[attr-defined]
        return view

    return mark


class CappedInput(io.RawIOBase):
    """A de-chunked request body that raises 413 on the first byte past its cap."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self._stream = stream
        self._cap = cap
        self.consumed = 0

    def readable(self) -> bool:
        """A request body is read, never written."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read at most the room left under the cap; 413 if the body goes on."""
        room = min(len(buffer), self._cap - self.consumed)
        data = self._stream.read(room) if room > 0 else b""
        self.consumed += len(data)
        if self.consumed >= self._cap and self._stream.read(1):
            raise RequestEntityTooLarge(
                f"The request body is larger than {self._cap} bytes."
            )
        buffer[: len(data)] = data
        return len(data)


class BoundedRequest(Request):
    """A request whose body is bounded by its view's cap, chunked or not."""

    @property
    def max_content_length(self) -> int | None:
        """The smaller of the app's cap and the view's own (see max_body)."""
        if self._max_content_length is not None:
            return self._max_content_length
        caps = [super().max_content_length or APP_MAX_BODY]
        if current_app and self.url_rule is not None:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            caps.append(getattr(view, "max_body", None) or caps[0])
        return min(caps)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @cached_property
    def stream(self) -> IO[bytes]:
        """Werkzeug's guarded stream, over a CappedInput for server-ended bodies."""
        cap = self.max_content_length
        if cap is not None and "wsgi.input_terminated" in self.environ:
            self.environ["wsgi.input"] = CappedInput(self.environ["wsgi.input"], cap)
        return super().stream


def init_request_limits(app: Flask) -> None:
    """Bound every request body of the app (MAX_CONTENT_LENGTH defaults to 2 MiB)."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = APP_MAX_BODY
    app.request_class = BoundedRequest
