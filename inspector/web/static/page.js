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
