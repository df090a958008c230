"""The audit notebooks: committed without outputs, and run against a synced set-up."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pxflask.reconcile.history import record_run
from pxflask.reconcile.service import run_reconciliation
from tests.xero.helpers import TEST_KEY

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TODAY = dt.date.today().isoformat()
NAMES = ("01_reconciliation_overview.ipynb", "02_investigate_mismatches.ipynb")


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_have_no_outputs(name):
    """Outputs are stripped in git; every notebook has a tagged parameters cell."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), name
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]


def _parameters(world, **extra) -> str:
    """The parameters cell for the test set-up (replaces the demo defaults)."""
    xero = {
        **world.sandbox.config,
        "XERO_GRANT": "client_credentials",
        "PXFLASK_ENCRYPTION_KEY": TEST_KEY,
    }
    values = {
        "perfex_url": world.perfex_url,
        "module_db_url": world.module_url,
        "instance_path": str(world.instance_path),
        "date_from": None,
        "date_to": None,
        "tolerance": "0.01",
        "xero_settings": xero,
        "refresh": True,
        **extra,
    }
    return "\n".join(f"{k} = {v!r}" for k, v in values.items())


def _execute(name: str, source: str, cwd: Path) -> nbformat.NotebookNode:
    """Run a notebook with its parameters cell replaced; return it with outputs."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = source
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return notebook


def _text(notebook: nbformat.NotebookNode) -> str:
    """Every output of a notebook as one text (streams, reprs, SVG)."""
    parts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            if out.get("text"):
                parts.append(out["text"])
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


def _keep_a_report(world, folder: Path) -> None:
    """Keep one report in the history (its files and snapshot in another folder)."""
    folder.mkdir()
    with world.sessions() as session:
        run = run_reconciliation(world.perfex, session, world.make_gateway(), folder)
        record_run(
            session,
            run,
            folder,
            generated_by="cli:test",
            trigger="cli",
            organisation="Demo",
        )


def _assert_new_sections(overview: str) -> None:
    """Freshness, reasons, billed vs collected, month end, trend and differences."""
    assert "Xero snapshot (invoices and payments) loaded" in overview
    assert "0 day(s) 0 hour(s) ago" in overview and "To refresh:" in overview
    assert "log_url" in overview and "perfex_url" in overview  # reasons table
    assert "billed_difference" in overview and "collected_difference" in overview
    assert f"Month end as at {TODAY}" in overview
    assert "90+" in overview and "tax_difference" in overview  # aging, tax
    assert "Reports kept: 1" in overview and "money_at_stake_" in overview
    assert "Xero minus Perfex" in overview  # the charts plot differences


def test_notebooks_run_against_the_sandbox(world, tmp_path, monkeypatch):
    """Both notebooks run: the overview shows the summary, the drill-down the row."""
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    unpaid = next(
        i
        for i in world.xero("Invoices")
        if i["Status"] == "AUTHORISED" and not i["AmountPaid"]
    )
    world.sandbox.inject.void_invoice(unpaid["InvoiceID"])

    _keep_a_report(world, tmp_path / "kept")
    overview = _text(_execute(NAMES[0], _parameters(world, as_at=TODAY), tmp_path))
    assert "Perfex <-> Xero reconciliation" in overview
    assert "status_differs" in overview and "result: discrepancies found" in overview
    assert "Xero: full load, 2 call(s)" in overview
    assert "<svg" in overview
    _assert_new_sections(overview)

    investigate = _text(
        _execute(
            NAMES[1], _parameters(world, invoice_number=None, customer=None), tmp_path
        )
    )
    assert f"Invoice {unpaid['InvoiceNumber']}: 1 row(s)" in investigate
    assert "Xero: incremental load" in investigate
    assert "running total" in investigate or "<svg" in investigate
    assert "Xero snapshot (invoices and payments) loaded" in investigate
    assert "why: " in investigate and "action: " in investigate
    assert "collected_difference" in investigate
    assert json.dumps(investigate)  # outputs are plain text, not errors
