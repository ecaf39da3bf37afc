/* Live updates for the ticket page, the desk workspace and the inbox (live/).
 * Progressive enhancement: the page is complete without this script. On each event
 * it fetches the same page again and swaps the regions marked data-live-region, so
 * what appears is exactly what the server renders for this user. On the desk it also
 * beats presence ("viewing", "typing") and shows who else is on the ticket. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-stream]");
  if (!root || !window.EventSource || !window.fetch) {
    return;
  }
  var data = root.dataset;
  var url = data.liveStream;
  var params = [];
  if (data.liveAfter) {
    params.push("after=" + encodeURIComponent(data.liveAfter));
  }
  if (data.livePresence) {
    params.push("presence=1");
  }
  if (params.length) {
    url += "?" + params.join("&");
  }
  var notice = root.querySelector("[data-live-notice]");
  var presenceLine = root.querySelector("[data-live-presence-list]");
  var changed = {};
  var refreshing = false;
  var again = false;

  function rowRefs() {
    var refs = {};
    document.querySelectorAll("[data-live-region] [data-reference]").forEach(function (row) {
      refs[row.dataset.reference] = true;
    });
    return refs;
  }

  function badge(row, text, cls) {
    row.classList.add(cls);
    var cell = row.querySelector("td a") || row;
    var mark = document.createElement("span");
    mark.className = "live-badge";
    mark.textContent = text;
    cell.parentNode.insertBefore(mark, cell.nextSibling);
  }

  function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    var before = rowRefs();
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var replacement = region.id && fresh.getElementById(region.id);
          if (replacement) {
            region.replaceWith(document.importNode(replacement, true));
          }
        });
        document.querySelectorAll("[data-live-region] [data-reference]").forEach(function (row) {
          var ref = row.dataset.reference;
          if (!before[ref]) {
            badge(row, data.liveTextNew, "live-new");
          } else if (changed[ref]) {
            badge(row, data.liveTextUpdated, "live-changed");
          }
        });
        changed = {};
        if (notice) {
          notice.textContent = data.liveTextActivity;
        }
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  var present = {};
  function showPresence() {
    if (!presenceLine) {
      return;
    }
    var now = Date.now();
    var parts = [];
    Object.keys(present).forEach(function (user) {
      var entry = present[user];
      if (entry.until < now) {
        delete present[user];
        return;
      }
      var text = entry.state === "typing" ? data.liveTextTyping : data.liveTextViewing;
      parts.push(text.replace("%(name)s", entry.name));
    });
    presenceLine.textContent = parts.join(" · ");
    presenceLine.hidden = parts.length === 0;
  }

  var source = new EventSource(url);
  source.addEventListener("ticket", function (event) {
    var item = JSON.parse(event.data);
    changed[item.reference] = true;
    refresh();
  });
  source.addEventListener("presence", function (event) {
    var item = JSON.parse(event.data);
    if (item.state === "left") {
      delete present[item.user];
    } else {
      present[item.user] = { name: item.name, state: item.state, until: Date.now() + 35000 };
    }
    showPresence();
  });
  source.addEventListener("end", function () {
    source.close();
  });

  if (data.livePresence) {
    var beat = function (state) {
      var body = new URLSearchParams();
      body.set("state", state);
      return fetch(data.livePresence, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": data.liveCsrf },
        body: body,
        keepalive: state === "left",
      }).catch(function () {});
    };
    var typingUntil = 0;
    var lastTyping = 0;
    beat("viewing");
    window.setInterval(function () {
      beat(Date.now() < typingUntil ? "typing" : "viewing");
      showPresence();
    }, 10000);
    document.addEventListener("input", function (event) {
      if (!event.target.matches || !event.target.matches("textarea")) {
        return;
      }
      typingUntil = Date.now() + 8000;
      if (Date.now() - lastTyping > 3000) {
        lastTyping = Date.now();
        beat("typing");
      }
    });
    window.addEventListener("pagehide", function () {
      beat("left");
    });
  }
})();
