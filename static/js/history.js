// Back and Forward tell the truth: the filter forms show what the address says.
//
// htmx keeps a copy of the page's HTML for Back, and HTML keeps the value a select had when the server drew it, not
// the one chosen since; the browser's own cache (bfcache) and form restoring have their own ideas too. So on every
// history restore each GET form of this page (its action is the page's path: the list filters, the search box on the
// search page) takes its controls' values from the address.
//
// And moving through a select with the arrow keys does not add one history entry per key: the first step pushes an
// entry, the following ones replace it, until the select loses focus or Enter is pressed.
(function () {
  "use strict";

  function formsOfThisPage() {
    return Array.prototype.filter.call(document.querySelectorAll("form"), function (form) {
      var method = (form.getAttribute("method") || "get").toLowerCase();
      if (method !== "get" || !form.getAttribute("action")) { return false; }
      return new URL(form.getAttribute("action"), window.location.href).pathname === window.location.pathname;
    });
  }

  function restoreFromAddress() {
    var params = new URLSearchParams(window.location.search);
    formsOfThisPage().forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (control) {
        var name = control.name;
        if (!name || control.disabled) { return; }
        var values = params.getAll(name);
        var type = (control.type || "").toLowerCase();
        if (type === "checkbox" || type === "radio") {
          control.checked = values.indexOf(control.value) !== -1;
        } else if (control.multiple) {
          Array.prototype.forEach.call(control.options, function (option) {
            option.selected = values.indexOf(option.value) !== -1;
          });
        } else if (control.tagName === "SELECT") {
          // Not in the address: the empty choice («Все возрасты»), else the first, as the server draws it.
          var options = Array.prototype.slice.call(control.options);
          var chosen = options.filter(function (o) { return values.indexOf(o.value) !== -1; })[0] ||
            options.filter(function (o) { return o.value === ""; })[0] || options[0];
          if (chosen) { control.selectedIndex = chosen.index; }
        } else if (["hidden", "submit", "button", "reset", "file", "image"].indexOf(type) === -1 &&
                   control.tagName !== "BUTTON") {
          // (A hidden input's value is its HTML attribute, so every copy of the page has it right already.)
          control.value = values.length ? values[0] : "";
        }
      });
    });
  }

  document.addEventListener("htmx:historyRestore", restoreFromAddress);
  window.addEventListener("popstate", function () { window.setTimeout(restoreFromAddress, 0); });
  window.addEventListener("pageshow", restoreFromAddress);

  // The arrow keys on a select: one history entry for the whole walk.
  var NAVIGATION_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  var keyed = null;   // the select whose next change comes from a key
  var walking = null; // the select whose walk has pushed its entry already

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "SELECT") { return; }
    if (NAVIGATION_KEYS.indexOf(event.key) !== -1) {
      keyed = target;
    } else if (event.key === "Enter") {
      walking = null;
    }
  }, true);

  document.addEventListener("focusout", function (event) {
    if (event.target === walking) { walking = null; }
    if (event.target === keyed) { keyed = null; }
  }, true);

  document.addEventListener("pointerdown", function () { keyed = null; walking = null; }, true);

  // In the capture phase, before htmx's own listener makes the request of this change.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "SELECT") { return; }
    if (keyed === target) {
      if (walking === target) { event.replacesHistoryEntry = true; }
      walking = target;
    } else {
      walking = null;
    }
    keyed = null;
  }, true);

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var config = event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    if (trigger && trigger.replacesHistoryEntry && event.detail.history.type === "push") {
      event.detail.history.type = "replace";
    }
  });
})();
