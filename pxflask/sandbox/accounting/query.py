"""GET-list features: a small `where` language, order, IDs and paging."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..serialize import parse_timestamp


class QueryError(ValueError):
    """A where/order clause the sandbox cannot understand."""


_TERM = re.compile(
    r"""^\s*(?P<path>[A-Za-z_][\w.]*?)(?P<call>\.(?:ToUpper|ToLower)\(\))?\s*
    (?:(?P<op>==|!=|>=|<=|>|<)\s*(?P<value>.+?)
      |\.(?P<method>Contains|StartsWith|EndsWith)\((?P<arg>.+)\)
    )\s*$""",
    re.VERBOSE,
)
_DATETIME = re.compile(r"^DateTime\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)$")
_GUID = re.compile(r'^Guid\("([0-9a-fA-F-]{36})"\)$')


def _literal(text: str) -> Any:
    """Parse a literal: "text", number, true/false/null, DateTime(), Guid()."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    match = _DATETIME.match(text)
    if match:
        return date(*(int(g) for g in match.groups()))
    match = _GUID.match(text)
    if match:
        return match.group(1)
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise QueryError(f"cannot parse literal {text!r}") from exc


def _lookup(record: dict[str, Any], path: str) -> Any:
    """Follow a dotted path (Contact.ContactID) case-insensitively."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        if part in value:
            value = value[part]
            continue
        lowered = part.lower()
        value = next((v for k, v in value.items() if k.lower() == lowered), None)
    return value


def _normalise(value: Any) -> Any:
    """Make stored and literal values comparable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            uuid.UUID(value)
            return value.lower()
        except ValueError:
            return value
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    """Evaluate one comparison."""
    left, right = _normalise(left), _normalise(right)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {
            ">": left > right,
            "<": left < right,
            ">=": left >= right,
            "<=": left <= right,
        }[op]
    except TypeError as exc:
        raise QueryError(f"cannot compare {left!r} {op} {right!r}") from exc


def _split(text: str, words: tuple[str, ...]) -> list[str]:
    """Split on logical operators outside quotes."""
    parts: list[str] = []
    buf: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        char = text[i]
        if char == '"':
            quoted = not quoted
        if not quoted:
            hit = next((w for w in words if text.startswith(w, i)), None)
            if hit:
                parts.append("".join(buf))
                buf, i = [], i + len(hit)
                continue
        buf.append(char)
        i += 1
    parts.append("".join(buf))
    return parts


def compile_where(text: str) -> list[list[dict[str, Any]]]:
    """Parse `where` into OR-groups of AND-terms."""
    groups = []
    for group in _split(text, (" OR ", " or ", "||")):
        terms = []
        for raw in _split(group, (" AND ", " and ", "&&")):
            raw = raw.strip()
            while raw.startswith("(") and raw.endswith(")"):
                raw = raw[1:-1].strip()
            match = _TERM.match(raw)
            if not match:
                raise QueryError(f"unsupported where clause {raw!r}")
            term = match.groupdict()
            if term["method"]:
                term["arg"] = _literal(term["arg"])
            else:
                term["value"] = _literal(term["value"])
            terms.append(term)
        groups.append(terms)
    return groups


def _term_matches(record: dict[str, Any], term: dict[str, Any]) -> bool:
    """Whether one term holds for a record."""
    value = _lookup(record, term["path"])
    if term["call"] and isinstance(value, str):
        value = value.upper() if "Upper" in term["call"] else value.lower()
    if term["method"]:
        if not isinstance(value, str) or not isinstance(term["arg"], str):
            return False
        func = {
            "Contains": str.__contains__,
            "StartsWith": str.startswith,
            "EndsWith": str.endswith,
        }[term["method"]]
        return func(value, term["arg"])
    return _compare(value, term["op"], term["value"])


def apply_where(
    records: list[dict[str, Any]], text: str | None
) -> list[dict[str, Any]]:
    """Keep the records matching a where clause."""
    if not text:
        return records
    groups = compile_where(text)
    return [
        r for r in records if any(all(_term_matches(r, t) for t in g) for g in groups)
    ]


def apply_order(
    records: list[dict[str, Any]], text: str | None
) -> list[dict[str, Any]]:
    """Sort by `order` ("Name", "Date DESC", "A,B DESC")."""
    if not text:
        return records
    for clause in reversed([c.strip() for c in text.split(",") if c.strip()]):
        bits = clause.split()
        descending = len(bits) > 1 and bits[1].upper() == "DESC"

        def key(record: dict[str, Any], path: str = bits[0]) -> tuple[int, Any]:
            """Sort key: missing values first."""
            value = _normalise(_lookup(record, path))
            return (0, "") if value is None else (1, value)

        try:
            records = sorted(records, key=key, reverse=descending)
        except TypeError as exc:
            raise QueryError(f"cannot order by {clause!r}") from exc
    return records


def modified_since(header: str | None) -> datetime | None:
    """Parse If-Modified-Since (None when absent or unreadable)."""
    if not header:
        return None
    try:
        return parse_timestamp(header)
    except (TypeError, ValueError):
        return None


def csv_values(text: str | None) -> list[str]:
    """Split a comma separated query value."""
    return [v.strip() for v in (text or "").split(",") if v.strip()]
