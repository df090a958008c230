"""Run the module's PHP from the tests: lint, the stand-in driver, a `php -S` server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures.webapp import served

__all__ = ["served"]  # re-exported: the tests of the module serve the panel with it

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "perfex_module" / "pxflask"
HERE = Path(__file__).resolve().parent
PHP = shutil.which("php") or "php"


def php_files() -> list[Path]:
    """Every PHP file of the module and of its tests."""
    return sorted([*MODULE.rglob("*.php"), *HERE.glob("*.php")])


def run_php(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run php with these arguments; its output as text."""
    return subprocess.run(  # noqa: S603 - our own scripts
        [PHP, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def php_sign(secret: str, staff_id: int, now: int | None = None) -> str:
    """A token as the module signs it."""
    extra = [] if now is None else [str(now)]
    done = run_php(str(HERE / "driver.php"), "sign", secret, str(staff_id), *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def php_hook(panel: str, token: str, hook: str, arg: object) -> dict:
    """Fire a Perfex hook in the module; its {"seconds", "log"}."""
    done = run_php(
        str(HERE / "driver.php"), "hook", panel, token, hook, json.dumps(arg)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def php_server(
    state: Path, router: str = "router.php", perfex_sqlite: Path | None = None
) -> Iterator[str]:
    """A router on the stand-ins under `php -S` (default: the module's API); its URL.

    router.php yields the API's base URL, perfex_site.php the server's origin.
    """
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own router
        [PHP, "-S", f"127.0.0.1:{port}", str(HERE / router)],
        env={
            "PXF_STATE": str(state),
            "PXF_PERFEX_SQLITE": str(perfex_sqlite or ""),
            "PATH": "/usr/bin:/bin",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        origin = f"http://127.0.0.1:{port}"
        yield f"{origin}/pxflask/pxflask_api" if router == "router.php" else origin
    finally:
        process.terminate()
        process.wait(timeout=5)
