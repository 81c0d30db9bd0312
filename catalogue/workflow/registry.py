"""The lifecycle part of a content type (``catalogue.content``): each feature declares it in its ``content.py``."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select

from catalogue import content
from catalogue.accounts.models import User
from catalogue.workflow.transitions import TRANSITIONS, Transition


def _is_owner(user: User, obj: Any) -> bool:
    return obj.author_id == user.id


def _nobody(user: User, obj: Any) -> bool:
    return False


def _no_filter(stmt: Select, value: int) -> Select | None:
    return None  # this type cannot be filtered so: the queue leaves it out


@dataclass(kw_only=True)
class ContentType:
    # Filled in from the ``catalogue.content.ContentType`` it is part of; also the audit rows' content_type.
    key: str = ""
    model: type | None = None
    label: str  # «Типовой проект»
    url: Callable[[Any], str]  # the item's own page (public once published)
    title: Callable[[Any], str] = lambda obj: obj.title
    # Template of the item's preview on the moderator's review page; gets ``obj``.
    preview_template: str = "workflow/_preview_generic.html"
    # One line for the queue: organization, municipality, age groups...
    describe: Callable[[Any], str] = lambda obj: ""
    # Who counts as an author: may edit drafts, submit and withdraw; the owner by default.
    is_author: Callable[[User, Any], bool] = _is_owner
    # Others who may see the item before publication (supervisors, assigned jurors).
    may_view: Callable[[User, Any], bool] = _nobody
    # People told of moderators' decisions; the author by default.
    recipients: Callable[[Any], list[User]] = lambda obj: [obj.author]
    # Queue filters: narrow a select() of the model, or None when the filter does not apply.
    filter_age_group: Callable[[Select, int], Select | None] = _no_filter
    filter_municipality: Callable[[Select, int], Select | None] = _no_filter
    # Eager loads for the queue list, e.g. (selectinload(Model.age_groups),).
    queue_options: tuple = ()
    # Called inside the transaction after any transition (the search outbox needs none: the unit of work writes it).
    on_change: list[Callable[[Any], None]] = field(default_factory=list)
    # Called inside the transaction, after ``on_change``, whenever an item enters the published state
    # (publish, republish): e.g. an approved revision applies itself to the item it revises.
    # If a hook raises, the whole transition is rolled back.
    on_published: list[Callable[[Any], None]] = field(default_factory=list)
    # The actions of ``transitions.TRANSITIONS`` this type has; None: all of them. An applied
    # revision, say, has no "unpublish" (nor "republish", which would apply it a second time).
    actions: frozenset[str] | None = None
    # What this type calls an action in the UI and in notices, where the general words do not fit:
    # for contest entries "publish" is {"publish": "Допустить к конкурсу"}. Notices take {title} and {comment}.
    action_labels: dict[str, str] = field(default_factory=dict)
    action_notices: dict[str, str] = field(default_factory=dict)
    # What the moderator reads after an action, where the name of the new state does not fit
    # («Опубликовано» for an admitted entry); takes {title}.
    action_flashes: dict[str, str] = field(default_factory=dict)
    # Whether an action may happen *now*, beyond who takes it and from which state (e.g. a submission
    # deadline): ``refusal(user, obj, action)`` returns the reason in Russian, or None to allow it.
    # Refused actions get no button, and ``services.transition`` raises ``Conflict(reason)``.
    refusal: Callable[[User, Any, str], str | None] | None = None
    # Authors may delete a draft that was never published: where they land afterwards (their list),
    # or None when this type keeps every draft. The item's files (media owner ``key``) go with it.
    after_delete: Callable[[], str] | None = None

    def allows(self, action: str) -> bool:
        return self.actions is None or action in self.actions

    def transition(self, action: str) -> Transition | None:
        """The transition ``action`` as this type shows it (its own label and notice), or None if it has none."""
        t = TRANSITIONS.get(action)
        if t is None or not self.allows(action):
            return None
        if action in self.action_labels or action in self.action_notices:
            label = self.action_labels.get(action, t.label)
            t = replace(t, label=label, notice=self.action_notices.get(action, t.notice))
        return t

    def done(self, action: str, title: str, status_label: str) -> str:
        """The message after ``action`` was taken on the item called ``title`` (now in ``status_label``)."""
        if action in self.action_flashes:
            return self.action_flashes[action].format(title=title)
        return f"{status_label}: «{title}»."

    def refused(self, user: User, obj: Any, action: str) -> str | None:
        """Why ``action`` cannot be taken on ``obj`` now, or None."""
        return self.refusal(user, obj, action) if self.refusal is not None else None


def get(key: str) -> ContentType | None:
    content_type = content.get(key)
    return content_type.workflow if content_type else None


def of(obj: Any) -> ContentType:
    workflow = content.of(obj).workflow
    if workflow is None:
        raise LookupError(f"{type(obj).__name__} has no lifecycle")
    return workflow


def all_types() -> list[ContentType]:
    return [t.workflow for t in content.all_types() if t.workflow is not None]


def is_moderator(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)
