"""Bounded request bodies: one cap for the app, smaller ones per view, chunked too.

Flask's MAX_CONTENT_LENGTH refuses a Content-Length over the cap (413) before a
byte is read. A chunked body has no Content-Length: servers that de-chunk (the
Werkzeug dev server of `pxflask demo`, gunicorn) set `wsgi.input_terminated`, and
Werkzeug then reads at most the cap but hands over the first `cap` bytes of a
longer body as if they were all of it. CappedInput reads the body in the sizes
asked for and raises 413 as soon as a byte beyond the cap arrives, so no body is
ever held whole and none is silently cut.

After answering, Werkzeug's dev server (`pxflask demo`) reads and drops what is
left of a body so that the client sees the answer (a 413, a 401 or 404 sent before
reading), 10 MB per read: +20 MB of RSS for any large body. DrainUnread does it
first, 64 KiB per read. gunicorn closes the connection instead.
"""

from __future__ import annotations

import io
import selectors
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, TypeVar

from flask import Flask, Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import ClosingIterator

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

APP_MAX_BODY = 2 * 1024 * 1024
"""The app-wide cap: the largest form (settings with every mapping) is a few KiB."""

DRAIN_READ = 64 * 1024
DRAIN_IDLE = 1.0  # seconds; Werkzeug's own drain, which follows, waits 10 ms
DRAIN_LIMIT = 10_000_000_000  # as much as Werkzeug's own drain reads, then it stops
View = TypeVar("View", bound=Callable[..., Any])


def max_body(limit: int) -> Callable[[View], View]:
    """Give a view its own body cap in bytes (the app's cap still applies)."""

    def mark(view: View) -> View:
        view.max_body = limit  # type: ignore[attr-defined]
        return view

    return mark


class BodyReader(io.RawIOBase):
    """A readable stream over a request body, counting the bytes read."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.consumed = 0

    def readable(self) -> bool:
        """A request body is read, never written."""
        return True


class CappedInput(BodyReader):
    """A de-chunked request body that raises 413 on the first byte past its cap."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        super().__init__(stream)
        self._cap = cap

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


class TrackedInput(BodyReader):
    """The dev server's request body, noting whether the app read it to its end."""

    def __init__(self, stream: IO[bytes], length: int | None) -> None:
        super().__init__(stream)
        self._length = length
        self.ended = False

    def readinto(self, buffer: Any) -> int:
        """Read through; the end is a 0-byte read or the announced length."""
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        if not data or (self._length is not None and self.consumed >= self._length):
            self.ended = True
        return len(data)


class DrainUnread:
    """WSGI middleware: on Werkzeug's server, drop an unread body in small reads."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Run the app; if it left part of a body unread, drain it after answering."""
        sock = environ.get("werkzeug.socket")
        announced = environ.get("CONTENT_LENGTH", "")
        length = int(announced) if announced.isdigit() else None
        if sock is None or not (length or "wsgi.input_terminated" in environ):
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"] = TrackedInput(environ["wsgi.input"], length)
        answer = self.wsgi_app(environ, start_response)
        after = self._then_drain(answer, body, sock)
        return ClosingIterator(after, getattr(answer, "close", None))

    @staticmethod
    def _then_drain(
        answer: Iterable[bytes], body: TrackedInput, sock: Any
    ) -> Iterator[bytes]:
        """The answer, sent out (b"" flushes it), then the drain if it is needed."""
        yield from answer
        yield b""
        if not body.ended:
            drain(sock)


def drain(sock: Any) -> None:
    """Read and drop what the client still sends until it pauses for DRAIN_IDLE."""
    total = 0
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while total < DRAIN_LIMIT and selector.select(timeout=DRAIN_IDLE):
            try:
                data = sock.recv(DRAIN_READ)
            except OSError:
                return
            if not data:
                return
            total += len(data)


def init_request_limits(app: Flask) -> None:
    """Bound every request body of the app (MAX_CONTENT_LENGTH defaults to 2 MiB)."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = APP_MAX_BODY
    app.request_class = BoundedRequest
    app.wsgi_app = DrainUnread(app.wsgi_app)  # type: ignore[method-assign]
