"""How far an error reaches in a sync run: one record, one step, or the whole run.

- Fatal (the run ends, exit 2): what no rerun fixes by itself — Xero not connected
  or refusing the credentials, a missing setting or key, the Perfex database
  unreachable or without a table pxflask needs.
- Run-stopping (the remaining steps are "not run", exit 1): Xero's day limit is
  spent; the next run after the reset goes on.
- Anything else ends only the step it happened in: its report carries the reason,
  steps that depend on it do not run ("not run: <step> failed"), the others do.
  Inside a step, a record that cannot be read, mapped or sent fails alone.
"""

from __future__ import annotations

import enum

import sqlalchemy.exc as sa_exc

from pxflask.perfex.db import PerfexConnectionError, PerfexSchemaError
from pxflask.xero.errors import (
    NotConnected,
    QuotaExhausted,
    XeroAuthError,
    XeroConfigError,
)


class Reach(enum.Enum):
    """How much of a run an error ends."""

    STEP = "step"
    RUN = "run"
    FATAL = "fatal"


FATAL_ERRORS: tuple[type[BaseException], ...] = (
    NotConnected,
    XeroAuthError,
    XeroConfigError,
    PerfexConnectionError,
    PerfexSchemaError,
    sa_exc.OperationalError,
    sa_exc.ProgrammingError,
    sa_exc.InterfaceError,
)
"""Errors that end the run: configuration, connection, schema."""

RUN_ERRORS: tuple[type[BaseException], ...] = (QuotaExhausted,)
"""Errors that stop the remaining steps but that a later rerun clears."""


def reach(exc: BaseException) -> Reach:
    """How far this error reaches (see the module docstring)."""
    if isinstance(exc, FATAL_ERRORS):
        return Reach.FATAL
    if isinstance(exc, RUN_ERRORS):
        return Reach.RUN
    return Reach.STEP


def is_fatal(exc: BaseException) -> bool:
    """True for errors a per-record or per-step handler must let through."""
    return reach(exc) is not Reach.STEP


def describe(exc: BaseException) -> str:
    """One line for the admin: the message, with the error's kind when unclear."""
    text = " ".join(str(exc).split())
    if isinstance(exc, sa_exc.SQLAlchemyError):
        text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    name = type(exc).__name__
    if not text:
        return name
    if type(exc).__module__.startswith("pxflask"):
        return text[:500]
    return f"{name}: {text}"[:500]
