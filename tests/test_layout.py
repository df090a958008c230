"""The layout of docs/ARCHITECTURE.md holds: import-linter's contracts, a light root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a command at the project root with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - fixed arguments
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_are_kept():
    """lint-imports (pyproject's [tool.importlinter]) finds no broken contract."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = _run(str(lint_imports), "--no-cache", "--no-logo")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_core_imports_without_flask():
    """Importing the engine, the gateway or the reconciliation loads no Flask."""
    code = (
        "import sys\n"
        "import pxflask.sync.engine, pxflask.xero.gateway, pxflask.reconcile.service\n"
        "import pxflask.panel.signin, pxflask.panel.dashboard_queries\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('flask'))\n"
        "print(','.join(loaded))\n"
    )
    done = _run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_app_factory_is_still_at_the_root():
    """`from pxflask import create_app` (wsgi.py, the docs) still works."""
    code = "from pxflask import create_app; print(create_app)"
    done = _run(sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert "create_app" in done.stdout
