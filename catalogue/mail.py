"""Outgoing e-mail: through SMTP when configured, otherwise into files under ``instance/mail/``.

Every letter greets its reader (:func:`greeting`) and says in its subject what happened (:func:`subject`);
the site's notices go out through ``workflow.services.send_letters``, which uses both.
"""

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app


def send_mail(to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> EmailMessage:
    """Send a plain-text message; returns it (handy for the file fallback and tests).

    ``headers`` are more header fields, e.g. ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` of a digest.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="catalogue.local")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    # Headers on one line (up to RFC 5322's 998): the standard library's folding of a long Cyrillic subject into
    # several encoded words drops the space where it folds («отчёт о» came out as «отчёто»). The body is encoded
    # above, with the usual 78-character lines.
    message.policy = message.policy.clone(max_line_length=998)

    if config.get("MAIL_SUPPRESS"):
        return message
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        folder = mail_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message['Date'][:16].replace(' ', '_').replace(',', '')}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        current_app.logger.info("Письмо для %s сохранено в %s", to, path)
    return message


@dataclass(frozen=True)
class Addressee:
    """Someone without an account a letter goes to (a parent): the address and the name to greet them by."""

    email: str
    first_name: str = ""
    middle_name: str = ""


def greeting(person) -> str:
    """«Здравствуйте, Ирина Сергеевна!»: by first name and patronymic when there is one, else by first name;
    «Здравствуйте!» without a name. ``person`` is a user or an :class:`Addressee`."""
    parts = (getattr(person, "first_name", "") or "", getattr(person, "middle_name", "") or "")
    name = " ".join(p.strip() for p in parts if p.strip())
    return f"Здравствуйте, {name}!" if name else "Здравствуйте!"


def subject(event: str) -> str:
    """A letter's subject: the site, then what happened («Профориентация Приангарья: проект опубликован»)."""
    return f"{current_app.config['SITE_NAME']}: {event}"


def letter_body(person, text: str, link: str = "") -> str:
    """The text of a letter to ``person``: the greeting, ``text``, and the absolute ``link`` to open."""
    opening = f"\n\nОткрыть: {link}" if link else ""
    return f"{greeting(person)}\n\n{text}{opening}\n"


def mail_folder() -> Path:
    return Path(current_app.instance_path) / "mail"
