// Enhancement only: search-as-you-type suggestions for KB search boxes.
(function () {
  document.querySelectorAll("input[data-kb-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    if (!list) return;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(function () {
        fetch(input.dataset.kbSuggest + "?q=" + encodeURIComponent(q), {
          headers: { Accept: "application/json" },
        })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren();
            data.results.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.title;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  });
})();
