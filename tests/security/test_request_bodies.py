"""Every request body is bounded: announced (Content-Length) or chunked.

A chunked body reaches the app as a stream the server ends (`wsgi.input_terminated`,
set by the Werkzeug dev server of `pxflask demo` for chunked requests and by
gunicorn for all). The test client gets the same through a counting stream with no
Content-Length, so each test can say how many bytes the panel read.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from pxflask.blueprints import hooks, webhooks
from pxflask.sandbox.webhooks import payload, sign
from pxflask.web.request_limits import APP_MAX_BODY
from tests.fixtures.webapp import csrf_token
from tests.security.conftest import HOOK_TOKEN, WEBHOOK_KEY

SLACK = 64 * 1024  # one read of Werkzeug's beyond a cap, at most


class Body(io.RawIOBase):
    """`size` bytes made on demand (never held), counting what the app reads."""

    def __init__(self, size: int, prefix: bytes = b"", fill: bytes = b"a") -> None:
        self.size = size
        self.prefix = prefix
        self.fill = fill
        self.consumed = 0

    def readable(self) -> bool:
        """The app reads it."""
        return True

    def readinto(self, buffer) -> int:
        """Hand out the next bytes: the prefix, then the fill byte."""
        count = min(len(buffer), self.size - self.consumed)
        head = self.prefix[self.consumed : self.consumed + count]
        buffer[:count] = head + self.fill * (count - len(head))
        self.consumed += count
        return count


def _chunked(client, path: str, body: io.RawIOBase, **headers):
    """POST a server-ended body with no Content-Length, as a chunked request."""
    return client.post(
        path,
        headers={"Transfer-Encoding": "chunked", **headers},
        environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True},
    )


def _signed(body: bytes) -> dict[str, str]:
    """The headers of a webhook body signed with the test key."""
    return {
        "x-xero-signature": sign(body, WEBHOOK_KEY),
        "Content-Type": "application/json",
    }


def test_chunked_oversize_webhook_is_refused_without_reading_it_whole(client):
    """A 64 MiB chunked body to /webhooks/xero: 413 once past 1 MiB, empty answer."""
    body = Body(64 * 1024 * 1024)
    response = _chunked(client, "/webhooks/xero", body, **_signed(b""))
    assert response.status_code == 413
    assert response.get_data() == b""
    assert body.consumed <= webhooks.MAX_BODY + 1


def test_chunked_oversize_hook_is_refused_without_reading_it_whole(client):
    """A 16 MiB chunked body to /hooks/perfex: 413 (JSON) once past 4 KiB."""
    body = Body(16 * 1024 * 1024, prefix=b'{"entity": "invoices", "id": 1, "x": "')
    response = _chunked(
        client,
        "/hooks/perfex",
        body,
        Authorization=f"Bearer {HOOK_TOKEN}",
        **{"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]
    assert body.consumed <= hooks.MAX_BODY + 1


def test_chunked_oversize_form_is_refused_without_reading_it_whole(client):
    """Any other endpoint: a chunked form past the app's cap is 413, read in part."""
    body = Body(64 * 1024 * 1024, prefix=b"email=a%40example.com&password=")
    response = _chunked(
        client,
        "/login",
        body,
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert body.consumed <= APP_MAX_BODY + SLACK


class CountingFile(io.BytesIO):
    """An in-memory body that counts the bytes read from it."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        """Read and count."""
        data = super().read(size)
        self.consumed += len(data)
        return data

    def readinto(self, buffer) -> int:
        """Read into a buffer and count."""
        count = super().readinto(buffer)
        self.consumed += count
        return count


def test_announced_oversize_form_is_refused_before_it_is_read(client):
    """A 3 MiB multipart upload to the sign-in form: 413 before a byte is read."""
    token = csrf_token(client, "/login")
    boundary = "pxflask-test-boundary"
    parts = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f'name="upload"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    stream = CountingFile(
        parts + b"x" * (3 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/login",
        input_stream=stream,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert stream.consumed == 0


def test_announced_oversize_webhook_is_refused_before_it_is_read(client):
    """A webhook with Content-Length over 1 MiB: 413, empty, nothing read."""
    stream = CountingFile(b" " * (webhooks.MAX_BODY + 1))
    response = client.post(
        "/webhooks/xero", input_stream=stream, headers=_signed(stream.getvalue())
    )
    assert response.status_code == 413 and response.get_data() == b""
    assert stream.consumed == 0


def test_a_chunked_webhook_of_exactly_the_cap_is_still_taken(client):
    """1 MiB exactly (padded JSON, signed) is 200; one byte more is 413."""
    core = payload([])
    exact = core + b" " * (webhooks.MAX_BODY - len(core))
    body = Body(len(exact), prefix=exact)
    assert _chunked(client, "/webhooks/xero", body, **_signed(exact)).status_code == 200
    assert body.consumed == webhooks.MAX_BODY
    over = exact + b" "
    body = Body(len(over), prefix=over)
    assert _chunked(client, "/webhooks/xero", body, **_signed(over)).status_code == 413


def test_a_normal_signed_webhook_is_still_taken(client):
    """Xero's intent-to-receive, with Content-Length: 200."""
    body = payload([])
    response = client.post("/webhooks/xero", data=body, headers=_signed(body))
    assert response.status_code == 200


def _pieces(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """Split a body into the chunks http.client sends."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _post(port: int, path: str, body: Iterable[bytes], headers: dict[str, str]) -> int:
    """POST to the served panel (chunked unless headers give a Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunked = "Content-Length" not in headers
        connection.request(
            "POST", path, body=body, headers=headers, encode_chunked=chunked
        )
        return connection.getresponse().status
    finally:
        connection.close()


@contextmanager
def _served(app) -> Iterator[int]:
    """The panel on Werkzeug's threaded server (as `pxflask demo`); its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_the_served_panel_bounds_chunked_bodies(app):
    """Over a real socket: a small signed webhook 200, a 3 MiB one 413."""
    small = payload([])
    big = b" " * (3 * 1024 * 1024)
    with _served(app) as port:
        assert _post(port, "/webhooks/xero", _pieces(small), _signed(small)) == 200
        assert _post(port, "/webhooks/xero", _pieces(big), _signed(big)) == 413


SERVE = """
import sys
from werkzeug.serving import make_server
from pxflask import create_app
app = create_app({"TESTING": True, "INSTANCE_PATH": sys.argv[1],
                  "XERO_WEBHOOK_KEY": "k", "PERFEX_DATABASE_URL": "sqlite://"})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.port, flush=True)
server.serve_forever()
"""


def _peak_rss_kib(pid: int) -> int:
    """A process's peak RSS (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+)", status, re.M).group(1))


def _spaces(size: int) -> Iterator[bytes]:
    """`size` bytes of spaces in 64 KiB pieces, made as they are sent."""
    for _ in range(size // (64 * 1024)):
        yield b" " * (64 * 1024)


def test_the_served_panel_drops_an_unread_body_in_small_reads(tmp_path):
    """64 MiB refused (413) or never read (404): the server's peak RSS grows < 8 MiB.

    Werkzeug's server reads what is left 10 MB at a time (+19 MiB); the panel
    reads it first, 64 KiB at a time. Measured on a fresh process, whose heap has
    not grown for earlier requests.
    """
    root = Path(__file__).parents[2]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
    )
    try:
        port = int(server.stdout.readline())
        size = 64 * 1024 * 1024
        for path, headers, status in [
            ("/webhooks/xero", {}, 413),
            ("/no-such-page", {"Content-Length": str(size)}, 404),
        ]:
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # peak := now
            before = _peak_rss_kib(server.pid)
            assert _post(port, path, _spaces(size), headers) == status
            assert _peak_rss_kib(server.pid) - before < 8 * 1024, path
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
