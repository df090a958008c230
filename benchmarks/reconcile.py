"""Benchmark the reconciliation against datacompy on synthetic month-end data.

Usage: ``.venv/bin/python benchmarks/reconcile.py [--n 1000000] [--rate 0.01]
[--xero-n 100000] [--skip-xero]`` (``--xero`` alone runs only the Xero section).

After the comparison it loads ``--xero-n`` invoices from the local sandbox into the
reconciliation snapshot through the gateway, then again with nothing changed, and
prints the calls: invoice pages (target <= n / 1,000) and all calls of the rerun
(target <= 2); the payments read is one more call, shown beside them.

The data (n invoices and n payments per side, ``rate`` of the rows broken per
discrepancy category) is generated once and stored as Parquet (not timed); every
measurement then runs in a fresh subprocess that loads it and imports its library
before the clock starts, so peak memory (``ru_maxrss``) belongs to that measurement
alone.  What is timed (wall and CPU): the comparison from the input frames to the
result, excluding data generation, loading, imports and writing files.  The machine
may be shared: each measurement runs ``--repeat`` times, interleaved, and the best
wall and CPU times are shown (the peak memory is the highest of the runs).

- ``ours:invoices``: ``reconcile`` on the invoice frames, no links (matching by
  number, like datacompy's join on invoice_number), all checks and summaries;
- ``datacompy``: datacompy's Compare on the same invoice frames, joined on
  invoice_number, up to ``matches()``;
- ``ours:full``: ``reconcile`` with payments and the link table;
- ``ours:month-end``: the same core again, then the steps issue 12 added (reasons and
  links, money at stake per currency, the month-end views, the auditor's XLSX), each
  timed with its target (``benchmarks/reconcile_steps.py``): before and after.
- ``--before DIR``: the same ``ours`` measurements again with the code of another
  checkout (for example ``git archive main | tar -x -C DIR``), on the same data and
  interleaved with ours, printed as ``before:*`` rows.

``flagged`` is the number of rows with a discrepancy (for datacompy: rows only on one
side plus joined rows with any differing column, counted after the clock stops);
``found`` is how many of the injected discrepancies were flagged with their category.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconcile_steps import print_steps, run_steps, write_module_db

FRAMES = (
    "perfex_invoices",
    "xero_invoices",
    "perfex_payments",
    "xero_payments",
    "links",
)
TARGET_RATIO = 2.0
# Ahead of datacompy by at least 2x wall on the invoices.  It was 3x while the run
# tuned glibc's allocator and numpy's huge pages process-wide (mallopt, a private
# numpy call); those went for public APIs only (the same run measured 2.9x with them
# and 2.5x without, on a loaded host).
TARGET_SECONDS = 5.0
TARGET_PEAK_MB = 3 * 1024


def _generate(n: int, rate: float, seed: int, out: Path) -> dict[str, int]:
    """Write the synthetic frames and the injected ids; return row counts."""
    from pxflask.reconcile.synthetic import make_dataset

    data = make_dataset(n, seed=seed, rate=rate)
    counts = {}
    for name in FRAMES:
        frame = getattr(data, name)
        frame.to_parquet(out / f"{name}.parquet", index=False)
        counts[name] = len(frame)
    injected = {
        f"{scope}:{category}": [str(v) for v in ids]
        for (scope, category), ids in data.injected.items()
    }
    (out / "injected.json").write_text(json.dumps(injected))
    counts["injected"] = int(sum(len(v) for v in data.injected.values()))
    counts["module_db_rows"] = write_module_db(data.links, out / "module.db")
    return counts


def _load(folder: Path) -> dict[str, object]:
    """Read the Parquet frames back with the schema dtypes."""
    import pandas as pd

    from pxflask.reconcile.frames import SCHEMAS

    return {
        name: pd.read_parquet(folder / f"{name}.parquet").astype(SCHEMAS[name].columns)
        for name in FRAMES
    }


_ID_COLUMNS = {
    ("invoices", False): "perfex_id",
    ("invoices", True): "xero_invoice_id",
    ("payments", False): "perfex_payment_id",
    ("payments", True): "xero_payment_id",
}


def _found(report: object, folder: Path, scopes: tuple[str, ...]) -> tuple[int, int]:
    """(injected discrepancies flagged with their category, injected in scope)."""
    injected = json.loads((folder / "injected.json").read_text())
    found = total = 0
    for key, ids in injected.items():
        scope, category = key.split(":")
        if scope not in scopes:
            continue
        frame = getattr(report, scope)
        xero_side = category in ("only_in_xero", "duplicate_in_xero") or (
            scope == "payments" and category == "only_in_xero"
        )
        column = _ID_COLUMNS[(scope, xero_side)]
        hit = frame["discrepancy"].astype(str).str.contains(category, regex=False)
        flagged = set(frame.loc[hit, column].dropna().astype(str))
        total += len(ids)
        found += sum(i in flagged for i in ids)
    return found, total


def _worker(kind: str, folder: Path) -> dict[str, float]:
    """Run one measurement in this process; return seconds, RSS and result counts."""
    frames = _load(folder)
    if kind == "ours:month-end":
        return run_steps(frames, folder)
    if kind == "datacompy":
        import datacompy

        compare_cls = getattr(datacompy, "Compare", None) or datacompy.PandasCompare
    else:
        from pxflask.reconcile import reconcile
    gc.collect()
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    cpu = time.process_time()
    if kind == "datacompy":
        cmp = compare_cls(
            frames["perfex_invoices"],
            frames["xero_invoices"],
            join_columns="invoice_number",
            df1_name="perfex",
            df2_name="xero",
        )
        cmp.matches()
    elif kind == "ours:invoices":
        report = reconcile(frames["perfex_invoices"], frames["xero_invoices"])
    else:
        report = reconcile(
            frames["perfex_invoices"],
            frames["xero_invoices"],
            frames["perfex_payments"],
            frames["xero_payments"],
            frames["links"],
        )
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "datacompy":
        differing = len(cmp.all_mismatch())
        flagged = len(cmp.df1_unq_rows) + len(cmp.df2_unq_rows) + differing
        found, total = -1, -1
    else:
        flagged = int((report.invoices["discrepancy"] != "").sum()) + int(
            (report.payments["discrepancy"] != "").sum()
        )
        scopes = ("invoices",) if kind == "ours:invoices" else ("invoices", "payments")
        found, total = _found(report, folder, scopes)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak_kb / 1024,
        "inputs_mb": base_kb / 1024,
        "flagged": flagged,
        "found": found,
        "injected": total,
    }


def _measure(kind: str, folder: Path, before: Path | None = None) -> dict[str, float]:
    """Run a measurement in a fresh interpreter (``before:*`` with the other tree)."""
    script, env = Path(__file__), dict(os.environ)
    if kind.startswith("before:"):
        assert before is not None
        script, kind = before / "benchmarks" / "reconcile.py", "ours:" + kind[7:]
        env["PYTHONPATH"] = str(before)
    out = subprocess.run(
        [sys.executable, str(script), "--worker", kind, "--data", str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=script.parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def _print(results: dict[str, dict[str, float]]) -> bool:
    """Print the measurements side by side and the targets; True when all pass."""
    print(
        f"{'measurement':<15}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}"
        f"{'inputs MB':>10}{'flagged':>11}{'found':>17}"
    )
    for kind, r in results.items():
        found = f"{r['found']:,}/{r['injected']:,}" if r["injected"] >= 0 else "n/a"
        print(
            f"{kind:<15}{r['seconds']:>8.2f}{r['cpu_seconds']:>8.2f}"
            f"{r['peak_mb']:>9.0f}{r['inputs_mb']:>10.0f}{r['flagged']:>11,}"
            f"{found:>17}"
        )
    ok = True
    for kind, r in results.items():
        if r["injected"] >= 0:
            ok &= r["found"] == r["injected"]
            print(
                f"{kind}: all injected discrepancies found: "
                f"{_verdict(r['found'] == r['injected'])}"
            )
        if kind != "datacompy":
            fits = r["peak_mb"] < TARGET_PEAK_MB
            fast = r["seconds"] < TARGET_SECONDS
            ok &= fits and fast
            print(
                f"{kind}: peak {r['peak_mb']:.0f} MB < {TARGET_PEAK_MB} MB: "
                f"{_verdict(fits)}; {r['seconds']:.2f} s < {TARGET_SECONDS:.0f} s: "
                f"{_verdict(fast)}"
            )
    for side in ("ours", "before"):
        if "datacompy" not in results or f"{side}:invoices" not in results:
            continue
        ours, theirs = results[f"{side}:invoices"], results["datacompy"]
        wall = theirs["seconds"] / ours["seconds"]
        cpu = theirs["cpu_seconds"] / ours["cpu_seconds"]
        ok &= wall >= TARGET_RATIO or side == "before"
        print(
            f"{side}: speed-up vs datacompy (invoices): wall {wall:.1f}x, "
            f"cpu {cpu:.1f}x (target >= {TARGET_RATIO:.0f}x wall: "
            f"{_verdict(wall >= TARGET_RATIO)})"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Generate the data, run the measurements and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="invoices per side")
    parser.add_argument("--rate", type=float, default=0.01, help="share per category")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-datacompy", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="fresh processes per measurement"
    )
    parser.add_argument(
        "--xero-n", type=int, default=100_000, help="invoices loaded from the sandbox"
    )
    parser.add_argument("--skip-xero", action="store_true")
    parser.add_argument(
        "--skip-steps", action="store_true", help="no month-end steps (issue 12)"
    )
    parser.add_argument(
        "--steps-repeat", type=int, default=1, help="runs of the month-end steps"
    )
    parser.add_argument(
        "--before", type=Path, help="another checkout to measure beside this one"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, Path(args.data))))
        return 0

    print(f"load average before: {_load_average()}")
    with tempfile.TemporaryDirectory(prefix="pxflask-bench-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        counts = _generate(args.n, args.rate, args.seed, folder)
        print(f"generated in {time.perf_counter() - t:.1f} s (not timed): {counts}")
        kinds = ["ours:invoices", "ours:full"]
        if not args.skip_steps:
            kinds.append("ours:month-end")
        if not args.skip_datacompy:
            kinds.insert(1, "datacompy")
        if args.before is not None:
            kinds += [k.replace("ours:", "before:") for k in kinds if "ours:" in k]
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
        for i in range(args.repeat):  # interleaved, so load spikes hit all kinds
            for kind in kinds:
                if not kind.endswith(":month-end") or i < args.steps_repeat:
                    runs[kind].append(_measure(kind, folder, args.before))
    print(f"best of {args.repeat} fresh processes per measurement (peak: highest)")
    steps = runs.pop("ours:month-end", None)
    before_steps = runs.pop("before:month-end", None)
    ok = _print({kind: _best(r) for kind, r in runs.items()})
    if before_steps:
        print(f"before ({args.before}):")
        print_steps(before_steps, args.n)
    if steps:
        if before_steps:
            print("after (this checkout):")
        ok &= print_steps(steps, args.n)
    if not args.skip_xero:
        ok &= _print_xero(xero_section(args.xero_n), args.xero_n)
    print(f"load average after: {_load_average()} (other processes share the host)")
    return 0 if ok else 1


def _load_average() -> str:
    """The host's 1, 5 and 15 minute load averages."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The fastest run's figures, with the highest peak memory of all runs."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["cpu_seconds"] = min(r["cpu_seconds"] for r in runs)
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


# ---------------------------------------------------------------- --xero section
# Xero calls to load N invoices into the reconciliation snapshot from the local
# sandbox (invoices injected server-side, not through the API), then on a rerun
# with nothing changed.  Targets: <= N / 1,000 invoice calls, <= 2 on the rerun.


def _inject_invoices(sandbox: object, n: int) -> None:
    """Clone one injected ACCREC invoice n times straight into the sandbox state."""
    # Past update stamps 2 ms apart (as if typed in over time): the rerun's
    # If-Modified-Since, floored to the second, then re-reads one page only.
    import copy
    import datetime as dt
    import uuid

    inject = sandbox.inject
    contact = inject.contact("Benchmark Customer Ltd")
    template = inject.invoice(contact["ContactID"])
    start = sandbox.clock.now() - dt.timedelta(days=1)
    with sandbox.lock:
        table = sandbox.state.tenant().table("Invoices")
        raw = table[template["InvoiceID"].lower()]
        for i in range(n - 1):
            record = copy.copy(raw)
            new_id = str(uuid.uuid4())
            record["InvoiceID"] = new_id
            record["InvoiceNumber"] = f"BENCH-{i:07d}"
            record["UpdatedDateUTC"] = start + dt.timedelta(milliseconds=2 * i)
            table[new_id] = record


def xero_section(n: int) -> dict[str, object]:
    """Load n sandbox invoices twice through the gateway; return calls and seconds."""
    import sqlalchemy as sa
    from sqlalchemy.orm import sessionmaker

    from pxflask.config import DEFAULTS
    from pxflask.models import Base
    from pxflask.reconcile.loaders import load_xero
    from pxflask.sandbox.server import start_sandbox
    from pxflask.xero import Limits, XeroGateway

    running = start_sandbox(calls_per_window=100_000, day_limit=1_000_000)
    try:
        with tempfile.TemporaryDirectory(prefix="pxflask-bench-xero-") as tmp:
            t = time.perf_counter()
            _inject_invoices(running.sandbox, n)
            injected_s = time.perf_counter() - t
            options = running.sandbox.options
            settings = dict(DEFAULTS)
            settings.update(
                TESTING=True,
                XERO_GRANT="client_credentials",
                XERO_API_URL=running.api_url,
                XERO_TOKEN_URL=running.url + "/identity/connect/token",
                XERO_REVOKE_URL=running.url + "/identity/connect/revocation",
                XERO_CONNECTIONS_URL=running.url + "/connections",
                XERO_CLIENT_ID=options.client_id,
                XERO_CLIENT_SECRET=options.client_secret,
            )
            engine = sa.create_engine(f"sqlite:///{tmp}/module.db")
            Base.metadata.create_all(engine)
            sessions = sessionmaker(engine, expire_on_commit=False)
            limits = Limits(per_window=100_000, day_budget=1_000_000)
            gateway = XeroGateway(settings, sessions, instance_path=tmp, limits=limits)
            gateway.connect_client_credentials()
            results: dict[str, object] = {"invoices": n, "inject_s": injected_s}
            for label in ("first", "rerun"):
                t = time.perf_counter()
                before = dict(gateway.stats.snapshot()["calls"])
                loaded = load_xero(gateway, tmp)
                after = gateway.stats.snapshot()["calls"]
                results[f"{label}_calls"] = loaded.calls
                results[f"{label}_invoice_calls"] = after.get(
                    "get_invoices", 0
                ) - before.get("get_invoices", 0)
                results[f"{label}_s"] = time.perf_counter() - t
                results[f"{label}_rows"] = len(loaded.invoices)
            engine.dispose()
    finally:
        running.shutdown()
    return results


def xero_main(argv: list[str] | None = None) -> int:
    """Run the --xero section alone and print its figures."""
    parser = argparse.ArgumentParser(description="Xero calls to load invoices")
    parser.add_argument("--xero", action="store_true")
    parser.add_argument("--xero-n", type=int, default=100_000)
    args, _ = parser.parse_known_args(argv)
    return 0 if _print_xero(xero_section(args.xero_n), args.xero_n) else 1


def _print_xero(r: dict[str, object], n: int) -> bool:
    """Print the --xero figures and targets; True when both targets hold."""
    pages = -(-n // 1000)  # invoice pages of 1,000
    print(
        f"xero: {r['invoices']:,} invoices injected in {r['inject_s']:.1f} s\n"
        f"xero: first load  {r['first_invoice_calls']:>4} invoice calls "
        f"(target <= {pages}), {r['first_calls']} calls with the payments read, "
        f"in {r['first_s']:.1f} s, {r['first_rows']:,} rows\n"
        f"xero: rerun       {r['rerun_calls']:>4} calls in all (target <= 2) "
        f"in {r['rerun_s']:.1f} s, {r['rerun_rows']:,} rows"
    )
    ok = r["first_invoice_calls"] <= pages and r["rerun_calls"] <= 2
    print(f"xero: calls to load and to reload: {_verdict(ok)}")
    return bool(ok)


if __name__ == "__main__" and "--xero" in sys.argv:
    raise SystemExit(xero_main(sys.argv[1:]))


if __name__ == "__main__":
    raise SystemExit(main())
