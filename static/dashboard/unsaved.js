// A form marked data-unsaved-warning remembers it was edited: leaving the page, or sending another form of
// the page (which reloads it), asks first, so that typed hours are not lost to a holiday added below.
(function () {
  "use strict";
  document.querySelectorAll("form[data-unsaved-warning]").forEach(function (guarded) {
    var dirty = false;
    var message = guarded.getAttribute("data-unsaved-warning");
    guarded.addEventListener("input", function () { dirty = true; });
    guarded.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = message; }
    });
    document.querySelectorAll("form").forEach(function (other) {
      if (other === guarded) { return; }
      other.addEventListener("submit", function (event) {
        if (!dirty) { return; }
        if (window.confirm(message)) { dirty = false; } else { event.preventDefault(); }
      });
    });
  });
})();
