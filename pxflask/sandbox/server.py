"""Serve the sandbox on a loopback port in a background thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from .app import create_sandbox_app
from .core import Sandbox
from .options import SandboxOptions


class RunningSandbox:
    """A sandbox served by a werkzeug thread; stop it with shutdown()."""

    def __init__(self, server: BaseWSGIServer, sandbox: Sandbox) -> None:
        """Wrap a started server."""
        self.server = server
        self.sandbox = sandbox
        self.host = server.host
        self.port = server.port
        self.url = f"http://{self.host}:{self.port}"
        self.api_url = self.url + "/api.xro/2.0"
        self._thread: threading.Thread | None = None

    def start(self) -> RunningSandbox:
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"xero-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        """Context manager support."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Shut down on exit."""
        self.shutdown()


def start_sandbox(
    host: str = "127.0.0.1", port: int = 0, quiet: bool = True, **options: Any
) -> RunningSandbox:
    """Build a sandbox from SandboxOptions fields and serve it; port 0 = free."""
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = Sandbox(SandboxOptions(**options))
    app = create_sandbox_app(sandbox=sandbox)
    server = make_server(host, port, app, threaded=True)
    return RunningSandbox(server, sandbox).start()
