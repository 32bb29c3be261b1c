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

  function shownStatuses(thread) {
    // The shop's last messages on screen and their status: the server sends back those that changed.
    var bubbles = thread.querySelectorAll(".bubble.outbound[data-interaction-id]");
    var recent = Array.prototype.slice.call(bubbles, -10);
    return recent
      .map(function (bubble) {
        return bubble.dataset.interactionId + ":" + bubble.dataset.status;
      })
      .join(",");
  }

  function showThread(data, thread) {
    // Delivery statuses of the shop's recent messages: a bubble whose status changed is drawn again.
    (data.statuses || []).forEach(function (entry) {
      var current = thread.querySelector('[data-interaction-id="' + entry.id + '"]');
      if (current && current.dataset.status !== entry.status) current.replaceWith(fragment(entry.html));
    });
    // New messages: newest at the bottom, and only when the thread shows the latest ones.
    if (thread.dataset.latest !== "1") return;
    var empty = thread.querySelector("li.empty");
    data.entries.forEach(function (html) {
      var fresh = fragment(html);
      var id = fresh.dataset.interactionId;
      var current = id && thread.querySelector('[data-interaction-id="' + id + '"]');
      if (current) {
        current.replaceWith(fresh);
      } else {
        if (empty) empty.remove();
        thread.appendChild(fresh);
      }
      fresh.classList.add("fresh");
    });
  }

  function showInbox(data) {
    // The inbox: the server sends its rows again only when what they show changed.
    var list = document.getElementById("inbox-rows");
    // Not under someone choosing in a select or about to press a button: the next poll brings it.
    var busy = list && list.contains(document.activeElement) && document.activeElement !== list;
    if (busy) return false;
    if (list && data.html) list.innerHTML = data.html;
    var counts = data.counts || {};
    Object.keys(counts).forEach(function (key) {
      var badge = document.querySelector('[data-count="' + key + '"]');
      if (badge) badge.textContent = String(counts[key]);
    });
    var nav = document.getElementById("inbox-count");
    if (nav && typeof counts.all === "number") {
      nav.textContent = String(counts.all);
      nav.classList.toggle("waiting", counts.all > 0);
    }
    return true;
  }

  function showStats(stats) {
    if (!stats) return;
    Object.keys(stats).forEach(function (name) {
      var card = document.querySelector('[data-stat="' + name + '"]');
      if (card && card.textContent !== String(stats[name])) card.textContent = String(stats[name]);
    });
  }

  function showDetail(data) {
    var thread = document.getElementById("thread-list");
    if (thread) {
      showThread(data, thread);
      return;
    }
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
    var thread = document.getElementById("thread-list");
    if (thread) url.searchParams.set("statuses", shownStatuses(thread));
    window
      .fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("updates: " + response.status);
        return response.json();
      })
      .then(function (data) {
        var kind = live.dataset.kind;
        if (kind === "inbox") {
          if (!showInbox(data)) return; // someone is using the rows: the next poll brings the change
        } else if (kind === "list") {
          showList(data, live);
          showStats(data.stats);
        } else {
          showDetail(data);
        }
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
