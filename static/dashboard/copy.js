// "Copy" buttons: <button data-copy="ID"> copies the value of the field #ID (an API key shown once,
// a webhook secret). No inline scripts: the pages run under `script-src 'self'`. Without the Clipboard
// API (an http:// page other than localhost), the field is selected for Ctrl+C instead.
(function () {
  "use strict";

  function copy(button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var value = field.value !== undefined ? field.value : field.textContent;
    var done = function () {
      button.textContent = button.dataset.copied || button.textContent;
    };
    field.focus();
    if (field.select) field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value.trim()).then(done, function () {});
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("textarea.key-value")) event.target.select();
  });
})();
