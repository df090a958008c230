"""Dependencies past their published advisories: installed, declared and locked.

The floors and the advisories they close are commented in pyproject.toml; an
install takes its versions from constraints.txt (``make install``, ``make lock``).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {
    "urllib3": "2.8.0",  # CVE-2025-66418/66471, CVE-2026-21441, CVE-2026-97687..9
    "requests": "2.33.0",  # CVE-2024-47081, CVE-2026-25645
    "cryptography": "50.0.0",  # CVE-2024-12797, CVE-2026-69247
    "authlib": "1.9.0",  # CVE-2025-59420, CVE-2026-27962, PYSEC-2026-4360
}
"""The lowest version of each package without a published advisory."""


def _declared() -> dict[str, Requirement]:
    """pyproject's runtime requirements by normalised name."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = (Requirement(r) for r in data["project"]["dependencies"])
    return {canonicalize_name(r.name): r for r in requirements}


def _locked() -> dict[str, Version]:
    """constraints.txt's pins by normalised name."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[canonicalize_name(name.strip())] = Version(pinned.strip())
    return pins


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_installed_version_is_past_the_advisories(name: str) -> None:
    """The version this suite runs on is at least the floor."""
    assert Version(version(name)) >= Version(FLOORS[name])


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_pyproject_refuses_the_affected_versions(name: str) -> None:
    """pyproject declares the floor, so no resolver can pick an affected version."""
    specifier = _declared()[name].specifier
    floor = Version(FLOORS[name])
    assert floor in specifier
    lowest = [Version(s.version) for s in specifier if s.operator in (">=", "==")]
    assert lowest and min(lowest) >= floor, str(specifier)


def test_constraints_pin_every_package_past_its_floor() -> None:
    """constraints.txt pins each one at or above its floor, and pins xero-python."""
    pins = _locked()
    for name, floor in FLOORS.items():
        assert pins[name] >= Version(floor), name
    assert pins["xero-python"] == Version("15.2.0")
    assert "pxflask" not in pins
