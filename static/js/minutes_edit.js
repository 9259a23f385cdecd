// The secretary's live minutes editor. The document (Minutes.to_dict form) is edited in place;
// every ~3 s, when it changed, it is saved as a new revision on top of the revision it was
// loaded from. A 409 (someone else saved) brings the server's merge: a clean merge is saved
// at once, conflicting fields are shown with mine / theirs / base to choose from, and the
// result is saved on top of the newest revision. Nothing is overwritten silently.

import { call } from "./minutes_api.js";
import { $, config, h, t } from "./ui.js";

const AUTOSAVE_MS = 3000;
const languages = config.document.languages;
let doc = structuredClone(config.document);
let base = config.revision;
let edits = 0; // changes since the last successful save
let saving = false;
let stopped = config.state !== "draft";
let pendingMerge = null;
let openItem = 0; // the agenda item shown open

// --- paths (items[1].decisions[0].vi), the same as the server's -------------------------------

function keysOf(path) {
  return [...path.matchAll(/\[(\d+)\]|\.?([^.[\]]+)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]));
}

function setAt(tree, path, value) {
  const keys = keysOf(path);
  let node = tree;
  for (const key of keys.slice(0, -1)) node = node[key];
  const last = keys[keys.length - 1];
  if (value === null && Array.isArray(node)) node.splice(last, 1);
  else if (value === null) delete node[last];
  else node[last] = value;
}

// --- status line -------------------------------------------------------------------------------

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function showSaved(revision, at) {
  $("save-status").textContent = t("Saved r%(revision)s at %(time)s", { revision, time: timeOf(at) });
  $("save-status").dataset.revision = String(revision);
}

function changed() {
  edits += 1;
  $("save-status").textContent = t("Unsaved changes");
}

// --- the form ----------------------------------------------------------------------------------

function textField(path, code, value, multiline) {
  const attrs = { lang: code, "data-path": path, "aria-label": `${path}` };
  const field = multiline ? h("textarea", { ...attrs, rows: 4 }) : h("input", attrs);
  field.value = value || "";
  field.addEventListener("input", () => {
    setAt(doc, path, field.value);
    changed();
  });
  return field;
}

function sideBySide(path, texts, multiline, hint = "") {
  return h("div", { class: "side-by-side" }, ...languages.map((code) => {
    const field = textField(`${path}.${code}`, code, texts[code], multiline);
    if (hint) field.placeholder = hint;
    return field;
  }));
}

// An item's name: its titles so far, else the agenda's (a title not yet translated).
function itemName(item) {
  const written = languages.map((c) => item.title[c] || "").filter(Boolean);
  return written.length ? written.join(" / ") : (config.agenda || {})[item.session_uid] || "";
}

function emptyTexts() {
  return Object.fromEntries(languages.map((code) => [code, ""]));
}

function itemSection(item, i) {
  const p = `items[${i}]`;
  const decisions = h("div", {}, ...item.decisions.map((d, j) =>
    h("div", { class: "entry" }, sideBySide(`${p}.decisions[${j}]`, d, true),
      h("button", { type: "button", class: "link", text: t("Delete"), onclick: () => { item.decisions.splice(j, 1); changed(); render(); } }))));
  const actions = h("div", {}, ...item.actions.map((a, j) => {
    const owner = textField(`${p}.actions[${j}].owner`, "", a.owner, false);
    owner.removeAttribute("lang");
    const due = h("input", { type: "date", "data-path": `${p}.actions[${j}].due` });
    due.value = a.due || "";
    due.addEventListener("input", () => { setAt(doc, `${p}.actions[${j}].due`, due.value || null); changed(); });
    return h("div", { class: "entry" }, sideBySide(`${p}.actions[${j}].what`, a.what, true),
      h("label", { text: `${t("Owner")} ` }, owner), h("label", { text: ` ${t("Due date")} ` }, due),
      h("button", { type: "button", class: "link", text: t("Delete"), onclick: () => { item.actions.splice(j, 1); changed(); render(); } }));
  }));
  // One agenda item open at a time (the page would be metres long with all of them open).
  return h("details", { class: "card minutes-item", "data-session": item.session_uid, open: i === openItem,
    ontoggle: (event) => {
      if (!event.target.open) return;
      openItem = i;
      for (const other of document.querySelectorAll("details.minutes-item")) if (other !== event.target) other.open = false;
    } },
    h("summary", {}, h("h2", { text: `${i + 1}. ${itemName(item)}` })),
    h("h3", { text: t("Title") }), sideBySide(`${p}.title`, item.title, false, (config.agenda || {})[item.session_uid] || ""),
    h("h3", { text: t("Discussion") }), sideBySide(`${p}.discussion`, item.discussion, true),
    h("h3", { text: t("Decisions") }), decisions,
    h("button", { type: "button", text: t("Add a decision"), onclick: () => { item.decisions.push(emptyTexts()); changed(); render(); } }),
    h("h3", { text: t("Action items") }), actions,
    h("button", { type: "button", text: t("Add an action item"), onclick: () => { item.actions.push({ what: emptyTexts(), owner: "", due: null }); changed(); render(); } }));
}

function render() {
  const form = $("minutes-editor");
  form.replaceChildren(
    h("div", { class: "side-by-side" }, ...languages.map((code) => h("strong", { lang: code, text: code }))),
    ...doc.items.map(itemSection),
  );
  renderAttendance();
  if (stopped) lock();
}

// Circulated or final minutes are read here, not edited: every field and button is disabled.
function lock() {
  for (const field of $("minutes-editor").querySelectorAll("input, textarea, button")) field.disabled = true;
  $("refresh-room").disabled = true;
}

function renderAttendance() {
  const site = (id) => config.sites[String(id)] || `#${id}`;
  const minutes = (row) => Math.round(row.intervals.reduce((s, i) => s + (new Date(i.end) - new Date(i.start)), 0) / 60000);
  const itemNumber = Object.fromEntries(doc.items.map((item, i) => [item.session_uid, String(i + 1)]));
  const rows = doc.attendance.map((row) => h("tr", { "data-site": row.site_id },
    h("td", { text: itemNumber[row.session_uid] || "" }), h("td", { text: site(row.site_id) }), h("td", { text: row.intervals.length ? "✓" : t("absent") }),
    h("td", { text: String(minutes(row)) }),
    h("td", { text: [row.late ? t("arrived late") : "", row.left_early ? t("left early") : ""].join(" ") })));
  const turns = doc.interventions.map((turn) => h("tr", {},
    h("td", { text: itemNumber[turn.session_uid] || "" }), h("td", { text: site(turn.site_id) }), h("td", { text: timeOf(turn.start) }), h("td", { text: timeOf(turn.end) }),
    h("td", { text: String(Math.round((new Date(turn.end) - new Date(turn.start)) / 1000)) })));
  const table = (heads, body) => h("table", {}, h("thead", {}, h("tr", {}, ...heads.map((x) => h("th", { text: t(x) })))), h("tbody", {}, ...body));
  $("attendance-tables").replaceChildren(
    h("h3", { text: t("Attendance") }), table(["#", "Site", "Present", "Minutes present", ""], rows),
    h("h3", { text: t("Floor interventions") }), table(["#", "Site", "Started", "Ended", "Seconds"], turns));
}

// --- saving and merging ------------------------------------------------------------------------

async function save() {
  if (saving || stopped || pendingMerge || edits === 0) return;
  saving = true;
  const sent = edits;
  const sentText = JSON.stringify(doc);
  $("save-status").textContent = t("Saving…");
  try {
    const answer = await call("PUT", config.api, { base_revision: base, document: doc });
    if (answer.ok) {
      base = answer.body.revision;
      edits -= sent;
      showSaved(answer.body.revision, answer.body.saved_at);
      if (edits > 0) $("save-status").textContent += ` · ${t("Unsaved changes")}`;
    } else if (answer.status === 409 && answer.body.code === "stale_revision") {
      if (JSON.stringify(doc) !== sentText) {
        // Typing went on while the save was away: ask again with all of it, or it would be lost.
        saving = false;
        return save();
      }
      await merged(answer.body);
    } else {
      if (answer.status === 409) {
        stopped = true; // locked meanwhile: circulated or final
        lock();
      }
      $("save-status").textContent = t("Not saved: %(reason)s", { reason: answer.body.message || answer.body.detail || answer.status });
    }
  } catch (err) {
    $("save-status").textContent = t("Not saved: %(reason)s", { reason: err.message });
  } finally {
    saving = false;
  }
}

async function merged(problem) {
  doc = problem.merged; // every automatic merge, and "mine" where fields conflict
  base = problem.current_revision;
  render();
  if (!problem.conflicts.length) {
    edits = Math.max(edits, 1);
    saving = false;
    return save();
  }
  pendingMerge = problem;
  $("merge-message").textContent = `${problem.message || problem.detail} ${t("%(count)s fields conflict: choose for each", { count: problem.conflicts.length })}`;
  const show = (value) => h("pre", { text: value === null ? t("(none)") : typeof value === "string" ? value : JSON.stringify(value, null, 1) });
  $("merge-conflicts").replaceChildren(...problem.conflicts.map((c, i) =>
    h("fieldset", { class: "conflict", "data-path": c.path }, h("legend", {}, h("code", { text: c.path })),
      h("div", { class: "choice" }, ...["mine", "theirs", "base"].map((side) =>
        h("label", {}, h("input", { type: "radio", name: `conflict-${i}`, value: side, checked: side === "mine" }), ` ${t(side)}`, show(c[side])))))));
  $("merge-view").hidden = false;
  $("save-status").textContent = t("Unsaved changes");
}

$("merge-apply").addEventListener("click", () => {
  const problem = pendingMerge;
  problem.conflicts.forEach((c, i) => {
    const side = document.querySelector(`input[name=conflict-${i}]:checked`).value;
    setAt(doc, c.path, c[side]);
  });
  pendingMerge = null;
  $("merge-view").hidden = true;
  edits = Math.max(edits, 1);
  render();
  save();
});

$("refresh-room").addEventListener("click", async () => {
  await save();
  const answer = await call("POST", `${config.api}/attendance`, {});
  if (!answer.ok) {
    $("save-status").textContent = t("Not saved: %(reason)s", { reason: answer.body.message || answer.body.detail || answer.status });
    return;
  }
  if (edits === 0) {
    doc = answer.body.document;
    base = answer.body.revision;
  } else {
    // Typing went on meanwhile: keep it; the next save merges it over the new revision.
    doc.attendance = answer.body.document.attendance;
    doc.interventions = answer.body.document.interventions;
  }
  showSaved(answer.body.revision, answer.body.saved_at);
  renderAttendance();
});

render();
showSaved(config.revision, config.saved_at);
if (stopped) $("save-status").textContent += ` · ${config.state}`;
setInterval(save, AUTOSAVE_MS);
