"""Consent of a parent (or legal representative) for a student under 14, confirmed by the parent.

The entry form collects the parent's name and e-mail; a letter with a one-time link is sent to it. The link
is signed (it names the request and a nonce kept in the database) and works once: the page shows the consent
text with its version and two buttons, and the decision is recorded with its time and the address it came
from. Families without e-mail print a form filled with the entry's details; its signed scan is uploaded by the
student or the supervisor, and a moderator checks it. The entry may be sent before the parent decides, but not
admitted (the content type's ``refusal``).
"""

import secrets

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from catalogue.accounts.models import User
from catalogue.clock import utcnow
from catalogue.contest.models import (
    ConsentGiver,
    ConsentKind,
    ConsentRecord,
    Entry,
    ParentalConsent,
    ParentalConsentStatus,
)
from catalogue.extensions import db
from catalogue.mail import Addressee
from catalogue.permissions import Conflict, InvalidInput

# The version of the consent text the parent sees (templates/contest/_consent_text.html); change it with the text.
TEXT_VERSION = "2026-11"
SCAN_OWNER = "entry-consent"  # media owner type of the signed forms' scans: never public
LINK_MAX_AGE = 30 * 24 * 3600
STATUS = ParentalConsentStatus


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="parental-consent")


def current_request(entry: Entry) -> ParentalConsent | None:
    """The entry's latest parental consent request (not one replaced by a newer), or None."""
    return db.session.scalar(
        select(ParentalConsent)
        .where(ParentalConsent.entry_id == entry.id, ParentalConsent.status != STATUS.SUPERSEDED)
        .order_by(ParentalConsent.requested_at.desc(), ParentalConsent.id.desc())
        .limit(1)
    )


def open_request(entry: Entry) -> ParentalConsent | None:
    found = current_request(entry)
    return found if found is not None and found.is_open else None


def request_consent(actor: User, entry: Entry, giver: ConsentGiver, name: str, email: str):
    """Ask the parent to confirm: a new request replacing any open one; the caller commits, then calls the
    returned function to send the letter (none for the paper form).
    """
    db.session.execute(
        update(ParentalConsent)
        .where(ParentalConsent.entry_id == entry.id, ParentalConsent.status.in_((STATUS.PENDING, STATUS.UPLOADED)))
        .values(status=STATUS.SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    record = ParentalConsent(
        entry_id=entry.id,
        giver=giver,
        parent_name=name[:200],
        parent_email=email,
        text_version=TEXT_VERSION,
        status=STATUS.PENDING,
        requested_by_id=actor.id,
        nonce=secrets.token_hex(16) if email else "",
    )
    db.session.add(record)
    db.session.flush()
    if not email:
        return lambda: None
    token = make_token(record)
    student = entry.author

    def send() -> None:
        from catalogue.workflow.services import send_letters

        text = (
            f"{student.first_name} {student.last_name[:1]}. подаёт работу «{entry.title}» "
            f"на конкурс «{entry.season.title}». Участнику нет 14 лет, поэтому согласие на обработку его "
            "персональных данных и на публикацию работы даёт родитель или законный представитель.\n\n"
            "Прочитайте текст согласия по ссылке и подтвердите или отклоните его. Ссылка действует один раз, "
            "30 дней. Если вы не знаете, о чём речь, просто удалите письмо."
        )
        parent = Addressee(email, first_name=name)
        send_letters([(parent, text, url_for("contest.parent_consent", token=token))], "согласие родителя")

    return send


def make_token(record: ParentalConsent) -> str:
    return _serializer().dumps({"id": record.id, "n": record.nonce})


def for_token(token: str) -> ParentalConsent:
    """The open request of a link. :raise InvalidInput: forged, expired, used or replaced."""
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired:
        raise InvalidInput("Срок действия ссылки истёк. Попросите участника отправить запрос ещё раз.") from None
    except BadSignature:
        raise InvalidInput("Ссылка недействительна.") from None
    record = db.session.get(ParentalConsent, data.get("id")) if isinstance(data, dict) else None
    if (
        record is None
        or record.by_paper
        or record.status != STATUS.PENDING
        or not record.nonce
        or record.nonce != data.get("n")
    ):
        raise InvalidInput("Ссылка уже использована или заменена новой: по ней больше нельзя ответить.")
    return record


def _confirm(record: ParentalConsent, recorded_by: User | None) -> None:
    entry = record.entry
    for kind in (ConsentKind.PROCESSING, ConsentKind.PUBLICATION):
        if not getattr(entry, f"consent_{kind}"):
            entry.consents.append(
                ConsentRecord(
                    kind=kind,
                    given=True,
                    giver=record.giver,
                    giver_name=record.parent_name,
                    recorded_by_id=recorded_by.id if recorded_by else None,
                )
            )
            setattr(entry, f"consent_{kind}", True)


def _tell_authors(entry: Entry, text: str) -> None:
    from catalogue.contest.entries import entry_url, notified_authors
    from catalogue.workflow.services import notify

    for person in notified_authors(entry):
        notify(person, text, entry_url(entry))


def decide(token: str, confirm: bool, address: str) -> ParentalConsent:
    """The parent confirms or declines by the link; the link stops working. The authors are told.

    :raise InvalidInput: see :func:`for_token`.
    """
    record = for_token(token)
    # The state in the WHERE: of two clicks at once, one decides.
    done = db.session.execute(
        update(ParentalConsent)
        .where(
            ParentalConsent.id == record.id,
            ParentalConsent.status == STATUS.PENDING,
            ParentalConsent.nonce == record.nonce,
        )
        .values(
            status=STATUS.CONFIRMED if confirm else STATUS.DECLINED,
            decided_at=utcnow(),
            decided_address=(address or "")[:64],
            nonce="",
        )
        .execution_options(synchronize_session="fetch")
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise InvalidInput("Ссылка уже использована или заменена новой: по ней больше нельзя ответить.")
    if confirm:
        _confirm(record, None)
    word = "подтвердил(а)" if confirm else "отклонил(а)"
    _tell_authors(record.entry, f"«{record.entry.title}»: {record.parent_name} {word} согласие родителя.")
    db.session.commit()
    return record


def attach_scan(actor: User, entry: Entry, key: str) -> ParentalConsent:
    """The student or supervisor uploads the signed paper form (a pending upload, validated already).

    :raise Conflict: no paper form is awaited. :raise InvalidInput: the upload is gone.
    """
    from catalogue.media import services as media

    record = open_request(entry)
    if record is None or not record.by_paper:
        raise Conflict("Бланк согласия не запрашивался: выберите в форме согласия «бумажный бланк».")
    claimed = media.claim_files(actor, [key], SCAN_OWNER, record.id)
    if not claimed:
        raise InvalidInput("Загруженный файл не найден: загрузите его ещё раз.", "scan")
    if record.scan_file is not None:
        media.delete_file(record.scan_file)
    record.scan_file = claimed[0]
    record.status = STATUS.UPLOADED
    db.session.commit()
    return record


def check_scan(moderator: User, entry: Entry, accept: bool, comment: str = "") -> ParentalConsent:
    """A moderator marks the uploaded scan checked (the consent is then in force) or rejects it with a comment.

    :raise Conflict: no scan waits. :raise InvalidInput: a rejection without a comment.
    """
    record = open_request(entry)
    if record is None or record.status != STATUS.UPLOADED:
        raise Conflict("Скан бланка согласия не ждёт проверки.")
    comment = " ".join((comment or "").split())[:1000]
    if not accept and not comment:
        raise InvalidInput("Напишите, что не так с бланком: участник увидит комментарий.", "comment")
    record.status = STATUS.CONFIRMED if accept else STATUS.DECLINED
    record.decided_at = utcnow()
    record.checked_by_id = moderator.id
    record.comment = comment
    if accept:
        _confirm(record, moderator)
        _tell_authors(entry, f"«{entry.title}»: модератор проверил бланк согласия родителя.")
    else:
        _tell_authors(entry, f"«{entry.title}»: бланк согласия родителя не принят. {comment}")
    db.session.commit()
    return record


def delete_scans(entry: Entry) -> None:
    """Delete the scans of an entry's signed forms (the entry is being deleted; the caller commits)."""
    from catalogue.media import services as media

    for consent_id in list(db.session.scalars(select(ParentalConsent.id).where(ParentalConsent.entry_id == entry.id))):
        media.delete_files_of(SCAN_OWNER, consent_id)
