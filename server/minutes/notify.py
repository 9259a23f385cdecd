"""Telling the delegations' members (those with accounts) that minutes were circulated for
their comments: one plain e-mail each over the configured SMTP server. The circulation is
already committed when this runs; a mail failure is reported in the answer, never undoes it."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib
from aiohttp import web

from server import smtp
from server.keys import CONFIG
from server.minutes.steps import Recipient

log = logging.getLogger(__name__)


def letter(recipient: Recipient, sender: str, url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((recipient.name, recipient.email))
    msg["Subject"] = "Minutes circulated for comments / Biên bản gửi góp ý / ບົດບັນທຶກສົ່ງໃຫ້ປະກອບຄຳເຫັນ"
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    msg.set_content(
        f"The minutes were circulated to {recipient.delegation} for comments:\n{url}\n\n"
        f"Biên bản đã được gửi tới {recipient.delegation} để góp ý:\n{url}\n\n"
        f"ບົດບັນທຶກໄດ້ສົ່ງໃຫ້ {recipient.delegation} ເພື່ອປະກອບຄຳເຫັນ:\n{url}\n"
    )
    return msg


async def tell_delegations(
    request: web.Request, conference_id: int, recipients: list[Recipient]
) -> int:
    """Send the letters; the number the server accepted (0 without an SMTP server)."""
    config = request.app[CONFIG]
    if config.smtp_host is None or not recipients:
        return 0
    url = f"{config.public_url}/conferences/{conference_id}/minutes"
    sent = 0
    try:
        client = await smtp.connect(config)
        for recipient in recipients:
            try:
                await client.send_message(letter(recipient, config.smtp_from, url))
                sent += 1
            except aiosmtplib.SMTPRecipientsRefused as exc:
                log.warning("minutes notice to %s refused: %s", recipient.email, exc)
        await client.quit()
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("minutes notices not sent: %s", exc)
    return sent
