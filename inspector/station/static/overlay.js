// Stream overlay: follows the public event stream; shows the checklist, photos with the grader's
// defect overlays, the grade with what was measured and a QR code to the certificate once buyers can
// open it (on an enrolled station: once the platform has it, meanwhile a note that it is on its way).
// It speaks the station's language: the inspection's words as the server says them (`shown`),
// the script's own through _() from the page's #overlay-config block.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const STRINGS = JSON.parse($("overlay-config").textContent).strings || {};
  const _ = (msg, values) => (STRINGS[msg] || msg).replace(/%\((\w+)\)s/g, (m, k) => (values && k in values ? String(values[k]) : m));
  const ICON = { pending: "○", running: "●", waiting: "▸", passed: "✔", warning: "!", failed: "✘", error: "⚠", skipped: "–" };
  const SIDES = { screen: _("Screen"), back: _("Back"), top: _("Top") };
  const MAX_REASONS = 4; // what fits the verdict panel at its type size; whole lines, never cut
  let shown = null;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  function render(v) {
    if (!v) return;
    shown = v;
    const id = v.identity || {};
    $("checklist").hidden = false;
    $("item-title").textContent = v.shown.title;
    const sub = [];
    if (id.storage_gb) sub.push(_("%(gb)s GB", { gb: id.storage_gb }));
    if (id.imei) sub.push(_("IMEI recorded"));
    if (id.grams) sub.push(_("%(grams)s g", { grams: id.grams }));
    if (id.declared && id.declared.hallmark) sub.push(_("Hallmark %(mark)s", { mark: id.declared.hallmark }));
    if (id.declared && id.declared.stones) sub.push(_("Stones: %(stones)s", { stones: id.declared.stones }));
    $("item-id").textContent = sub.join(" · ");
    $("steps").innerHTML = (v.steps || []).filter((s) => s.action !== "result").map((s) =>
      `<li class="${esc(s.status)}"><span class="icon" role="img" aria-label="${esc(s.shown.status)}">${ICON[s.status] || "?"}</span><span>${esc(s.shown.label)}` +
      `${s.shown.summary && s.status !== "pending" ? `<span class="summary">${esc(s.shown.summary)}</span>` : ""}</span></li>`).join("");
    $("error").hidden = !v.shown.error;
    $("error").textContent = v.shown.error || "";
    // Photos: the graded ones (with defects marked) once graded, else the latest taken.
    const stepsWithPhotos = (v.steps || []).filter((s) => (s.photos || []).length);
    const graded = stepsWithPhotos.find((s) => s.action === "grade" && s.photos.some((p) => p.overlay_sha256));
    const seen = new Set();
    const photos = (graded ? graded.photos : stepsWithPhotos.flatMap((s) => s.photos))
      .filter((p) => !seen.has(p.sha256) && seen.add(p.sha256)).slice(-4);
    const box = $("photos");
    box.hidden = !photos.length;
    box.className = "panel" + (photos.length === 1 ? " single" : "");
    box.innerHTML = photos.map((p) => {
      const side = SIDES[p.side] || p.side;
      const caption = v.item_kind === "phone" ? side : _("%(side)s %(angle)s°", { side, angle: p.angle });
      return `<figure><img src="/photos/${esc(p.overlay_sha256 || p.sha256)}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
    }).join("");
    const verdict = $("verdict");
    verdict.hidden = !(v.grade || v.verdict);
    const grade = v.shown.grade || _("Not graded");
    $("grade").textContent = grade;
    $("grade").className = !v.grade ? "none" : grade.length > 3 ? "long" : grade.length > 1 ? "medium" : "";
    $("grade-title").textContent = v.shown.grade_title || "";
    $("verdict-word").textContent = v.shown.verdict || "";
    $("verdict-word").className = v.verdict || "";
    // Why the grade is what it is, in whole sentences; failed checks first (they decide the verdict).
    const failed = (v.steps || []).filter((s) => s.status === "failed").map((s) => _("%(check)s: failed", { check: s.shown.label }));
    const lines = [...failed, ...(v.shown.reasons || [])];
    const kept = lines.slice(0, MAX_REASONS);
    if (lines.length > kept.length) kept[kept.length - 1] = _("and %(count)s more on the certificate", { count: lines.length - kept.length + 1 });
    $("reasons").innerHTML = kept.map((r) => `<li>${esc(r)}</li>`).join("");
    // Being published while it waits; a certificate the platform refused shows neither note nor QR code.
    $("publishing").hidden = !(v.certificate_publication === "waiting" && !v.certificate_url);
    const cert = $("cert");
    cert.hidden = !v.certificate_url;
    if (v.certificate_url) {
      // By the certificate's public id: inspections are not public by their numbers.
      const src = `/c/${encodeURIComponent(v.certificate_id)}/qr.svg`;
      if ($("qr").getAttribute("src") !== src) $("qr").src = src;
      $("cert-url").textContent = v.certificate_url.replace(/^https?:\/\//, "");
    }
  }

  // A later inspection, or a view of this one no older than the one on air (a slow fetch of the
  // live view must not put back a checklist the stream has moved past).
  const newer = (v) => v && (!shown || v.id > shown.id || (v.id === shown.id && v.revision >= shown.revision));

  async function load() {
    try {
      const res = await fetch("/api/station/live", { cache: "no-store" });
      const v = res.ok ? (await res.json()).inspection : null;
      if (newer(v)) render(v);
    } catch (e) { /* the stream will bring the next state */ }
  }

  const es = new EventSource("/api/station/events");
  const onEvent = (ev) => {
    const e = JSON.parse(ev.data);
    if (newer(e.inspection)) render(e.inspection);
  };
  for (const t of ["inspection.started", "inspection.completed", "inspection.interrupted", "inspection.aborted",
                   "inspection.resumed", "step.started", "step.finished", "step.waiting",
                   "certificate.published"]) es.addEventListener(t, onEvent);
  es.addEventListener("hello", load);
  load();
})();
