"""E-mail for notifications, through the SMTP server in the settings (none configured: no mail)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from kho.config import Settings
from kho.xmltext import shown_line, shown_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int = 25
    sender: str = "kho@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_starttls,
        )

    def send(self, to: str, subject: str, body: str) -> bool:
        """Send one message; a mail server that fails never undoes the step that was taken (the
        person still sees it in the web app): the failure is logged and False returned. The
        subject and body carry stored texts (a trích yếu, an ý kiến): they are sent as a person
        is shown them (:func:`kho.xmltext.shown_line`, :func:`kho.xmltext.shown_text`), so one
        stored before control characters were refused puts no NUL or line break in a header and
        U+202E reverses nothing in the reader's mail client."""
        message = EmailMessage()
        try:
            message["From"] = self.sender
            message["To"] = to
            message["Subject"] = shown_line(subject)
        except ValueError as exc:  # an address stored before EMAIL_INVALID (a line break in it)
            log.warning("notification mail to %r not sent: %s", to, exc)
            return False
        message.set_content(shown_text(body))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("notification mail to %s failed: %s", to, exc)
            return False
        return True
