"""TURN credentials (server/turn.py): coturn's shared-secret scheme, its settings, the pages
that carry fresh credentials, and a real coturn that accepts them (and refuses stale or forged
ones) over TCP, and an aiortc site that may only relay sends sound through it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aioice import stun, turn
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
)

from rooms import aiortc_hooks as hooks
from rooms.synthetic import ToneTrack
from server.config import ConfigError
from server.db import Database
from server.identity import GuestScope, Identity
from server.live.ice import ice_servers
from server.models import Role
from server.settings import load_config
from server.turn import credentials
from tests import coturn
from tests.calendars.conftest import free_port
from tests.conftest import ClientFactory, sign_in
from tests.test_settings import app_with

SECRET = "concord-turn-secret-0123"
URL = "turn:turn.concord.example:3478?transport=tcp"


def test_credentials_follow_coturns_rest_scheme() -> None:
    # Computed apart with: printf %s 1767225600:invitation-7 |
    #   openssl dgst -sha1 -hmac concord-turn-secret-0123 -binary | base64
    assert credentials(SECRET, "invitation-7", 3600, 1767225600 - 3600) == (
        "1767225600:invitation-7",
        "4Xzes8qoEzJd2/0HvDh7ljPqsuU=",
    )
    with pytest.raises(ValueError, match="must not contain ':'"):
        credentials(SECRET, "a:b", 3600, 0)


def test_each_holder_gets_its_own_credentials_expiring_after_the_ttl(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "CONCORD_DATA_DIR": str(tmp_path),
            "CONCORD_ICE_SERVERS": "stun:stun.concord.example:3478",
            "CONCORD_TURN_SECRET": SECRET,
            "CONCORD_TURN_URLS": f"{URL}, turns:turn.concord.example:443?transport=tcp",
            "CONCORD_TURN_TTL": "900",
        }
    )
    assert config.turn is not None and SECRET not in repr(config.turn)
    guest = Identity(
        via="guest",
        guest=GuestScope(invitation_id=7, conference_id=2, site_id=4, role=Role.DELEGATE),
    )
    user = Identity(via="cookie", user_id=3, session_id=11)
    now = 1_800_000_000.0
    stun_entry, turn_entry = ice_servers(config, guest, now)
    assert stun_entry == {"urls": ["stun:stun.concord.example:3478"]}
    assert turn_entry["urls"] == [URL, "turns:turn.concord.example:443?transport=tcp"]
    assert turn_entry["username"] == "1800000900:invitation-7"
    assert (turn_entry["username"], turn_entry["credential"]) == credentials(
        SECRET, "invitation-7", 900, now
    )
    assert ice_servers(config, user, now)[1]["username"] == "1800000900:session-11"
    assert ice_servers(config, user, now + 60)[1]["username"] == "1800000960:session-11"
    assert load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)}).turn is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CONCORD_TURN_SECRET": SECRET},
            "CONCORD_TURN_SECRET is set but CONCORD_TURN_URLS is not",
        ),
        ({"CONCORD_TURN_URLS": URL}, "CONCORD_TURN_URLS is set but CONCORD_TURN_SECRET is not"),
        (
            {"CONCORD_TURN_SECRET": "short", "CONCORD_TURN_URLS": URL},
            "CONCORD_TURN_SECRET must be at least 16 characters",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "stun:turn.example:3478"},
            "CONCORD_TURN_URLS: 'stun:turn.example:3478' must start with turn: or turns:",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "turn://turn.example"},
            "takes no '//'",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "turn:turn.example:99999"},
            "has a port that is not a number from 1 to 65535",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "turn:t.example?transport=sctp"},
            "may only end with ?transport=udp or ?transport=tcp",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "turns:t.example?transport=udp"},
            "turns: runs over TLS, so its transport is tcp",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": "turn:[::1"},
            "without its closing ']'",
        ),
        (
            {"CONCORD_TURN_SECRET": SECRET, "CONCORD_TURN_URLS": URL, "CONCORD_TURN_TTL": "10"},
            "CONCORD_TURN_TTL must be between 60 and 604800, got 10",
        ),
    ],
)
def test_bad_turn_settings_are_named_and_nothing_is_written(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    data = tmp_path / "data"
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"CONCORD_DATA_DIR": str(data), **env})
    assert message in str(caught.value)
    assert not data.exists(), "a refused configuration writes nothing (not even the secret key)"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_room_pages_carry_fresh_credentials_never_the_secret(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, demo: Database
) -> None:
    client = await app_with(
        aiohttp_client,
        tmp_path,
        database_url,
        CONCORD_TURN_SECRET=SECRET,
        CONCORD_TURN_URLS=URL,
        CONCORD_TURN_TTL="600",
    )
    await sign_in(client, "organiser@concord.example")
    for page in ("/conferences/1/console", "/conferences/1/room"):
        html = await (await client.get(page)).text()
        assert URL in html and ":session-" in html, page
        assert SECRET not in html, page
        start = html.index('"username": "') + len('"username": "')
        expiry = int(html[start : html.index(":", start)])
        assert 590 <= expiry - time.time() <= 600, page


class _Sink(asyncio.DatagramProtocol):
    pass


async def _allocate(server: coturn.Coturn, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation over TCP with these credentials; the relayed address."""
    transport, _ = await turn.create_turn_endpoint(
        _Sink, (server.host, server.port), username, password, transport="tcp"
    )
    try:
        relayed = transport.get_extra_info("sockname")
        return relayed[0], relayed[1]
    finally:
        transport.close()


async def test_coturn_accepts_the_credentials_and_refuses_stale_or_forged_ones(
    tmp_path: Path,
) -> None:
    with coturn.running_coturn(tmp_path / "coturn", "127.0.0.1", free_port(), SECRET) as server:
        now = time.time()
        relayed = await _allocate(server, *credentials(SECRET, "session-1", 600, now))
        assert relayed[0] == "127.0.0.1" and 49152 <= relayed[1] <= 49407, relayed
        expired = credentials(SECRET, "session-1", 600, now - 700)
        forged = credentials("another-secret-0123456", "session-1", 600, now)
        for username, password in (expired, forged):
            with pytest.raises(stun.TransactionFailed, match="401"):
                await _allocate(server, username, password)


async def test_an_aiortc_site_allowed_only_relays_reaches_a_concord_peer_through_coturn(
    tmp_path: Path,
) -> None:
    """A site that may use nothing but a relay (iceTransportPolicy "relay": every packet goes
    through coturn, over TCP since coturn listens on nothing else) sends sound to a peer made
    as Concord's room makes them (loopback host candidates only), with Concord's credentials."""
    with coturn.running_coturn(tmp_path / "coturn", "127.0.0.1", free_port(), SECRET) as server:
        username, password = credentials(SECRET, "invitation-1", 600, time.time())
        ice = RTCIceServer(urls=[server.url], username=username, credential=password)
        site = RTCPeerConnection(
            RTCConfiguration(
                iceServers=[ice],
                iceTransportPolicy=RTCIceTransportPolicy.RELAY,
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        concord = hooks.new_peer_connection()
        heard: list[float] = []

        @concord.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            async def listen() -> None:
                while True:
                    await track.recv()
                    heard.append(time.monotonic())

            tasks.add(asyncio.ensure_future(listen()))

        tasks: set[asyncio.Future[None]] = set()
        try:
            site.addTransceiver(ToneTrack(440.0), direction="sendonly")
            started = time.monotonic()
            await site.setLocalDescription(await site.createOffer())
            offer = site.localDescription
            assert "typ relay" in offer.sdp and "typ host" not in offer.sdp, offer.sdp
            await concord.setRemoteDescription(offer)
            hooks.restrict_ice_addresses(concord, ["127.0.0.1"])
            await concord.setLocalDescription(await concord.createAnswer())
            await site.setRemoteDescription(concord.localDescription)
            deadline = started + 10
            while len(heard) < 50:  # a second of sound, in 20 ms frames
                assert time.monotonic() < deadline, (site.connectionState, len(heard))
                await asyncio.sleep(0.02)
            print(f"\naiortc through TURN/TCP: first sound {heard[0] - started:.2f} s")
            log = server.log_text()
            assert f"user <{username}>: incoming packet ALLOCATE processed, success" in log
            assert f"user <{username}>: incoming packet CHANNEL_BIND processed, success" in log
        finally:
            for task in tasks:
                task.cancel()
            await site.close()
            await concord.close()
