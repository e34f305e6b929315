"""Writes that may collide with another transaction, kept inside SAVEPOINTs so the caller's survives.

PostgreSQL aborts the whole transaction on a constraint violation; running the risky statement inside a
SAVEPOINT lets the caller treat the collision as an answer ("already there") and carry on.

The inserts on hot paths (a webhook's delivery id, audit entries, change records) reuse one statement per
table and pass the row as parameters: building the statement anew each time cost more CPU than running it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Insert, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def insert_once(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row; False (and nothing changed) when a unique constraint says it exists already."""
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def insert_unless_duplicate(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """Like `insert_once` for tables whose only possible conflict is a unique key: one statement
    (`INSERT ... ON CONFLICT DO NOTHING`, no SAVEPOINT round trips) on PostgreSQL and SQLite.
    Other constraint violations still raise.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return insert_once(session, table, values)
    inserted = session.execute(_insert_unless_duplicate(table, dialect), dict(values)).first()
    return inserted is not None


def insert_many_unless_duplicate(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> set[tuple[Any, ...]]:
    """`insert_unless_duplicate` for several rows in one statement; returns the `key` columns' values of
    the rows inserted. (Other dialects: one `insert_once` per row.)"""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return {tuple(row[name] for name in key) for row in rows if insert_once(session, table, row)}
    inserted = session.execute(_insert_many_unless_duplicate(table, dialect, tuple(key)), [dict(r) for r in rows])
    return {tuple(found) for found in inserted}


@functools.cache
def _insert_many_unless_duplicate(table: Table, dialect: str, key: tuple[str, ...]) -> Executable:
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_of(table).on_conflict_do_nothing().returning(*(table.c[name] for name in key))


@functools.cache
def _insert_unless_duplicate(table: Table, dialect: str) -> Executable:
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_of(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


def upsert(session: Session, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update the row identified by `key` with `values`, or insert it when there is none."""
    where = [table.c[name] == value for name, value in key.items()]
    changed = update(table).where(*where).values(**values)
    if rowcount(session.execute(changed)):
        return
    if not insert_once(session, table, {**key, **values}):
        session.execute(changed)  # another transaction inserted it in between: it is ours to update now


def raise_to(session: Session, table: Table, key: Mapping[str, Any], column: str, value: int) -> None:
    """Set `column` of the row `key` to `value` unless it holds a larger number already; insert the row if
    there is none. One `INSERT ... ON CONFLICT DO UPDATE ... WHERE` on PostgreSQL and SQLite, so two
    transactions racing on one row leave the larger value, whichever commits last.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        where = [table.c[name] == v for name, v in key.items()]
        current = session.execute(select(table.c[column]).where(*where).with_for_update()).scalar()
        if current is None or current < value:
            upsert(session, table, key, {column: value})
        return
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_of(table).values(**key, **{column: value})
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={column: statement.excluded[column]},
            where=table.c[column] < statement.excluded[column],
        )
    )


def insert_all(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert several rows in one statement (nothing to do for none)."""
    if rows:
        session.execute(_insert(table), [dict(row) for row in rows])


def insert_returning_id(session: Session, table: Table, values: Mapping[str, Any]) -> int:
    """Insert a row and return the id the database gave it."""
    result = cast(CursorResult[Any], session.execute(_insert(table), dict(values)))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount
