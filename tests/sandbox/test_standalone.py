"""A standalone project: the spec travels in the wheel; contract mode is an extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILES = {
    "LICENSE-Xero-OpenAPI",
    "README.md",
    "xero-identity.yaml",
    "xero_accounting.yaml",
}
CONTRACT_ONLY = (
    "openapi_core",
    "openapi_schema_validator",
    "openapi_spec_validator",
    "jsonschema_path",
    "jsonschema",
    "yaml",
)
"""The modules only the `contract` extra brings."""

WITHOUT_EXTRA = f"import sys\nfor name in {CONTRACT_ONLY!r}: sys.modules[name] = None\n"
"""Prologue that makes every import of the extra's modules fail as if absent."""

CONTRACT_FROM_PACKAGE = """
import json, sys
opened = []

def spy(event, args):
    if event == "open" and isinstance(args[0], str):
        opened.append(args[0])

sys.addaudithook(spy)
from werkzeug.datastructures import Headers, ImmutableMultiDict
import pxflask
from pxflask.sandbox.contract import SpecRequest
from pxflask.sandbox.core import Sandbox
from pxflask.sandbox.options import SandboxOptions

sb = Sandbox(SandboxOptions(contract_mode=True))
headers = Headers({"Authorization": "Bearer x", "xero-tenant-id": sb.tenant_id})
def put(contact):
    body = json.dumps({"Contacts": [contact]}).encode()
    request = SpecRequest("PUT", "/api.xro/2.0/Contacts", ImmutableMultiDict(),
                          headers, body, "application/json")
    return sb.contract.check(request, None)
print(json.dumps({"package": pxflask.__file__, "opened": opened,
                  "good": put({"Name": "Good"}),
                  "bad": put({"Name": "Bad", "IsCustomer": "yes"})}))
"""

CORE_WITHOUT_EXTRA = """
import importlib, json, pkgutil, tempfile
import pxflask
failed = {}
for info in pkgutil.walk_packages(pxflask.__path__, "pxflask."):
    if info.name.startswith(("pxflask.migrations", "pxflask.sandbox.contract")):
        continue
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = repr(exc)

from pxflask.demo import build_demo_app
from pxflask.sandbox.app import create_sandbox_app
from pxflask.sandbox.core import ContractExtraMissing, Sandbox
from pxflask.sandbox.options import SandboxOptions
from pxflask.sandbox.server import start_sandbox

try:
    Sandbox(SandboxOptions(contract_mode=True))
    refused = None
except ContractExtraMissing as exc:
    refused = str(exc)
control = create_sandbox_app(SandboxOptions()).test_client()
reset = control.post("/_sandbox/reset", json={"contract_mode": True})
running = start_sandbox(port=0)
try:
    app = build_demo_app(tempfile.mkdtemp(), running, 5000)
    login = app.test_client().get("/login")
finally:
    running.shutdown()
print(json.dumps({"failed": failed, "refused": refused,
                  "reset": [reset.status_code, reset.get_json()],
                  "login": login.status_code}))
"""


def run_python(code: str, cwd: Path, path: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with only `path` added to sys.path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(path)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> tuple[Path, Path]:
    """pxflask's wheel built from a copy of the source, installed in a bare folder."""
    base = tmp_path_factory.mktemp("standalone")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "pxflask",
        source / "pxflask",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", "dist", "./source"],
        cwd=base,
        check=True,
        capture_output=True,
    )
    (wheel,) = (base / "dist").glob("pxflask-*.whl")
    site = base / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        cwd=base,
        check=True,
        capture_output=True,
    )
    return wheel, site


def test_the_wheel_carries_the_spec_and_its_license(installed_wheel):
    """The built wheel holds Xero's specs, their MIT license and the README."""
    wheel, _ = installed_wheel
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        license_text = archive.read("pxflask/sandbox/spec/LICENSE-Xero-OpenAPI")
    assert {f"pxflask/sandbox/spec/{name}" for name in SPEC_FILES} <= names
    assert b"MIT License" in license_text and b"Xero" in license_text


def test_contract_mode_runs_from_the_installed_wheel(installed_wheel, tmp_path):
    """Outside the checkout, contract mode reads the spec inside the package only."""
    _, site = installed_wheel
    result = run_python(CONTRACT_FROM_PACKAGE, cwd=tmp_path, path=site)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert Path(report["package"]).is_relative_to(site)
    assert report["good"] == []
    assert len(report["bad"]) == 1 and "IsCustomer" in report["bad"][0]
    specs = sorted(Path(p).name for p in report["opened"] if p.endswith(".yaml"))
    assert specs == ["xero-identity.yaml", "xero_accounting.yaml"]
    for opened in report["opened"]:
        assert "/shared/" not in opened, opened
        assert not Path(opened).is_relative_to(ROOT / "pxflask"), opened
        if opened.endswith(".yaml"):
            assert Path(opened).is_relative_to(site / "pxflask/sandbox/spec"), opened


def test_the_core_runs_without_the_contract_extra(tmp_path):
    """Without openapi-core and PyYAML every module imports and the demo serves."""
    result = run_python(WITHOUT_EXTRA + CORE_WITHOUT_EXTRA, cwd=tmp_path, path=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failed"] == {}
    assert "pip install 'pxflask[contract]'" in report["refused"]
    status, body = report["reset"]
    assert status == 400 and "pxflask[contract]" in body["error"]
    assert report["login"] == 200


def test_contract_flag_without_the_extra_is_one_clear_line(tmp_path):
    """`python -m pxflask.sandbox --contract` names the extra; no traceback."""
    code = WITHOUT_EXTRA + textwrap.dedent(
        """
        import runpy
        sys.argv = ["pxflask.sandbox", "--contract", "--port", "0"]
        runpy.run_module("pxflask.sandbox", run_name="__main__", alter_sys=True)
        """
    )
    result = run_python(code, cwd=tmp_path, path=ROOT)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: contract mode needs")
    assert "pip install 'pxflask[contract]'" in lines[0]
    assert result.stdout == ""


def test_nothing_points_outside_the_repository():
    """Code, docs and tests name no file outside the repository (the design notes)."""
    outside = (
        "../" + "shared",
        "/work/" + "shared",
        "DESIGN" + ".md",
        "CONTRACT" + ".md",
    )
    tops = ("pxflask", "tests", "docs", "benchmarks", "notebooks", "scripts")
    files = [ROOT / name for name in ("README.md", "Makefile", "pyproject.toml")]
    files += [p for top in tops for p in (ROOT / top).rglob("*") if p.is_file()]
    found = []
    for path in files:
        if path.suffix in {".png", ".pyc", ".db"} or "spec" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}: {s}" for s in outside if s in text]
    assert found == []
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert "## Layout" in architecture and "## Data flow" in architecture
    assert "## Rules" in architecture
    assert "(docs/ARCHITECTURE.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
