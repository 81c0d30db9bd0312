"""Moving content through its lifecycle: one function per transition, each checked, audited and notified."""

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, literal, select, union_all, update
from sqlalchemy.orm.attributes import flag_modified

from catalogue import fragments
from catalogue.accounts import sessions
from catalogue.accounts.models import Role, User, UserRole
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.mail import letter_body, send_mail, subject
from catalogue.media import services as media
from catalogue.pagination import FIRST_PAGE, Page, Pager, empty_page, paginate
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied
from catalogue.unit_of_work import after_commit, rolled_back_on_error
from catalogue.urls import absolute
from catalogue.workflow import registry
from catalogue.workflow.models import AuditEntry, Notification, Status
from catalogue.workflow.transitions import Actor, Transition, available

QUEUE_PER_PAGE = 20


# -- who may see and change what ----------------------------------------------------------------


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_author(user, obj) -> bool:
    return _signed_in(user) and registry.of(obj).is_author(user, obj)


def can_view(user, obj) -> bool:
    """Published items are public; the rest only for authors, moderators and those the type allows."""
    if obj.status == Status.PUBLISHED:
        return True
    if not _signed_in(user):
        return False
    return registry.is_moderator(user) or is_author(user, obj) or registry.of(obj).may_view(user, obj)


def ensure_can_view(user, obj) -> None:
    """:raise NotFound: the item is not visible to ``user`` (its existence is not revealed)."""
    if obj is None or not can_view(user, obj):
        raise NotFound


def ensure_can_edit(user, obj) -> None:
    """Authors edit only drafts and items returned for changes.

    :raise PermissionDenied: ``user`` is not an author of ``obj``.
    :raise Conflict: the item is under review or decided.
    """
    if not is_author(user, obj):
        raise PermissionDenied
    if not obj.is_editable:
        raise Conflict(f"Материал в состоянии «{obj.state.label}»: сейчас его нельзя изменить.")


def can_see_history(user, obj) -> bool:
    """The review page, the history and the decisions' comments are for moderators, administrators and the
    item's own people (its authors and those told of its decisions: a supervisor, a revised practice's author).

    Being able to see a published item is not enough: its history names the people who made it.
    """
    if obj is None or not _signed_in(user):
        return False
    if registry.is_moderator(user) or is_author(user, obj):
        return True
    return any(person is not None and person.id == user.id for person in registry.of(obj).recipients(obj))


FOUR_EYES_REASON = "Свой материал проверяет и публикует другой модератор или администратор (принцип «четырёх глаз»)."


def four_eyes_refusal(user, obj) -> str | None:
    """Why ``user`` may not take a moderator's action on ``obj``: it is their own (``FOUR_EYES``).

    One's own items are those one counts as an author of (for a practice revision: the revision's author).
    The only moderator or administrator of the site decides alone, or nothing could ever be published.
    """
    if not current_app.config.get("FOUR_EYES", True) or not registry.of(obj).is_author(user, obj):
        return None
    others = db.session.scalar(
        select(func.count(User.id))
        .where(User.id != user.id, User.active.is_(True))
        .where(User.role_rows.any(UserRole.role.in_((Role.MODERATOR, Role.ADMIN))))
    )
    return FOUR_EYES_REASON if others else None


def actions_for(user, obj) -> list[Transition]:
    """The transitions ``user`` may take on ``obj`` now (for buttons)."""
    content_type = registry.of(obj)
    result = []
    if is_author(user, obj):
        result += available(obj.state, Actor.AUTHOR)
    moderator_actions = available(obj.state, Actor.MODERATOR) if registry.is_moderator(user) else []
    if moderator_actions and four_eyes_refusal(user, obj) is None:
        result += moderator_actions
    shown = [content_type.transition(t.action) for t in result]
    return [t for t in shown if t is not None and content_type.refused(user, obj, t.action) is None]


# -- transitions ------------------------------------------------------------------------------------


def transition(
    user, obj, action: str, comment: str = "", expected_status: str | None = None, *, by_rule: bool = False
) -> AuditEntry:
    """Take ``action`` on ``obj``: check, change the state, audit, notify, all in one transaction.

    ``expected_status`` is the state the person saw when deciding; if the item moved on since
    (another moderator was quicker), the action is refused rather than applied to something else.

    ``by_rule``: the site takes the action because a rule says so, on ``user``'s behalf (e.g. an entry
    is unpublished when its author withdraws consent); the caller has checked that ``user`` may cause it,
    so the actor check is skipped. Everything else (states, audit with ``user`` as actor, notices) is the same.

    :raise NotFound: no such action.
    :raise PermissionDenied: ``user`` may not take it.
    :raise InvalidInput: a required comment is missing.
    :raise Conflict: the item is not (or no longer) in a state the action starts from, the type
        refuses the action now (its ``refusal`` hook, e.g. a deadline has passed), or it is a moderator's
        action on their own item while ``FOUR_EYES`` is on (:func:`four_eyes_refusal`).
    """
    content_type = registry.of(obj)
    t = content_type.transition(action)
    if t is None:
        raise NotFound
    if not by_rule:
        _check_actor(user, obj, t, content_type)
    elif not _signed_in(user):
        raise PermissionDenied
    comment = (comment or "").strip()
    if t.comment_required and not comment:
        raise InvalidInput("Напишите комментарий: автору важно знать причину решения.", "comment")
    if len(comment) > 5000:
        raise InvalidInput("Комментарий не длиннее 5000 символов.", "comment")
    current = obj.state
    if (expected_status and expected_status != current) or current not in t.status_from:
        raise Conflict(f"Действие «{t.label}» уже невозможно: материал сейчас в состоянии «{current.label}».")
    reason = None if by_rule else content_type.refused(user, obj, action)
    if reason:
        raise Conflict(reason)

    now = utcnow()
    values: dict[str, Any] = {"status": t.status_to, "updated_at": now}
    if t.status_to == Status.SUBMITTED:
        values["submitted_at"] = now
    if t.status_to == Status.PUBLISHED and obj.published_at is None:
        values["published_at"] = now
    model = content_type.model
    # The state is part of the WHERE: of two moderators deciding at once, exactly one matches.
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.status == current).values(**values),
        execution_options={"synchronize_session": "fetch"},
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(obj)
        raise Conflict(f"Пока вы решали, материал уже рассмотрели: сейчас он в состоянии «{obj.state.label}».")
    entry = AuditEntry(
        content_type=content_type.key,
        content_id=obj.id,
        action=t.action,
        from_status=current,
        to_status=t.status_to,
        comment=comment,
        actor_id=user.id,
    )
    db.session.add(entry)
    # The update above bypassed the session's object: mark it changed, so the unit of work sees the change
    # (the search outbox) when the commit flushes.
    flag_modified(obj, "status")
    with rolled_back_on_error():
        for hook in content_type.on_change:
            hook(obj)
        if t.status_to == Status.PUBLISHED:
            for hook in content_type.on_published:
                hook(obj)
    letters = []
    if t.notice:
        title = content_type.title(obj)
        text = t.notice.format(title=title, comment=comment).strip()
        url = content_type.url(obj)
        for person in _unique(content_type.recipients(obj)):
            if person.id != user.id:
                db.session.add(Notification(user_id=person.id, text=text, url=url))
                letters.append((person, text, url))
        # The subject says what happened: the notice without the comment («…» опубликовано).
        send_letters(letters, t.notice.format(title=title, comment="").strip().rstrip("."))
    db.session.commit()
    return entry


def record_edit(user, obj, comment: str) -> AuditEntry:
    """Put an edit made outside the author's form (an import) into the item's history, ``user`` as its actor;
    the state stays. The caller commits."""
    entry = AuditEntry(
        content_type=registry.of(obj).key,
        content_id=obj.id,
        action="edit",
        from_status=obj.status,
        to_status=obj.status,
        comment=comment,
        actor_id=user.id,
    )
    db.session.add(entry)
    return entry


def _check_actor(user, obj, t: Transition, content_type: registry.ContentType) -> None:
    if not _signed_in(user):
        raise PermissionDenied
    if t.actor == Actor.AUTHOR:
        if not content_type.is_author(user, obj):
            raise PermissionDenied
        return
    if not registry.is_moderator(user):
        raise PermissionDenied
    reason = four_eyes_refusal(user, obj)
    if reason:
        raise Conflict(reason)


def _unique(people: list[User]) -> list[User]:
    seen, result = set(), []
    for person in people:
        if person is not None and person.id not in seen:
            seen.add(person.id)
            result.append(person)
    return result


def send_letters(letters: list[tuple[Any, str, str]], event: str) -> None:
    """Mail each ``(person, text, site url)`` once the caller's transaction commits: a rolled-back decision
    tells nobody, and a mail server that is down must not undo the decision it tells of.

    ``person`` is a user or a ``mail.Addressee``: the letter greets them by name (``mail.greeting``); ``event``
    says what happened, for the subject (``mail.subject``).
    """
    if letters:
        after_commit(partial(_send_letters, [(p.email, letter_body(p, t, absolute(u))) for p, t, u in letters], event))


def _send_letters(letters: list[tuple[str, str]], event: str) -> None:
    for email, body in letters:
        try:
            send_mail(email, subject(event), body)
        except OSError:
            current_app.logger.exception("Не удалось отправить письмо %s", email)


def history(obj) -> list[AuditEntry]:
    """Every transition of ``obj``, oldest first."""
    content_type = registry.of(obj)
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.content_type == content_type.key, AuditEntry.content_id == obj.id)
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    )


def latest_comment(obj) -> AuditEntry | None:
    """The most recent decision that came with a comment (shown to the author)."""
    content_type = registry.of(obj)
    return db.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.content_type == content_type.key,
            AuditEntry.content_id == obj.id,
            AuditEntry.comment != "",
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    )


# -- the moderation queue ---------------------------------------------------------------------------


@dataclass
class QueueItem:
    content_type: registry.ContentType
    obj: Any

    @property
    def submitted_at(self) -> dt.datetime:
        return self.obj.submitted_at or self.obj.created_at


def _queue_items(rows) -> list[QueueItem]:
    """The objects of a page of the queue's (type, id) rows: one query per type on the page, with its eager loads."""
    loaded: dict[tuple[str, int], Any] = {}
    for key in {row.type_key for row in rows}:
        content_type = registry.get(key)
        model = content_type.model
        ids = [row.id for row in rows if row.type_key == key]
        stmt = select(model).where(model.id.in_(ids)).options(*content_type.queue_options)
        loaded |= {(key, obj.id): obj for obj in db.session.scalars(stmt).unique()}
    return [QueueItem(registry.get(r.type_key), loaded[r.type_key, r.id]) for r in rows if (r.type_key, r.id) in loaded]


def queue(
    user,
    type_key: str | None = None,
    age_group_id: int | None = None,
    municipality_id: int | None = None,
    pager: Pager = FIRST_PAGE,
) -> Page:
    """One page (``QUEUE_PER_PAGE`` items) of everything waiting for a moderator, oldest first, across all types.

    :raise PermissionDenied: ``user`` is not a moderator.
    """
    if not registry.is_moderator(user):
        raise PermissionDenied
    parts = []
    for content_type in registry.all_types():
        if type_key and content_type.key != type_key:
            continue
        model = content_type.model
        stmt = select(
            literal(content_type.key).label("type_key"),
            model.id.label("id"),
            func.coalesce(model.submitted_at, model.created_at).label("waiting_since"),
        ).where(model.status == Status.SUBMITTED)
        if age_group_id is not None:
            stmt = content_type.filter_age_group(stmt, age_group_id)
        if stmt is not None and municipality_id is not None:
            stmt = content_type.filter_municipality(stmt, municipality_id)
        if stmt is not None:
            parts.append(stmt)
    if not parts:
        return empty_page(QUEUE_PER_PAGE)
    union = union_all(*parts).subquery()
    order = [union.c.waiting_since, union.c.type_key, union.c.id]
    return paginate(select(union), order, pager, per_page=QUEUE_PER_PAGE, load=_queue_items)


def queue_count(user) -> int:
    """How many items wait for a moderator (0 for everyone else): the same for every moderator, counted in one
    query once per content generation (a submission or a decision is a change of content)."""
    if not registry.is_moderator(user):
        return 0
    return fragments.cached("workflow.queue_count", make=_count_waiting)


def _count_waiting() -> int:
    waiting = [
        select(func.count()).select_from(t.model).where(t.model.status == Status.SUBMITTED).scalar_subquery()
        for t in registry.all_types()
    ]
    return int(db.session.scalar(select(sum(waiting, literal(0)))) or 0)


# -- notifications ----------------------------------------------------------------------------------


def may_delete(user, obj) -> bool:
    """Whether ``user`` may delete ``obj``: an author's draft, never published, of a type that allows it."""
    content_type = registry.of(obj)
    return (
        content_type.after_delete is not None
        and _signed_in(user)
        and content_type.is_author(user, obj)
        and obj.status == Status.DRAFT
        and obj.published_at is None
    )


def delete_draft(user, obj) -> str:
    """Delete an author's never-published draft with its files; returns the author's list to go to.

    :raise NotFound: the type keeps its drafts.
    :raise PermissionDenied: ``user`` is not an author.
    :raise Conflict: the item is not a draft (any more), or was published once.
    """
    content_type = registry.of(obj)
    if content_type.after_delete is None:
        raise NotFound
    if not _signed_in(user) or not content_type.is_author(user, obj):
        raise PermissionDenied
    if obj.status != Status.DRAFT or obj.published_at is not None:
        raise Conflict("Удалить можно только черновик, который ещё ни разу не публиковался.")
    model = content_type.model
    # The state in the WHERE (and the row locked till the commit): a draft sent meanwhile stays.
    still_draft = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == Status.DRAFT, model.published_at.is_(None))
        .values(status=Status.DRAFT)
        .execution_options(synchronize_session=False)
    )
    if still_draft.rowcount != 1:
        db.session.rollback()
        raise Conflict("Материал уже отправлен на проверку: удалить его нельзя.")
    media.delete_files_of(content_type.key, obj.id)
    # Its history and notices go too: a new item may get the same id (SQLite reuses them).
    db.session.execute(
        delete(AuditEntry).where(AuditEntry.content_type == content_type.key, AuditEntry.content_id == obj.id)
    )
    db.session.execute(delete(Notification).where(Notification.url == content_type.url(obj)))
    db.session.delete(obj)
    db.session.commit()
    return content_type.after_delete()


def notify(user: User, text: str, url: str = "") -> None:
    """Add an in-site notification (the caller commits)."""
    db.session.add(Notification(user_id=user.id, text=text, url=url))


def _unread_of_user():
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


# The header's badge comes with the session's person, in the same query (accounts.sessions)
sessions.HEADER_COUNTS["unread_notifications"] = _unread_of_user


def unread_count(user) -> int:
    if not _signed_in(user):
        return 0
    counted = sessions.header_count(user, "unread_notifications")
    if counted is not None:
        return counted
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notifications(user, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def open_notification(user, notification_id: int) -> str:
    """Mark one of ``user``'s notifications read (commits) and return its link; "" when it has none.

    :raise NotFound: no such notification, or someone else's.
    """
    found = db.session.get(Notification, notification_id)
    if found is None or not _signed_in(user) or found.user_id != user.id:
        raise NotFound
    if found.read_at is None:
        found.read_at = utcnow()
        db.session.commit()
        sessions.forget_header_count(user, "unread_notifications")
    return found.url


def mark_all_read(user) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    sessions.forget_header_count(user, "unread_notifications")
