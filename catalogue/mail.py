"""Outgoing e-mail: through SMTP when configured, otherwise into files under ``instance/mail/``."""

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app


def send_mail(to: str, subject: str, body: str) -> EmailMessage:
    """Send a plain-text message; returns it (handy for the file fallback and tests)."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="catalogue.local")
    message.set_content(body)

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


def mail_folder() -> Path:
    return Path(current_app.instance_path) / "mail"
