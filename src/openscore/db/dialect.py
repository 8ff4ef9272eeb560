"""What differs between the stores, for the service's repositories: upserts and write locks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for the session's store."""
    name = session.get_bind().dialect.name
    return (sqlite if name == "sqlite" else postgresql).insert(table)


#: ``Session.info`` keys: the process's writers' lock, and whether this session holds it.
WRITERS = "openscore.writers"
HOLDING = "openscore.holding_writers"


def claim_write_lock(session: Session) -> None:
    """On SQLite, take the write lock now, before the transaction's first read.

    A SQLite transaction that reads and then writes cannot wait for the write lock: if
    another writer committed in between, its snapshot is stale and the write fails at once
    with "database is locked". Claiming the lock first makes it wait (busy timeout) instead.
    A write statement matching no row takes the lock and changes nothing. PostgreSQL locks
    rows, not the database, and needs nothing here.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    # SQLite's own wait for the lock polls with growing sleeps; writers of one process queue
    # on an in-process lock first, fairly and without sleeping (released at commit).
    writers = session.info.get(WRITERS)
    if writers is not None and not session.info.get(HOLDING):
        writers.acquire()
        session.info[HOLDING] = True
    session.execute(text("UPDATE signing_keys SET kid = kid WHERE 0"))


def release_write_lock(session: Session) -> None:
    """Let the next writer of this process in (after the session committed or rolled back)."""
    if session.info.pop(HOLDING, False):
        session.info[WRITERS].release()


def finish_unit_of_work(session: Session) -> None:
    """Commit the request's unit of work and let the next writer of this process in."""
    try:
        session.commit()
    finally:
        release_write_lock(session)


def abandon_unit_of_work(session: Session) -> None:
    """Roll the request's unit of work back and let the next writer of this process in."""
    try:
        session.rollback()
    finally:
        release_write_lock(session)
