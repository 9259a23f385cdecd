"""An invitation link, e-mailed to the site's contact over the configured SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from server import smtp
from server.config import Config
from server.i18n_strings import N_

Translate = Callable[[str], str]


def invitation_letter(
    sender: str,
    to: str,
    name: str,
    *,
    conference: str,
    site: str,
    url: str,
    valid_until: str,
    translate: Translate = str,
) -> EmailMessage:
    """The letter, in the language of the organiser who sends it (``translate``)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((name, to))
    msg["Subject"] = translate(N_("Your link to join %(conference)s")) % {"conference": conference}
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    body = translate(
        N_(
            "This link lets %(site)s join “%(conference)s” from a browser (Chrome, Edge or "
            "Firefox), with no account: open it on the computer that will be used on the day, "
            "then follow the device check."
        )
    ) % {"site": site, "conference": conference}
    validity = translate(N_("It works until %(until)s. Do not forward it.")) % {
        "until": valid_until
    }
    msg.set_content(f"{body}\n\n{url}\n\n{validity}\n")
    return msg


async def mail_invitation(config: Config, letter: EmailMessage) -> str | None:
    """Send ``letter``; None when sent, else why not (for the organiser's page)."""
    if config.smtp_host is None:
        return N_("this server sends no e-mail: copy the link and send it yourself")
    try:
        await smtp.send(config, letter)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return str(exc) or type(exc).__name__
    return None
