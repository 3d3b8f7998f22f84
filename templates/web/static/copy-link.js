// Copy buttons for the review links on the issue page. Without this file the buttons stay hidden and
// the links are read-only fields a person selects and copies as any text.
(function () {
  "use strict";
  function announce(id, words) {
    var status = document.querySelector('[data-copy-status-for="' + id + '"]');
    if (!status) { return; }
    status.textContent = "";
    // A fresh text node each time, so pressing Copy twice is announced twice.
    window.setTimeout(function () { status.textContent = words; }, 50);
  }
  function selectAll(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    var id = button.getAttribute("data-copy-from");
    var field = document.getElementById(id);
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      function fallback() {
        selectAll(field);
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        button.focus();
        announce(id, copied ? "Copied" : "The link is selected: press Ctrl and C (or Command and C) to copy it");
        if (!copied) { selectAll(field); }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { announce(id, "Copied"); }, fallback);
      } else {
        fallback();
      }
    });
  });
  document.querySelectorAll(".review-link input[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
})();
