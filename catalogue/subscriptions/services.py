"""Subscribing to a list, changing and deleting subscriptions, and the signed one-click unsubscribe."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from catalogue.clock import utcnow
from catalogue.errors import InvalidInput
from catalogue.extensions import db
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import NotFound
from catalogue.subscriptions.models import Frequency, Subscription
from catalogue.subscriptions.sources import MAX_QUERY_CHARS, SOURCES, Source
from catalogue.unit_of_work import rolled_back_on_error

MAX_PER_PERSON = 50
UNSUBSCRIBE_SALT = "subscription-unsubscribe"


def source_of(kind: str) -> Source:
    """:raise InvalidInput: not a list one can subscribe to."""
    try:
        return SOURCES[kind]
    except KeyError:
        raise InvalidInput("На этот список нельзя подписаться.") from None


def find(user, kind: str, query: str) -> Subscription | None:
    """``user``'s subscription to this list (normalised ``query``), if any: one indexed lookup."""
    return db.session.scalar(
        select(Subscription).where(
            Subscription.user_id == user.id, Subscription.kind == kind, Subscription.query == query
        )
    )


def subscribe(user, kind: str, args: MultiDict, frequency: str) -> Subscription:
    """Follow the list ``kind`` chosen by ``args`` (read as its page reads them) with digests at ``frequency``.

    Subscribing again to the same list changes the frequency (and resumes it after an unsubscribe).

    :raise InvalidInput: an unknown list or frequency, a query too long, or more than ``MAX_PER_PERSON``.
    """
    source = source_of(kind)
    if frequency not in Frequency.LABELS:
        raise InvalidInput("Выберите, как часто присылать письма: раз в день или раз в неделю.", "frequency")
    query = source.normalise(args)
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput("Слишком длинный запрос для подписки: сократите его.")
    with rolled_back_on_error():
        subscription = find(user, kind, query)
        if subscription is None:
            count = db.session.scalar(select(func.count()).where(Subscription.user_id == user.id))
            if count >= MAX_PER_PERSON:
                raise InvalidInput(
                    f"У вас уже {MAX_PER_PERSON} подписок — это наибольшее число. "
                    "Удалите ненужные на странице «Мои подписки», чтобы добавить новую."
                )
            subscription = Subscription(
                user_id=user.id, kind=kind, query=query, title=source.describe(args)[:300], watermark=utcnow()
            )
            db.session.add(subscription)
        elif subscription.unsubscribed_at is not None:
            subscription.unsubscribed_at = None
            subscription.watermark = utcnow()  # what was published while unsubscribed is not news
        subscription.frequency = frequency
        db.session.commit()
    return subscription


def subscriptions_of(user, pager: Pager = FIRST_PAGE) -> Page:
    """One page of ``user``'s subscriptions, newest first."""
    stmt = select(Subscription).where(Subscription.user_id == user.id)
    return paginate(stmt, [Subscription.created_at.desc(), Subscription.id.desc()], pager)


def get_own(user, subscription_id: int) -> Subscription:
    """:raise NotFound: no such subscription, or someone else's."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or subscription.user_id != user.id:
        raise NotFound()
    return subscription


def change_frequency(user, subscription_id: int, frequency: str) -> Subscription:
    """:raise NotFound: not the person's own. :raise InvalidInput: an unknown frequency."""
    if frequency not in Frequency.LABELS:
        raise InvalidInput("Выберите, как часто присылать письма: раз в день или раз в неделю.", "frequency")
    with rolled_back_on_error():
        subscription = get_own(user, subscription_id)
        subscription.frequency = frequency
        if subscription.unsubscribed_at is not None:  # resumed: what was published meanwhile is not news
            subscription.unsubscribed_at = None
            subscription.watermark = utcnow()
        db.session.commit()
    return subscription


def delete(user, subscription_id: int) -> None:
    """:raise NotFound: not the person's own."""
    with rolled_back_on_error():
        db.session.delete(get_own(user, subscription_id))
        db.session.commit()


# -- one-click unsubscribe (RFC 8058): the signature is the authority, no login -------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscription: Subscription) -> str:
    return _serializer().dumps([subscription.id, subscription.user_id])


class BadToken(Exception):
    """The link was changed, or made by someone else: the message says so in Russian."""


def by_token(token: str) -> Subscription | None:
    """The subscription a signed link names; None when it has been deleted since.

    :raise BadToken: the signature does not hold.
    """
    try:
        subscription_id, user_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise BadToken("Ссылка для отписки повреждена или не наша. Откройте её из письма целиком.") from None
    subscription = db.session.get(Subscription, subscription_id) if isinstance(subscription_id, int) else None
    return subscription if subscription is not None and subscription.user_id == user_id else None


def unsubscribe(subscription: Subscription) -> None:
    """Stop the digests of ``subscription`` (it stays in «Мои подписки», where it can be resumed)."""
    with rolled_back_on_error():
        if subscription.unsubscribed_at is None:
            subscription.unsubscribed_at = utcnow()
        db.session.commit()
