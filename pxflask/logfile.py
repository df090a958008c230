"""The log file: where tracebacks go, never to the CLI's output or the panel.

`pxflask` commands write the `pxflask` loggers to `PXFLASK_LOG_FILE` (default
`<instance>/pxflask.log`, rotated at 5 MB, 3 kept). Users see one line per
problem; the full story (tracebacks included) is in the file.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

LOGGER = "pxflask"
MAX_BYTES = 5_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"
_URL_PASSWORD = re.compile(r"(//[^\s:/@]*:)[^\s/]+@")


def mask_passwords(text: str) -> str:
    """Text with the password of every `scheme://user:password@host` masked."""
    return _URL_PASSWORD.sub(r"\1***@", text)


class MaskingFilter(logging.Filter):
    """Masks URL passwords in a record's message and traceback, before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's text masked; never drops a record."""
        message = record.getMessage()
        masked = mask_passwords(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_passwords(text)
        return True


def mask_logger(logger: logging.Logger) -> None:
    """Add the masking filter to a logger (once)."""
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())


class MaskingFormatter(logging.Formatter):
    """A formatter that masks URL passwords in messages and tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, passwords masked."""
        return mask_passwords(super().format(record))


def log_path(settings: Any, instance_path: str | Path) -> Path:
    """The log file of this install."""
    configured = settings.get("PXFLASK_LOG_FILE") if settings else None
    return Path(configured) if configured else Path(instance_path) / "pxflask.log"


def use_log_file(path: Path) -> Path:
    """Send the pxflask loggers to this file (once per process).

    With a handler on the `pxflask` logger, Python's last-resort handler (which
    prints to stderr) is never used for our records.
    """
    logger = logging.getLogger(LOGGER)
    target = str(path.resolve())
    for handler in logger.handlers:
        if getattr(handler, "baseFilename", None) == target:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=True, encoding="utf-8"
    )
    handler.setFormatter(MaskingFormatter(FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return path
