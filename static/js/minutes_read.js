// The minutes' reading page: workflow buttons (start, circulate, back to draft, finalise) and
// the delegation's comment form, each a call to the JSON API, then the page is reloaded.

import { call } from "./minutes_api.js";

const section = document.getElementById("minutes-actions");
const status = document.getElementById("minutes-step-status");

function failed(answer) {
  status.className = "alert";
  status.textContent = `${section.dataset.failed} ${answer.body.message || answer.body.detail || answer.status}`;
}

for (const button of section.querySelectorAll("button[data-step]")) {
  button.addEventListener("click", async () => {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    const answer = await call(button.dataset.method || "POST", section.dataset.api + button.dataset.step, {});
    button.disabled = false;
    if (!answer.ok) return failed(answer);
    window.location.assign(button.dataset.then || window.location.pathname);
  });
}

const form = document.getElementById("minutes-comment");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = { text: form.elements.text.value };
    if (form.elements.path.value.trim()) data.path = form.elements.path.value.trim();
    if (form.elements.delegation_id) data.delegation_id = Number(form.elements.delegation_id.value);
    const answer = await call("POST", `${section.dataset.api}/comments`, data);
    if (!answer.ok) return failed(answer);
    window.location.reload();
  });
}
