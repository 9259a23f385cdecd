"""``CONCORD_SMTP_SECURITY``: ``starttls`` upgrades the connection, ``tls`` starts encrypted,
``none`` stays in the clear (and a server that insists on TLS refuses it).

The SMTP server (aiosmtpd) has a certificate for 127.0.0.1 made here; the client trusts it
through ``SSL_CERT_FILE``, as it would trust a real server through the system's store.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.db import Database
from tests.calendars.conftest import free_port
from tests.conftest import ClientFactory, sign_in
from tests.test_settings import app_with

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
INVITATIONS = "/api/conferences/2/calendar-invitations"


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.pem", directory / "smtp.key"
    cert_file.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Received:
    """Whether each message arrived over TLS."""

    def __init__(self) -> None:
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert server.transport is not None  # a connected session's
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    cert_file, key_file = certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the client trusts it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    yield context


def serve(received: Received, **options: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


def mail_settings(port: int, security: str) -> dict[str, str]:
    return {
        "CONCORD_SMTP_HOST": "127.0.0.1",
        "CONCORD_SMTP_PORT": str(port),
        "CONCORD_SMTP_SECURITY": security,
        "CONCORD_SMTP_FROM": "Concord <concord@concord.example>",
    }


async def send(aiohttp_client: ClientFactory, tmp_path: Path, url: str, port: int, how: str) -> int:
    """Send the invitations with ``CONCORD_SMTP_SECURITY=how``; how many the server took."""
    client = await app_with(aiohttp_client, tmp_path, url, **mail_settings(port, how))
    csrf = await sign_in(client, "organiser@concord.example")
    answer = await client.post(INVITATIONS, headers={"X-CSRF-Token": csrf})
    if answer.status != 200:
        return 0
    return len((await answer.json())["sent"])


async def test_starttls_and_none(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    database_url: str,
    demo: Database,
    tls: ssl.SSLContext,
) -> None:
    received = Received()
    controller, port = serve(received, tls_context=tls, require_starttls=True)
    try:
        assert await send(aiohttp_client, tmp_path, database_url, port, "none") == 0
        assert received.over_tls == [], "a server that insists on TLS refuses the clear"
        sent = await send(aiohttp_client, tmp_path, database_url, port, "starttls")
        assert sent > 0 and received.over_tls == [True] * sent
    finally:
        controller.stop()


async def test_implicit_tls(
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    database_url: str,
    demo: Database,
    tls: ssl.SSLContext,
) -> None:
    received = Received()
    controller, port = serve(received, ssl_context=tls)
    try:
        sent = await send(aiohttp_client, tmp_path, database_url, port, "tls")
        assert sent > 0 and received.over_tls == [True] * sent
    finally:
        controller.stop()
