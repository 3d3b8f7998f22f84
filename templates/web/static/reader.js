/* Reading options on the public pages: bigger text, more space, high contrast, dark mode and print.

   The page is complete without this file: the buttons stay hidden (the `hidden` attribute in
   base.html.j2) and the reader's own browser settings still apply. Each choice is a class on <html>
   (web.css has the styles) and is kept in this browser's localStorage, never sent anywhere.
   Dark mode and high contrast follow the device's own settings until the reader presses the button. */
(function () {
  "use strict";

  var STORAGE_KEY = "newsletter-reading-options";
  var root = document.documentElement;
  var controls = document.querySelector(".reader-controls");
  if (!controls) {
    return;
  }

  // on: the class when the option is on; off: a class that overrides the device setting when it is off.
  var OPTIONS = {
    text: { on: "text-large" },
    spacing: { on: "spacing-wide" },
    contrast: { on: "contrast-high", device: "(prefers-contrast: more)" },
    dark: { on: "theme-dark", off: "theme-light", device: "(prefers-color-scheme: dark)" }
  };

  function load() {
    // Storage can be switched off or full (private windows): the options then last until the page closes.
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY));
      return saved && typeof saved === "object" ? saved : {};
    } catch (error) {
      return {};
    }
  }

  function save(choices) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(choices));
    } catch (error) {
      /* not remembered, but still applied */
    }
  }

  var choices = load();

  function deviceQuery(name) {
    var query = OPTIONS[name].device;
    return query && window.matchMedia ? window.matchMedia(query) : null;
  }

  function isOn(name) {
    if (typeof choices[name] === "boolean") {
      return choices[name];
    }
    var query = deviceQuery(name);
    return Boolean(query && query.matches);
  }

  function apply() {
    Object.keys(OPTIONS).forEach(function (name) {
      var option = OPTIONS[name];
      var on = isOn(name);
      root.classList.toggle(option.on, on);
      if (option.off) {
        root.classList.toggle(option.off, !on);
      }
    });
    controls.querySelectorAll("[data-reader-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", isOn(button.getAttribute("data-reader-toggle")) ? "true" : "false");
    });
  }

  controls.querySelectorAll("[data-reader-toggle]").forEach(function (button) {
    var name = button.getAttribute("data-reader-toggle");
    if (!OPTIONS.hasOwnProperty(name)) {
      return;
    }
    button.addEventListener("click", function () {
      choices[name] = !isOn(name);
      save(choices);
      apply();
    });
  });

  controls.querySelectorAll("[data-reader-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // Follow the device when its setting changes and the reader has not chosen; and other tabs' choices.
  Object.keys(OPTIONS).forEach(function (name) {
    var query = deviceQuery(name);
    if (query && query.addEventListener) {
      query.addEventListener("change", apply);
    }
  });
  window.addEventListener("storage", function (event) {
    if (event.key === STORAGE_KEY) {
      choices = load();
      apply();
    }
  });

  apply();
  controls.hidden = false;
})();
