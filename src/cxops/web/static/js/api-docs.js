// Starts Swagger UI on /api/v1/docs (no inline script, so the Content-Security-Policy holds).
// validatorUrl: null keeps Swagger UI from loading a validity badge from another host.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});
