"""How the CLI turns errors into one line on stderr and exit status 2."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from pxflask.config import ConfigError

EXIT_OK, EXIT_FAILURES, EXIT_ERROR = 0, 1, 2
log = logging.getLogger("pxflask.cli")


def known_errors() -> tuple[type[BaseException], ...]:
    """Domain errors that become one clear line and exit status 2."""
    from pxflask.perfex.db import PerfexConnectionError, PerfexSchemaError
    from pxflask.perfex.seed import SeedRefused
    from pxflask.sync.settings import InvalidSetting
    from pxflask.xero.errors import XeroError

    return (
        ConfigError,
        PerfexConnectionError,
        PerfexSchemaError,
        SeedRefused,
        InvalidSetting,
        XeroError,
    )


def clear_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into `error: message` on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except known_errors() as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except (
            click.exceptions.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
        ):
            raise
        except Exception as exc:  # never a traceback on the console: the log has it
            unexpected(exc)

    return wrapper


def unexpected(exc: BaseException) -> None:
    """One line for an error nobody foresaw (the traceback goes to the log), exit 2."""
    from flask import current_app

    from pxflask.logfile import log_path
    from pxflask.sync.failures import describe

    log.error("%s failed", " ".join(sys.argv[1:2]) or "command", exc_info=exc)
    where = log_path(current_app.config, current_app.instance_path)
    click.echo(f"error: {describe(exc)} (details in {where})", err=True)
    sys.exit(EXIT_ERROR)
