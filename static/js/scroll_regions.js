// A table wider than a phone's screen scrolls inside itself (concord.css, below 640 px); people
// who use the keyboard must be able to reach it to scroll it, so such a table takes the focus
// (tabindex 0) for as long as it overflows. Wider screens do nothing here (the live pages, which
// redraw many times a second, pay nothing for it).
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

const narrow = window.matchMedia("(max-width: 640px)");
const observer = new MutationObserver(soon);

function follow() {
  observer.disconnect();
  markScrollingTables();
  if (narrow.matches) observer.observe(document.body, { childList: true, subtree: true });
}

follow();
narrow.addEventListener("change", follow);
window.addEventListener("resize", soon);
