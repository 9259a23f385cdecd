"""A listener chooses a language on the site page and hears the interpretation over the floor
(issue 4, "One browser test").

Conference 1 of the demo (the Quang Ngai – Champasak signing) has a Vietnamese and a Lao booth.
The organiser joins as the main hall (site 1), whose microphone (Chromium's fake device) is the
floor that other sites hear on hall.audio. The Lao booth's interpreter (interpreter.lo) joins
from a browser context of its own, driving the protocol module directly (not the booth page),
publishes the fake microphone and goes on air. The Champasak hall (site 2) opens its invitation
link in a third context and, on its site page, chooses Lao in the language selector. Its browser
must then receive sound with energy on the interpretation element while the floor element keeps
playing underneath at the listener's level; with nobody on air, and while the floor speaks Lao
(the booth switched out), it says so and plays the floor at full level; reopened, the page
pre-selects the language and level the server remembered for the invitation, and the L key
brings the keyboard to the selector.

Screenshot: test-output/browser/interpretation-listener.png (listening in Lao, floor at 35 %).
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import NewContext, Screenshot
from tests.browser.probes import invite, join, sign_in
from tests.browser.test_room import (
    SILENT_ENERGY,
    assert_audio,
    describe,
    poll,
    slot,
    wait_for,
    wait_in_room,
)

CONFERENCE = 1  # booths vi and lo; sites 1 (Quang Ngai hall, main) and 2 (Champasak hall)
MAIN_HALL, LISTENER = 1, 2
ORGANISER = ("organiser@concord.example", "concord-organiser")
INTERPRETER = ("interpreter.lo@concord.example", "concord-interpreter.lo")
TIMEOUT = 20.0
LEVEL = 35  # the floor level the listener sets with the slider (the default is 20)

# The interpreter publishes Chromium's fake microphone (it beeps) and goes on air.
ON_AIR_JS = """
async () => {
  const { MediaLink } = await import("/static/js/media.js");
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const { client, answer } = window.probe;
  const link = new MediaLink({
    client, iceServers: answer.ice_servers || [],
    send: [{name: "microphone", kind: "audio", track: stream.getAudioTracks()[0]}],
    receive: [{name: "source.audio", kind: "audio"}],
  });
  window.probe.link = link;
  await link.start();
  const deadline = Date.now() + 15000;
  while (link.pc.connectionState !== "connected" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client.goOnAir();
  return link.pc.connectionState;
}
"""

# What the listener page's panel says and how loud each element plays.
LISTENING_JS = """
() => {
  const c = window.concord;
  const el = (id) => document.getElementById(id);
  const checked = document.querySelector("#language-choice input:checked");
  return {
    mode: c.listener.heard.mode,
    language: c.listener.language,
    chosen: checked ? checked.value : null,
    status: el("listening-status").textContent.trim(),
    level: el("floor-level").value,
    volumes: {
      interpretation: el("interpretation-audio").volume,
      hall: el("hall-audio").volume,
      floor: el("floor-audio").volume,
    },
  };
}
"""


def listening(page: Page) -> dict[str, Any]:
    return page.evaluate(LISTENING_JS)


def wait_listening(page: Page, what: str, done: Any) -> dict[str, Any]:
    return poll(page, what, lambda: listening(page), done, TIMEOUT)


def energy(page: Page) -> dict[str, Any]:
    """Both received sounds of the listener: energy so far and how their elements play."""
    found = {}
    for name in ("interpretation.audio", "hall.audio"):
        value = slot(page, name)
        found[name] = {
            "energy": (value.get("inbound") or {}).get("totalAudioEnergy", 0.0),
            "element": value.get("element"),
            "same_track": value.get("elementTrack") == value.get("receiverTrack"),
        }
    return found


def both_play(page: Page) -> str:
    """The interpretation and the floor gain energy over the same second, both elements
    playing unmuted: the interpretation at full volume, the floor at the listener's level."""
    before = energy(page)
    page.wait_for_timeout(1000)
    after = energy(page)
    for name, value in after.items():
        element = value["element"]
        assert value["same_track"] and element and not element["muted"], (name, value)
        gain = value["energy"] - before[name]["energy"]
        assert not element["paused"] and gain > SILENT_ENERGY, (
            f"{name} did not gain energy over 1 s: {before[name]} → {value}"
        )
    assert after["interpretation.audio"]["element"]["volume"] == 1, after
    gains = {n: after[n]["energy"] - before[n]["energy"] for n in after}
    return (
        f"over the same second: interpretation +{gains['interpretation.audio']:.4f}, "
        f"floor +{gains['hall.audio']:.4f} (volume {after['hall.audio']['element']['volume']})"
    )


def test_listener_hears_the_interpretation_over_the_floor(
    new_context: NewContext, screenshot: Screenshot
) -> None:
    started = time.monotonic()
    report: list[str] = []

    # The organiser: an invitation for Champasak, the main hall's page, and a chair's probe
    # (a console client in a page of its own) that sets the floor language to the hall's
    # Vietnamese and ends any turn left from another test, so the Lao booth interprets.
    organiser = new_context("organiser")
    hall = organiser.new_page()
    csrf = sign_in(hall, ORGANISER)
    link_url = invite(hall, CONFERENCE, LISTENER, csrf)
    hall.goto(f"/conferences/{CONFERENCE}/room?site={MAIN_HALL}&autojoin=1")
    wait_in_room(hall, "main hall")

    chair = organiser.new_page()
    chair.goto("/healthz")
    joined = join(chair, {"conference_id": CONFERENCE, "as": "console"})
    chair.evaluate("() => window.probe.client.setFloorLanguage('vi')")
    if joined["room"]["floor"]["holder"] is not None:
        chair.evaluate("() => window.probe.client.releaseFloor()")

    # The Lao interpreter, on air with the fake microphone.
    interpreter = new_context("interpreter-lo").new_page()
    sign_in(interpreter, INTERPRETER)
    join(interpreter, {"conference_id": CONFERENCE, "as": "interpreter", "language": "lo"})
    link = interpreter.evaluate(ON_AIR_JS)
    assert link == "connected", f"the interpreter's media link: {link}"

    # Champasak opens its invitation link, then its site page (admitted by the chair if it
    # waits in the lobby).
    listener = new_context("champasak").new_page()
    listener.goto(link_url)
    listener.goto(f"/conferences/{CONFERENCE}/room?autojoin=1")
    wait_for(
        listener,
        "Champasak joined",
        "() => window.concord && ['lobby', 'admitted'].includes(window.concord.admission)",
        timeout=TIMEOUT,
    )
    if listener.evaluate("window.concord.admission") == "lobby":
        chair.evaluate(f"() => window.probe.client.admit({LISTENER})")
    wait_in_room(listener, "Champasak")

    # The selector: the floor and both booths by name; a new invitation starts on the floor.
    panel = listener.locator("#listening")
    expect(panel).to_be_visible()
    options = panel.locator(".language-option .language-name")
    expect(options).to_have_text(["Floor (original)", "Lao", "Vietnamese"])
    expect(listener.locator("#language-choice input[value='']")).to_be_checked()
    expect(listener.locator("#listening-status")).to_have_text("You hear the floor (original).")
    expect(listener.locator("#floor-level")).to_be_disabled()
    report.append(assert_audio(listener, "Champasak (floor only)", "hall.audio", "hall-audio"))

    # Lao: the booth at full level, the floor underneath at the default 20 %.
    chose = time.monotonic()
    panel.locator(".language-option", has_text="Lao").click()
    now = wait_listening(listener, "listening in Lao", lambda v: v["mode"] == "booth")
    assert now["chosen"] == "lo", now
    assert now["volumes"] == {"interpretation": 1, "hall": 0.2, "floor": 0.2}, now
    expect(listener.locator("#listening-status")).to_have_text(
        "You hear the Lao interpretation, with the floor underneath."
    )
    report.append(
        assert_audio(listener, "Champasak (Lao)", "interpretation.audio", "interpretation-audio")
    )
    report.append(f"Lao chosen → interpretation energy within {time.monotonic() - chose:.1f} s")
    report.append(assert_audio(listener, "Champasak (floor under Lao)", "hall.audio", "hall-audio"))
    report.append(both_play(listener))

    # The listener sets the floor level: the floor elements follow at once.
    listener.locator("#floor-level").fill(str(LEVEL))
    now = wait_listening(
        listener, f"the floor at {LEVEL} %", lambda v: v["volumes"]["hall"] == LEVEL / 100
    )
    assert now["volumes"]["floor"] == LEVEL / 100 and now["volumes"]["interpretation"] == 1, now
    expect(listener.locator("#floor-level-value")).to_have_text(f"{LEVEL}%")
    floor = slot(listener, "hall.audio")
    assert floor["element"]["volume"] == LEVEL / 100 and not floor["element"]["paused"], floor
    listener.wait_for_timeout(300)  # the meters run on a 100 ms timer
    screenshot(listener, "interpretation-listener")

    # Nobody on air: the page says so and plays the floor at full level; then back to the mix.
    interpreter.evaluate("() => window.probe.client.goOffAir()")
    now = wait_listening(listener, "no interpretation", lambda v: v["mode"] == "fallback")
    assert now["status"] == "No interpretation right now — you hear the floor", now
    assert now["volumes"] == {"interpretation": 0, "hall": 1, "floor": 1}, now
    interpreter.evaluate("() => window.probe.client.goOnAir()")
    now = wait_listening(listener, "the interpreter is back", lambda v: v["mode"] == "booth")
    assert now["volumes"]["hall"] == LEVEL / 100, now

    # The floor speaks Lao: the booth is switched out, the listener hears the floor directly.
    chair.evaluate("() => window.probe.client.setFloorLanguage('lo')")
    now = wait_listening(listener, "switched out", lambda v: v["mode"] == "fallback")
    assert now["volumes"] == {"interpretation": 0, "hall": 1, "floor": 1}, now
    expect(listener.locator("#listening-detail")).to_have_text("The floor is speaking Lao.")
    chair.evaluate("() => window.probe.client.setFloorLanguage('vi')")
    wait_listening(listener, "the booth is back", lambda v: v["mode"] == "booth")

    # Reopened, the page pre-selects what the server remembered for this invitation (the level
    # is sent 500 ms after the slider rests, long ago by now).
    listener.reload()
    wait_in_room(listener, "Champasak (reopened)")
    try:
        expect(listener.locator("#language-choice input[value='lo']")).to_be_checked()
        expect(listener.locator("#floor-level")).to_have_value(str(LEVEL))
    except AssertionError as err:
        raise AssertionError(
            f"the choice was not remembered: {err}\n  {describe(listener)}"
        ) from None
    listener.keyboard.press("l")
    expect(listener.locator("#language-choice input[value='lo']")).to_be_focused()
    now = wait_listening(listener, "listening in Lao again", lambda v: v["mode"] == "booth")
    assert now["volumes"] == {"interpretation": 1, "hall": LEVEL / 100, "floor": LEVEL / 100}
    report.append(
        assert_audio(
            listener, "Champasak (reopened)", "interpretation.audio", "interpretation-audio"
        )
    )

    interpreter.evaluate("() => window.probe.client.close()")
    report.append(f"test took {time.monotonic() - started:.1f} s")
    print("\n" + "\n".join(report))
