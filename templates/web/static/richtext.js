// The text editor for prose fields and the rows of link lists. Every form works without this file:
// a prose field is then a textarea of Markdown, and a link list shows a few empty rows.
//
// A prose field gets a formatting toolbar (the WAI-ARIA toolbar pattern: one tab stop, arrow keys
// between buttons, aria-pressed on the toggles) over an editable area. The textarea stays in the form,
// hidden: the editor sends its HTML with the form (`<name>__html`), and the server turns it into the
// stored Markdown with the same converter that cleans pasted Word and Google Docs. The textarea is kept
// up to date too, so the preview, the unsaved-text copy and "Put my unsaved text back" keep working.
//
// Forms that arrive later (loaded into the issue page by htmx) are set up on `htmx:load`.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var isMac = /Mac|iPhone|iPad/.test(navigator.platform || "");
  var counter = 0;

  function post(url, data) {
    var body = new FormData();
    Object.keys(data).forEach(function (name) { body.append(name, data[name]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (json) { json.ok = response.ok; return json; }, function () {
        return { ok: false, error: "The server did not answer. Try again." };
      });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // --- the prose editor ------------------------------------------------------------------------------

  var NAME_CHIP = '<span class="name-token" data-token="name" contenteditable="false">reader\'s name</span>';
  var BUTTONS = [
    { command: "bold", text: "Bold", toggle: true, keys: "B" },
    { command: "italic", text: "Italic", toggle: true, keys: "I" },
    { command: "link", text: "Link", keys: "K" },
    { command: "insertUnorderedList", text: "Bulleted list", toggle: true },
    { command: "insertOrderedList", text: "Numbered list", toggle: true },
    { command: "name", text: "Insert the reader's name" }
  ];

  function setUpEditor(field) {
    if (field.hasAttribute("data-richtext-ready")) { return; }
    field.setAttribute("data-richtext-ready", "");
    var name = field.getAttribute("data-richtext");
    var area = field.querySelector("textarea");
    var label = field.querySelector("label");
    if (!area || !label || !area.form) { return; }
    var form = area.form;
    var id = area.id;
    // A form opened in place in the issue page has its ids prefixed with the block's key ("k3x-field-body").
    var prefix = id.slice(0, Math.max(0, id.lastIndexOf("field-" + name)));
    var hintId = prefix + "hint-" + name;
    var n = ++counter;

    var toolbar = el("div", { role: "toolbar", "class": "richtext-toolbar", "aria-label": "Formatting: " + label.textContent.trim() });
    var buttons = BUTTONS.map(function (spec, index) {
      var button = el("button", { type: "button", "class": "richtext-button richtext-" + spec.command, tabindex: index === 0 ? "0" : "-1" }, spec.text);
      if (spec.toggle) { button.setAttribute("aria-pressed", "false"); }
      if (spec.keys) { button.setAttribute("aria-keyshortcuts", (isMac ? "Meta+" : "Control+") + spec.keys); }
      button.setAttribute("data-command", spec.command);
      toolbar.appendChild(button);
      return button;
    });
    var editor = el("div", {
      "class": "richtext-editor", contenteditable: "true", role: "textbox", "aria-multiline": "true",
      "aria-labelledby": label.id, spellcheck: "true"
    });
    var described = [document.getElementById(hintId + "-editor") ? hintId + "-editor" : null,
      document.getElementById(prefix + "error-" + name) ? prefix + "error-" + name : null].filter(Boolean);
    if (described.length) { editor.setAttribute("aria-describedby", described.join(" ")); }
    if (area.getAttribute("aria-invalid")) { editor.setAttribute("aria-invalid", "true"); }
    var status = el("p", { "class": "visually-hidden", role: "status", "data-richtext-status": "" });
    var html = el("input", { type: "hidden", name: name + "__html" });

    var savedRange = null;
    var syncing = false;
    var timer = null;

    function say(text) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function keepRange() {
      var selection = window.getSelection();
      if (selection.rangeCount && editor.contains(selection.getRangeAt(0).commonAncestorContainer)) {
        savedRange = selection.getRangeAt(0).cloneRange();
      }
    }

    function restoreRange() {
      editor.focus();
      var selection = window.getSelection();
      if (savedRange && editor.contains(savedRange.commonAncestorContainer)) {
        selection.removeAllRanges();
        selection.addRange(savedRange);
      } else if (!selection.rangeCount || !editor.contains(selection.getRangeAt(0).commonAncestorContainer)) {
        var range = document.createRange();
        range.selectNodeContents(editor);
        range.collapse(false);
        selection.removeAllRanges();
        selection.addRange(range);
      }
    }

    function refreshState() {
      buttons.forEach(function (button) {
        if (!button.hasAttribute("aria-pressed")) { return; }
        var on = false;
        try { on = document.queryCommandState(button.getAttribute("data-command")); } catch (e) { on = false; }
        if (document.activeElement !== editor && !toolbar.contains(document.activeElement)) { on = false; }
        button.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    // The textarea follows the editor, converted by the server, so the preview and the unsaved-text copy see it.
    function flush() {
      window.clearTimeout(timer);
      timer = null;
      var sent = editor.innerHTML;
      pending = post("/team/richtext/markdown", { html: sent }).then(function (answer) {
        if (!answer.ok) { return; }
        syncing = true;
        area.value = answer.markdown;
        area.dispatchEvent(new Event("input", { bubbles: true }));
        syncing = false;
      }).catch(function () { /* offline: the form still sends the editor's HTML */ }).then(function () {
        pending = null;
      });
      return pending;
    }

    function changed() {
      html.value = editor.innerHTML;
      window.clearTimeout(timer);
      timer = window.setTimeout(flush, 300);
    }

    // Typing always goes into a paragraph: an empty editor holds one, not bare text. Line breaks between
    // paragraphs in the server's markup go: the browser drops them when it edits, and `edit` finds the
    // cursor again by position, which they would shift.
    function dropLineBreaks(root) {
      Array.prototype.slice.call(root.querySelectorAll("ul, ol")).concat([root]).forEach(function (parent) {
        Array.prototype.slice.call(parent.childNodes).forEach(function (node) {
          if (node.nodeType === 3 && !node.nodeValue.trim()) { node.remove(); }
        });
      });
    }
    function ensureParagraph() {
      dropLineBreaks(editor);
      if (editor.querySelector("p, ul, ol")) { return; }
      var paragraph = document.createElement("p");
      while (editor.firstChild) { paragraph.appendChild(editor.firstChild); }
      if (!paragraph.firstChild) { paragraph.appendChild(document.createElement("br")); }
      editor.appendChild(paragraph);
      if (document.activeElement === editor) {
        var range = document.createRange();
        range.selectNodeContents(paragraph);
        range.collapse(false);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        keepRange();
      }
    }

    function show(markdown) {
      return post("/team/richtext/html", { markdown: markdown }).then(function (answer) {
        if (!answer.ok) { throw new Error(answer.error); }
        editor.innerHTML = answer.html.trim();
        ensureParagraph();
        html.value = editor.innerHTML;
      });
    }

    // Markup from the server (already sanitised) put in at `range`, inside `root` (a copy of the editor, see
    // `edit`); returns where the cursor goes after it.
    function insertMarkup(root, range, markup) {
      range.deleteContents();
      var holder = document.createElement("template");
      holder.innerHTML = markup;
      var fragment = holder.content;
      dropLineBreaks(fragment);
      var last = fragment.lastChild;
      if (!last) { return range; }
      var blocks = fragment.querySelector("p, ul, ol");
      var here = range.startContainer.nodeType === 1 ? range.startContainer : range.startContainer.parentNode;
      var block = here.closest ? here.closest("p, li") : null;
      if (blocks && block && root.contains(block)) {
        // Paragraphs and lists go beside the paragraph the cursor is in (replacing it when it is empty).
        if (block.textContent.trim() === "" && !block.querySelector(".name-token")) {
          block.replaceWith(fragment);
        } else {
          block.after(fragment);
        }
      } else {
        range.insertNode(fragment);
      }
      var after = document.createRange();
      after.setStartAfter(last);
      after.collapse(true);
      return after;
    }

    // Every change the editor makes itself (a paste, a link, the reader's name) goes through the browser's
    // own editing command, so Ctrl+Z undoes it like typing. The change is made on a copy of the text; the
    // copy then replaces the text in one "insertHTML" step. Not insertHTML of the new part at the cursor:
    // Chrome merges pasted paragraphs into the one at the cursor with style attributes, which the content
    // policy forbids (and reports); replacing the whole text leaves nothing to merge.
    var NEWLINE = '<br class="Apple-interchange-newline">';
    var ours = [];      // changes made here, newest last: where the cursor was before and goes after
    var undone = [];
    function pathOf(node, root) {
      var path = [];
      while (node && node !== root) {
        path.unshift(Array.prototype.indexOf.call(node.parentNode.childNodes, node));
        node = node.parentNode;
      }
      return node === root ? path : null;
    }
    function nodeAt(root, path) {
      var node = root;
      for (var i = 0; node && i < path.length; i += 1) { node = node.childNodes[path[i]]; }
      return node || null;
    }
    function pointOf(container, offset, root) {
      var path = pathOf(container, root);
      return path ? { path: path, offset: offset } : null;
    }
    function rangeAt(root, start, end) {
      var a = start && nodeAt(root, start.path);
      var b = end && nodeAt(root, end.path);
      if (!a || !b) { return null; }
      var size = function (node) { return node.nodeType === 3 ? node.length : node.childNodes.length; };
      if (start.offset > size(a) || end.offset > size(b)) { return null; }
      var range = document.createRange();
      range.setStart(a, start.offset);
      range.setEnd(b, end.offset);
      return range;
    }
    function place(range) {
      var selection = window.getSelection();
      if (!range) {
        range = document.createRange();
        range.selectNodeContents(editor);
        range.collapse(false);
      }
      selection.removeAllRanges();
      selection.addRange(range);
      savedRange = range.cloneRange();
    }
    // `change(copy, range)` changes the copy at `range` (the cursor or selection, mapped into the copy) and
    // returns where the cursor goes; it may return null to leave the text as it is.
    function edit(change) {
      restoreRange();
      var live = window.getSelection().getRangeAt(0);
      var start = pointOf(live.startContainer, live.startOffset, editor);
      var end = pointOf(live.endContainer, live.endOffset, editor);
      var copy = editor.cloneNode(true);
      var range = rangeAt(copy, start, end);
      if (!range) {
        range = document.createRange();
        range.selectNodeContents(copy);
        range.collapse(false);
      }
      var caret = change(copy, range);
      if (!caret) { return; }
      // The cursor goes inside the text just put in, not between two paragraphs.
      var at = caret.startContainer;
      var offset = caret.startOffset;
      while ((at === copy || at.nodeName === "UL" || at.nodeName === "OL") && offset > 0 &&
             at.childNodes[offset - 1].nodeType === 1) {
        at = at.childNodes[offset - 1];
        offset = at.childNodes.length;
      }
      var after = pointOf(at, offset, copy);
      var markup = copy.innerHTML;
      var beforeHtml = editor.innerHTML;
      var whole = document.createRange();
      whole.selectNodeContents(editor);
      place(whole);
      // Text that starts with a list keeps the cursor in it once emptied; the newline starts the new text
      // outside it, as the copy has it.
      var first = editor.firstElementChild;
      var lead = first && (first.nodeName === "UL" || first.nodeName === "OL") ? NEWLINE : "";
      var done = false;
      try { done = document.execCommand("insertHTML", false, lead + markup); } catch (e) { done = false; }
      if (!done) { editor.innerHTML = markup; }  // no undo for this change, but the text is right
      place(rangeAt(editor, after, after));
      ours.push({ before: { start: start, end: end }, beforeHtml: beforeHtml, after: after, afterHtml: editor.innerHTML });
      if (ours.length > 100) { ours.shift(); }
      undone = [];
    }
    // Undoing one of these changes gives the old text back with all of it selected (the step replaced all
    // of it), so one more key press would replace everything: the cursor goes back where it was instead.
    var undoing = null;
    editor.addEventListener("beforeinput", function (event) {
      undoing = null;
      var html = editor.innerHTML;
      if (event.inputType === "historyUndo" && ours.length && ours[ours.length - 1].afterHtml === html) {
        undoing = { step: ours.pop(), redo: false };
      } else if (event.inputType === "historyRedo" && undone.length && undone[undone.length - 1].beforeHtml === html) {
        undoing = { step: undone.pop(), redo: true };
      } else if (event.inputType !== "historyUndo" && event.inputType !== "historyRedo") {
        undone = [];
      }
    });
    editor.addEventListener("input", function (event) {
      if (!undoing || (event.inputType !== "historyUndo" && event.inputType !== "historyRedo")) { return; }
      var step = undoing.step;
      if (undoing.redo) {
        ours.push(step);
        place(rangeAt(editor, step.after, step.after));
      } else {
        undone.push(step);
        place(rangeAt(editor, step.before.start, step.before.end));
      }
      undoing = null;
    });

    function run(command) {
      if (command === "link") { openLinkDialog(); return; }
      restoreRange();
      if (command === "name") {
        edit(function (copy, range) { return insertMarkup(copy, range, NAME_CHIP + "\u00a0"); });
        say("Reader's name added. The email shows each reader's name, or \u201cthere\u201d when we do not know it.");
      } else {
        document.execCommand(command, false, null);
        var button = toolbar.querySelector('[data-command="' + command + '"]');
        var on = false;
        try { on = document.queryCommandState(command); } catch (e) { on = false; }
        say(button.textContent + (on ? " on" : " off"));
      }
      keepRange();
      refreshState();
      changed();
    }

    // One tab stop for the toolbar; arrow keys, Home and End move between its buttons.
    toolbar.addEventListener("keydown", function (event) {
      var index = buttons.indexOf(document.activeElement);
      if (index < 0) { return; }
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      next = (next + buttons.length) % buttons.length;
      buttons[index].setAttribute("tabindex", "-1");
      buttons[next].setAttribute("tabindex", "0");
      buttons[next].focus();
    });
    buttons.forEach(function (button) {
      // A mouse click leaves the cursor in the text; the keyboard path restores it before the command.
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () {
        buttons.forEach(function (other) { other.setAttribute("tabindex", other === button ? "0" : "-1"); });
        run(button.getAttribute("data-command"));
      });
    });

    editor.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) { return; }
      var key = event.key.toLowerCase();
      if (key === "b" || key === "i") {
        event.preventDefault();
        keepRange();
        run(key === "b" ? "bold" : "italic");
      } else if (key === "k") {
        event.preventDefault();
        keepRange();
        openLinkDialog();
      }
    });
    editor.addEventListener("input", function () { keepRange(); changed(); });
    // Where the cursor was is kept as it moves, so a toolbar button reached by keyboard acts there.
    // selectionchange comes late, so leaving the text (blur) keeps it too.
    document.addEventListener("selectionchange", function () {
      if (document.activeElement === editor) { keepRange(); refreshState(); }
    });
    editor.addEventListener("keyup", keepRange);
    editor.addEventListener("mouseup", keepRange);
    editor.addEventListener("focus", function () { ensureParagraph(); refreshState(); });
    editor.addEventListener("blur", function () { keepRange(); window.setTimeout(refreshState, 0); });
    label.addEventListener("click", function (event) { event.preventDefault(); editor.focus(); });

    // Paste (and drop): the server cleans the clipboard's HTML (Word, Google Docs, web pages) with the same
    // rules as a save, and what it keeps is put in.
    function bringIn(data) {
      var pasted = data.getData("text/html");
      var plain = data.getData("text/plain");
      var at = savedRange;
      if (!pasted) {
        pasted = plain.split(/\r?\n\s*\r?\n/).map(function (part) {
          return "<p>" + escapeHtml(part).replace(/\r?\n/g, "<br>") + "</p>";
        }).join("");
      }
      say("Pasting\u2026");
      post("/team/richtext/markdown", { html: pasted }).then(function (answer) {
        if (!answer.ok) { say(answer.error || "That could not be pasted."); return; }
        savedRange = at;
        edit(function (copy, range) { return insertMarkup(copy, range, answer.html); });
        keepRange();
        changed();
        say(["Pasted, keeping bold, italic, links and lists."].concat(answer.notes || []).join(" "));
      }).catch(function () { say("That could not be pasted: the server did not answer. Try again."); });
    }
    editor.addEventListener("paste", function (event) {
      if (!event.clipboardData) { return; }
      event.preventDefault();
      keepRange();
      bringIn(event.clipboardData);
    });
    editor.addEventListener("drop", function (event) {
      var data = event.dataTransfer;
      if (!data || !(data.getData("text/html") || data.getData("text/plain"))) { return; }
      event.preventDefault();
      var range = document.caretRangeFromPoint ? document.caretRangeFromPoint(event.clientX, event.clientY) : null;
      if (range && editor.contains(range.startContainer)) { savedRange = range; }
      bringIn(data);
    });

    // "Put my unsaved text back" (team.js) writes Markdown into the textarea: show it in the editor.
    area.addEventListener("input", function () {
      if (syncing) { return; }
      show(area.value).catch(function () { /* keeps what the editor had */ });
    });

    // --- the link dialog ---
    var dialog = el("dialog", { "class": "richtext-dialog", "aria-labelledby": "richtext-dialog-title-" + n });
    var title = el("h2", { id: "richtext-dialog-title-" + n }, "Add a link");
    var textId = "richtext-link-text-" + n;
    var addressId = "richtext-link-address-" + n;
    var textLabel = el("label", { "for": textId }, "Link text");
    var textHint = el("p", { "class": "hint", id: textId + "-hint" }, "The words people will see, such as \u201cBook a place\u201d.");
    var textError = el("p", { "class": "field-error", id: textId + "-error", hidden: "" });
    var textInput = el("input", { id: textId, type: "text", "aria-describedby": textId + "-hint" });
    var addressLabel = el("label", { "for": addressId }, "Address");
    var addressHint = el("p", { "class": "hint", id: addressId + "-hint" }, "A web address such as www.example.org, an email address or a phone number.");
    var addressError = el("p", { "class": "field-error", id: addressId + "-error", hidden: "" });
    var addressInput = el("input", { id: addressId, type: "text", spellcheck: "false", autocapitalize: "off", "aria-describedby": addressId + "-hint" });
    var apply = el("button", { type: "button", "class": "button" }, "Add link");
    var unlink = el("button", { type: "button", "class": "button button-secondary", hidden: "" }, "Remove link");
    var cancel = el("button", { type: "button", "class": "button button-secondary" }, "Cancel");
    [title,
      wrap([textLabel, textHint, textError, textInput]),
      wrap([addressLabel, addressHint, addressError, addressInput]),
      wrap([apply, document.createTextNode(" "), unlink, document.createTextNode(" "), cancel], "form-actions")
    ].forEach(function (part) { dialog.appendChild(part); });
    var editing = null;

    function wrap(children, cls) {
      var div = el("div", { "class": cls || "field" });
      children.forEach(function (child) { div.appendChild(child); });
      return div;
    }

    function setError(input, error, hintId, text) {
      if (text) {
        error.innerHTML = '<span class="visually-hidden">Error:</span> ';
        error.appendChild(document.createTextNode(text));
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", hintId + " " + error.id);
      } else {
        error.hidden = true;
        input.removeAttribute("aria-invalid");
        input.setAttribute("aria-describedby", hintId);
      }
    }

    function anchorAtSelection() {
      if (!savedRange) { return null; }
      var node = savedRange.commonAncestorContainer;
      while (node && node !== editor) {
        if (node.nodeName === "A") { return node; }
        node = node.parentNode;
      }
      return null;
    }

    function openLinkDialog() {
      keepRange();
      if (!savedRange) { restoreRange(); keepRange(); }
      editing = anchorAtSelection();
      setError(textInput, textError, textHint.id, "");
      setError(addressInput, addressError, addressHint.id, "");
      title.textContent = editing ? "Change the link" : "Add a link";
      apply.textContent = editing ? "Save link" : "Add link";
      unlink.hidden = !editing;
      textInput.value = editing ? editing.textContent : (savedRange ? savedRange.toString() : "");
      addressInput.value = editing ? editing.getAttribute("href").replace(/^mailto:/, "") : "";
      dialog.showModal();
      (textInput.value ? addressInput : textInput).focus();
    }

    function closeDialog() {
      dialog.close();
      restoreRange();
    }

    function applyLink() {
      var words = textInput.value.trim();
      setError(textInput, textError, textHint.id, words ? "" : "Give the words people will see for the link.");
      if (!addressInput.value.trim()) {
        setError(addressInput, addressError, addressHint.id, "Give the address, such as www.example.org.");
        (words ? addressInput : textInput).focus();
        return;
      }
      post("/team/richtext/address", { address: addressInput.value }).then(function (answer) {
        if (!answer.ok || answer.error) {
          setError(addressInput, addressError, addressHint.id, answer.error);
          (words ? addressInput : textInput).focus();
          return;
        }
        setError(addressInput, addressError, addressHint.id, "");
        if (!words) { textInput.focus(); return; }
        dialog.close();
        var link = editing ? pathOf(editing, editor) : null;
        edit(function (copy, range) {
          var anchor = link && nodeAt(copy, link);
          if (anchor) {
            anchor.setAttribute("href", answer.address);
            if (anchor.textContent !== words) { anchor.textContent = words; }
            var after = document.createRange();
            after.setStartAfter(anchor);
            return after;
          }
          return insertMarkup(copy, range, '<a href="' + escapeHtml(answer.address) + '">' + escapeHtml(words) + "</a>");
        });
        keepRange();
        changed();
        say("Link " + (editing ? "saved" : "added") + ": " + words + ".");
      }).catch(function () {
        setError(addressInput, addressError, addressHint.id, "The address could not be checked: the server did not answer. Try again.");
      });
    }

    apply.addEventListener("click", applyLink);
    cancel.addEventListener("click", closeDialog);
    unlink.addEventListener("click", function () {
      var link = editing ? pathOf(editing, editor) : null;
      dialog.close();
      if (link) {
        edit(function (copy) {
          var anchor = nodeAt(copy, link);
          if (!anchor) { return null; }
          var words = document.createTextNode(anchor.textContent);
          anchor.replaceWith(words);
          var after = document.createRange();
          after.setStartAfter(words);
          return after;
        });
      } else {
        restoreRange();
      }
      changed();
      say("Link removed.");
    });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); closeDialog(); });
    [textInput, addressInput].forEach(function (input) {
      // Enter in the dialog adds the link; it never sends the block's form behind it.
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); applyLink(); }
      });
    });

    function activate() {
      var hint = document.getElementById(hintId);
      var editorHint = document.getElementById(hintId + "-editor");
      if (hint && editorHint) { hint.hidden = true; editorHint.hidden = false; }
      // The editor takes the field's id, so the error summary's link puts the cursor in it; a form opened
      // with the cursor in this field (in place, by htmx) keeps it there.
      var hadFocus = document.activeElement === area;
      area.id = id + "-markdown";
      area.hidden = true;
      area.setAttribute("aria-hidden", "true");
      area.tabIndex = -1;
      editor.id = id;
      label.setAttribute("for", id);
      area.parentNode.insertBefore(toolbar, area);
      area.parentNode.insertBefore(editor, area);
      area.parentNode.insertBefore(status, area);
      area.parentNode.insertBefore(html, area);
      (form.parentNode || document.body).appendChild(dialog);
      try { document.execCommand("defaultParagraphSeparator", false, "p"); } catch (e) { /* older browsers */ }
      field.classList.add("richtext-on");
      if (hadFocus) { editor.focus(); }
    }

    // The page carries the field's text as the editor shows it (rendered by the server), so the editor
    // replaces the textarea at once; a page without it asks the server first.
    var rendered = field.querySelector("template[data-richtext-html]");
    if (rendered) {
      editor.innerHTML = rendered.innerHTML.trim();
      ensureParagraph();
      html.value = editor.innerHTML;
      activate();
    } else {
      show(area.value).then(activate).catch(function () {
        field.removeAttribute("data-richtext-ready");  // the plain textarea stays: still a working form
      });
    }

    // A save sent within moments of the last key press waits for the textarea to catch up, so the
    // Markdown it carries (and any copy kept in this browser) is what the editor shows.
    var pending = null;
    form.addEventListener("submit", function (event) {
      if (!timer && !pending) { return; }
      event.preventDefault();
      event.stopImmediatePropagation();
      var submitter = event.submitter;
      flush().then(function () { form.requestSubmit(submitter && submitter.form === form ? submitter : undefined); });
    }, true);
  }

  // --- rows of links ---------------------------------------------------------------------------------

  function setUpLinkRows(group) {
    if (group.hasAttribute("data-link-rows-ready")) { return; }
    group.setAttribute("data-link-rows-ready", "");
    var name = group.getAttribute("data-link-rows");
    var list = group.querySelector(".link-rows-list");
    var add = group.querySelector("[data-add-row]");
    var status = group.querySelector("[data-row-status]");
    var numbered = new RegExp("(" + name + "-)[0-9]+(-)", "g");

    function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-link-row]")); }
    function say(text) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    function firstBox(row) { return row.querySelector("input, select"); }

    // Rows are numbered in order, in their legends, labels, names and ids, after any is added or removed.
    function renumber() {
      rows().forEach(function (row, index) {
        var number = index + 1;
        row.querySelector("legend").textContent = "Link " + number;
        row.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (node) {
          ["id", "for", "name", "aria-describedby"].forEach(function (attr) {
            var value = node.getAttribute(attr);
            if (value) { node.setAttribute(attr, value.replace(numbered, "$1" + number + "$2")); }
          });
        });
        row.querySelectorAll(".visually-hidden").forEach(function (hidden) {
          hidden.textContent = hidden.textContent.replace(/link [0-9]+/, "link " + number);
        });
        row.querySelector("[data-remove-row]").textContent = "Remove link " + number;
      });
    }

    function wire(row) {
      var remove = row.querySelector("[data-remove-row]");
      remove.hidden = false;
      remove.addEventListener("click", function () {
        var all = rows();
        var index = all.indexOf(row);
        var number = index + 1;
        if (all.length === 1) {
          row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
          row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
          firstBox(row).focus();
        } else {
          row.remove();
          renumber();
          var left = rows();
          firstBox(left[Math.min(index, left.length - 1)]).focus();
        }
        var form = group.closest("form");
        if (form) { form.dispatchEvent(new Event("change")); }
        say("Link " + number + " removed.");
      });
    }

    rows().forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var all = rows();
      var copy = all[all.length - 1].cloneNode(true);
      copy.classList.remove("field-has-error");
      copy.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      copy.querySelectorAll("select").forEach(function (select) {
        select.selectedIndex = 0;
        select.removeAttribute("aria-invalid");
        select.removeAttribute("aria-describedby");
      });
      list.appendChild(copy);
      renumber();
      wire(copy);
      firstBox(copy).focus();
      say("Link " + rows().length + " added.");
    });
  }

  function setUp(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-richtext]")) { setUpEditor(scope); }
    scope.querySelectorAll("[data-richtext]").forEach(setUpEditor);
    if (scope.matches && scope.matches("[data-link-rows]")) { setUpLinkRows(scope); }
    scope.querySelectorAll("[data-link-rows]").forEach(setUpLinkRows);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
  document.addEventListener("htmx:load", function (event) { setUp(event.detail && event.detail.elt); });
})();
