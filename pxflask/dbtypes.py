"""The session our functions take: a Session or Flask-SQLAlchemy's scoped one."""

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

SessionLike: TypeAlias = Session | scoped_session[Any]
