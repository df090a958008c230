"""SQLAlchemy types as our code uses them, for the type checker."""

from typing import Any, TypeAlias, cast

from sqlalchemy import CursorResult, Result, Table
from sqlalchemy.orm import Session, scoped_session

SessionLike: TypeAlias = Session | scoped_session[Any]
"""A Session, or Flask-SQLAlchemy's scoped one (``db.session``)."""


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (its result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def table_of(model: type[Any]) -> Table:
    """A mapped class's Table (declarative maps each of our models to one)."""
    return cast(Table, model.__table__)
