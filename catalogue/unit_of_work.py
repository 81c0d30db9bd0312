"""The unit of work: a service action is one transaction, and what follows its commit runs from one place.

A service changes the session and commits once, at the end of its action; if it raises instead, the caller
(the request's teardown, a test, a command) rolls back. What must happen only once the change is committed —
letters, the viewer's GLB of a contest model, removing replaced files from disk, applying the search outbox in
this process — is queued with :func:`after_commit` inside the transaction. The queue runs right after the
commit, in the order it was filled; a rollback empties it (the change did not happen, so neither do its
effects). Search outbox rows are written by session events as well (``catalogue.search.outbox``).
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from catalogue.extensions import db

log = logging.getLogger(__name__)

_QUEUE = "catalogue.after_commit"


def after_commit(effect: Callable[[], Any], *, key: str | None = None, session: Session | None = None) -> None:
    """Run ``effect()`` once the current transaction commits; with ``key``, at most once per transaction."""
    queue: dict[Any, Callable[[], Any]] = (session if session is not None else db.session).info.setdefault(_QUEUE, {})
    queue.setdefault(key if key is not None else object(), effect)


@event.listens_for(Session, "after_commit")
def _run_effects(session: Session) -> None:
    # Effects may commit again (a viewer file is stored in a transaction of its own): each sees a fresh queue.
    while queue := session.info.pop(_QUEUE, None):
        for effect in queue.values():
            try:
                effect()
            except Exception:
                # The change is committed; a failed follow-up is logged and must not hide that.
                log.exception("After-commit effect %r failed", effect)


@event.listens_for(Session, "after_transaction_end")
def _forget_effects(session: Session, transaction) -> None:
    # After the commit has run the queue: what is left belongs to a transaction rolled back or closed.
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)


@contextmanager
def rolled_back_on_error() -> Iterator[None]:
    """The rule of a service action: if any step fails, nothing of it stays in the session (nor its effects)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def one_transaction() -> Iterator[None]:
    """Several service actions as one transaction (an import): inside the block a service's commit only flushes;
    the block commits once at its end, or rolls everything back if anything in it raises. Effects queued with
    :func:`after_commit` wait for that one commit."""
    session = db.session()
    session.commit = session.flush  # an instance attribute shadows the method for the block
    try:
        yield
    except BaseException:
        del session.commit
        session.rollback()
        raise
    del session.commit
    session.commit()
