// The conference page's "Send calendar invitations" button: posts to the JSON API and says
// what happened. Without a mail server (409 no_smtp) it points at the .ics download instead.
// Messages come translated from the page (data-* attributes of the section).

const section = document.getElementById("calendar-invitations");
const button = document.getElementById("send-invitations");
const status = document.getElementById("send-invitations-status");
const download = document.getElementById("calendar-download");

async function send() {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  button.disabled = true;
  status.className = "alert";
  status.textContent = section.dataset.sending;
  try {
    const response = await fetch(section.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: "{}",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      status.className = "alert success";
      status.textContent = section.dataset.sent;
    } else if (body.code === "no_smtp") {
      status.textContent = section.dataset.noSmtp;
      download.classList.add("highlight");
      download.focus();
    } else {
      status.textContent = `${section.dataset.failed} ${body.message || body.detail || response.status}`;
    }
  } catch (err) {
    status.textContent = `${section.dataset.failed} ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

button.addEventListener("click", send);
