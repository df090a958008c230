"""Measurement: the panel's memory while it refuses a 300 MiB chunked webhook body.

Starts the real panel as `make demo` does (`pxflask demo --port P`: Werkzeug's
server, embedded queue, local sandbox) in a fresh instance folder, as a separate
process running this checkout's code (or, with --server gunicorn, gunicorn with one
sync worker on create_app(), as deployed). Once it answers /healthz and has
answered a small webhook, the serving process's idle memory is read from
/proc/PID/status (VmRSS) and its peak (VmHWM) is reset to it (`5` written to
/proc/PID/clear_refs).
Then a raw socket POSTs /webhooks/xero with `Transfer-Encoding: chunked` (or, with
--announced, a Content-Length) and keeps sending 64 KiB pieces until 300 MiB are
sent or the panel closes the connection, as a client that ignores an early answer
would. Printed: the answer's status, how many bytes had been sent when it
arrived, idle VmRSS, the peak after the request and the difference in MiB (peak:
the higher of VmHWM and the highest VmRSS sampled every 10 ms meanwhile; the
kernel updates VmHWM lazily).

    .venv/bin/python benchmarks/chunked_body.py [--mib 300] [--announced]
        [--server gunicorn]  # one sync worker on create_app() (the deploy extra)
        [--source DIR]   # run the panel from another copy of the code (e.g. the
                         # unfixed one, `git archive <commit> pxflask | tar -x -C DIR`)
"""

from __future__ import annotations

import argparse
import http.client
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PXFLASK = Path(sys.executable).with_name("pxflask")
GUNICORN = Path(sys.executable).with_name("gunicorn")
CHUNK = 64 * 1024
MB = 1024 * 1024


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in KiB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def wait_until_up(port: int, panel: subprocess.Popen, timeout: float = 180) -> None:
    """Poll /healthz until the panel answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if panel.poll() is not None:
            raise SystemExit(f"pxflask demo exited with {panel.returncode}")
        try:
            if request(port, "GET", "/healthz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("pxflask demo did not answer /healthz in time")


def request(port: int, method: str, path: str, body: bytes | None = None) -> int:
    """One plain request; the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Sampler(threading.Thread):
    """Read VmRSS every 10 ms until stopped; keep the highest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.highest = 0
        self.done = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.done.is_set():
            self.highest = max(self.highest, status_kib(self.pid, "VmRSS"))
            time.sleep(0.01)


def stream_body(port: int, total: int, announced: bool) -> tuple[str, int, int]:
    """POST `total` bytes to /webhooks/xero; (status line, sent at answer, sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    framing = f"Content-Length: {total}" if announced else "Transfer-Encoding: chunked"
    head = (
        "POST /webhooks/xero HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nx-xero-signature: AAAA\r\n"
        f"{framing}\r\n\r\n"
    )
    piece = b" " * CHUNK
    chunk = piece if announced else b"%x\r\n" % CHUNK + piece + b"\r\n"
    sent, answered_at = 0, -1
    try:
        sock.sendall(head.encode())
        while sent < total:
            if answered_at < 0 and select.select([sock], [], [], 0)[0]:
                answered_at = sent
            sock.sendall(chunk)
            sent += CHUNK
        if not announced:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the panel closed the connection after answering
    try:
        status = sock.makefile("rb").readline().decode("latin-1").strip()
    except OSError as exc:
        status = f"(no answer: {exc})"
    sock.close()
    return status, answered_at if answered_at >= 0 else sent, sent


def start_panel(server: str, port: int, folder: str, source: Path) -> subprocess.Popen:
    """`pxflask demo`, or gunicorn (one sync worker) on create_app(), started."""
    env = {**os.environ, "PXFLASK_INSTANCE_PATH": folder, "PYTHONPATH": str(source)}
    command = [str(PXFLASK), "demo", "--port", str(port)]
    if server == "gunicorn":  # the webhook path needs no database before its 413
        env.update(PXFLASK_DEMO="1", XERO_WEBHOOK_KEY="bench-webhook-key")
        command = [str(GUNICORN), "-w", "1", "-b", f"127.0.0.1:{port}"]
        command.append("pxflask:create_app()")
    log = (Path(folder) / "panel.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - our own console scripts
        command, cwd=source, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def serving_pid(panel: subprocess.Popen, server: str) -> int:
    """The process that serves requests (gunicorn: its only worker)."""
    if server != "gunicorn":
        return panel.pid
    children = Path(f"/proc/{panel.pid}/task/{panel.pid}/children").read_text()
    return int(children.split()[0])


def main() -> None:
    """Start the panel, stream the body, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=300)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--server", choices=("demo", "gunicorn"), default="demo")
    parser.add_argument(
        "--announced", action="store_true", help="send Content-Length, not chunked"
    )
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pxflask-chunked-") as folder:
        panel = start_panel(args.server, port, folder, args.source.resolve())
        try:
            wait_until_up(port, panel)
            request(port, "POST", "/webhooks/xero", b'{"events": []}')
            time.sleep(1.0)
            pid = serving_pid(panel, args.server)
            idle = status_kib(pid, "VmRSS")
            if not reset_peak(pid):
                print("note: VmHWM could not be reset; it includes the start-up peak")
            sampler = Sampler(pid)
            sampler.start()
            started = time.monotonic()
            status, answered_at, sent = stream_body(port, args.mib * MB, args.announced)
            elapsed = time.monotonic() - started
            time.sleep(0.5)
            sampler.done.set()
            sampler.join()
            peak = max(status_kib(pid, "VmHWM"), sampler.highest)
            after = status_kib(pid, "VmRSS")
        finally:
            panel.terminate()
            panel.wait(timeout=30)
    server = "gunicorn, 1 sync worker" if args.server == "gunicorn" else "pxflask demo"
    print(f"panel: {server}, code from {args.source}")
    framing = "with Content-Length" if args.announced else "chunked"
    print(f"body: {args.mib} MiB {framing} to POST /webhooks/xero, {elapsed:.1f} s")
    print(f"answer: {status}")
    print(
        f"sent when the answer arrived: {answered_at / MB:.1f} MiB "
        f"(sent in all: {sent / MB:.1f} MiB)"
    )
    print(f"idle RSS (VmRSS):         {idle / 1024:8.1f} MiB")
    print(f"peak RSS (VmHWM/sampled): {peak / 1024:8.1f} MiB")
    print(f"RSS after:                {after / 1024:8.1f} MiB")
    print(f"peak - idle:              {(peak - idle) / 1024:8.1f} MiB")


if __name__ == "__main__":
    main()
