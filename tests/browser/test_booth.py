"""The interpreter console in a real browser (issue 4, "Interpreter console").

Conference 1 of the demo (the Quang Ngai – Champasak signing) has a Lao booth staffed by
interpreter.lo@concord.example (A, user 5) and interpreter.lo2@concord.example (B, user 6). The
organiser, in a browser context of its own, joins as the main hall (site 1) with a protocol probe
(not the site page) that publishes Chromium's fake microphone: the floor the interpreters hear,
and the probe's RoomState is the outside view of the booth. A and B open
``/conferences/1/booth/lo`` in contexts of their own: each page joins, connects its media and
shows the partner present; A plays the floor on its source element and sees its microphone
level. A presses ON AIR: A's page, B's page and the main hall follow RoomState. A refusal of the
server is shown in words. B asks to take over and withdraws; asks again (Shift+H); A sees the
request and hands over.
B's cough key (held by keyboard and by mouse) and latching mute switch the microphone track off
and on; typing in the booth chat does not trigger them, and the message reaches A. A picks a
relay source and then the automatic one again. B's connection drops while on air: B is taken
off air, and its page rejoins and says so; B goes on air and off again with Shift+O. The
organiser, the delegate, and A at the Vietnamese booth get 403.

Screenshots: test-output/browser/booth-on-air.png (A on air) and booth-handover-requested.png
(A on air, B asking to take over).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.probes import sign_in
from tests.browser.test_room import assert_audio, wait_for

CONFERENCE = 1  # booths vi and lo; site 1 is the Quang Ngai hall (main hall)
MAIN_HALL = 1
BOOTH = "lo"
ME = "interpreter:5"
ORGANISER = ("organiser@concord.example", "concord-organiser")
INTERPRETER = ("interpreter.lo@concord.example", "concord-interpreter.lo")
PARTNER = ("interpreter.lo2@concord.example", "concord-interpreter.lo2")
PARTNER_ID = "interpreter:6"
INTERPRETER_NAME = "Phiên dịch viên tiếng Lào"
PARTNER_NAME = "Phiên dịch viên tiếng Lào (ca 2)"
DELEGATE = ("delegate@concord.example", "concord-delegate")
TIMEOUT = 15.0

# The main hall, joined by a protocol client of its own (window.probe) that publishes the fake
# microphone, and keeps the last RoomState it was sent.
MAIN_HALL_JS = """
async (payload) => {
  const { RoomClient } = await import("/static/js/protocol.js");
  const { MediaLink } = await import("/static/js/media.js");
  const client = new RoomClient();
  window.probe = { client, state: null };
  client.on("room.state", (state) => { window.probe.state = state; });
  await client.connect();
  const answer = await client.join(payload);
  window.probe.state = answer.room;
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const link = new MediaLink({
    client, iceServers: answer.ice_servers || [],
    send: [{name: "microphone", kind: "audio", track: stream.getAudioTracks()[0]}],
    receive: [],
  });
  window.probe.link = link;
  await link.start();
  return answer.admission;
}
"""

# What the booth page shows and holds right now: attached to failure messages.
BOOTH_JS = """
() => {
  const c = window.concord;
  const text = (id) => (document.getElementById(id) || {}).textContent?.trim();
  const mic = c && c.microphone;
  return {
    view: c && c.view, air: c && c.air,
    button: document.getElementById("air-button").dataset.state,
    label: text("air-label"), status: text("air-status"), error: text("air-error"),
    link: c && c.link ? c.link.state : null,
    pc: c && c.pc ? c.pc.connectionState : null,
    booth: c && c.booth,
    mic: mic ? {enabled: mic.enabled, readyState: mic.readyState} : null,
    micPanel: document.getElementById("mic-panel").dataset.mic,
    micStatus: text("mic-status"),
    heard: text("heard-now"),
  };
}
"""


# The booth page shown a RoomState in which the partner asks to take over (nobody did: the
# page's own client delivers it, so the page renders it as if the server had sent it), then its
# "Hand over" button pressed at once, before a real room.state replaces it. Returns the air state
# the page showed; window.realState keeps the real one.
FAKE_REQUEST_JS = """
([language, partner]) => {
  const c = window.concord;
  window.realState = c.state;
  const state = structuredClone(c.state);
  state.interpretation.booths.find((b) => b.language === language).handover_to = partner;
  c.client._dispatch("room.state", state);
  const shown = c.air;
  document.getElementById("handover-accept").click();
  return shown;
}
"""


def booth(page: Page) -> dict[str, Any]:
    return page.evaluate(BOOTH_JS)


def wait_booth(page: Page, what: str, expression: str, timeout: float = TIMEOUT) -> None:
    try:
        page.wait_for_function(expression, timeout=timeout * 1000, polling=200)
    except Exception as err:  # Playwright's timeout: say what the page shows
        raise AssertionError(f"{what}: not within {timeout:.0f} s\n  booth: {booth(page)}") from err


def tr(page: Page, msgid: str, **params: str) -> str:
    """``msgid`` as the page shows it: translated by the page's own strings (the interpreters'
    accounts are in Lao), with its placeholders filled."""
    text = str(
        page.evaluate(
            """(msgid) => {
              const read = (id) => JSON.parse(document.getElementById(id).textContent);
              const strings = {...read("concord-strings-common"), ...read("concord-strings")};
              return msgid in strings ? strings[msgid] : null;
            }""",
            msgid,
        )
        or ""
    )
    assert text, f"{msgid!r} is not in the page's strings"
    return re.sub(r"%\((\w+)\)s", lambda m: params[m.group(1)], text)


def seen_on_air(interpreter: str | None) -> str:
    """An expression for the main hall's probe: ``interpreter`` is on air in the Lao booth."""
    return f"""() => {{
      const booths = ((window.probe.state || {{}}).interpretation || {{}}).booths || [];
      const booth = booths.find((b) => b.language === {json.dumps(BOOTH)});
      return Boolean(booth) && booth.on_air === {json.dumps(interpreter)};
    }}"""


def microphone_enabled(page: Page) -> bool:
    return bool(page.evaluate("() => window.concord.microphone.enabled"))


def open_booth(page: Page, who: str) -> None:
    page.goto(f"/conferences/{CONFERENCE}/booth/{BOOTH}")
    wait_booth(
        page,
        f"{who}: the booth page joined and connected its media",
        """() => window.concord && window.concord.view === "booth" && window.concord.booth
              && window.concord.pc && window.concord.pc.connectionState === "connected" """,
    )
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")


def person(page: Page, interpreter: str) -> Locator:
    """The booth's list entry of ``interpreter`` on ``page``."""
    return page.locator(f"#booth-people li[data-interpreter={json.dumps(interpreter)}]")


def air(page: Page, state: str, what: str) -> None:
    """The page's on-air button is in ``state`` (it follows RoomState)."""
    wait_booth(page, what, f"() => window.concord.air === {json.dumps(state)}")
    expect(page.locator("#air-button")).to_have_attribute("data-state", state)


def test_interpreter_console(new_context: NewContext, screenshot: Screenshot) -> None:
    started = time.monotonic()
    report: list[str] = []

    # The organiser cannot open the booth; the main hall joins and speaks (the floor).
    organiser = new_context("organiser")
    hall = organiser.new_page()
    sign_in(hall, ORGANISER)
    refused = hall.goto(f"/conferences/{CONFERENCE}/booth/{BOOTH}")
    assert refused is not None and refused.status == 403, refused and refused.status
    hall.goto("/healthz")
    admission = hall.evaluate(
        MAIN_HALL_JS, {"conference_id": CONFERENCE, "as": "site", "site_id": MAIN_HALL}
    )
    assert admission == "admitted", admission

    # The delegate cannot either.
    delegate = new_context("delegate").new_page()
    sign_in(delegate, DELEGATE)
    refused = delegate.goto(f"/conferences/{CONFERENCE}/booth/{BOOTH}")
    assert refused is not None and refused.status == 403, refused and refused.status

    # The two Lao interpreters open the Lao booth (A is refused the Vietnamese one).
    context_a = new_context("interpreter-lo")
    other = context_a.new_page()
    sign_in(other, INTERPRETER)
    refused = other.goto(f"/conferences/{CONFERENCE}/booth/vi")
    assert refused is not None and refused.status == 403, refused and refused.status
    other.close()
    a = context_a.new_page()
    open_booth(a, "A")
    assert a.evaluate("window.concord.me") == ME, a.evaluate("window.concord.me")
    b = new_context("interpreter-lo2").new_page()
    sign_in(b, PARTNER)
    open_booth(b, "B")
    # Nobody on air in the Lao booth (another test may have left it switched out or a floor
    # turn running: not this one's concern); each sees the other present.
    for page in (a, b):
        air(page, "off", "nobody on air")
        expect(page.locator("#air-label")).to_have_text(tr(page, "Go on air"))
        for someone in (ME, PARTNER_ID):
            expect(person(page, someone)).to_have_attribute("data-presence", "present")
    expect(person(a, ME).locator(".name")).to_have_text(
        tr(a, "%(name)s (you)", name=INTERPRETER_NAME)
    )
    expect(person(b, PARTNER_ID).locator(".name")).to_have_text(
        tr(b, "%(name)s (you)", name=PARTNER_NAME)
    )
    report.append(f"both interpreters in the booth after {time.monotonic() - started:.1f} s")

    # A hears the floor (the main hall's microphone) on its source element, and sees its own
    # microphone move the level meter (the fake device beeps).
    report.append(assert_audio(a, "interpreter A", "source.audio", "source-audio"))
    expect(a.locator("#heard-now")).to_have_text(tr(a, "the floor"))
    wait_booth(
        a, "A's microphone meter moves", "() => document.getElementById('mic-level').value > 0.01"
    )

    # ON AIR: A's page follows RoomState; B's button becomes "Request handover"; the main hall
    # sees interpreter:5 on air.
    a.locator("#air-button").click()
    air(a, "on", "A on air")
    expect(a.locator("#air-button")).to_have_attribute("aria-pressed", "true")
    expect(a.locator("#air-status")).to_have_text(tr(a, "You are on air."))
    expect(a.locator("#mic-panel")).to_have_attribute("data-mic", "live")
    wait_for(hall, "the main hall sees interpreter:5 on air in the Lao booth", seen_on_air(ME))
    air(b, "partner", "B sees A on air")
    expect(b.locator("#air-label")).to_have_text(tr(b, "Request handover"))
    expect(b.locator("#air-status")).to_have_text(
        tr(b, "%(name)s is on air.", name=INTERPRETER_NAME)
    )
    report.append(
        f"A on air, seen by the main hall and B, after {time.monotonic() - started:.1f} s"
    )
    wait_booth(
        a,
        "A's turn clock runs",
        "() => document.getElementById('turn-clock').textContent !== '0:00'",
        3,
    )
    screenshot(a, "booth-on-air")

    # A refusal from the server is shown in words: A is shown a request nobody made (a
    # RoomState given to the page) and presses "Hand over"; the server answers no_request.
    fake = a.evaluate(FAKE_REQUEST_JS, [BOOTH, PARTNER_ID])
    assert fake == "asked", fake
    expect(a.locator("#air-error")).to_have_text(tr(a, "Your partner has not asked to take over."))
    a.evaluate("() => window.concord.client._dispatch('room.state', window.realState)")

    # B asks to take over (the on-air button), and withdraws the request (the same button):
    # A's page shows the request, then no more.
    b.locator("#air-button").click()
    air(b, "requested", "B's request is pending")
    expect(b.locator("#air-hint")).to_have_text(
        tr(b, "Waiting for %(name)s: press to withdraw", name=INTERPRETER_NAME)
    )
    air(a, "asked", "A sees B's request")
    b.locator("#air-button").click()
    air(b, "partner", "B withdrew its request")
    air(a, "on", "A sees the request withdrawn")
    expect(a.locator("#handover-offer")).to_be_hidden()

    # B asks again (Shift+H): A sees the request prominently, and hands over.
    b.locator("body").press("Shift+H")
    air(b, "requested", "B's request is pending")
    air(a, "asked", "A sees B's request")
    expect(a.locator("#handover-offer")).to_be_visible()
    expect(a.locator("#handover-text")).to_have_text(
        tr(a, "%(name)s asks to take over.", name=PARTNER_NAME)
    )
    expect(person(a, PARTNER_ID).locator(".asking")).to_have_text(tr(a, "asks to take over"))
    screenshot(a, "booth-handover-requested")
    a.locator("#handover-accept").click()
    air(b, "on", "B on air after the handover")
    air(a, "partner", "A sees B on air")
    expect(a.locator("#handover-offer")).to_be_hidden()
    wait_for(hall, "the main hall sees interpreter:6 on air", seen_on_air(PARTNER_ID))
    assert a.locator("#today-clock").text_content() != "0:00", booth(a)
    report.append(f"handed over to B after {time.monotonic() - started:.1f} s")

    # B, on air: the cough key held on the keyboard, then with the mouse, switches the
    # microphone track off only while held; M latches the mute.
    b.keyboard.down("c")
    assert not microphone_enabled(b), booth(b)
    expect(b.locator("#mic-panel")).to_have_attribute("data-mic", "cough")
    expect(b.locator("#cough-button")).to_have_attribute("aria-pressed", "true")
    expect(b.locator("#mic-status")).to_have_text(tr(b, "Muted (cough)"))
    b.keyboard.up("c")
    assert microphone_enabled(b), booth(b)
    expect(b.locator("#mic-panel")).to_have_attribute("data-mic", "live")
    box = b.locator("#cough-button").bounding_box()
    assert box is not None
    b.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    b.mouse.down()
    assert not microphone_enabled(b), booth(b)
    b.mouse.up()
    assert microphone_enabled(b), booth(b)
    b.keyboard.press("m")
    assert not microphone_enabled(b), booth(b)
    expect(b.locator("#mute-button")).to_have_attribute("aria-pressed", "true")
    expect(b.locator("#mic-panel")).to_have_attribute("data-mic", "muted")
    b.keyboard.press("m")
    assert microphone_enabled(b), booth(b)

    # The booth chat: typing "c" and "m" there is text, not the cough key or the mute; the
    # message reaches the partner (and comes back to the sender).
    chat = b.locator("#booth-chat-input")
    chat.click()
    b.keyboard.down("c")
    assert microphone_enabled(b), "the cough key fired while typing in the chat"
    b.keyboard.up("c")
    chat.press_sequentially("mic check")
    assert microphone_enabled(b), "the mute fired while typing in the chat"
    chat.press("Enter")
    expect(chat).to_have_value("")
    expect(b.locator("#booth-chat-log li.mine")).to_contain_text(["cmic check"])
    expect(a.locator("#booth-chat-log li.theirs")).to_contain_text([f"{PARTNER_NAME} cmic check"])

    # A's source: relay from the Vietnamese booth (nobody on air there: the floor), then auto.
    a.locator("#source-vi").check()
    expect(a.locator("#source-error")).to_be_empty()
    expect(a.locator("#heard-now")).to_have_text(tr(a, "the floor"))
    a.locator("#source-auto").check()
    expect(a.locator("#source-error")).to_be_empty()

    # B's connection drops while on air: the server takes B off air (A sees it); B's page
    # rejoins by itself, says what happened, and offers its media again.
    b.evaluate(
        """() => {
          const socket = window.concord.client.socket;
          socket.disconnect();
          setTimeout(() => socket.connect(), 300);
        }"""
    )
    air(a, "off", "A sees B taken off air")
    air(b, "off", "B rejoined, off air")
    expect(b.locator("#air-error")).to_have_text(
        tr(b, "The connection dropped and you were taken off air.")
    )
    wait_booth(
        b,
        "B's media connected again",
        """() => window.concord.link.state === "connected"
              && window.concord.pc.connectionState === "connected" """,
    )
    expect(person(a, PARTNER_ID)).to_have_attribute("data-presence", "present")
    report.append(f"B reconnected after {time.monotonic() - started:.1f} s")

    # Shift+O (away from the chat box): B on air, then off air, everywhere.
    b.locator("#air-button").focus()
    b.keyboard.press("Shift+O")
    air(b, "on", "B on air again")
    air(a, "partner", "A sees B on air again")
    expect(b.locator("#air-error")).to_be_empty()
    b.keyboard.press("Shift+O")
    air(b, "off", "B off air")
    air(a, "off", "A sees nobody on air")
    wait_for(hall, "the main hall sees nobody on air in the Lao booth", seen_on_air(None))

    elapsed = time.monotonic() - started
    report.append(f"done in {elapsed:.1f} s")
    print("\n" + "\n".join(report))
