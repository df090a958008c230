"""CREATE TABLE with its indexes inline, for MariaDB/MySQL.

SQLAlchemy creates each index with its own CREATE INDEX after the table; on InnoDB
each is an online ALTER of its own (measured: 48 of them took 78% of the time to
create the Perfex schema). Declared inline, the keys cost almost nothing more than
the CREATE TABLE itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable


def create_table_sql(table: sa.Table, dialect: sa.Dialect) -> str:
    """The table's CREATE TABLE statement with every index as a KEY clause."""
    ddl = str(CreateTable(table).compile(dialect=dialect)).rstrip()
    if not table.indexes:
        return ddl
    quote = dialect.identifier_preparer.quote
    keys = []
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        columns = ", ".join(quote(c.name) for c in index.columns)
        kind = "UNIQUE KEY" if index.unique else "KEY"
        keys.append(f"\t{kind} {quote(str(index.name))} ({columns})")
    body_end = ddl.rindex("\n)")
    return ddl[:body_end] + ",\n" + ",\n".join(keys) + ddl[body_end:]


def create_absent_tables(conn: Connection, metadata: sa.MetaData) -> None:
    """Create the metadata's tables the database lacks, indexes inline."""
    present = set(sa.inspect(conn).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            conn.exec_driver_sql(create_table_sql(table, conn.dialect))
