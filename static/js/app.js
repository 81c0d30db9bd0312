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

// A file over its field's limit (data-max-bytes, the server's own) is named at once, and the form is not sent
// while it is chosen: nobody waits for 50 MB to travel only to be refused. Without JavaScript the server refuses.
(function () {
  "use strict";

  function sizeText(bytes) {
    var mib = 1024 * 1024;
    var value = bytes >= mib ? bytes / mib : bytes / 1024;
    return value.toFixed(1).replace(/\.0$/, "").replace(".", ",") + (bytes >= mib ? " МБ" : " КБ");
  }

  function tooLarge(input) {
    var limit = Number(input.dataset.maxBytes);
    return Array.prototype.filter.call(input.files || [], function (file) { return file.size > limit; });
  }

  // Shows (or clears) the message under the input; true when a chosen file is over the limit.
  function check(input) {
    var id = (input.id || input.name) + "-size-error";
    var box = document.getElementById(id);
    var large = tooLarge(input);
    if (!large.length) {
      if (box) { box.remove(); input.removeAttribute("aria-invalid"); }
      return false;
    }
    if (!box) {
      box = document.createElement("ul");
      box.className = "errors";
      box.id = id;
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    box.replaceChildren.apply(box, large.map(function (file) {
      var item = document.createElement("li");
      item.textContent = "Файл «" + file.name + "» весит " + sizeText(file.size) + ", а можно не больше " +
        input.dataset.maxSize + ". Выберите файл поменьше: с этим файлом форма не отправится.";
      return item;
    }));
    input.setAttribute("aria-invalid", "true");
    return true;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      check(event.target);
    }
  });

  // In the capture phase, before htmx or anything else sees the submit.
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll ? event.target.querySelectorAll("input[type=file][data-max-bytes]") : [];
    var first = null;
    Array.prototype.forEach.call(inputs, function (input) {
      if (check(input) && !first) { first = input; }
    });
    if (first) {
      event.preventDefault();
      event.stopImmediatePropagation();
      first.focus();
    }
  }, true);

  // «Вернуться к форме» on an error page: the browser's Back keeps what was typed into the form.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-history-back]");
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
