// Site-wide behaviour on top of htmx. Loaded as a file: the CSP forbids inline scripts.
(function () {
  "use strict";

  function csrfToken() {
    // The body's copy is refreshed by boosted navigation (e.g. after logging in); the head's is not.
    var holder = document.getElementById("csrf-token") || document.querySelector('meta[name="csrf-token"]');
    return holder ? (holder.dataset.token || holder.getAttribute("content") || "") : "";
  }

  // Every htmx request carries the CSRF token; Flask-WTF reads the X-CSRFToken header.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Servers send short confirmations as an HX-Trigger event: {"flash_message": "..."}.
  document.body.addEventListener("flash_message", function (event) {
    var box = document.getElementById("messages");
    if (box && event.detail && event.detail.value) {
      var p = document.createElement("p");
      p.className = "flash flash-success";
      p.setAttribute("role", "status");
      p.textContent = event.detail.value;
      box.replaceChildren(p);
    }
  });

  // A network failure must not pass silently.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("messages");
    if (box) {
      box.innerHTML = '<p class="flash flash-error" role="alert">Нет связи с сервером. Проверьте подключение и попробуйте ещё раз.</p>';
    }
  });
})();
