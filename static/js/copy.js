// Copy buttons: any <button data-copy="text"> puts its text on the clipboard and says so for a
// moment. The clipboard API needs a secure context (https or localhost); elsewhere the text is
// selected in a hidden field and copied the old way, so the button works on a plain-http
// rehearsal server too.

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const field = document.createElement("textarea");
  field.value = text;
  field.setAttribute("readonly", "");
  field.style.position = "fixed";
  field.style.opacity = "0";
  document.body.appendChild(field);
  field.select();
  const done = document.execCommand("copy");
  field.remove();
  if (!done) throw new Error("the browser refused to copy");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await copyText(button.dataset.copy);
    button.textContent = button.dataset.copied || "✓";
  } catch (err) {
    button.textContent = button.dataset.failed || "✗";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
