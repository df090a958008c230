"""The sandbox as its own process: python -m pxflask.sandbox --port N."""

from __future__ import annotations

import subprocess
import sys

from .conftest import HTTP


def test_process_entry_point_and_control_endpoints():
    """Start the process, get a token via /_sandbox/token, refresh, count it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pxflask.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Xero sandbox listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        token = HTTP.request("POST", url + "/_sandbox/token", json={}).json()
        refreshed = HTTP.request_encode_body(
            "POST",
            url + "/identity/connect/token",
            fields={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": "SANDBOXCLIENTID0000000000000000A",
                "client_secret": "sandbox-client-secret-0123456789abcdef",
            },
            encode_multipart=False,
        )
        assert refreshed.status == 200
        counters = HTTP.request("GET", url + "/_sandbox/counters").json()
        assert counters["token_requests"] == {"refresh_token": 1}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
