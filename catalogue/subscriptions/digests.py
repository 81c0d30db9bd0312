"""The digests: ``flask --app catalogue digests send [--frequency daily|weekly]``, run by cron or a timer.

Each due subscription is handled in a transaction of its own: the period's key («2026-11-28», «2026-W48») is
claimed by a guarded ``UPDATE`` (so two runs at once never both take it), the new items since the watermark are
read (only published ones, the list's own query), the watermark moves to the newest of them, and the letter is
queued with ``after_commit``: it goes out once that commit holds. Running the job again in the same period finds
every subscription's key taken and sends nothing; a run that died halfway left the rest unclaimed, and the next
run sends exactly those.
"""

import datetime as dt
from functools import partial

import click
from flask import current_app, has_request_context
from flask.cli import AppGroup
from sqlalchemy import or_, select, update

from catalogue.accounts.models import User
from catalogue.clock import local_today, utcnow
from catalogue.content import FeedEntry
from catalogue.extensions import db
from catalogue.mail import greeting, send_mail, subject
from catalogue.subscriptions import services
from catalogue.subscriptions.models import Frequency, Subscription
from catalogue.subscriptions.sources import SOURCES
from catalogue.unit_of_work import after_commit, rolled_back_on_error
from catalogue.urls import external_url

LETTER_ITEMS = 20  # at most this many items in a letter; the letter links the whole list
BATCH = 200

digests_cli = AppGroup("digests", help="Письма-дайджесты по подпискам на поиск и списки.")


def period_key(frequency: str, today: dt.date) -> str:
    """The period a digest is made for: the oblast's day, or its ISO week."""
    if frequency == Frequency.DAILY:
        return today.isoformat()
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def _due(frequency: str, key: str):
    return (
        Subscription.frequency == frequency,
        Subscription.unsubscribed_at.is_(None),
        or_(Subscription.last_period.is_(None), Subscription.last_period != key),
    )


def send_due(frequency: str, today: dt.date | None = None) -> int:
    """Make this period's digest of every due subscription of ``frequency``; the number of letters sent."""
    if not has_request_context():  # the items' links are built as the pages build them
        with current_app.test_request_context("/", base_url=current_app.config["SITE_URL"]):
            return send_due(frequency, today)
    key = period_key(frequency, today or local_today())
    letters, last_id = 0, 0
    while True:
        ids = db.session.scalars(
            select(Subscription.id)
            .where(*_due(frequency, key), Subscription.id > last_id)
            .order_by(Subscription.id)
            .limit(BATCH)
        ).all()
        db.session.rollback()  # end the reading transaction: each digest is a transaction of its own
        if not ids:
            return letters
        for subscription_id in ids:
            letters += _digest(subscription_id, frequency, key)
            last_id = subscription_id


def _digest(subscription_id: int, frequency: str, key: str) -> bool:
    """One subscription's digest for the period ``key``: True when a letter was queued (and is sent on commit)."""
    with rolled_back_on_error():
        claimed = db.session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id, *_due(frequency, key))
            .values(last_period=key)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:  # another run took it meanwhile
            db.session.rollback()
            return False
        subscription = db.session.get(Subscription, subscription_id, populate_existing=True)
        user = db.session.get(User, subscription.user_id)
        source = SOURCES.get(subscription.kind)
        entries = source.newest(subscription.query, LETTER_ITEMS + 1, subscription.watermark) if source else []
        if entries and user.is_active:
            subscription.watermark = max(e.published or e.updated for e in entries)
            subscription.last_sent_at = utcnow()
            after_commit(partial(_send, *_letter(subscription, user, entries)))
        sent = bool(entries) and user.is_active
        db.session.commit()
    return sent


def _letter(subscription: Subscription, user: User, entries: list[FeedEntry]) -> tuple[str, str, str, str]:
    """(to, subject, body, unsubscribe URL) of a digest: titles and links of published items, nothing personal."""
    source = SOURCES[subscription.kind]
    shown = entries[:LETTER_ITEMS]
    lines = [f"{greeting(user)}", "", f"Новое по вашей подписке «{subscription.title}»:", ""]
    for number, entry in enumerate(shown, 1):
        lines += [f"{number}. {entry.title}", f"   {entry.url}", ""]
    more = "Показаны самые новые. " if len(entries) > LETTER_ITEMS else ""
    unsubscribe_url = external_url("subscriptions.unsubscribe", token=services.unsubscribe_token(subscription))
    lines += [
        f"{more}Весь список: {source.page_url(subscription.query)}",
        "",
        f"Письма приходят {subscription.frequency_label}. Изменить или удалить подписки: "
        f"{external_url('subscriptions.mine')}",
        f"Отписаться от этих писем: {unsubscribe_url}",
    ]
    event = f"новое по подписке «{subscription.title}»"
    return user.email, subject(event), "\n".join(lines) + "\n", unsubscribe_url


def _send(to: str, title: str, body: str, unsubscribe_url: str) -> None:
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    try:
        send_mail(to, title, body, headers=headers)
    except OSError:
        current_app.logger.exception("Не удалось отправить дайджест %s", to)


@digests_cli.command("send")
@click.option(
    "--frequency", type=click.Choice([Frequency.DAILY, Frequency.WEEKLY]), default=None,
    help="Только ежедневные или только еженедельные (по умолчанию — и те и другие).",
)
def send_command(frequency: str | None) -> None:
    """Разослать письма по подпискам, для которых наступил срок; повторный запуск ничего не отправит дважды."""
    for each in [frequency] if frequency else [Frequency.DAILY, Frequency.WEEKLY]:
        letters = send_due(each)
        click.echo(f"{Frequency.LABELS[each]}: отправлено писем — {letters}")
