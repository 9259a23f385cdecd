// Zone pickers: a search field above each <select data-zone-picker>. Typing "hanoi", "viêng
// chăn", "paris" or "utc+7" keeps only the matching time zones (by their label in the page's
// language, their IANA name, and the other words the page lists in #zone-search) and selects
// the first one. The select works as it is without this script.

const fold = (text) => text.normalize("NFD").replace(/\p{Mn}/gu, "").replace(/đ/g, "d")
  .replace(/Đ/g, "d").toLowerCase();

function extraWords() {
  const data = document.getElementById("zone-search");
  try {
    return data ? JSON.parse(data.textContent) : {};
  } catch (err) {
    return {};
  }
}

function enhance(select, extra) {
  const options = [...select.options].map((option) => ({
    option,
    text: fold(`${option.textContent} ${option.value} ${option.value.replace(/_/g, " ")} ${extra[option.value] || ""}`),
  }));
  const search = document.createElement("input");
  search.type = "search";
  search.className = "zone-search";
  search.placeholder = select.dataset.searchLabel || "";
  search.setAttribute("aria-label", select.dataset.searchLabel || "");
  search.setAttribute("aria-controls", select.id);
  search.addEventListener("input", () => {
    const words = fold(search.value).split(/\s+/).filter(Boolean);
    let first = null;
    for (const { option, text } of options) {
      const shown = words.every((word) => text.includes(word));
      option.hidden = !shown;
      if (shown && !first) first = option;
    }
    if (first && (select.selectedOptions[0] || {}).hidden !== false) first.selected = true;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });
  select.before(search);
}

const extra = extraWords();
for (const select of document.querySelectorAll("select[data-zone-picker]")) enhance(select, extra);
