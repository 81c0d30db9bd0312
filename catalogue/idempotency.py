"""Create forms that are safe to send twice: a retried request after a lost answer does not make a second item.

A create form carries a hidden ``request_token`` (:class:`catalogue.forms.RequestTokenMixin`), new each time the
empty form is shown and kept while the person corrects it. A create view wrapped in :func:`idempotent`:

- on a POST whose token this person already used, makes nothing and sends them to the item that token made;
- otherwise runs as usual; the transaction that creates the item (the first new object of a registered content
  type, ``catalogue.content``) also records ``(person, token) → item``. Recording in the same transaction is what
  makes it exact: a crash before the commit leaves neither, one after it leaves both, and two copies of the request
  racing each other cannot both commit (the pair is unique: the second one's whole transaction rolls back, and it
  is answered like a retry).

Uploads committed on their own (pending files) are not items and record nothing.
"""

import datetime as dt
import re
import secrets
from functools import wraps

from flask import flash, g, has_request_context, redirect, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalogue import content
from catalogue.clock import utcnow
from catalogue.extensions import db

FIELD = "request_token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_G_KEY = "_catalogue_request_token"  # where the current request keeps its token
_NEW_ITEMS = "catalogue_new_items"
ALREADY_SENT = "Эта форма уже была отправлена: открыт материал, сохранённый в первый раз."


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("user_id", "token", name="uq_idempotency_record_user_token"),
        Index("ix_idempotency_record_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    content_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _item_url(record: IdempotencyRecord) -> str | None:
    declared = content.get(record.content_type)
    if declared is None or declared.model is None or declared.search is None:
        return None
    item = db.session.get(declared.model, record.content_id)
    return declared.search.item_url(item) if item is not None else None


def _used(user_id: int, token: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.token == token)
    )


def idempotent(view):
    """Wrap a create view: a POST with a token already used goes to the item it made (303), nothing is made."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = request.form.get(FIELD, "") if request.method == "POST" else ""
        if not (token and _TOKEN.fullmatch(token) and current_user.is_authenticated):
            return view(*args, **kwargs)
        done = _used(current_user.id, token)
        if done is not None:
            return _answer_retry(done)
        setattr(g, _G_KEY, token)
        try:
            return view(*args, **kwargs)
        except IntegrityError:
            db.session.rollback()
            done = _used(current_user.id, token)  # the same request, sent twice at once: the other one won
            if done is None:
                raise
            return _answer_retry(done)
        finally:
            g.pop(_G_KEY, None)

    return wrapper


def _answer_retry(done: IdempotencyRecord):
    url = _item_url(done)
    if url is None:  # made, then deleted
        flash("Эта форма уже была отправлена, а сохранённый материал с тех пор удалён.", "info")
        return redirect(request.path, 303)
    flash(ALREADY_SENT, "info")
    return redirect(url, 303)


@event.listens_for(Session, "after_flush")
def _note_new_items(session: Session, _context) -> None:
    if not (has_request_context() and g.get(_G_KEY)):
        return
    for obj in session.new:
        try:
            declared = content.of(obj)
        except LookupError:
            continue
        session.info.setdefault(_NEW_ITEMS, []).append((declared.key, obj))


@event.listens_for(Session, "before_commit")
def _record(session: Session) -> None:
    if not (has_request_context() and g.get(_G_KEY)) or not current_user.is_authenticated:
        return
    session.flush()  # so that new items have ids (and are noted above)
    made = session.info.pop(_NEW_ITEMS, [])
    if not made:
        return
    key, item = made[0]
    session.add(IdempotencyRecord(user_id=current_user.id, token=g.pop(_G_KEY), content_type=key, content_id=item.id))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_NEW_ITEMS, None)
