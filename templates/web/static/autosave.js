// Autosave of block forms to the server (newsletter/web/history.py), as a second net beside team.js's
// copy in this browser. While a block form is being typed in, its fields are posted a moment after
// each pause and kept as this person's draft of the block; the issue itself does not change. When the
// form opens again with a draft that differs from the saved block, it offers "Carry on where you left
// off". Saving the block (or "Discard the draft") deletes the draft on the server.
// Only one offer is shown: if this browser's own copy (team.js) is newer than the server's draft, team.js
// offers that ("Put my unsaved text back") and this one stays quiet; otherwise this one replaces it.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var BLOCK_FORM = /^\/team\/issues\/([^\/]+)\/blocks\/([^\/]+)$/;
  var NOT_TYPED = { csrf_token: true, type: true, at: true, version: true };
  var LOCAL = "newsletter.draft:";  // team.js's key prefix for its copy in this browser
  var WAIT = 1200;

  function send(url, data) {
    var body = new FormData();
    Object.keys(data || {}).forEach(function (name) { body.append(name, data[name]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch", "Accept": "application/json" }
    });
  }

  function where(form) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") { return null; }
    var action = form.getAttribute("hx-post") || form.getAttribute("action") || "";
    var path = new URL(action, window.location.href).pathname;
    var found = BLOCK_FORM.exec(path);
    if (!found) { return null; }
    var key = decodeURIComponent(found[2]);
    var typeField = form.querySelector('input[type="hidden"][name="type"]');
    if (key === "new") {
      if (!typeField) { return null; }
      key = "new-" + typeField.value;
    }
    return {
      url: "/team/issues/" + found[1] + "/drafts/" + encodeURIComponent(key),
      local: LOCAL + path + "|" + (found[2] === "new" && typeField ? typeField.value : "")
    };
  }

  function typedFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || NOT_TYPED[el.name] || el.disabled) { return false; }
      if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
      return el.tagName === "INPUT" && /^(text|email|url|tel|date|search|checkbox|number)$/.test(el.type);
    });
  }
  function valuesOf(form) {
    var values = {};
    typedFields(form).forEach(function (el) {
      values[el.name] = el.type === "checkbox" ? (el.checked ? el.value || "1" : "") : el.value;
    });
    return values;
  }
  function sameAs(form, fields) {
    var now = valuesOf(form);
    return Object.keys(now).every(function (name) {
      return !Object.prototype.hasOwnProperty.call(fields, name) || fields[name] === now[name];
    });
  }
  function putBack(form, fields) {
    typedFields(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(fields, el.name)) { return; }
      if (el.type === "checkbox") { el.checked = fields[el.name] !== ""; } else { el.value = fields[el.name]; }
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
  function localCopy(place) {
    try { return JSON.parse(window.localStorage.getItem(place.local) || "null"); } catch (e) { return null; }
  }
  function dropLocalCopy(form, place) {
    try { window.localStorage.removeItem(place.local); } catch (e) { /* private browsing */ }
    var notice = form.previousElementSibling;
    if (notice && notice.classList.contains("restore")) { notice.remove(); }
  }
  function firstField(form) { return typedFields(form)[0] || null; }

  function setUp(form) {
    if (form.getAttribute("data-autosave") === "on") { return; }
    var place = where(form);
    if (!place) { return; }
    form.setAttribute("data-autosave", "on");
    var status = document.createElement("p");
    status.className = "autosave-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var actions = form.querySelector(".form-actions");
    form.insertBefore(status, actions || null);

    var timer = null;
    var stopped = false;
    var lastSent = JSON.stringify(valuesOf(form));
    function save() {
      if (stopped) { return; }
      var values = valuesOf(form);
      var text = JSON.stringify(values);
      if (text === lastSent) { return; }
      send(place.url, values).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.ok) {
            lastSent = text;
            status.textContent = "Saved as a draft at " + data.saved_at + ". Save the block to put it in the issue.";
          } else if (response.status === 401) {
            status.textContent = "Not saved as a draft: you have been signed out. Your text is still in this form; " +
              "sign in again in another tab, then save the block.";
          } else {
            status.textContent = "Not saved as a draft: " + (data.error || "the server did not answer") +
              " Your text is still in this form.";
          }
        });
      }).catch(function () {
        status.textContent = "Not saved as a draft: no connection. Your text is still in this form and in this browser.";
      });
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, WAIT);
    });
    form.addEventListener("change", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(save, WAIT);
    });
    // Saving the block deletes the draft on the server; a late autosave must not bring it back.
    form.addEventListener("submit", function () { stopped = true; window.clearTimeout(timer); });

    fetch(place.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { draft: null }; })
      .then(function (data) {
        var draft = data.draft;
        if (!draft) { return; }
        if (sameAs(form, draft.fields)) {
          send(place.url + "/discard");  // the block already says what the draft says
          return;
        }
        var local = localCopy(place);
        if (local && local.at && local.values && Date.parse(local.at) > Date.parse(draft.saved_iso) && !sameAsFields(local.values, draft.fields)) {
          return;  // this browser's copy is newer: team.js offers that one
        }
        dropLocalCopy(form, place);
        offer(form, place, draft, status);
      })
      .catch(function () { /* offline: team.js's copy in this browser is the net */ });
  }

  function sameAsFields(a, b) {
    return Object.keys(a).every(function (name) {
      return !Object.prototype.hasOwnProperty.call(b, name) || a[name] === b[name];
    });
  }

  function offer(form, place, draft, status) {
    var box = document.createElement("div");
    box.className = "panel restore autosave-offer";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", "Draft that was not saved");
    var text = document.createElement("p");
    text.textContent = "You were changing this block and did not save it. Your typing was kept as a draft at " +
      draft.saved_at + ".";
    var carryOn = document.createElement("button");
    carryOn.type = "button";
    carryOn.className = "button";
    carryOn.textContent = "Carry on where you left off (saved " + draft.saved_at + ")";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button-secondary";
    discard.textContent = "Discard the draft";
    box.appendChild(text);
    box.appendChild(carryOn);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(discard);
    form.parentNode.insertBefore(box, form);
    carryOn.addEventListener("click", function () {
      putBack(form, draft.fields);
      box.remove();
      status.textContent = "Your draft from " + draft.saved_at + " is back in the form. Save the block to put it in the issue.";
      var first = firstField(form);
      if (first) { first.focus(); }
    });
    discard.addEventListener("click", function () {
      send(place.url + "/discard").then(function (response) {
        status.textContent = response.ok ? "The draft was discarded." : "The draft could not be discarded just now.";
      }).catch(function () { status.textContent = "The draft could not be discarded just now: no connection."; });
      dropLocalCopy(form, place);
      box.remove();
      var first = firstField(form);
      if (first) { first.focus(); }
    });
  }

  function scan(root) {
    if (root.tagName === "FORM") { setUp(root); }
    if (root.querySelectorAll) { root.querySelectorAll("form").forEach(setUp); }
  }
  scan(document);
  // Forms put into the page later (edit in place) get the same.
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
})();
