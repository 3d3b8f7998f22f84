// The composer's progressive enhancements. Every page works without this file; it adds:
// focus on error summaries, confirmation before destructive actions, a warning before leaving
// unsaved work, live Markdown preview, drag-and-drop block order, live campaign progress, and on the
// issue page the glue for editing in place with htmx (focus after each swap, the preview following
// the block being edited, a visible message when a save could not reach the server).
// Forms that htmx brings into the page later get the same treatment: see `enhance` and "htmx:load".
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

  // Each part of the page is enhanced once, whether it came with the page or later from htmx.
  function each(root, selector, fn) {
    if (root.matches && root.matches(selector) && !root.hasAttribute("data-enhanced-" + fn.name)) {
      root.setAttribute("data-enhanced-" + fn.name, "");
      fn(root);
    }
    root.querySelectorAll(selector).forEach(function (el) {
      if (el.hasAttribute("data-enhanced-" + fn.name)) { return; }
      el.setAttribute("data-enhanced-" + fn.name, "");
      fn(el);
    });
  }

  // An error summary takes focus, so screen reader users hear what went wrong first.
  function errorSummary(summary) {
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

  // htmx asks its own question (hx-confirm) before a request; a plain form asks here.
  function confirmFirst(form) {
    if (form.hasAttribute("hx-confirm") && window.htmx) { return; }
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  // Unsaved work: warn before the page is left with changes that were not saved, and keep a copy of
  // the text in this browser until the server says the form was saved. A closed tab, a crash or a
  // sign-in that timed out then loses nothing: the form offers the text back next time.
  var dirtyForms = [];
  function markClean(form) { dirtyForms = dirtyForms.filter(function (f) { return f !== form; }); }
  var DRAFT = "newsletter.draft:";
  function draftKey(form) {
    var type = form.querySelector('input[type="hidden"][name="type"]');
    return DRAFT + new URL(form.action, window.location.href).pathname + "|" + (type ? type.value : "");
  }
  function textFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && /^(text|email|url|tel|date|search)$/.test(el.type)))
        && el.name && !el.readOnly && !el.hasAttribute("data-no-draft");
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
  function forgetCopy(form) {
    var store = storage();
    if (store) { store.removeItem(draftKey(form)); }
    markClean(form);
  }
  function firstField(root) {
    return root.querySelector("input:not([type=hidden]):not([disabled]), textarea, select, [contenteditable=true]");
  }
  function unsavedWarning(form) {
    var key = draftKey(form);
    var store = storage();
    var timer = null;
    function keep() {
      if (!store) { return; }
      var values = {};
      textFields(form).forEach(function (el) { values[el.name] = el.value; });
      try { store.setItem(key, JSON.stringify({ at: new Date().toISOString(), values: values })); } catch (e) { /* full */ }
    }
    function dirty() { if (dirtyForms.indexOf(form) === -1) { dirtyForms.push(form); } }
    form.addEventListener("input", function () {
      dirty();
      window.clearTimeout(timer);
      timer = window.setTimeout(keep, 400);
    });
    form.addEventListener("change", dirty);
    // The copy stays until the server says it saved the form ("blockSaved" from htmx, or saved-form on the
    // next page); a save that fails keeps both the copy and the warning.
    form.addEventListener("submit", function () { keep(); if (!form.hasAttribute("hx-post")) { markClean(form); } });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.successful && event.detail.xhr.getResponseHeader("HX-Trigger")) { forgetCopy(form); }
    });
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
  }
  window.addEventListener("beforeunload", function (event) {
    dirtyForms = dirtyForms.filter(function (form) { return document.body.contains(form); });
    if (dirtyForms.length) { event.preventDefault(); event.returnValue = ""; }
  });

  // Live Markdown preview, rendered and sanitised by the server exactly as the email will be.
  var previewUrl = "/team/markdown-preview";
  function markdownPreview(area) {
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
  }

  // Editing in place (the issue page with htmx): where focus goes after each swap, the preview following
  // the block being edited, the "Add a block here" shortcuts, Cancel, and a visible message whenever a
  // request did not save, so nothing typed is lost without the officer being told.
  function inPlaceEditing() {
    var list = document.getElementById("block-list");
    if (!list || !window.htmx) { return; }
    var status = document.getElementById("editor-status");
    var home = document.getElementById("add-block-home");
    var area = document.getElementById("add-block-area");

    function say(text, isError) {
      if (!status) { return; }
      status.textContent = "";
      var p = document.createElement("p");
      p.className = "message" + (isError ? " message-error" : "");
      p.textContent = text;
      status.appendChild(p);
    }
    function focusOn(el) {
      if (!el) { return; }
      if (el.disabled) {  // a Move button that just reached the top or bottom: its pair takes focus
        var pair = el.id.replace(/-(up|down)$/, function (_, d) { return d === "up" ? "-down" : "-up"; });
        el = document.getElementById(pair) || el;
      }
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: "nearest" });
    }
    function previewAt(position) {
      var frame = document.getElementById("side-preview");
      if (!frame || !position) { return; }
      frame.src = frame.src.split("#")[0] + "#preview-block-" + position;
    }
    function cardOf(el) { return el && el.closest ? el.closest("li.block-card") : null; }

    // An Edit link whose form is already open goes to the form instead of fetching it again over what was typed.
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      var opener = event.detail.elt;
      var slotId = opener.getAttribute && opener.getAttribute("data-opens-in");
      var slot = slotId && document.getElementById(slotId);
      if (slot && slot.querySelector("form")) {
        event.preventDefault();
        focusOn(firstField(slot));
      }
    });

    // The add area may sit at a gap inside the list; bring it home before the list is replaced.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var xhr = event.detail.xhr;
      if (xhr.responseURL && xhr.responseURL.indexOf("/team/sign-in") !== -1) {
        event.detail.shouldSwap = false;
        say("You have been signed out, so this was not saved. Your text is still here and kept in this browser: " +
            "sign in again in another tab, then press the button again.", true);
        return;
      }
      if (area && home && list.contains(area)) { home.appendChild(area); }
    });

    document.body.addEventListener("htmx:afterSettle", function (event) {
      list = document.getElementById("block-list");
      var target = event.detail.target;
      var marked = document.querySelector("[data-focus-after-swap]");
      if (marked) {
        var id = marked.getAttribute("data-focus-after-swap");
        marked.removeAttribute("data-focus-after-swap");
        focusOn(document.getElementById(id));
        return;
      }
      // A form just opened in place: the cursor goes to its first field (or its error summary or conflict).
      if (target && target.querySelector && target.querySelector("form")) {
        if (!target.querySelector("[data-focus-on-load]")) { focusOn(firstField(target)); }
        var opened = cardOf(target);
        if (opened) { previewAt(opened.getAttribute("data-position")); }
      }
    });

    // A new block saved: its form closes. Only that form: another opened meanwhile stays as it is.
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var form = event.detail.elt;
      if (!event.detail.successful || !form || form.tagName !== "FORM") { return; }
      if (!event.detail.xhr.getResponseHeader("HX-Trigger")) { return; }
      var holder = form.closest(".new-block");
      if (holder && document.body.contains(form)) { holder.textContent = ""; }
    });

    function failed(event) {
      var xhr = event.detail.xhr;
      var code = xhr ? xhr.status : 0;
      var detail = event.detail;
      var path = (detail.pathInfo && detail.pathInfo.requestPath) || (detail.requestConfig && detail.requestConfig.path) || "";
      if (/\/move$/.test(path) && code !== 401 && code !== 404) {
        say(code ? "The block could not be moved (error " + code + "), so the order is as it was. Try again in a moment."
          : "The composer could not be reached, so the block was not moved and the order is as it was. Try again when you are back online.", true);
        return;
      }
      var text = code === 401 ? "You have been signed out, so this was not saved. Your text is still here and kept in this browser: sign in again in another tab, then press the button again."
        : code === 413 ? "That was too large to send, so it was not saved. Use a smaller picture."
        : code === 404 ? "That block no longer exists: someone may have deleted it. Reload the page to see the issue as it is now."
        : code ? "The server could not save this (error " + code + "). Your text is still here: try again in a moment."
        : "The composer could not be reached, so this was not saved. Your text is still here: try again when you are back online.";
      say(text, true);
    }
    document.body.addEventListener("htmx:responseError", failed);
    document.body.addEventListener("htmx:sendError", failed);

    // Cancel closes the form in place and puts focus back where it was opened from.
    document.body.addEventListener("click", function (event) {
      var cancel = event.target.closest && event.target.closest("[data-cancel-in-place]");
      if (cancel) {
        var form = cancel.closest("form");
        if (dirtyForms.indexOf(form) !== -1 && !window.confirm("Close this form without saving what you typed?")) {
          event.preventDefault();
          return;
        }
        event.preventDefault();
        forgetCopy(form);
        var holder = form.closest(".block-slot, .new-block");
        var card = cardOf(holder);
        holder.textContent = "";
        focusOn(card ? document.getElementById("edit-" + card.getAttribute("data-key")) : document.getElementById("field-type"));
        return;
      }
      // "Add a block here" (pointer users): the add form moves to that gap, with "Where" set to it.
      var gap = event.target.closest && event.target.closest("button.gap-add");
      if (gap && area) {
        var at = document.getElementById("field-at");
        if (at) { at.value = gap.getAttribute("data-at"); }
        gap.parentNode.insertBefore(area, gap.nextSibling);
        focusOn(document.getElementById("field-type"));
      }
    });

    // "On this page" links put the cursor on the control itself, not just scroll to its heading.
    document.querySelectorAll("a[data-focus-target]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("data-focus-target"));
        if (!target) { return; }
        event.preventDefault();
        if (area && home && target.id === "field-type" && list.contains(area)) { home.appendChild(area); }
        focusOn(target);
      });
    });
  }

  // Drag and drop block order, by a block's handle, for pointer users (Move up / Move down do the same from
  // the keyboard). A drop posts the same move form as those buttons, with the new place in `to`, through htmx:
  // the server's answer replaces the list in place, with its status message, exactly as a Move button's does,
  // and a failure is said beside the blocks. The listeners sit on the document, so cards that arrive later
  // (every in-place change replaces the list) can be dragged too. Without htmx the plain form is posted.
  function dragToReorder() {
    var dragged = null;
    var TYPE = "application/x-newsletter-block";
    function blockList() { return document.getElementById("block-list"); }
    function cardAt(target) {
      var card = target && target.closest ? target.closest("li.block-card") : null;
      var list = blockList();
      return card && list && card.parentNode === list ? card : null;
    }
    function clearMarks() {
      document.querySelectorAll(".drop-before, .drop-after").forEach(function (el) {
        el.classList.remove("drop-before", "drop-after");
      });
    }
    // The lower third of a card means "after it", so a block can be dropped at the end of the list too.
    function after(card, event) {
      var box = card.getBoundingClientRect();
      return event.clientY > box.top + box.height * 2 / 3;
    }
    function moveUrl(card) {
      var form = card.querySelector('form[action$="/move"]');
      return form ? form.getAttribute("action") : null;
    }
    document.addEventListener("mousedown", function (event) {
      var handle = event.target.closest && event.target.closest(".drag-handle");
      var card = handle && cardAt(handle);
      if (card) { card.draggable = true; }
    });
    document.addEventListener("mouseup", function () {
      if (dragged) { return; }
      document.querySelectorAll("li.block-card[draggable=true]").forEach(function (card) { card.draggable = false; });
    });
    document.addEventListener("dragstart", function (event) {
      var card = cardAt(event.target);
      if (!card || event.target !== card || !card.draggable) { return; }
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData(TYPE, card.getAttribute("data-key"));
    });
    document.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("dragging");
      dragged.draggable = false;
      dragged = null;
      clearMarks();
    });
    document.addEventListener("dragover", function (event) {
      var card = cardAt(event.target);
      if (!dragged || !card) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearMarks();
      if (card !== dragged) { card.classList.add(after(card, event) ? "drop-after" : "drop-before"); }
    });
    document.addEventListener("drop", function (event) {
      var card = cardAt(event.target);
      if (!dragged || !card) { return; }
      event.preventDefault();
      var moving = dragged;
      var below = after(card, event);
      clearMarks();
      if (moving === card) { return; }
      var cards = Array.prototype.slice.call(blockList().children);
      var from = cards.indexOf(moving);
      var to = cards.indexOf(card) + (below ? 1 : 0);
      if (from < to) { to -= 1; }
      if (to === from) { return; }
      var url = moveUrl(moving);
      if (!url) { return; }
      if (window.htmx) {
        window.htmx.ajax("POST", url, {
          source: moving, target: "#block-list", swap: "outerHTML",
          values: { to: String(to) }, headers: { "X-CSRF-Token": csrf }
        });
        return;
      }
      var form = document.createElement("form");
      form.method = "post";
      form.action = url;
      [["csrf_token", csrf], ["to", String(to)]].forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      form.submit();
    });
  }

  function selectOnFocus(input) {
    input.addEventListener("focus", function () { input.select(); });
  }

  function enhance(root) {
    each(root, "[data-focus-on-load]", errorSummary);
    each(root, "form[data-confirm]", confirmFirst);
    each(root, "form[data-unsaved-warning]", unsavedWarning);
    each(root, "textarea[data-markdown-preview]", markdownPreview);
    each(root, "input[data-select-on-focus]", selectOnFocus);
  }
  enhance(document.body);
  document.body.addEventListener("htmx:load", function (event) {
    if (event.detail.elt !== document.body) { enhance(event.detail.elt); }
  });
  inPlaceEditing();
  if (document.querySelector("#block-list .drag-handle")) { dragToReorder(); }

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
            form.hidden = form.getAttribute("data-states").split(" ").indexOf(data.state) === -1 ||
              (form.hasAttribute("data-needs-failed") && !data.counts.failed);
          });
          // "Sending has started." is true only while it sends: gone once it finishes, pauses or stops.
          if (data.state !== "running" && data.state !== "scheduled") {
            document.querySelectorAll(".message-progress").forEach(function (message) { message.remove(); });
          }
          if (!data.finished) { window.setTimeout(tick, 2000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    };
    window.setTimeout(tick, 1000);
  }
})();
