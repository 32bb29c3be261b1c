// The send box's saved replies: "Insert" puts the chosen reply at the cursor, and typing "/" in the
// message lists the replies by name (arrows to move, Enter or Tab to pick, Escape to close). Without
// this script, "Insert" posts the form and the server answers the page with the reply added.
(function () {
  "use strict";
  var form = document.getElementById("send-form");
  var select = document.getElementById("id_send_saved_reply");
  var body = document.getElementById("id_send_body");
  var list = document.getElementById("reply-suggestions");
  if (!form || !select || !body || !list) return;

  var replies = Array.prototype.map.call(select.options, function (option) {
    return { id: option.value, name: option.textContent, text: option.getAttribute("data-text") || "" };
  });
  var shown = [];
  var active = -1;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function insertAt(start, end, text) {
    body.setRangeText(text, start, end, "end");
    body.dispatchEvent(new Event("input", { bubbles: true }));
    body.focus();
  }

  document.getElementById("insert-reply").addEventListener("click", function (event) {
    event.preventDefault();
    var reply = replies[select.selectedIndex];
    if (reply) insertAt(body.selectionStart, body.selectionEnd, reply.text);
  });

  // The "/word" just before the cursor, at the start of the text or after a space.
  function slashQuery() {
    var before = body.value.slice(0, body.selectionStart);
    var match = /(^|\s)\/([^\s\/]*)$/.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, query: match[2] };
  }

  function close() {
    list.hidden = true;
    list.textContent = "";
    shown = [];
    active = -1;
    body.removeAttribute("aria-activedescendant");
    body.setAttribute("aria-expanded", "false");
  }

  function highlight(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (item, n) {
      item.setAttribute("aria-selected", n === index ? "true" : "false");
    });
    if (index >= 0) body.setAttribute("aria-activedescendant", "reply-suggestion-" + index);
  }

  function open(query) {
    var wanted = fold(query);
    shown = replies.filter(function (reply) { return fold(reply.name).indexOf(wanted) !== -1; });
    list.textContent = "";
    if (!shown.length) { close(); return; }
    shown.forEach(function (reply, n) {
      var item = document.createElement("li");
      item.id = "reply-suggestion-" + n;
      item.setAttribute("role", "option");
      item.textContent = reply.name;
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus (and the cursor) in the message
        choose(n);
      });
      list.appendChild(item);
    });
    list.hidden = false;
    body.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  function choose(index) {
    var found = slashQuery();
    var reply = shown[index];
    close();
    if (found && reply) insertAt(found.start, body.selectionStart, reply.text);
  }

  body.setAttribute("aria-controls", "reply-suggestions");
  body.setAttribute("aria-autocomplete", "list");
  body.setAttribute("aria-expanded", "false");
  body.addEventListener("input", function () {
    var found = slashQuery();
    if (found) open(found.query); else close();
  });
  body.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + shown.length) % shown.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      choose(active < 0 ? 0 : active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  body.addEventListener("blur", close);
})();
