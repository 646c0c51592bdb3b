// Starts Swagger UI on /docs (kept out of the HTML so the Content-Security-Policy can forbid
// inline script). Requests sent with the session cookie carry the page's CSRF token.
(() => {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: (req) => {
      if (csrf) req.headers["X-CSRF-Token"] = csrf;
      return req;
    },
  });
})();
