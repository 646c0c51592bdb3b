// The staff claim queue on the platform: show that claims changed since the page was loaded
// (events from any worker, via /api/platform/events), instead of reloading under the reader.
(function () {
  "use strict";
  var notice = document.getElementById("queue-live");
  if (!notice || !window.EventSource) {
    return;
  }
  var source = new EventSource(notice.getAttribute("data-events"));
  function changed() {
    notice.hidden = false;
  }
  source.addEventListener("claim.opened", changed);
  source.addEventListener("claim.changed", changed);
  notice.querySelector("button").addEventListener("click", function () {
    window.location.reload();
  });
})();
