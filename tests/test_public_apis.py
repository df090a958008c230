"""The package uses public APIs only and changes no process-wide state."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pxflask"
FORBIDDEN = {
    r"\bgc\.(disable|freeze)\(": "pauses the garbage collector for the whole process",
    r"\bmallopt\b|\bmalloc_trim\b": "tunes the C allocator for the whole process",
    r"^\s*import ctypes|^\s*from ctypes\b": "calls C libraries directly",
    r"madvise|hugepage": "changes numpy's huge-page advice for the whole process",
    r"\._pa_array\b|\"_pa_array\"": "a private pandas attribute",
    r"\._(mgr|ndarray)\b": "a private pandas attribute",
    r"\bnp\.core\b|\bnumpy\.core\b": "numpy's private core module",
}


def test_no_private_apis_or_process_wide_side_effects() -> None:
    """No module reaches into private pandas/numpy parts or process-wide knobs."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern, why in FORBIDDEN.items():
            for match in re.finditer(pattern, text, re.MULTILINE):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {why}")
    assert found == []
