"""Engine set-up: SQLite pragmas and write transactions that wait instead of failing."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_reading: ContextVar[bool] = ContextVar("catalogue_reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they begin deferred, without the write lock.

    For work outside a reading request that reads for long (``search check``, the reading half of a
    rebuild's batch) or does slow work between its reads and writes (a login checks the password
    before it writes). The caller ends the transaction inside (``db.session.rollback()`` or a commit of
    nothing): on SQLite a deferred transaction that later writes fails at once if another process wrote
    meanwhile, whatever the busy timeout.
    """
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for writing requests.

    A deferred SQLite transaction that reads and then writes fails at once with
    "database is locked" when another process wrote in between, whatever the busy
    timeout. Taking the write lock at ``BEGIN`` makes such a transaction wait its
    turn instead. Reading requests (GET, HEAD) and work inside :func:`reading` begin
    deferred so that they never queue behind writers; WAL lets them read while another
    process writes.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        reading = _reading.get() or (has_request_context() and request.method in READ_ONLY_METHODS)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
