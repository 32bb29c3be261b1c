// Live updates of the dashboard: poll the page's updates URL every few seconds and insert what is new.
// The server renders the new rows and timeline entries with the page's own (escaping) templates; this
// file only places them. No inline scripts anywhere: the pages run under `script-src 'self'`.
(function () {
  "use strict";

  var INTERVAL_MS = 3000;

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function announce(text) {
    var region = document.getElementById("live-region");
    if (region && text) {
      region.textContent = text;
    }
  }

  function showList(data, live) {
    var body = document.getElementById("customer-rows");
    if (!body) return;
    var prepend = live.dataset.prepend === "1";
    data.rows.forEach(function (row) {
      var fresh = fragment(row.html);
      var current = body.querySelector('tr[data-customer-id="' + row.id + '"]');
      if (prepend) {
        if (current) current.remove();
        var empty = body.querySelector("tr.empty");
        if (empty) empty.remove();
        body.insertBefore(fresh, body.firstElementChild);
      } else if (current) {
        current.replaceWith(fresh);
      }
      fresh.classList.add("fresh");
    });
  }

  function showStats(stats) {
    if (!stats) return;
    Object.keys(stats).forEach(function (name) {
      var card = document.querySelector('[data-stat="' + name + '"]');
      if (card && card.textContent !== String(stats[name])) card.textContent = String(stats[name]);
    });
  }

  function showDetail(data) {
    var list = document.getElementById("timeline-list");
    if (!list || list.dataset.page !== "1") return;
    var empty = list.querySelector("li.empty");
    data.entries.forEach(function (html) {
      var fresh = fragment(html);
      var id = fresh.dataset.interactionId;
      var current = id && list.querySelector('[data-interaction-id="' + id + '"]');
      if (current) {
        current.replaceWith(fresh);
      } else {
        if (empty) empty.remove();
        list.insertBefore(fresh, list.firstElementChild);
      }
      fresh.classList.add("fresh");
    });
  }

  function poll(live) {
    if (document.hidden) {
      window.setTimeout(poll, INTERVAL_MS, live);
      return;
    }
    var url = new URL(live.dataset.url, window.location.href);
    url.searchParams.set("after", live.dataset.after);
    window
      .fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("updates: " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (live.dataset.kind === "list") {
          showList(data, live);
          showStats(data.stats);
        }
        else showDetail(data);
        live.dataset.after = String(data.after);
        announce(data.announce);
      })
      .catch(function () {
        // Offline or signed out: try again later, the page itself still works.
      })
      .then(function () {
        window.setTimeout(poll, INTERVAL_MS, live);
      });
  }

  // On a phone the list comes first: the filters fold away unless one of them is on.
  function foldFilters() {
    var more = document.querySelector("details.more-filters");
    if (more && more.dataset.active !== "1" && window.matchMedia("(max-width: 760px)").matches) {
      more.open = false;
    }
  }

  function start() {
    foldFilters();
    var live = document.getElementById("live");
    if (live && live.dataset.url) {
      window.setTimeout(poll, INTERVAL_MS, live);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
