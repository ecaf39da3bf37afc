// Enhancements only; every page works without them.
(function () {
  // Ask before irreversible actions (forms with data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  // After a refused submission, put the keyboard on the first field with an error.
  var invalid = document.querySelector(".field.has-error input:not([type=hidden]), .field.has-error textarea, .field.has-error select");
  if (invalid) invalid.focus();
})();
