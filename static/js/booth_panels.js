// The interpreter console's side panels: the booth's people (presence, who is on air) and the
// private booth chat. DOM helpers for booth.js.

import { $, errorText, h, languageName, localTime, t } from "./ui.js";
import { sameInterpreter } from "./booth_state.js";

const locale = document.documentElement.lang || "en";
/** Fill every `<… data-language="xx">` of the page with the language's name. */
export function nameLanguages(rootNode = document) {
  for (const el of rootNode.querySelectorAll("[data-language]")) {
    el.textContent = languageName(el.dataset.language);
    el.setAttribute("lang", locale);
  }
}

/**
 * The booth's interpreters (#booth-people): present or away, on air, asking to take over. From
 * RoomState's booth; before it arrives (or from a server without the list), the partners the
 * page was rendered with, presence unknown.
 */
export function showPeople(booth, me, partners = []) {
  const list = $("booth-people");
  const people = booth && booth.interpreters ? booth.interpreters
    : partners.map((p) => ({ id: p.id, name: p.name, present: null }));
  const items = people.map((person) => {
    const mine = sameInterpreter(person.id, me);
    const onAir = booth && sameInterpreter(booth.on_air, person.id);
    const asking = booth && sameInterpreter(booth.handover_to, person.id);
    const presence = person.present === null ? "unknown" : person.present ? "present" : "away";
    const status = onAir ? t("on air")
      : presence === "present" ? t("in the booth")
        : presence === "away" ? t("away") : t("unknown");
    return h("li", { class: "person", "data-interpreter": person.id, "data-presence": presence, "data-on-air": String(Boolean(onAir)) },
      h("span", { class: "presence-dot", "aria-hidden": "true" }),
      h("span", { class: "name", text: mine ? t("%(name)s (you)", { name: person.name }) : person.name }),
      h("span", { class: `badge status-${onAir ? "on-air" : presence}`, text: status }),
      asking ? h("span", { class: "badge asking", text: t("asks to take over") }) : null);
  });
  const signature = JSON.stringify(items.map((li) => li.textContent + li.dataset.presence));
  if (list.dataset.signature === signature) return; // unchanged: keep the screen reader quiet
  list.dataset.signature = signature;
  list.replaceChildren(...items);
  $("people-empty").hidden = items.length > 0;
}

/** The private chat of the booth: #booth-chat-log, #booth-chat-form, #booth-chat-input. */
export function setupBoothChat(client, me) {
  const log = $("booth-chat-log");
  const form = $("booth-chat-form");
  const input = $("booth-chat-input");
  client.on("booth.chat", (message) => {
    const mine = sameInterpreter(message.interpreter, me);
    log.append(h("li", { class: mine ? "mine" : "theirs" },
      h("time", { datetime: message.at, text: localTime(message.at) }), " ",
      h("strong", { text: mine ? t("You") : message.from }), " ",
      h("span", { text: message.text })));
    while (log.children.length > 300) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
    $("booth-chat-empty").hidden = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    try {
      await client.boothChat(text);
      input.value = "";
      $("booth-chat-error").textContent = "";
    } catch (err) {
      $("booth-chat-error").textContent = errorText(err);
    }
  });
}
