"""Fixtures of the calendar tests: a real SMTP server (aiosmtpd) and an app that uses it."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.app import create_app
from server.config import Config
from server.db import Database
from tests.conferences.conftest import Personas, persona
from tests.conftest import ClientFactory

__all__ = ["Personas", "persona"]

Client = TestClient[Any, Any]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """What the SMTP server received: each message parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def take(self) -> list[tuple[list[str], EmailMessage]]:
        taken, self.received = self.received, []
        return taken


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def with_smtp(config: Config, port: int) -> Config:
    return dataclasses.replace(
        config,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="Concord <concord@concord.example>",
    )


@pytest.fixture
async def mail_client(
    aiohttp_client: ClientFactory, config: Config, demo: Database, mailbox: Mailbox
) -> Client:
    """A client of an app that sends mail to ``mailbox``."""
    return await aiohttp_client(create_app(with_smtp(config, mailbox.port)))
