// Remembers the reviewer's name on this device, so each comment form starts filled in.
(function () {
  "use strict";
  var key = "newsletter.review-author";
  var fields = document.querySelectorAll("input[data-remember]");
  var saved = null;
  try { saved = window.localStorage.getItem(key); } catch (e) { saved = null; }
  fields.forEach(function (field) {
    if (!field.value && saved) { field.value = saved; }
    field.addEventListener("change", function () {
      try { window.localStorage.setItem(key, field.value); } catch (e) { /* private browsing: nothing to keep */ }
    });
  });
})();
