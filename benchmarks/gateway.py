"""Benchmark: 5,000 contacts written through XeroGateway to the local sandbox.

The sandbox and the gateway both allow Xero's real 60 calls per 60-second window
(5 in flight) by default, so the wall time is what a user waits. ``--window``
shortens the window to run faster (time-scaled); the figure at Xero's real limit
is then printed beside it, projected from the measured run (the scaled windows
replaced by 60-second ones). Also printed: the client's CPU time (this process:
gateway, SDK, JSON, HTTP) per call and as a share of the wall time.

Prints write calls, elements per call and wall time against the floor
the limits impose. The window opens with the first call, so call k (from 0)
cannot start before floor(k / 60) windows have passed, and at most 5 calls are
ever in flight. The 40 calls of the last window therefore start at >= one window and
need at least ceil(40 / 5) = 8 rounds of one call's latency (the mean measured
in the run): the floor is (ceil(calls / 60) - 1) windows + ceil(last window's
calls / 5) latencies (or ceil(calls / 5) latencies when the windows never bind).
The older, looser "window floor" (windows + ONE latency, as if the last 40 calls
could all be in flight at once, which Xero's 5-in-flight limit forbids) is
printed beside it. By default the sandbox runs as its own process
(`python -m pxflask.sandbox`), like a remote Xero.

    .venv/bin/python benchmarks/gateway.py [--contacts 5000] [--window 60]
        [--per-window 60] [--contract] [--in-process]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from pxflask.config import DEFAULTS
from pxflask.models import Base
from pxflask.sandbox.options import SandboxOptions
from pxflask.sandbox.server import start_sandbox
from pxflask.xero import Limits, XeroGateway

ROOT = Path(__file__).resolve().parents[1]

CONCURRENT = Limits().concurrent  # Xero's calls in flight per tenant
XERO_WINDOW_S = 60.0  # Xero's rate-limit window: 60 calls a minute per tenant
XERO_PER_WINDOW = 60
BENCH_KEY = "x3sS1sKdl8eD3Zq0kGnJ6jB0yV9fQ2mT4uW7rA5cE1o="


def contacts(n: int) -> list[tuple[int, dict[str, Any]]]:
    """n realistic contact payloads (as the sync engine's mapper makes them)."""
    return [
        (
            i,
            {
                "Name": f"Benchmark Customer {i:05d} Ltd",
                "ContactNumber": f"PX-{i}",
                "EmailAddress": f"billing{i}@customer{i}.example.com",
                "FirstName": "Alex",
                "LastName": f"Buyer{i}",
                "TaxNumber": f"GB{100000000 + i}",
                "Addresses": [
                    {
                        "AddressType": "POBOX",
                        "AddressLine1": f"{i} High Street",
                        "City": "London",
                        "PostalCode": "N1 1AA",
                        "Country": "United Kingdom",
                    }
                ],
                "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"020 7{i:07d}"}],
            },
        )
        for i in range(n)
    ]


class Sandbox:
    """The sandbox, in this process or as `python -m pxflask.sandbox`."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.running = None
        self.proc: subprocess.Popen[str] | None = None
        if args.external:
            command = [
                sys.executable, "-m", "pxflask.sandbox", "--port", "0",
                "--calls-per-window", str(args.per_window),
                "--window", str(args.window),
            ]  # fmt: skip
            if args.contract:
                command.append("--contract")
            self.proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, text=True, cwd=ROOT
            )
            assert self.proc.stdout is not None
            self.url = self.proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        else:
            self.running = start_sandbox(
                calls_per_window=args.per_window,
                window_s=args.window,
                contract_mode=args.contract,
            )
            self.url = self.running.url

    def violations(self) -> int | None:
        """Contract violations seen (in-process only)."""
        return None if self.running is None else len(self.running.sandbox.violations)

    def shutdown(self) -> None:
        """Stop the sandbox."""
        if self.running is not None:
            self.running.shutdown()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--window", type=float, default=XERO_WINDOW_S)
    parser.add_argument("--per-window", type=int, default=60)
    parser.add_argument("--contract", action="store_true", help="validate traffic")
    parser.add_argument(
        "--in-process",
        dest="external",
        action="store_false",
        help="serve the sandbox in this process (shares the GIL with the client)",
    )
    args = parser.parse_args()

    sandbox = Sandbox(args)
    workdir = Path(tempfile.mkdtemp(prefix="pxf-bench-"))
    engine = sa.create_engine(f"sqlite:///{workdir / 'pxflask.db'}")
    Base.metadata.create_all(engine)
    defaults = SandboxOptions()
    settings = {
        **DEFAULTS,
        "TESTING": True,
        "PXFLASK_ENCRYPTION_KEY": BENCH_KEY,
        "XERO_GRANT": "client_credentials",
        "XERO_CLIENT_ID": defaults.client_id,
        "XERO_CLIENT_SECRET": defaults.client_secret,
        "XERO_API_URL": sandbox.url + "/api.xro/2.0",
        "XERO_LOGIN_URL": sandbox.url + "/identity/connect/authorize",
        "XERO_TOKEN_URL": sandbox.url + "/identity/connect/token",
        "XERO_REVOKE_URL": sandbox.url + "/identity/connect/revocation",
        "XERO_CONNECTIONS_URL": sandbox.url + "/connections",
    }
    limits = Limits(per_window=args.per_window, window_s=args.window)
    gw = XeroGateway(settings, sessionmaker(engine), limits=limits)
    try:
        gw.connect_client_credentials()
        payloads = contacts(args.contacts)
        gw.stats.reset()
        started, cpu = time.perf_counter(), time.process_time()
        results = gw.write("contacts", payloads, run_key="bench")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        snap = gw.stats.snapshot()
        violations = sandbox.violations()
    finally:
        sandbox.shutdown()
        engine.dispose()

    calls = snap["calls"].get("create_contacts", 0)
    ok = sum(1 for r in results if r.ok)
    windows = math.ceil(calls / args.per_window) - 1
    windows_floor = windows * args.window
    mean = snap["call_seconds"] / max(calls, 1)
    window_floor = windows_floor + mean  # the last call starts, then runs
    last = calls - windows * args.per_window  # calls in the last window
    floor = max(
        windows_floor + math.ceil(last / CONCURRENT) * mean,
        math.ceil(calls / CONCURRENT) * mean,
    )
    where = "own process" if args.external else "in-process"
    print(f"sandbox               {where}, contract mode {args.contract}")
    print(f"contacts written      {ok} / {len(payloads)}")
    print(
        f"write calls           {calls}  (429s: {snap['rate_limited']}, "
        f"retries: {snap['retries']})"
    )
    print(f"elements per call     {ok / max(calls, 1):.1f}  (target >= 49)")
    print(f"wall time             {wall:.2f} s")
    print(
        f"limits floor          {floor:.2f} s  ({calls} calls at "
        f"{args.per_window}/{args.window:g}s, {CONCURRENT} in flight: "
        f"{windows_floor:.2f} s of windows + {math.ceil(last / CONCURRENT)} "
        f"rounds of one call)"
    )
    print(
        f"window floor          {window_floor:.2f} s  ({windows_floor:.2f} s of "
        f"windows + one call; ignores the in-flight limit)"
    )
    rate_floor = calls / args.per_window * args.window
    print(f"steady-rate floor     {rate_floor:.2f} s  (calls / rate)")
    if windows_floor:
        print(f"wall / limits floor   {wall / floor:.3f}  (target <= 1.10)")
        print(f"wall / window floor   {wall / window_floor:.3f}")
    print(f"mean call latency     {mean * 1000:.0f} ms  (time inside HTTP calls)")
    if violations is not None:
        print(f"contract violations   {violations}")
    where_cpu = "client" if args.external else "client + sandbox"
    print(
        f"{where_cpu} CPU            {cpu:.2f} s  ({cpu * 1000 / max(calls, 1):.1f} ms "
        f"per call, {100 * cpu / wall:.1f}% of the wall time)"
    )
    real = _at_real_limit(wall, calls, args.window, args.per_window)
    print(
        f"at Xero's real limit  {real:.2f} s for {ok} contacts  "
        f"({XERO_PER_WINDOW} calls / {XERO_WINDOW_S:g} s; "
        f"{'measured' if _is_real(args) else 'projected from the time-scaled run'})"
    )
    return 0 if ok == len(payloads) else 1


def _is_real(args: argparse.Namespace) -> bool:
    """True when the run used Xero's own window and calls per window."""
    return args.window == XERO_WINDOW_S and args.per_window == XERO_PER_WINDOW


def _at_real_limit(wall: float, calls: int, window: float, per_window: int) -> float:
    """The wall time with each full window of the run replaced by Xero's 60 s.

    A run waits out ``ceil(calls / per_window) - 1`` windows; what is left of the
    wall time (calls in flight, local work) is kept as measured. Only exact when
    ``per_window`` is Xero's 60.
    """
    waited = max(0, math.ceil(calls / per_window) - 1)
    rest = max(0.0, wall - waited * window)
    real_waits = max(0, math.ceil(calls / XERO_PER_WINDOW) - 1)
    return real_waits * XERO_WINDOW_S + rest


if __name__ == "__main__":
    raise SystemExit(main())
