"""A site on a locked-down network (no UDP route to the server) joins through coturn, over TCP.

The linked lab (tests/browser/linked.py) with coturn running in the hub namespace, on the hub's
end of the link (TCP only, ``use-auth-secret``), and the server configured with the same secret
(``CONCORD_TURN_SECRET``, ``CONCORD_TURN_URLS``): every page and join answer carries a TURN
entry with fresh credentials. The link drops UDP both ways, so the site's Chromium can reach
neither the server's ICE candidates nor a UDP TURN port; it allocates a relay over TCP across
the link, and coturn relays its media to the server inside the hub (UDP, never crossing the
link; each way is delayed 50 ms). The test reads the site's own getStats: the selected
candidate pair's local candidate is a TCP relay, and the main hall's video decodes and its
sound has energy within 5 s of the site's admission.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests import coturn
from tests.browser import linked
from tests.browser.linked import (
    SITE,
    LinkedContext,
    LinkedLab,
    admit,
    hall_and_site_in_lobby,
    media_counters,
    open_linked_lab,
)
from tests.browser.test_room import assert_audio, assert_video, describe

if TYPE_CHECKING:
    from playwright.sync_api import Page, Playwright

SECRET = "turn-test-secret-0123456789"
TURN_PORT = 3478
MEDIA_WITHIN = 5.0  # seconds from admission to decoded video and audio with energy
REJOIN_WITHIN = 15.0  # from a dropped socket: socket.io's reconnection delay, a re-join, ICE

linked_context = linked.linked_context

# The site's selected candidate pair and its two candidates, from the peer connection's stats.
SELECTED_PAIR_JS = """
async () => {
  const stats = await window.concord.pc.getStats();
  let pairId = null;
  stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId)
    pairId = s.selectedCandidatePairId; });
  const pair = pairId && stats.get(pairId);
  if (!pair) return null;
  const pick = (c) => c && {type: c.candidateType, protocol: c.protocol, address: c.address,
    port: c.port, relayProtocol: c.relayProtocol || null, url: c.url || null};
  return {state: pair.state, rtt: pair.currentRoundTripTime,
    local: pick(stats.get(pair.localCandidateId)),
    remote: pick(stats.get(pair.remoteCandidateId))};
}
"""

# The ICE servers the site's media link was given (from its join answer), without secrets'
# worth of detail: the URLs and usernames.
ICE_SERVERS_JS = """
() => (window.concord.link.iceServers || []).map((s) => ({urls: s.urls, username: s.username,
  hasCredential: Boolean(s.credential)}))
"""


@pytest.fixture(scope="module")
def linked_lab(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory, output_dir: Path
) -> Iterator[LinkedLab]:
    """The linked lab whose server hands out TURN credentials for coturn in ``hub``."""
    coturn.require()

    def settings(host: str) -> Mapping[str, str]:
        return {
            "CONCORD_TURN_SECRET": SECRET,
            "CONCORD_TURN_URLS": f"turn:{host}:{TURN_PORT}?transport=tcp",
            "CONCORD_TURN_TTL": "600",
        }

    with (
        open_linked_lab(
            playwright, tmp_path_factory, output_dir, name="turn", settings=settings
        ) as lab,
        coturn.running_coturn(
            tmp_path_factory.mktemp("coturn"),
            lab.link.addr_a,
            TURN_PORT,
            SECRET,
            prefix=["ip", "netns", "exec", lab.hub.name],
        ) as turn,
    ):
        try:
            yield lab
        finally:
            (output_dir / "turn-coturn.log").write_text(turn.log_text())


def selected_pair(page: Page) -> dict[str, Any] | None:
    value: dict[str, Any] | None = page.evaluate(SELECTED_PAIR_JS)
    return value


def assert_relayed_over_tcp(page: Page, relay_address: str) -> dict[str, Any]:
    """The page's selected candidate pair: its local candidate is coturn's relay, over TCP."""
    pair = selected_pair(page)
    assert pair is not None and pair["state"] == "succeeded", pair
    assert pair["local"]["type"] == "relay", f"the site's media does not go through TURN: {pair}"
    assert pair["local"]["relayProtocol"] == "tcp", f"the relay is not over TCP: {pair}"
    assert pair["local"]["address"] == relay_address, pair  # coturn's relay address, in the hub
    return pair


def turn_username(page: Page) -> str:
    """The TURN username the page's media link was given (by its latest join answer)."""
    servers = page.evaluate(ICE_SERVERS_JS)
    turn_entry = [s for s in servers if any(u.startswith("turn:") for u in s["urls"])]
    assert len(turn_entry) == 1 and turn_entry[0]["hasCredential"], servers
    username: str = turn_entry[0]["username"]
    expiry, _, holder = username.partition(":")
    assert holder.startswith("invitation-"), servers  # the site's credentials: its invitation's
    assert 0 < int(expiry) - time.time() <= 600, servers
    return username


def time_to_media(page: Page, since: float, within: float = MEDIA_WITHIN) -> dict[str, float]:
    """Seconds from ``since`` until the page's current peer connection has decoded video and
    audio with energy from the main hall; fails after ``within`` seconds."""
    first: dict[str, float] = {}
    while len(first) < 2:
        elapsed = time.monotonic() - since
        assert elapsed < within, (
            f"no media within {within} s (first: {first}); "
            f"pair {selected_pair(page) if page.evaluate('!!window.concord.pc') else None}; "
            f"page {describe(page)}"
        )
        if page.evaluate("!!(window.concord.pc && window.concord.link)"):
            counters = media_counters(page)
            if counters["frames"] > 0:
                first.setdefault("video", elapsed)
            if counters["energy"] > 0:
                first.setdefault("audio", elapsed)
        page.wait_for_timeout(50)
    return first


def test_a_site_without_udp_joins_through_turn_over_tcp_and_has_media_within_5_s(
    linked_lab: LinkedLab, linked_context: LinkedContext
) -> None:
    link = linked_lab.link
    link.block_udp(direction="both")
    link.impair(delay=0.050)  # each way: a 100 ms round trip, as across the region
    hall, site = hall_and_site_in_lobby(linked_context)
    assert SECRET not in site.content(), "the TURN secret must never reach a page"

    admitted = time.monotonic()
    admit(hall)
    first = time_to_media(site, admitted)
    print(
        f"\nthrough TURN/TCP: video decoded {first['video']:.2f} s and audio with energy "
        f"{first['audio']:.2f} s after admission"
    )
    print(f"selected pair: {assert_relayed_over_tcp(site, link.addr_a)}")
    username = turn_username(site)
    # The media keeps flowing through the relay; the site's UDP attempts were all dropped.
    print(assert_video(site, f"site {SITE}", "hall.video", "hall-video"))
    print(assert_audio(site, f"site {SITE}", "hall.audio", "hall-audio"))
    to_hub = link.stats("b_to_a")
    print(f"link site -> hub: {to_hub}\nlink hub -> site: {link.stats('a_to_b')}")
    assert to_hub.blocked > 0, "the site never tried UDP: the test proves nothing"
    assert site.evaluate("window.__peerConnections") == 1

    # The socket drops and comes back: the site re-joins and keeps its peer connection (the
    # server still holds it: docs/signalling.md, "Outages and reconnection"); the re-join's
    # fresh credentials (a later expiry) go to the media link for its next peer connection,
    # which the chair's "rejoin" then makes: it relays again, with them.
    site.wait_for_timeout(1100)  # a later second, so a later expiry
    site.evaluate("window.concord.client.socket.io.engine.close()")
    deadline = time.monotonic() + REJOIN_WITHIN
    while (renewed := turn_username(site)) == username:
        assert time.monotonic() < deadline, "the site did not re-join after its socket dropped"
        site.wait_for_timeout(200)
    assert int(renewed.split(":")[0]) > int(username.split(":")[0]), (username, renewed)
    assert site.evaluate("window.__peerConnections") == 1
    asked = time.monotonic()
    hall.evaluate("(id) => window.concord.client.askRejoin(id)", SITE)
    site.wait_for_function("() => window.__peerConnections === 2", timeout=20_000)
    again = time_to_media(site, asked, REJOIN_WITHIN)
    print(f"after a rejoin: video {again['video']:.2f} s, audio {again['audio']:.2f} s")
    assert turn_username(site) == renewed
    assert_relayed_over_tcp(site, link.addr_a)
