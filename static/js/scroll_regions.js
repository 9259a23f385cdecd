// A table wider than a phone's screen scrolls inside itself (concord.css); people who use the
// keyboard must be able to reach it to scroll it, so such a table takes the focus (tabindex 0)
// for as long as it overflows.
function markScrollingTables() {
  for (const table of document.querySelectorAll("table")) {
    const overflowing = table.scrollWidth > table.clientWidth + 1;
    if (overflowing && !table.hasAttribute("tabindex")) {
      table.tabIndex = 0;
      table.dataset.scrollFocus = "1";
    } else if (!overflowing && table.dataset.scrollFocus) {
      table.removeAttribute("tabindex");
      delete table.dataset.scrollFocus;
    }
  }
}

// Pages that redraw often (the console, the dashboard) change the DOM many times a second:
// one look at the tables per quarter second at most.
let pending = null;
function soon() {
  if (pending === null) pending = setTimeout(() => { pending = null; markScrollingTables(); }, 250);
}

markScrollingTables();
window.addEventListener("resize", soon);
new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
