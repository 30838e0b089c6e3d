// Swagger UI over the API's own document; "Authorize" takes a bearer token
// (an API key or a staff token) for "Try it out".
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no call to the public validator: the page works offline
  });
});
