"""Calendar invitations as e-mail (RFC 6047, iMIP) and their delivery over SMTP.

A message is ``multipart/mixed``: a ``multipart/alternative`` with a plain-text and an HTML
summary and the ``text/calendar; method=REQUEST`` (or CANCEL) part that calendar programs act
on, then the same iCalendar object as an ``invite.ics`` attachment for the others.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from server import smtp
from server.config import Config


@dataclass(frozen=True)
class Letter:
    """One invitation to one recipient."""

    recipient: str
    recipient_name: str
    subject: str
    summary: str  # plain text, a few lines
    method: str  # REQUEST or CANCEL
    ics: bytes


def message(letter: Letter, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((letter.recipient_name, letter.recipient))
    msg["Subject"] = letter.subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    msg.set_content(letter.summary)
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in letter.summary.split("\n\n")
    )
    msg.add_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>", subtype="html")
    msg.add_alternative(
        letter.ics,
        maintype="text",
        subtype="calendar",
        params={"method": letter.method, "charset": "UTF-8"},
    )
    msg.make_mixed()
    msg.add_attachment(
        letter.ics,
        maintype="application",
        subtype="ics",
        filename="invite.ics" if letter.method == "REQUEST" else "cancel.ics",
    )
    return msg


@dataclass(frozen=True)
class Outcome:
    """What the server said about one letter: ``None`` when it accepted it."""

    letter: Letter
    error: str | None


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached, or refused to talk to us (nothing was sent)."""


class Mailer:
    """Sends letters over one SMTP connection with the configured server."""

    def __init__(self, config: Config) -> None:
        assert config.smtp_host is not None
        self.config = config

    async def send(self, letters: list[Letter]) -> list[Outcome]:
        config = self.config
        try:
            client = await smtp.connect(config)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SmtpUnavailable(
                f"the SMTP server {config.smtp_host}:{config.smtp_port} failed: {exc}"
            ) from None
        outcomes: list[Outcome] = []
        try:
            for index, letter in enumerate(letters):
                try:
                    await client.send_message(message(letter, config.smtp_from))
                except aiosmtplib.SMTPServerDisconnected as exc:
                    # What went before was delivered; the rest was not.
                    outcomes += [Outcome(rest, f"disconnected: {exc}") for rest in letters[index:]]
                    break
                except (aiosmtplib.SMTPException, OSError) as exc:
                    outcomes.append(Outcome(letter, str(exc)))
                else:
                    outcomes.append(Outcome(letter, None))
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                pass
        return outcomes
