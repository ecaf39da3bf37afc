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
