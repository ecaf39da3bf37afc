// Enhancement only: while the customer types the subject, show knowledge-base articles
// that may answer it (from /kb/suggest/), and record what happened for deflection
// reporting. Without JavaScript the form files tickets exactly the same.
(function () {
  var form = document.querySelector("form[data-deflection]");
  if (!form) return;
  var subject = form.querySelector("[name=subject]");
  // #suggestions is the always-present live region; the panel inside it toggles.
  var region = document.getElementById("suggestions");
  var panel = region && region.querySelector("[data-suggestion-panel]");
  var list = panel && panel.querySelector("[data-suggestion-list]");
  var shownField = form.querySelector("[name=suggestions_shown]");
  var clickedField = form.querySelector("[name=suggestion_clicked]");
  var tokenField = form.querySelector("[name=deflection_token]");
  if (!subject || !panel || !list) return;
  var timer = null;
  var lastQuery = "";
  var shown = parseInt(shownField.value || "0", 10) || 0;

  function render(results) {
    list.replaceChildren();
    results.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      var url = item.url + (item.url.indexOf("?") === -1 ? "?" : "&") + "from=deflection";
      link.href = url;
      link.textContent = item.title;
      link.setAttribute("data-suggestion", "");
      li.appendChild(link);
      if (item.summary) {
        var p = document.createElement("p");
        p.textContent = item.summary;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    panel.hidden = results.length === 0;
    if (results.length > shown) {
      shown = results.length;
      shownField.value = String(shown);
    }
  }

  function fetchSuggestions() {
    var q = subject.value.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    if (q.length < 3) { render([]); return; }
    fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(q), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (q === lastQuery) render(data.results || []); })
      .catch(function () {});
  }

  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 250);
  });
  if (subject.value.trim()) {
    shown = Math.max(shown, list.children.length);
    shownField.value = String(shown);
  }

  list.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-suggestion]");
    if (!link) return;
    var path = new URL(link.href, window.location.href);
    var clicked = path.pathname;
    clickedField.value = clicked;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("token", tokenField.value);
    data.append("query", subject.value.trim());
    data.append("shown", String(Math.max(shown, 1)));
    data.append("clicked_url", clicked);
    if (navigator.sendBeacon) {
      navigator.sendBeacon(form.dataset.beaconUrl, data);
    } else {
      fetch(form.dataset.beaconUrl, { method: "POST", body: data, keepalive: true, credentials: "same-origin" });
    }
  });
})();
