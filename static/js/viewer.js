// The 3D viewer's buttons (zoom, reset) and its fallback. Loaded only on pages that show a model,
// next to the vendored model-viewer module; the CSP forbids inline scripts, so this is a file.
(function () {
  "use strict";

  function webglAvailable() {
    try {
      var canvas = document.createElement("canvas");
      return !!(window.WebGLRenderingContext && (canvas.getContext("webgl2") || canvas.getContext("webgl")));
    } catch (e) {
      return false;
    }
  }

  // Without WebGL the server's thumbnail stands in for the model.
  function fallBack(figure) {
    var viewer = figure.querySelector("model-viewer");
    var poster = viewer && viewer.querySelector("img");
    if (!viewer) {
      return;
    }
    if (poster) {
      poster.removeAttribute("slot");
      poster.className = "viewer-fallback";
      viewer.replaceWith(poster);
    } else {
      viewer.remove();
    }
    var note = figure.querySelector("[data-viewer-note]");
    if (note) {
      note.textContent = "Ваш браузер не показывает 3D-графику (нет WebGL): показан снимок модели.";
    }
  }

  function setUp(root) {
    var figures = (root || document).querySelectorAll("[data-viewer]");
    for (var i = 0; i < figures.length; i++) {
      var figure = figures[i];
      if (figure.dataset.viewerReady) {
        continue;
      }
      figure.dataset.viewerReady = "1";
      if (!webglAvailable()) {
        fallBack(figure);
        continue;
      }
      var controls = figure.querySelector("[data-viewer-controls]");
      if (controls) {
        controls.hidden = false;
      }
    }
  }

  // A changed value is needed for model-viewer to move the camera back, so two spellings of one orbit alternate.
  var resetToggle = false;

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-viewer-zoom], [data-viewer-reset]");
    if (!button) {
      return;
    }
    var viewer = button.closest("[data-viewer]").querySelector("model-viewer");
    if (!viewer || typeof viewer.zoom !== "function") {
      return;
    }
    if (button.hasAttribute("data-viewer-reset")) {
      var orbit = viewer.getAttribute("camera-orbit") || "0deg 75deg 105%";
      resetToggle = !resetToggle;
      viewer.cameraOrbit = resetToggle ? orbit + " " : orbit;
      viewer.cameraTarget = resetToggle ? "auto auto auto " : "auto auto auto";
      viewer.fieldOfView = resetToggle ? "auto " : "auto";
    } else {
      viewer.zoom(Number(button.getAttribute("data-viewer-zoom")));
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();
