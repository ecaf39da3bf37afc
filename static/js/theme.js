// Light/dark theme toggle: follows the system unless the visitor picked one; the choice
// is kept in localStorage. Loaded with defer; the stored choice is applied before the
// first paint by the inline templates/includes/theme_init.js (allowed by its CSP hash).
(function () {
  var root = document.documentElement;
  document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var current = root.getAttribute("data-theme");
      if (current === "auto") {
        current = window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
      }
      var next = current === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("theme", next); } catch (e) {}
    });
  });
})();
