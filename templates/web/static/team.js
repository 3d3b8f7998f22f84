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

  // Unsaved work: warn before the page is left with changes that were not saved, and keep a copy of
  // the text in this browser until the server says the form was saved. A closed tab, a crash or a
  // sign-in that timed out then loses nothing: the form offers the text back next time.
  var dirty = false;
  var DRAFT = "newsletter.draft:";
  function draftKey(form) {
    var type = form.querySelector('input[type="hidden"][name="type"]');
    return DRAFT + new URL(form.action, window.location.href).pathname + "|" + (type ? type.value : "");
  }
  function textFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && /^(text|email|url|tel|date|search)$/.test(el.type)))
        && el.name && !el.readOnly;
    });
  }
  function storage() { try { return window.localStorage; } catch (e) { return null; } }
  // Signing out on a shared computer leaves no unpublished text behind for the next person.
  document.querySelectorAll("form.sign-out, form[data-signs-out]").forEach(function (signOut) {
    signOut.addEventListener("submit", function () {
      var store = storage();
      if (!store) { return; }
      Object.keys(store).filter(function (k) { return k.indexOf(DRAFT) === 0; })
        .forEach(function (k) { store.removeItem(k); });
    });
  });
  var saved = document.querySelector('meta[name="saved-form"]');
  if (saved && storage()) { storage().removeItem(DRAFT + saved.getAttribute("content")); }
  document.querySelectorAll("form[data-unsaved-warning]").forEach(function (form) {
    var key = draftKey(form);
    var store = storage();
    var timer = null;
    function keep() {
      if (!store) { return; }
      var values = {};
      textFields(form).forEach(function (el) { values[el.name] = el.value; });
      try { store.setItem(key, JSON.stringify({ at: new Date().toISOString(), values: values })); } catch (e) { /* full */ }
    }
    form.addEventListener("input", function () {
      dirty = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(keep, 400);
    });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; keep(); });
    var copy = null;
    try { copy = store ? JSON.parse(store.getItem(key) || "null") : null; } catch (e) { copy = null; }
    if (!copy || !copy.values) { return; }
    var differs = textFields(form).some(function (el) {
      return Object.prototype.hasOwnProperty.call(copy.values, el.name) && copy.values[el.name] !== el.value;
    });
    if (!differs) { store.removeItem(key); return; }
    var notice = document.createElement("div");
    notice.className = "panel restore";
    notice.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = "This form has text you typed earlier that was not saved.";
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button";
    restore.textContent = "Put my unsaved text back";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button-secondary";
    discard.textContent = "Discard it";
    notice.appendChild(text);
    notice.appendChild(restore);
    notice.appendChild(document.createTextNode(" "));
    notice.appendChild(discard);
    form.parentNode.insertBefore(notice, form);
    restore.addEventListener("click", function () {
      textFields(form).forEach(function (el) {
        if (Object.prototype.hasOwnProperty.call(copy.values, el.name)) {
          el.value = copy.values[el.name];
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      notice.remove();
      var first = textFields(form)[0];
      if (first) { first.focus(); }
    });
    discard.addEventListener("click", function () {
      store.removeItem(key);
      notice.remove();
      var first = textFields(form)[0];
      if (first) { first.focus(); }
    });
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
          document.querySelectorAll("form[data-states]").forEach(function (form) {
            form.hidden = form.getAttribute("data-states").split(" ").indexOf(data.state) === -1;
          });
          if (!data.finished) { window.setTimeout(tick, 2000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    };
    window.setTimeout(tick, 1000);
  }
})();
