// Operator console: start inspections, watch the checks run live, answer operator checks.
// Keyboard: 1/2 pick the item type, S starts, P/F answer a check, Enter submits or finishes,
// R resumes an interrupted inspection, Esc aborts (after a confirmation).
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  // Signed in by the session cookie; changes carry the page's CSRF token.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfHeaders = csrfMeta && csrfMeta.content ? { "X-CSRF-Token": csrfMeta.content } : {};
  const ICON = { pending: "○", running: "◔", waiting: "▸", passed: "✔", warning: "!", failed: "✘", error: "⚠", skipped: "–" };
  const BADGE = { running: "badge", waiting_operator: "badge badge-warn", interrupted: "badge badge-bad",
                  completed: "badge badge-good", aborted: "badge badge-bad" };
  let kind = localStorage.getItem("station-kind") || "phone";
  let current = null; // the inspection shown (full operator view)

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { ...csrfHeaders, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const msg = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : res.statusText;
      if (res.status === 401) location.href = "/auth/login?next=/station/console";
      throw new Error(msg);
    }
    return data;
  }

  function flash(msg, kindClass) {
    const el = $("flash");
    el.textContent = msg;
    el.className = "alert " + (kindClass || "alert-bad");
    el.hidden = !msg;
  }

  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function setKind(k) {
    kind = k;
    localStorage.setItem("station-kind", k);
    document.querySelectorAll(".kind").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.kind === k)));
    api("POST", "/api/station/arm", { kind: k }).catch((e) => flash(e.message));
  }

  async function start() {
    flash("");
    try {
      const sup = $("supersedes").value.trim();
      current = await api("POST", "/api/station/inspections", { kind, supersedes: sup || null, auto_finish: false });
      render();
    } catch (e) { flash(e.message); }
  }

  function fmtMs(ms) { return ms == null ? "" : (ms / 1000).toFixed(2) + " s"; }

  function render() {
    const v = current;
    if (!v) return;
    $("insp-title").textContent = `#${v.id} ${v.item_kind}` + (v.supersedes ? ` (re-inspection of ${v.supersedes})` : "");
    const st = $("insp-status");
    st.textContent = v.status.replace("_", " ");
    st.className = BADGE[v.status] || "badge";
    $("insp-error").hidden = !v.error;
    $("insp-error").textContent = v.error || "";
    const id = v.identity || {};
    const bits = [];
    if (id.model) bits.push(`<strong>${esc(id.brand || "")} ${esc(id.model)}</strong>`);
    if (id.storage_gb) bits.push(`${id.storage_gb} GB`);
    if (id.imeis && id.imeis.length) bits.push(`IMEI ${esc(id.imeis.join(", "))}`);
    if (id.serial) bits.push(`serial ${esc(id.serial)}`);
    if (id.grams) bits.push(`<strong>${esc(id.grams)} g</strong> / ${esc(id.carats)} ct`);
    if (id.declared) bits.push(Object.entries(id.declared).filter(([, x]) => x).map(([k, x]) => `${esc(k)}: ${esc(x)}`).join(", "));
    $("identity").innerHTML = bits.join(" · ");
    $("steps").innerHTML = v.steps.map((s) => {
      const thumbs = (s.photos || []).map((p) => `<img src="/photos/${p.overlay_sha256 || p.sha256}" alt="${esc(p.side)} ${p.angle}°">`).join("");
      const who = s.answered_by ? ` — ${esc(s.answered_by)} ${new Date(s.answered_at).toLocaleTimeString()}` : "";
      return `<li class="${s.status}" data-step="${esc(s.key)}"><span class="icon" title="${s.status}">${ICON[s.status] || "?"}</span>
        <span><strong>${esc(s.label)}</strong>${s.summary ? `<span class="summary">${esc(s.summary)}${who}</span>` : ""}
        ${s.error ? `<span class="err">${esc(s.error)}</span>` : ""}<span class="thumbs">${thumbs}</span></span>
        <span class="time">${fmtMs(s.duration_ms)}</span></li>`;
    }).join("");
    renderPrompt(v);
    const res = $("result");
    if (v.status === "completed") {
      res.hidden = false;
      res.className = "result " + (v.verdict === "pass" ? "alert-good" : "alert-bad");
      res.innerHTML = `<span class="grade">${esc(v.grade || "–")}</span><span>Verdict <strong>${esc(v.verdict)}</strong>
        ${v.grade_reasons && v.grade_reasons.length ? "<br>" + v.grade_reasons.map(esc).join("; ") : ""}
        ${v.certificate_url ? `<br>Certificate <a id="cert-link" href="${esc(v.certificate_url)}" target="_blank">${esc(v.certificate_id)}</a>` : ""}</span>`;
    } else { res.hidden = true; }
    $("resume").hidden = v.status !== "interrupted";
    $("abort").hidden = !["running", "waiting_operator", "interrupted"].includes(v.status);
  }

  function waitingStep(v) {
    return v && v.status === "waiting_operator" ? v.steps.find((s) => s.status === "waiting") : null;
  }

  function renderPrompt(v) {
    const p = $("prompt");
    const s = waitingStep(v);
    if (!s) { p.hidden = true; p.dataset.step = ""; return; }
    if (p.dataset.step === s.key && !p.hidden) return; // keep what the operator is typing
    p.hidden = false;
    p.dataset.step = s.key;
    if (s.action === "operator.check") {
      p.innerHTML = `<h3>${esc(s.label)}</h3><p>${esc((s.params || {}).hint || "")}</p>
        <div class="buttons"><button class="btn btn-pass" id="pass"><kbd>P</kbd> Pass</button>
        <button class="btn btn-fail" id="fail"><kbd>F</kbd> Fail</button></div>`;
      $("pass").onclick = () => answer({ passed: true });
      $("fail").onclick = () => answer({ passed: false });
    } else if (s.action === "operator.declare") {
      const fields = (s.params || {}).fields || [];
      p.innerHTML = `<h3>${esc(s.label)}</h3><form id="declare">${fields.map((f) => f.choices
        ? `<label>${esc(f.label)}${f.required ? " *" : ""}<select name="${esc(f.name)}" ${f.required ? "required" : ""}>
             <option value=""></option>${f.choices.map((c) => `<option>${esc(c)}</option>`).join("")}</select></label>`
        : `<label>${esc(f.label)}<input name="${esc(f.name)}" maxlength="200" autocomplete="off"></label>`).join("")}
        <button class="btn btn-primary" type="submit"><kbd>Enter</kbd> Save</button></form>`;
      const form = $("declare");
      form.onsubmit = (e) => {
        e.preventDefault();
        answer({ fields: Object.fromEntries(new FormData(form).entries()) });
      };
      const first = form.querySelector("select, input");
      if (first) first.focus();
    } else if (s.action === "result") {
      p.innerHTML = `<h3>All checks done</h3><p>Finish to record the verdict and issue the certificate.</p>
        <div class="buttons"><button class="btn btn-primary" id="finish"><kbd>Enter</kbd> Finish</button></div>`;
      $("finish").onclick = finish;
    }
  }

  async function answer(body) {
    const s = waitingStep(current);
    if (!s) return;
    try {
      current = await api("POST", `/api/station/inspections/${current.id}/steps/${s.key}/answer`, body);
      $("prompt").dataset.step = "";
      render();
    } catch (e) { flash(e.message); }
  }

  async function finish() {
    try { current = await api("POST", `/api/station/inspections/${current.id}/finish`); render(); }
    catch (e) { flash(e.message); }
  }

  async function resume() {
    try { current = await api("POST", `/api/station/inspections/${current.id}/resume`); render(); }
    catch (e) { flash(e.message); }
  }

  async function abort() {
    if (!current || !confirm(`Abort inspection #${current.id}?`)) return;
    try { current = await api("POST", `/api/station/inspections/${current.id}/abort`, { reason: "aborted at the console" }); render(); }
    catch (e) { flash(e.message); }
  }

  async function refresh(id) {
    try { current = await api("GET", `/api/station/inspections/${id}`); render(); } catch (e) { flash(e.message); }
  }

  async function loadRecent() {
    try {
      const rows = await api("GET", "/api/station/inspections?limit=10");
      $("recent").querySelector("tbody").innerHTML = rows.map((r) => `<tr data-id="${r.id}"><td>${r.id}</td><td>${esc(r.item_kind)}</td>
        <td><span class="${BADGE[r.status] || "badge"}">${esc(r.status)}</span></td><td>${esc(r.grade || "")}</td>
        <td>${r.certificate_url ? `<a href="${esc(r.certificate_url)}" target="_blank">${esc(r.certificate_id)}</a>` : ""}</td>
        <td>${new Date(r.created_at).toLocaleString()}</td></tr>`).join("");
      $("recent").querySelectorAll("tbody tr").forEach((tr) => { tr.onclick = () => refresh(tr.dataset.id); });
      if (!current && rows.length) refresh(rows[0].id);
    } catch (e) { flash(e.message); }
  }

  async function loadDevices() {
    try {
      const d = await api("GET", "/api/station/devices");
      const rows = [["station", `${d.station_id}${d.simulate ? " (simulated)" : ""}`]];
      for (const name of ["rig", "scale"]) {
        const x = d[name];
        rows.push([name, x ? (x.error ? "error: " + x.error : [x.model, x.serial || x.serial_number, x.firmware].filter(Boolean).join(" · ") || "connected") : "—"]);
      }
      for (const name of ["phone", "camera", "grader", "certifier"]) rows.push([name, d[name] || "—"]);
      for (const [name, why] of Object.entries(d.missing || {})) rows.push([name + " ⚠", why]);
      $("devices").innerHTML = rows.map(([k, x]) => `<dt>${esc(k)}</dt><dd>${esc(typeof x === "object" ? JSON.stringify(x) : x)}</dd>`).join("");
      if (d.armed_kind && d.armed_kind !== kind) setKind(kind);
    } catch (e) { flash(e.message); }
  }

  let previewUrl = null;
  async function refreshPreview() {
    try {
      const res = await fetch("/api/station/camera.jpg", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) throw new Error((await res.json()).detail || res.statusText);
      const url = URL.createObjectURL(await res.blob());
      $("preview").src = url;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = url;
      $("camera-status").textContent = "live · " + new Date().toLocaleTimeString();
    } catch (e) { $("camera-status").textContent = "camera: " + e.message; }
    setTimeout(refreshPreview, 1000);
  }

  function listen() {
    const es = new EventSource("/api/station/events");
    es.onmessage = () => {};
    const handler = (ev) => {
      const e = JSON.parse(ev.data);
      if (!e.inspection_id) return;
      if (!current || e.inspection_id === current.id || e.type === "inspection.started") {
        refresh(e.inspection_id);
      }
      if (e.type.startsWith("inspection.")) loadRecent();
    };
    for (const t of ["inspection.started", "inspection.completed", "inspection.interrupted", "inspection.aborted",
                     "inspection.resumed", "step.started", "step.finished", "step.waiting"]) es.addEventListener(t, handler);
    es.addEventListener("button.ignored", (ev) => flash(JSON.parse(ev.data).reason, "alert-warn"));
  }

  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (e.key === "Escape") { if (typing) document.activeElement.blur(); else abort(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const s = waitingStep(current);
    const k = e.key.toLowerCase();
    if (k === "1") setKind("phone");
    else if (k === "2") setKind("jewelry");
    else if (k === "s") start();
    else if (k === "r" && current && current.status === "interrupted") resume();
    else if (s && s.action === "operator.check" && k === "p") answer({ passed: true });
    else if (s && s.action === "operator.check" && k === "f") answer({ passed: false });
    else if (s && s.action === "result" && e.key === "Enter") finish();
    else return;
    e.preventDefault();
  });

  document.querySelectorAll(".kind").forEach((b) => { b.onclick = () => setKind(b.dataset.kind); });
  $("start").onclick = start;
  $("resume").onclick = resume;
  $("abort").onclick = abort;
  setKind(kind);
  loadDevices();
  loadRecent();
  refreshPreview();
  listen();
})();
