// Stream overlay: follows the public event stream; shows the checklist, photos with the grader's
// defect overlays, the grade with its reasons and a QR code to the certificate once issued.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const ICON = { pending: "○", running: "●", waiting: "▸", passed: "✔", warning: "!", failed: "✘", error: "⚠", skipped: "–" };
  let shown = null;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  function render(v) {
    if (!v) return;
    shown = v;
    const id = v.identity || {};
    $("checklist").hidden = false;
    $("item-title").textContent = v.item_kind === "phone"
      ? [id.brand, id.model].filter(Boolean).join(" ") || "Phone"
      : (id.declared && id.declared.metal ? id.declared.metal + " jewelry" : "Jewelry");
    const sub = [];
    if (id.storage_gb) sub.push(id.storage_gb + " GB");
    if (id.imei) sub.push("IMEI " + id.imei);
    if (id.grams) sub.push(id.grams + " g · " + id.carats + " ct");
    if (id.declared && id.declared.hallmark) sub.push("hallmark " + id.declared.hallmark);
    if (id.declared && id.declared.stones) sub.push(id.declared.stones);
    $("item-id").textContent = sub.join(" · ");
    $("steps").innerHTML = (v.steps || []).filter((s) => s.action !== "result").map((s) =>
      `<li class="${s.status}"><span class="icon">${ICON[s.status] || "?"}</span><span>${esc(s.label)}` +
      `${s.summary && s.status !== "pending" ? `<span class="summary">${esc(s.summary)}</span>` : ""}</span></li>`).join("");
    $("error").hidden = !(v.status === "interrupted" || v.status === "aborted");
    $("error").textContent = v.status === "aborted" ? "Inspection aborted" : (v.error || "");
    // Photos: the graded ones (with defects marked) once graded, else the latest taken.
    const stepsWithPhotos = (v.steps || []).filter((s) => (s.photos || []).length);
    const graded = stepsWithPhotos.find((s) => s.action === "grade" && s.photos.some((p) => p.overlay_sha256));
    const seen = new Set();
    const photos = (graded ? graded.photos : stepsWithPhotos.flatMap((s) => s.photos))
      .filter((p) => !seen.has(p.sha256) && seen.add(p.sha256)).slice(-4);
    const box = $("photos");
    box.hidden = !photos.length;
    box.className = "panel" + (photos.length === 1 ? " single" : "");
    box.style.height = photos.length > 2 ? "" : "auto";
    box.innerHTML = photos.slice(0, 4).map((p) =>
      `<figure><img src="/photos/${p.overlay_sha256 || p.sha256}" alt="${esc(p.side)}">` +
      `<figcaption>${esc(p.side)} ${p.angle}°${p.grade ? " · " + esc(p.grade) : ""}</figcaption></figure>`).join("");
    const verdict = $("verdict");
    verdict.hidden = !(v.grade || v.verdict);
    $("grade").textContent = v.grade || "not graded";
    $("grade").className = v.grade ? "" : "none";
    $("verdict-word").textContent = v.verdict ? v.verdict.toUpperCase() : "";
    $("verdict-word").className = v.verdict || "";
    const failed = (v.steps || []).filter((s) => s.status === "failed").map((s) => `${s.label}: failed`);
    // The stream shows why the grade is what it is; the "not X:" explanations stay on the certificate.
    const main = (v.grade_reasons || []).filter((r) => !/^([^:]*°: )?not [A-Z]/.test(r));
    $("reasons").innerHTML = [...main, ...failed].slice(0, 3).map((r) => `<li>${esc(r)}</li>`).join("");
    const cert = $("cert");
    cert.hidden = !v.certificate_url;
    if (v.certificate_url) {
      // By the certificate's public id: inspections are not public by their numbers.
      const src = `/c/${encodeURIComponent(v.certificate_id)}/qr.svg`;
      if ($("qr").getAttribute("src") !== src) $("qr").src = src;
      $("cert-url").textContent = v.certificate_url.replace(/^https?:\/\//, "");
    }
  }

  async function load() {
    try {
      const res = await fetch("/api/station/live", { cache: "no-store" });
      if (res.ok) render((await res.json()).inspection);
    } catch (e) { /* the stream will bring the next state */ }
  }

  const es = new EventSource("/api/station/events");
  const onEvent = (ev) => {
    const e = JSON.parse(ev.data);
    if (!e.inspection) return;
    if (!shown || e.inspection.id >= shown.id) render(e.inspection);
  };
  for (const t of ["inspection.started", "inspection.completed", "inspection.interrupted", "inspection.aborted",
                   "inspection.resumed", "step.started", "step.finished", "step.waiting"]) es.addEventListener(t, onEvent);
  es.addEventListener("hello", load);
  load();
})();
