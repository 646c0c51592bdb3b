// Small behaviours shared by the server-rendered pages, kept out of the HTML so that the
// Content-Security-Policy can forbid inline script:
//   <form data-confirm="Question?">  asks before submitting;
//   <button data-print>              prints the page;
//   <a data-back href="/">           goes back in history (the href is the fallback).
(() => {
  "use strict";
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
  document.addEventListener("click", (ev) => {
    if (ev.target.closest("[data-print]")) {
      ev.preventDefault();
      window.print();
      return;
    }
    const back = ev.target.closest("a[data-back]");
    if (back && window.history.length > 1) {
      ev.preventDefault();
      window.history.back();
    }
  });
})();

// Sign-in links (`/auth/login?next=/station/console#token=...`): the token sits in the URL
// fragment, which the browser never sends; it is traded for a session cookie with a Bearer
// request, removed from the address bar, and the browser goes on to `next`.
(() => {
  "use strict";
  const form = document.getElementById("login-form");
  const match = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!form || !match) return;
  history.replaceState(null, "", location.pathname + location.search);
  fetch("/auth/session", { method: "POST", headers: { Authorization: "Bearer " + match[1] }, credentials: "same-origin" })
    .then((res) => {
      if (res.ok) location.replace(form.elements.next.value || "/");
    });
})();
