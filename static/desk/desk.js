// Progressive enhancement: choosing a canned response fills the message at once.
// Without JavaScript the "Insert" button does the same on the server.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-desk-canned]");
  if (!select) return;
  const option = select.selectedOptions[0];
  const body = option && option.dataset.body;
  if (!body) return;
  const textarea = select.form.querySelector("textarea[name=body]");
  textarea.value = textarea.value.trim() ? `${textarea.value.trim()}\n\n${body}` : body;
  textarea.focus();
});

// Progressive enhancement: the rejection reason is asked for only when "Rejected" is
// chosen. Without JavaScript the field stays visible (and is ignored for other moves).
const syncRejectionReason = (select) => {
  const reason = select.form.querySelector("[data-desk-reason]");
  if (reason) reason.hidden = select.value !== "rejected";
};
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-desk-status]");
  if (select) syncRejectionReason(select);
});
document.querySelectorAll("[data-desk-status]").forEach(syncRejectionReason);

// Progressive enhancement of the inbox filter bar: one dropdown open at a time, closed
// by Escape or a click elsewhere. Without JavaScript each <details> opens and closes
// by itself.
const dropdowns = () => document.querySelectorAll("[data-desk-dropdown]");
document.addEventListener("toggle", (event) => {
  const opened = event.target;
  if (!opened.matches || !opened.matches("[data-desk-dropdown]") || !opened.open) return;
  dropdowns().forEach((other) => { if (other !== opened) other.open = false; });
}, true);
document.addEventListener("click", (event) => {
  dropdowns().forEach((dropdown) => {
    if (dropdown.open && !dropdown.contains(event.target)) dropdown.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  dropdowns().forEach((dropdown) => {
    if (dropdown.open) { dropdown.open = false; dropdown.querySelector("summary").focus(); }
  });
});

// Progressive enhancement: the organization filter offers names as you type, from the
// desk's suggestions endpoint. Without JavaScript a name or a slug typed in full works.
document.querySelectorAll("[data-desk-suggest]").forEach((input) => {
  const list = document.getElementById(input.getAttribute("list"));
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2 || text === asked) return;
    timer = setTimeout(async () => {
      asked = text;
      const url = `${input.dataset.deskSuggest}?q=${encodeURIComponent(text)}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const { results } = await response.json();
      const names = results.map((org) => org.name);
      list.replaceChildren(...results.map((org) => {
        const option = document.createElement("option");
        // a name shared by two organizations is offered by slug, which is unique
        const shared = names.indexOf(org.name) !== names.lastIndexOf(org.name);
        option.value = shared ? org.slug : org.name;
        if (shared) option.label = org.name;
        return option;
      }));
    }, 150);
  });
});
