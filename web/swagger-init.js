// Swagger UI's start-up for /docs (a file, not an inline script: the page's CSP allows
// only the app's own scripts). The spec is the app's own /openapi.json; no validator badge
// (it would call validator.swagger.io).
window.addEventListener("load", () => {
  const host = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: host.dataset.spec,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    persistAuthorization: false,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
  });
});
