// The review page's enhancements; every part works without this file.
// - Focus moves to what the page came back to say: the error summary, or the thank-you beside the comment.
// - A link in the error summary opens its comment box and puts the cursor in the field.
// - The reviewer's name is remembered on this device, so each comment form starts filled in.
(function () {
  "use strict";
  var target = document.querySelector("[data-focus-on-load]");
  if (target) {
    var details = target.closest("details");
    if (details) { details.open = true; }
    target.focus();
    if (target.scrollIntoView) { target.scrollIntoView({ block: "start" }); }
  }
  document.querySelectorAll('.review-error-summary a[href^="#"], .review-banner a[href^="#"]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      var details = field.closest("details");
      if (details) { details.open = true; }
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  });
  document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });

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
