"""python -m pxflask.sandbox --port N: run the sandbox as its own process."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .core import ContractExtraMissing
from .options import SandboxOptions
from .regions import REGIONS
from .server import start_sandbox


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, serve until SIGINT/SIGTERM."""
    defaults = SandboxOptions()
    parser = argparse.ArgumentParser(prog="python -m pxflask.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--access-ttl", type=int, default=defaults.access_ttl_s)
    parser.add_argument(
        "--calls-per-window", type=int, default=defaults.calls_per_window
    )
    parser.add_argument("--window", type=float, default=defaults.window_s)
    parser.add_argument("--day-limit", type=int, default=defaults.day_limit)
    parser.add_argument("--base-currency", default=defaults.base_currency)
    parser.add_argument("--region", choices=REGIONS, default=defaults.region)
    parser.add_argument("--second-tenant", action="store_true")
    parser.add_argument("--auto-approve", action="store_true")
    parser.add_argument("--contract", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        running = start_sandbox(
            host=args.host,
            port=args.port,
            quiet=not args.verbose,
            client_id=args.client_id,
            client_secret=args.client_secret,
            access_ttl_s=args.access_ttl,
            calls_per_window=args.calls_per_window,
            window_s=args.window,
            day_limit=args.day_limit,
            base_currency=args.base_currency,
            region=args.region,
            second_tenant=args.second_tenant,
            auto_approve=args.auto_approve,
            contract_mode=args.contract,
        )
    except ContractExtraMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Xero sandbox listening on {running.url}", flush=True)
    print(f"tenant {running.sandbox.tenant_id}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    running.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
