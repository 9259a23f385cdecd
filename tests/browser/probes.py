"""Helpers for browser tests that drive the room through the page's own protocol module
(``/static/js/protocol.js``) instead of a page's UI: sign in over the JSON API, invite a site,
and join as a probe client kept in ``window.probe``."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

SIGN_IN_JS = """
async ([email, password]) => {
  const r = await fetch("/api/session", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({email, password})});
  return {status: r.status, body: await r.json()};
}
"""

INVITE_JS = """
async ([conference, site, csrf]) => {
  const r = await fetch(`/api/conferences/${conference}/invitations`, {method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify({site_id: site, role: "delegate"})});
  return {status: r.status, body: await r.json()};
}
"""

# A protocol client of its own in the page (window.probe), joined with `payload`.
JOIN_JS = """
async (payload) => {
  const { RoomClient } = await import("/static/js/protocol.js");
  const client = new RoomClient();
  await client.connect();
  const answer = await client.join(payload);
  window.probe = { client, answer };
  return { as: answer.as, admission: answer.admission, room: answer.room };
}
"""


def sign_in(page: Page, who: tuple[str, str]) -> str:
    """Sign ``who`` (email, password) in on ``page``'s browser context; the CSRF token."""
    page.goto("/healthz")  # a page of the server that sets no cookie, to run fetch() from
    answer = page.evaluate(SIGN_IN_JS, list(who))
    assert answer["status"] in (200, 201), f"sign-in of {who[0]} failed: {answer}"
    return str(answer["body"]["csrf_token"])


def invite(page: Page, conference: int, site: int, csrf: str) -> str:
    """A new delegate invitation link for ``site`` (the page must be an organiser's)."""
    answer = page.evaluate(INVITE_JS, [conference, site, csrf])
    assert answer["status"] == 201, answer
    return str(answer["body"]["url"])


def join(page: Page, payload: dict[str, Any]) -> dict[str, Any]:
    """Join the room from ``page`` as a probe client; the join answer's essentials."""
    answer: dict[str, Any] = page.evaluate(JOIN_JS, payload)
    return answer
