"""The lifecycle declared as data: every action, the states it leaves and enters, and who may take it."""

from dataclasses import dataclass
from enum import StrEnum

from catalogue.workflow.models import Status


class Actor(StrEnum):
    AUTHOR = "author"  # whoever the content type counts as an author (owner, supervising teacher)
    MODERATOR = "moderator"  # moderators and administrators


@dataclass(frozen=True)
class Transition:
    action: str
    status_from: frozenset[Status]
    status_to: Status
    actor: Actor
    label: str
    comment_required: bool = False
    # Message to the author; {title} is the item's title, {comment} the moderator's comment.
    notice: str | None = None
    button_class: str = ""


def _t(action, status_from, status_to, actor, label, **kw) -> Transition:
    return Transition(action, frozenset(status_from), status_to, actor, label, **kw)


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("submit", {S.DRAFT, S.CHANGES_REQUESTED}, S.SUBMITTED, Actor.AUTHOR, "Отправить на проверку"),
        _t("withdraw", {S.SUBMITTED}, S.DRAFT, Actor.AUTHOR, "Вернуть в черновики", button_class="button-secondary"),
        _t(
            "publish",
            {S.SUBMITTED},
            S.PUBLISHED,
            Actor.MODERATOR,
            "Опубликовать",
            notice="«{title}» опубликовано.",
        ),
        _t(
            "request_changes",
            {S.SUBMITTED},
            S.CHANGES_REQUESTED,
            Actor.MODERATOR,
            "Вернуть на доработку",
            comment_required=True,
            notice="«{title}»: модератор просит внести исправления. {comment}",
            button_class="button-secondary",
        ),
        _t(
            "reject",
            {S.SUBMITTED},
            S.REJECTED,
            Actor.MODERATOR,
            "Отклонить",
            comment_required=True,
            notice="«{title}» отклонено. {comment}",
            button_class="button-danger",
        ),
        _t(
            "unpublish",
            {S.PUBLISHED},
            S.ARCHIVED,
            Actor.MODERATOR,
            "Снять с публикации",
            comment_required=True,
            notice="«{title}» снято с публикации. {comment}",
            button_class="button-danger",
        ),
        _t(
            "republish",
            {S.ARCHIVED},
            S.PUBLISHED,
            Actor.MODERATOR,
            "Опубликовать снова",
            notice="«{title}» снова опубликовано.",
        ),
    )
}

MODERATOR_ACTIONS = tuple(t for t in TRANSITIONS.values() if t.actor == Actor.MODERATOR)
AUTHOR_ACTIONS = tuple(t for t in TRANSITIONS.values() if t.actor == Actor.AUTHOR)


def available(status: Status, actor: Actor) -> list[Transition]:
    """The actions of ``actor`` that may be taken from ``status``."""
    return [t for t in TRANSITIONS.values() if t.actor == actor and status in t.status_from]
