"""The one way Concord talks to its SMTP server (calendar invitations, minutes notices,
signing codes): the configured host, port, TLS mode and login."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from server.config import Config


async def connect(config: Config) -> aiosmtplib.SMTP:
    """A connected (and, with credentials, logged-in) client; ``quit()`` it when done.
    Raises ``aiosmtplib.SMTPException`` or ``OSError`` when the server cannot be used."""
    assert config.smtp_host is not None, "no SMTP server is configured"
    client = aiosmtplib.SMTP(
        hostname=config.smtp_host,
        port=config.smtp_port,
        use_tls=config.smtp_security == "tls",
        start_tls=config.smtp_security == "starttls",
        timeout=20,
    )
    await client.connect()
    try:
        if config.smtp_username and config.smtp_password:
            await client.login(config.smtp_username, config.smtp_password)
    except BaseException:
        client.close()
        raise
    return client


async def send(config: Config, message: EmailMessage) -> None:
    """Send one message over a connection of its own. Raises ``aiosmtplib.SMTPException`` or
    ``OSError`` when it could not be sent."""
    client = await connect(config)
    try:
        await client.send_message(message)
        await client.quit()
    except BaseException:
        client.close()
        raise
