"""The linked lab (tests/browser/linked.py): a Chromium site behind a 100 ms link joins the
room and sees and hears the main hall, whose Chromium is on the server's side of the link."""

from __future__ import annotations

from tests.browser import linked
from tests.browser.linked import LinkedContext, LinkedLab, hall_and_site, round_trip
from tests.browser.test_room import assert_audio, assert_video

linked_lab = linked.linked_lab
linked_context = linked.linked_context


def test_a_site_behind_a_slow_link_sees_and_hears_the_main_hall(
    linked_lab: LinkedLab, linked_context: LinkedContext
) -> None:
    linked_lab.link.impair(delay=0.100)  # each way: a 200 ms round trip
    _, site = hall_and_site(linked_context)
    print("\n" + assert_video(site, "site 4", "hall.video", "hall-video"))
    print(assert_audio(site, "site 4", "hall.audio", "hall-audio"))
    # The media crossed the link: ICE measures its 200 ms round trip (more on a busy machine).
    rtt = round_trip(site)
    assert rtt is not None and 0.19 <= rtt <= 1.0, rtt
    assert site.evaluate("window.__peerConnections") == 1
