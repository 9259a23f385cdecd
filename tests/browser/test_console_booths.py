"""The chair console's interpretation panel in a real browser (issue 4, "Technician view").

Conference 1 of the demo (the Quang Ngai – Champasak signing) has a Vietnamese and a Lao booth.
The organiser opens the console; the Lao booth's interpreter (interpreter.lo@concord.example)
joins from a browser context of its own, driving the protocol module directly (no booth page),
goes on air without a microphone, then publishes a steady tone as one; a site of the
organiser's chooses to listen in Lao. The console's booth card must follow each step from
RoomState and the once-a-second ``booths.status`` poll: presence, the name on air, the silent
on-air alarm and then a sound level, the listener count. The floor language follows a speaker
whose delegation registered Lao, and is then set from the console's selector: the Lao booth is
switched out each time.

Screenshot: test-output/browser/console-booths.png (the Lao interpreter on air, switched out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.probes import join, sign_in
from tests.browser.test_room import describe, wait_for

CONFERENCE = 1  # vi and lo booths; sites 1 (Quang Ngai hall, main) and 2 (Champasak hall)
CHAMPASAK = 2  # its delegation registered Lao
ORGANISER = ("organiser@concord.example", "concord-organiser")
INTERPRETER = ("interpreter.lo@concord.example", "concord-interpreter.lo")
TIMEOUT = 15.0

# The interpreter publishes a steady 660 Hz tone as its microphone on a MediaLink (Chromium's
# fake microphone beeps once a second, in step with the console's once-a-second poll of a level
# that is the last packet's: it could be caught silent every time).
MICROPHONE_JS = """
async () => {
  const { MediaLink } = await import("/static/js/media.js");
  const audio = new AudioContext();
  await audio.resume();
  const tone = audio.createOscillator();
  tone.frequency.value = 660;
  const microphone = audio.createMediaStreamDestination();
  tone.connect(microphone);
  tone.start();
  const { client, answer } = window.probe;
  window.probe.link = new MediaLink({
    client, iceServers: answer.ice_servers || [],
    send: [{name: "microphone", kind: "audio", track: microphone.stream.getAudioTracks()[0]}],
    receive: [{name: "source.audio", kind: "audio"}],
  });
  await window.probe.link.start();
}
"""

CARD = "#booth-list li[data-language='{}']"
ALARM = re.compile(r"\balarm\b")


def timeline(console: Page, kind: str, reason: str | None = None) -> Locator:
    """The console's event-log entries of one type (the page may be in any UI language)."""
    selector = f"#timeline li[data-type='{kind}']"
    if reason is not None:
        selector += f"[data-reason='{reason}']"
    return console.locator(selector)


def booth_status(console: Page) -> Any:
    return console.evaluate(
        "() => window.concord.client.boothsStatus().then((a) => a.booths, (e) => String(e))"
    )


def expect_row(console: Page, what: str, row: Locator, check: Callable[[Locator], None]) -> None:
    try:
        check(row)
    except AssertionError as err:
        raise AssertionError(
            f"{what}: {err}\n  booths.status: {booth_status(console)}\n  page: {describe(console)}"
        ) from None


def test_console_shows_the_booths_and_sets_the_floor_language(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    ms = TIMEOUT * 1000
    organiser = new_context("organiser")
    console = organiser.new_page()
    sign_in(console, ORGANISER)
    console.goto(f"/conferences/{CONFERENCE}/console")
    wait_for(
        console,
        "the console joined",
        "() => window.concord && window.concord.canChair === true && window.concord.state",
        timeout=TIMEOUT,
    )
    lo = console.locator(CARD.format("lo"))
    vi = console.locator(CARD.format("vi"))
    expect(console.locator("#booth-list > li")).to_have_count(2)
    expect(lo.locator("h3")).to_contain_text("(lo)")
    expect(lo.locator(".on-air .nobody")).to_be_visible()
    expect(lo.locator(".present li[data-present='true']")).to_have_count(0)
    expect(lo.locator(".listeners")).to_have_text("0")
    expect(console.locator("#floor-language")).to_be_enabled()
    expect(console.locator("#floor-language")).to_have_value("")

    # The Lao interpreter joins the booth from a browser of its own: present, not on air.
    interpreter = new_context("interpreter-lo").new_page()
    sign_in(interpreter, INTERPRETER)
    joined = join(interpreter, {"conference_id": CONFERENCE, "as": "interpreter", "language": "lo"})
    assert joined["admission"] == "admitted", joined
    here = lo.locator(".present li[data-present='true']")
    expect_row(console, "the interpreter is present", here, lambda r: expect(r).to_have_count(1))
    name = here.locator(".name").inner_text()
    lo_name = console.evaluate(
        "() => new Intl.DisplayNames([document.documentElement.lang], {type: 'language'}).of('lo')"
    )

    # On air without a microphone: the row names them, and flags the silent channel in red.
    interpreter.evaluate("() => window.probe.client.goOnAir()")
    expect_row(
        console,
        "the interpreter is on air",
        lo.locator(".on-air-name"),
        lambda r: expect(r).to_have_text(name, timeout=ms),
    )
    expect_row(
        console,
        "the silent channel is flagged",
        lo,
        lambda r: expect(r).to_have_class(ALARM, timeout=ms),
    )
    expect(lo).to_have_attribute("data-level", "none")
    expect(console.locator("#booths-alert")).to_contain_text(name)
    expect(timeline(console, "booth.on_air")).to_contain_text(name)

    # With a microphone (Chromium's fake device beeps): a level arrives and the alarm goes.
    interpreter.mouse.click(5, 5)  # a user gesture: the page may start an AudioContext
    interpreter.evaluate(MICROPHONE_JS)
    wait_for(
        interpreter,
        "the interpreter's microphone connected",
        "() => window.probe.link.state === 'connected'",
        timeout=TIMEOUT,
    )
    expect_row(
        console,
        "a sound level from the on-air channel",
        lo,
        lambda r: expect(r).to_have_attribute("data-level", re.compile(r"^\d+$"), timeout=ms),
    )
    expect(lo).not_to_have_class(ALARM)

    # A site (the organiser's) listens in Lao: one listener.
    site = organiser.new_page()
    site.goto("/healthz")
    joined = join(site, {"conference_id": CONFERENCE, "as": "site", "site_id": CHAMPASAK})
    assert joined["admission"] == "admitted", joined
    site.evaluate("() => window.probe.client.chooseLanguage('lo')")
    expect_row(
        console,
        "one listener in Lao",
        lo.locator(".listeners"),
        lambda r: expect(r).to_have_text("1", timeout=ms),
    )

    # Champasak (Lao delegation) gets the floor: the floor language follows the speaker.
    console.locator(f"#site-grid li[data-site-id='{CHAMPASAK}'] [data-action=grant]").click()
    expect(console.locator("#floor-language")).to_have_value("lo", timeout=ms)
    expect(console.locator("#floor-language-note")).to_have_attribute("data-by", "speaker")
    expect(console.locator("#floor-language-note")).to_contain_text("Champasak hall")
    expect(timeline(console, "floor.language")).to_have_count(1)
    expect(lo).to_have_attribute("data-switched-out", "true")

    # The chair sets it to Vietnamese, then back to Lao, from the selector.
    console.locator("#floor-language").select_option("vi")
    expect(vi).to_have_attribute("data-switched-out", "true", timeout=ms)
    expect(lo).to_have_attribute("data-switched-out", "false")
    expect(vi.locator(".switched-out")).to_be_visible()
    expect(lo.locator(".switched-out")).to_be_hidden()
    expect(console.locator("#floor-language-note")).to_have_attribute("data-by", "chair")
    console.locator("#floor-language").select_option("lo")
    expect(lo).to_have_attribute("data-switched-out", "true", timeout=ms)
    expect(lo.locator(".switched-out")).to_be_visible()
    expect(lo.locator(".on-air-name")).to_have_text(name)
    expect(timeline(console, "floor.language")).to_have_count(3)
    # Only route changes are logged: lo out, lo from the floor, lo out; vi out, vi from the floor.
    routes = timeline(console, "booth.route")
    expect(routes.filter(has_text=lo_name)).to_have_count(3)
    expect(routes).to_have_count(5)

    screenshot(console, "console-booths")

    # The interpreter leaves: off air, absent, and the console says why.
    interpreter.evaluate("() => window.probe.client.close()")
    expect(lo.locator(".on-air .nobody")).to_be_visible(timeout=ms)
    expect(lo.locator(".present li[data-present='true']")).to_have_count(0)
    expect(timeline(console, "booth.off_air", reason="disconnected")).to_contain_text(name)
