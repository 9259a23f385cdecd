// The signing panel of the room pages (docs/signalling.md, "Signing"). On the console the
// chair opens an agreement's signing; on a site page a designated signatory sees the document
// hashes and confirms with their password or a code mailed to them (an HTTP POST, so the
// server records the request's address and browser); everyone sees the progress.

import { config, h } from "./ui.js";

const node = document.getElementById("concord-strings-signing");
const strings = node ? JSON.parse(node.textContent) : {};
const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || answer.detail || `HTTP ${response.status}`);
  return answer;
}

export class SigningPanel {
  /** @param {import("./protocol.js").RoomClient} client @param {{siteId: number|null}} options */
  constructor(client, { siteId = null } = {}) {
    this.client = client;
    this.siteId = siteId;
    this.section = document.getElementById("signing");
    this.list = document.getElementById("signing-agreements");
    this.error = document.getElementById("signing-error");
    this.chair = this.section && this.section.dataset.role === "console";
    this.conferenceId = config.conference ? config.conference.id : config.join.conference_id;
    this.states = new Map();
    this.drafts = [];
    if (!this.section) return;
    client.on("joined", () => this.refresh());
    client.on("signing.state", (state) => { this.states.set(state.agreement_id, state); this.render(); });
  }

  async refresh() {
    try {
      const answer = await this.client.signingStatus();
      for (const state of answer.agreements) this.states.set(state.agreement_id, state);
      if (this.chair) {
        const response = await fetch(`/api/conferences/${this.conferenceId}/agreements`, { credentials: "same-origin" });
        this.drafts = response.ok ? (await response.json()).filter((a) => a.status === "draft") : [];
      }
    } catch (err) {
      this.error.textContent = err.message || String(err);
    }
    this.render();
  }

  render() {
    const items = [];
    if (this.chair) {
      for (const draft of this.drafts) {
        if (this.states.has(draft.id)) continue;
        items.push(h("p", { class: "signing-draft" }, h("strong", { text: draft.title }), " ",
          h("button", { type: "button", class: "primary", onclick: () => this.open(draft.id) }, t("Open the signing"))));
      }
    }
    for (const state of this.states.values()) items.push(this.agreement(state));
    this.section.hidden = items.length === 0 && !this.chair;
    this.list.replaceChildren(...(items.length ? items : [h("p", { class: "muted", text: t("No agreement is ready to sign.") })]));
  }

  agreement(state) {
    const progress = t("%(signed)s of %(total)s signed", { signed: state.signed, total: state.total })
      + (state.complete ? " ✓" : "");
    const versions = h("ul", { class: "signing-versions" }, ...state.versions.map((v) =>
      h("li", {}, `${v.language}: `, h("code", { class: "hash", text: v.sha256 }))));
    const people = h("ul", { class: "signing-people" }, ...state.signatories.map((s) =>
      h("li", { "data-signed": s.signed ? "yes" : "no" },
        `${s.name} — ${s.party}${s.site ? ` (${s.site})` : ""}: ${s.signed ? `✓ ${t("signed")}` : t("waiting")}`)));
    const box = h("article", { class: "signing-agreement", "data-agreement": state.agreement_id },
      h("h3", { text: state.title }), versions,
      h("p", { class: "signing-progress", role: "status", text: state.complete ? `${progress} · ${t("Signing complete")}` : progress }),
      people);
    if (!this.chair && state.status === "open") {
      for (const s of state.signatories) {
        if (!s.signed && this.siteId !== null && String(s.site_id) === String(this.siteId)) box.append(this.form(state, s));
      }
    }
    return box;
  }

  form(state, signatory) {
    const base = `/api/conferences/${state.conference_id}/agreements/${state.agreement_id}/signatories/${signatory.signatory_id}`;
    const password = h("input", { type: "password", autocomplete: "current-password", "aria-label": t("Your password") });
    const code = h("input", { inputmode: "numeric", maxlength: "6", autocomplete: "one-time-code", "aria-label": t("Code from the e-mail"), hidden: true });
    const note = h("p", { class: "muted" });
    const send = h("button", { type: "button" }, t("Send me a code"));
    send.addEventListener("click", async () => {
      try {
        await post(`${base}/code`, {});
        code.hidden = false; password.hidden = true; password.value = "";
        note.textContent = t("A code was sent to %(name)s's e-mail.", { name: signatory.name });
        this.error.textContent = "";
      } catch (err) { this.error.textContent = err.message; }
    });
    const confirm = h("button", { type: "submit", class: "primary" }, t("Confirm and sign"));
    const form = h("form", { class: "signing-form" },
      h("p", { text: t("Sign as %(name)s (%(party)s)", { name: signatory.name, party: signatory.party }) }),
      h("label", {}, t("Your password"), " ", password), h("label", {}, code), note, send, " ", confirm);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const byCode = !code.hidden;
      try {
        await post(`${base}/sign`, { method: byCode ? "code" : "password", secret: byCode ? code.value : password.value });
        this.error.textContent = "";
      } catch (err) { this.error.textContent = err.message; }
      password.value = ""; code.value = "";
    });
    return form;
  }

  async open(agreementId) {
    try {
      await this.client.openSigning(agreementId);
      this.error.textContent = "";
    } catch (err) {
      this.error.textContent = err.detail || err.message;
    }
  }
}
