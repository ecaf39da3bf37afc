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
