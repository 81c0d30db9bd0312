// The header search box as a combobox (WAI-ARIA 1.2, list autocomplete): suggestions from /search/suggest
// (titles go straight to the item, words complete the query). ↑/↓ move, Enter chooses, Escape closes,
// Tab leaves; the mouse chooses too. Without JavaScript the box is a plain GET form.
(function () {
  "use strict";
  var DELAY = 200;

  function setUp(input) {
    var listbox = document.getElementById(input.dataset.listbox);
    if (!listbox || input.dataset.comboboxReady) return;
    input.dataset.comboboxReady = "1";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    var timer = null, asked = null, active = -1;

    function options() { return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]')); }

    function open(show) {
      listbox.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) select(-1);
    }

    function select(index) {
      var all = options();
      active = index;
      all.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      if (option.dataset.href) {
        window.location.assign(option.dataset.href);
        return;
      }
      input.value = option.dataset.value + " ";
      open(false);
      if (input.hasAttribute("hx-get") && window.htmx) {
        window.htmx.trigger(input, "search");  // the search page: its results follow, as when typing
      } else {
        input.form.submit();
      }
    }

    function ask() {
      var q = input.value;
      if (q.trim().length < 2) { asked = null; listbox.innerHTML = ""; open(false); return; }
      if (q === asked) return;
      asked = q;
      fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { "HX-Request": "true" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (asked !== q || document.activeElement !== input) return;  // typed on meanwhile, or left
          listbox.innerHTML = html;  // the server's fragment, escaped there
          select(-1);
          open(options().length > 0);
        })
        .catch(function () { open(false); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var all = options(), expanded = !listbox.hidden && all.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!expanded) { if (all.length) open(true); else ask(); event.preventDefault(); return; }
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= all.length) next = -1;
        if (next < -1) next = all.length - 1;
        select(next);
        event.preventDefault();
      } else if (event.key === "Enter") {
        if (expanded && active >= 0) { event.preventDefault(); choose(all[active]); }
      } else if (event.key === "Escape") {
        if (expanded) { event.preventDefault(); open(false); }
      } else if (event.key === "Tab") {
        open(false);
      }
    });
    input.addEventListener("blur", function () { setTimeout(function () { open(false); }, 150); });
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) { event.preventDefault(); choose(option); }
    });
    listbox.addEventListener("mousemove", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) select(options().indexOf(option));
    });
  }

  function init(root) {
    (root || document).querySelectorAll("input[data-suggest]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
