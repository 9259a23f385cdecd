"""The one-time code, mailed to the signatory over the configured SMTP server."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from server import smtp
from server.config import Config
from server.errors import Unavailable
from server.i18n_strings import N_

Translate = Callable[[str], str]


def code_letter(
    sender: str, to: str, name: str, title: str, code: str, translate: Translate = str
) -> EmailMessage:
    """The letter in the signatory's language (``translate``: their catalogue's gettext)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((name, to))
    msg["Subject"] = translate(N_("Concord signing code: %(code)s")) % {"code": code}
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    body = translate(N_("Your code to sign “%(title)s” is %(code)s.")) % {
        "title": title,
        "code": code,
    }
    warning = translate(
        N_(
            "It is valid for 10 minutes. If you did not ask for it, tell the conference's "
            "organiser: someone at your site tried to sign in your name."
        )
    )
    msg.set_content(f"{body}\n\n{warning}\n")
    return msg


def require_mail(config: Config) -> None:
    """Refuse before anything is written when this server cannot mail a code."""
    if config.smtp_host is None:
        raise Unavailable(
            N_(
                "this server sends no e-mail (CONCORD_SMTP_HOST is not set);"
                " sign with your password"
            ),
            code="mail_unavailable",
        )


async def send_code(
    config: Config, to: str, name: str, title: str, code: str, translate: Translate = str
) -> None:
    require_mail(config)
    assert config.smtp_host is not None
    try:
        await smtp.send(config, code_letter(config.smtp_from, to, name, title, code, translate))
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise Unavailable(
            N_("the code could not be mailed: %(reason)s"),
            code="mail_failed",
            params={"reason": str(exc)},
        ) from None
