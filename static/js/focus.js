// Where focus goes after an htmx swap that a person asked for (a form sent, a button pressed), and Escape
// for the user menu. Typing in a live search swaps results too: those swaps leave focus where it is.
(function () {
  "use strict";

  function focusOn(element) {
    if (!element) return false;
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
    return document.activeElement === element;
  }

  // A form counts when it was sent: a live filter form that reloads its results on each change (a select walked
  // with the arrow keys, a box being typed in) leaves focus on the control in use.
  function askedFor(trigger, event) {
    if (!trigger) return false;
    if (trigger.tagName === "FORM") return !event || event.type === "submit";
    return trigger.tagName === "BUTTON" || trigger.type === "submit";
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail;
    var trigger = detail.requestConfig && detail.requestConfig.elt;
    var region = detail.target;
    if (!askedFor(trigger, detail.requestConfig.triggeringEvent) || !region || !region.isConnected) return;
    // The first field with an error (its label and message are read with it), else the form's message.
    if (focusOn(region.querySelector('[aria-invalid="true"]:not(fieldset)')) ||
        focusOn(region.querySelector('fieldset[aria-invalid="true"] input')) ||
        focusOn(region.querySelector(".flash-error, .errors"))) return;
    if (region === document.body) return;  // a boosted page: htmx shows it from the top
    // The button says where its result is (e.g. the new row's first field), else the changed region.
    var wanted = detail.requestConfig.elt.getAttribute && detail.requestConfig.elt.getAttribute("data-focus-after");
    if (wanted && focusOn(region.querySelector(wanted))) return;
    focusOn(region.querySelector(".flash-success, [role=status]")) || focusOn(region);
  });

  // Escape closes the open user menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.user-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();
