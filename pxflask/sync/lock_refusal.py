"""Xero's refusals of a date in a locked period, in words that say what to do."""

from __future__ import annotations

ADVICE = "unlock the period in Xero (or change the date in Perfex) and retry"
LOCKED = "the date is in a period Xero has locked"
XERO_WORDS = ("lock date",)


def explain(error: str) -> str:
    """Xero's refusal, made clear when it is about a lock date."""
    if error.startswith(LOCKED) or not any(w in error.lower() for w in XERO_WORDS):
        return error
    return f"{LOCKED} ({error}): {ADVICE}"
