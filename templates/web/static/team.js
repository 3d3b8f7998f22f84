// The composer's progressive enhancements. Every page works without this file; it adds:
// focus on error summaries, confirmation before destructive actions, a warning before leaving
// unsaved work, live Markdown preview, drag-and-drop block order, and live campaign progress.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function post(url, data) {
    var body = new FormData();
    Object.keys(data).forEach(function (name) { body.append(name, data[name]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
    });
  }

  // An error summary takes focus, so screen reader users hear what went wrong first.
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
    // A link in the summary puts the cursor in the field, not just scrolls to it.
    summary.querySelectorAll('a[href^="#"]').forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        event.preventDefault();
        target.scrollIntoView({ block: "center" });
        target.focus();
      });
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Unsaved work: warn before the page is left with changes that were not saved.
  var dirty = false;
  document.querySelectorAll("form[data-unsaved-warning]").forEach(function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // Live Markdown preview, rendered and sanitised by the server exactly as the email will be.
  var previewUrl = "/team/markdown-preview";
  document.querySelectorAll("textarea[data-markdown-preview]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-markdown-preview"));
    if (!target) { return; }
    var box = target.parentElement;
    var timer = null;
    function refresh() {
      post(previewUrl, { markdown: area.value }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        target.innerHTML = html;  // sanitised by nh3 on the server: the same rules as the email
        box.hidden = area.value.trim() === "";
      }).catch(function () { /* offline: the preview waits for the next change */ });
    }
    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 300);
    });
    if (area.value.trim()) { refresh(); }
  });

  // Drag and drop block order. The Move up / Move down buttons do the same from the keyboard.
  var list = document.querySelector("ol.blocks");
  if (list && list.querySelector(".drag-handle")) {
    var dragged = null;
    list.querySelectorAll("li.block-card").forEach(function (card) {
      var handle = card.querySelector(".drag-handle");
      handle.addEventListener("mousedown", function () { card.draggable = true; });
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        card.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", card.getAttribute("data-key"));
      });
      card.addEventListener("dragend", function () {
        card.classList.remove("dragging");
        card.draggable = false;
        list.querySelectorAll(".drop-before").forEach(function (el) { el.classList.remove("drop-before"); });
      });
      card.addEventListener("dragover", function (event) {
        if (!dragged || dragged === card) { return; }
        event.preventDefault();
        list.querySelectorAll(".drop-before").forEach(function (el) { el.classList.remove("drop-before"); });
        card.classList.add("drop-before");
      });
      card.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!dragged || dragged === card) { return; }
        var cards = Array.prototype.slice.call(list.querySelectorAll("li.block-card"));
        var from = cards.indexOf(dragged);
        var to = cards.indexOf(card);
        if (from < to) { to -= 1; }
        var key = dragged.getAttribute("data-key");
        var url = window.location.pathname.replace(/\/$/, "") + "/blocks/" + encodeURIComponent(key) + "/move";
        post(url, { to: String(to) }).then(function () {
          window.location.hash = "block-" + key;
          window.location.reload();
        });
      });
    });
  }

  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // Campaign progress: figures refresh every two seconds until the campaign is finished or cancelled.
  var progress = document.querySelector("[data-progress-url]");
  if (progress) {
    var words = JSON.parse(progress.querySelector('[data-field="state-words"]').getAttribute("data-words"));
    var bar = progress.querySelector("progress");
    var set = function (name, value) {
      var el = progress.querySelector('[data-field="' + name + '"]');
      if (el && el.textContent !== String(value)) { el.textContent = value; }
    };
    var tick = function () {
      fetch(progress.getAttribute("data-progress-url"), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          set("state-words", words[data.state] || data.state);
          set("done", data.done);
          set("total", data.total);
          set("sent", data.counts.sent);
          set("queued", data.counts.queued + data.counts.sending);
          set("failed", data.counts.failed);
          set("bounced", data.counts.bounced);
          set("skipped", data.counts.skipped);
          set("rate", data.rate);
          set("seconds_left", data.seconds_left === null ? "not known yet" : data.seconds_left + " seconds");
          bar.max = data.total || 1;
          bar.value = data.done;
          if (!data.finished) { window.setTimeout(tick, 2000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    };
    window.setTimeout(tick, 1000);
  }
})();
