// Operator console: start inspections, watch the checks run live, answer operator checks.
// Keyboard: 1/2 arm the item type, S starts, P/F answer a check, Enter submits or finishes,
// R resumes an interrupted inspection, Esc aborts (after a confirmation). In the review of the
// marked defects: Up/Down (or J/K) choose a finding, Y confirms it, N rejects it, Enter submits.
// Words come in the operator's language: the script's own through _() from the page's
// #console-config block, the inspection's as the server says them (`shown`).
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("console-config").textContent);
  const STRINGS = config.strings || {};
  const LANG = document.documentElement.lang || "en";
  const LIST_SEPARATOR = LANG.startsWith("zh") ? "、" : ", ";
  // A message in the page's language, its %(name)s placeholders filled from `values`.
  const _ = (msg, values) => (STRINGS[msg] || msg).replace(/%\((\w+)\)s/g, (m, k) => (values && k in values ? String(values[k]) : m));
  // Words used inside template literals, where the message extractor does not look.
  const WORDS = {
    pass: _("Pass"), fail: _("Fail"), save: _("Save"), finish: _("Finish"), verdict: _("Verdict"),
    allDone: _("All checks done"), finishHint: _("Finish to record the verdict and issue the certificate."),
    notOnPlatform: _("Waiting for the platform"), refusedByPlatform: _("Refused by the platform"),
    confirm: _("Confirm"), reject: _("Reject"), submitReview: _("Submit the review"),
    reason: _("Reason (optional)"), reviewKeys: _("Keys: ↑ ↓ choose a finding, Y confirms, N rejects, Enter submits."),
    reviewHint: _("Look at each marked defect on the photo: confirm what is really there, reject what is not."),
    undecided: _("not decided yet"), confirmed: _("confirmed"), rejected: _("rejected"),
  };
  // An enrolled station's certificate opens at the platform's address only once the platform has it;
  // one the platform refused for good says so, with the platform's reason on hover.
  const platformNote = (v) => (v.certificate_publication === "refused"
    ? ` <span class="badge badge-bad" title="${esc(v.certificate_refusal || "")}">${esc(WORDS.refusedByPlatform)}</span>`
    : v.certificate_on_platform === false ? ` <span class="badge badge-warn">${esc(WORDS.notOnPlatform)}</span>` : "");
  const grams = (g) => _("%(grams)s g", { grams: g });
  const SIDES = { screen: _("Screen"), back: _("Back"), top: _("Top") };
  const photoAlt = (p) => _("Photo: %(side)s, %(angle)s°", { side: SIDES[p.side] || p.side, angle: p.angle });
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString(LANG, { timeZone: config.zone }) : "");
  const moment = (iso) => (iso ? new Date(iso).toLocaleString(LANG, { timeZone: config.zone, dateStyle: "medium", timeStyle: "short" }) : "");

  // Signed in by the session cookie; changes carry the page's CSRF token.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfHeaders = csrfMeta && csrfMeta.content ? { "X-CSRF-Token": csrfMeta.content } : {};
  const ICON = { pending: "○", running: "◔", waiting: "▸", passed: "✔", warning: "!", failed: "✘", error: "⚠", skipped: "–" };
  const BADGE = { running: "badge", waiting_operator: "badge badge-warn", interrupted: "badge badge-bad",
                  completed: "badge badge-good", aborted: "badge badge-bad" };
  let armed = null; // the item type the station is armed for, as the station says
  let current = null; // the inspection shown (full operator view)
  let shownId = null; // the inspection the console follows (current may still be loading)
  let answering = null; // "id:step" of the answer on its way to the station

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { ...csrfHeaders, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      if (res.status === 401) location.href = "/auth/login?next=/station/console";
      // The station says why in the reader's language (`message`); other refusals in `detail`.
      const said = data && (data.message || data.detail);
      const msg = typeof said === "string" ? said
        : Array.isArray(said) ? _("Invalid input: %(fields)s", { fields: said.map((d) => (d.loc || []).join(".")).join(", ") })
        : _("The station refused (%(status)s).", { status: res.status });
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

  function showArmed(k) {
    armed = k;
    document.querySelectorAll(".kind").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.kind === k)));
  }

  // Arming is the operator's act (a click or 1/2), never a side effect of opening the page.
  async function arm(k) {
    showArmed(k); // at once: S right after 1/2 starts what the operator just chose
    try { showArmed((await api("POST", "/api/station/arm", { kind: k })).armed_kind); }
    catch (e) { flash(e.message); loadDevices(); }
  }

  async function start() {
    flash("");
    if (!armed) { flash(_("Choose the item type first (1 or 2).")); return; }
    try {
      const sup = $("supersedes").value.trim();
      follow(await api("POST", "/api/station/inspections", { kind: armed, supersedes: sup || null, auto_finish: false }));
    } catch (e) { flash(e.message); }
  }

  // Views arrive out of order (an answer's reply, one fetch per live event, all racing): show one
  // only if it is of the inspection followed and no older than what is on screen, so a late reply
  // never puts back a state the station has left (a prompt gone, or a check answered twice).
  function show(v) {
    if (!v || v.id !== shownId) return;
    if (current && current.id === v.id && v.revision < current.revision) return;
    current = v;
    render();
  }

  // Follow another inspection (one just started, one the operator opened from the list).
  function follow(v) {
    shownId = v.id;
    show(v);
  }

  function fmtMs(ms) { return ms == null ? "" : _("%(seconds)s s", { seconds: (ms / 1000).toFixed(2) }); }

  function statusBadge(el, v) {
    el.textContent = v.shown.status;
    el.className = BADGE[v.status] || "badge";
    el.dataset.status = v.status;
  }

  function render() {
    const v = current;
    if (!v) return;
    $("insp-title").textContent = v.supersedes
      ? _("#%(id)s %(kind)s, re-inspection of %(certificate)s", { id: v.id, kind: v.shown.kind, certificate: v.supersedes })
      : _("#%(id)s %(kind)s", { id: v.id, kind: v.shown.kind });
    statusBadge($("insp-status"), v);
    $("insp-error").hidden = !v.shown.error;
    $("insp-error-text").textContent = v.shown.error || "";
    $("insp-error-detail").textContent = v.shown.error_detail ? _("Details: %(detail)s", { detail: v.shown.error_detail }) : "";
    const id = v.identity || {};
    const bits = [];
    if (id.model) bits.push(`<strong>${esc(id.brand || "")} ${esc(id.model)}</strong>`);
    if (id.storage_gb) bits.push(esc(_("%(gb)s GB", { gb: id.storage_gb })));
    if (id.imeis && id.imeis.length) bits.push(esc(_("IMEI %(imei)s", { imei: id.imeis.join(", ") })));
    if (id.serial) bits.push(esc(_("Serial number %(serial)s", { serial: id.serial })));
    if (id.grams) bits.push(`<strong>${esc(grams(id.grams))}</strong>`);
    if (id.declared) {
      const declared = v.steps.find((s) => s.action === "operator.declare");
      if (declared && declared.shown.summary) bits.push(esc(declared.shown.summary));
    }
    $("identity").innerHTML = bits.join(" · ");
    $("steps").innerHTML = v.steps.map((s) => {
      const thumbs = (s.photos || []).map((p) => `<img src="/photos/${esc(p.overlay_sha256 || p.sha256)}" alt="${esc(photoAlt(p))}">`).join("");
      const who = s.answered_by ? ` — ${esc(s.answered_by)} ${time(s.answered_at)}` : "";
      return `<li class="${esc(s.status)}" data-step="${esc(s.key)}"><span class="icon" role="img" aria-label="${esc(s.shown.status)}" title="${esc(s.shown.status)}">${ICON[s.status] || "?"}</span>
        <span class="what"><strong>${esc(s.shown.label)}</strong>${s.shown.summary ? `<span class="summary">${esc(s.shown.summary)}${who}</span>` : ""}
        ${s.shown.error ? `<span class="err">${esc(s.shown.error)}</span>` : ""}<span class="thumbs">${thumbs}</span></span>
        <span class="time">${fmtMs(s.duration_ms)}</span></li>`;
    }).join("");
    renderPrompt(v);
    const res = $("result");
    if (v.status === "completed") {
      res.hidden = false;
      res.className = "result " + (v.verdict === "pass" ? "alert-good" : "alert-bad");
      const reasons = v.shown.reasons || [];
      const failed = v.steps.filter((s) => s.status === "failed").map((s) => s.shown.label);
      res.innerHTML = `<span class="grade">${esc(v.shown.grade || "–")}</span><span class="why">
        ${esc(WORDS.verdict)} <strong>${esc(v.shown.verdict || "")}</strong>${v.shown.grade_title ? ` · ${esc(v.shown.grade_title)}` : ""}
        ${reasons.length ? `<br>${reasons.map(esc).join("<br>")}` : ""}
        ${failed.length ? `<br>${esc(_("Failed checks: %(checks)s", { checks: failed.join(LIST_SEPARATOR) }))}` : ""}
        ${v.certificate_url ? `<br>${esc(_("Certificate"))} <a id="cert-link" href="${esc(v.certificate_url)}" target="_blank">${esc(v.certificate_id)}</a>${platformNote(v)}` : ""}</span>`;
    } else { res.hidden = true; }
    $("resume").hidden = v.status !== "interrupted";
    $("abort").hidden = !["running", "waiting_operator", "interrupted"].includes(v.status);
    // The recent list shows the same state as the header, the moment the header changes.
    const row = document.querySelector(`#recent li[data-id="${v.id}"] .badge`);
    if (row) statusBadge(row, v);
  }

  function waitingStep(v) {
    return v && v.status === "waiting_operator" ? v.steps.find((s) => s.status === "waiting") : null;
  }

  function renderPrompt(v) {
    const p = $("prompt");
    const s = waitingStep(v);
    if (!s) { p.hidden = true; p.dataset.step = ""; p.dataset.inspection = ""; return; }
    // The same question still open: keep what the operator is typing.
    if (p.dataset.step === s.key && p.dataset.inspection === String(v.id) && !p.hidden) return;
    p.hidden = false;
    p.dataset.step = s.key;
    p.dataset.inspection = String(v.id);
    if (s.action === "operator.check") {
      p.innerHTML = `<h3>${esc(s.shown.label)}</h3><p>${esc(s.shown.hint || "")}</p>
        <div class="buttons"><button class="btn btn-pass" id="pass"><kbd>P</kbd> ${esc(WORDS.pass)}</button>
        <button class="btn btn-fail" id="fail"><kbd>F</kbd> ${esc(WORDS.fail)}</button></div>`;
      $("pass").onclick = () => answer({ passed: true });
      $("fail").onclick = () => answer({ passed: false });
    } else if (s.action === "operator.declare") {
      const fields = s.shown.fields || [];
      p.innerHTML = `<h3>${esc(s.shown.label)}</h3><form id="declare">${fields.map((f) => f.choices
        ? `<label>${esc(f.label)}${f.required ? " *" : ""}<select name="${esc(f.name)}" ${f.required ? "required" : ""}>
             <option value="">${esc(_("Choose one"))}</option>${f.choices.map(([value, word]) => `<option value="${esc(value)}">${esc(word)}</option>`).join("")}</select></label>`
        : `<label>${esc(f.label)}<input name="${esc(f.name)}" maxlength="200" autocomplete="off"></label>`).join("")}
        <button class="btn btn-primary" type="submit"><kbd>Enter</kbd> ${esc(WORDS.save)}</button></form>`;
      const form = $("declare");
      form.onsubmit = (e) => {
        e.preventDefault();
        answer({ fields: Object.fromEntries(new FormData(form).entries()) });
      };
      const first = form.querySelector("select, input");
      if (first) first.focus();
    } else if (s.action === "operator.review") {
      renderReview(p, s);
    } else if (s.action === "result") {
      p.innerHTML = `<h3>${esc(WORDS.allDone)}</h3><p>${esc(WORDS.finishHint)}</p>
        <div class="buttons"><button class="btn btn-primary" id="finish"><kbd>Enter</kbd> ${esc(WORDS.finish)}</button></div>`;
      $("finish").onclick = finish;
    }
  }

  // The review of the marked defects: one decision per finding, kept here until it is submitted.
  let review = null; // { step, decisions: {id: "confirm"|"reject"}, focus: index }

  function renderReview(p, s) {
    const found = (s.result && s.result.findings) || [];
    const words = (s.shown && s.shown.findings) || [];
    review = { step: s.key, decisions: {}, focus: 0, ids: found.map((f) => f.id) };
    const photos = [];
    found.forEach((f, i) => {
      let photo = photos.find((x) => x.photo === f.photo);
      if (!photo) { photo = { ...f, marks: [] }; photos.push(photo); }
      photo.marks.push({ ...f, number: i + 1 });
    });
    const figure = (ph) => {
      const boxes = ph.marks.filter((m) => m.box).map((m) => {
        const [x, y, w, h] = m.box;
        const pad = Math.max(6, Math.round((ph.width || 1000) / 120));
        return `<g data-box="${esc(m.id)}"><rect x="${x - pad}" y="${y - pad}" width="${w + 2 * pad}" height="${h + 2 * pad}"></rect>
          <text x="${x - pad}" y="${Math.max(y - pad - pad / 2, pad * 3)}" font-size="${pad * 4}">${m.number}</text></g>`;
      }).join("");
      const where = (words[ph.marks[0].number - 1] || {}).where || "";
      return `<figure class="review-photo"><div class="shot"><img src="/photos/${esc(ph.overlay_sha256 || ph.sha256)}" alt="${esc(photoAlt(ph))}">
        ${ph.width && ph.height ? `<svg viewBox="0 0 ${ph.width} ${ph.height}" preserveAspectRatio="none" aria-hidden="true">${boxes}</svg>` : ""}</div>
        <figcaption>${esc(where)}</figcaption></figure>`;
    };
    p.innerHTML = `<h3>${esc(s.shown.label)}</h3><p>${esc(WORDS.reviewHint)}</p><p class="small keys">${esc(WORDS.reviewKeys)}</p>
      <div class="review"><div class="review-photos">${photos.map(figure).join("")}</div>
      <ol class="findings" id="findings">${found.map((f, i) => `<li tabindex="0" data-finding="${esc(f.id)}" data-decision="">
        <div class="finding-head"><span class="num">${i + 1}</span><span class="what"><strong>${esc((words[i] || {}).text || f.cls)}</strong>
        <span class="where small">${esc((words[i] || {}).where || "")} · <span class="state">${esc(WORDS.undecided)}</span></span></span></div>
        <div class="buttons"><button type="button" class="btn btn-pass confirm"><kbd>Y</kbd> ${esc(WORDS.confirm)}</button>
        <button type="button" class="btn btn-fail reject"><kbd>N</kbd> ${esc(WORDS.reject)}</button></div>
        <input class="reason" maxlength="200" autocomplete="off" placeholder="${esc(WORDS.reason)}" aria-label="${esc(WORDS.reason)}">
      </li>`).join("")}</ol></div>
      <div class="buttons"><button class="btn btn-primary" id="submit-review"><kbd>Enter</kbd> ${esc(WORDS.submitReview)}</button></div>`;
    p.querySelectorAll("#findings li").forEach((li, i) => {
      li.querySelector(".confirm").onclick = () => decide(i, "confirm");
      li.querySelector(".reject").onclick = () => decide(i, "reject");
      li.addEventListener("focus", () => focusFinding(i, false));
      li.querySelector(".reason").addEventListener("keydown", (e) => {
        if (e.key === "Enter") { e.preventDefault(); li.focus(); }
      });
    });
    $("submit-review").onclick = submitReview;
    focusFinding(0, true);
  }

  function findingItems() { return Array.from(document.querySelectorAll("#findings li")); }

  function focusFinding(i, move) {
    const items = findingItems();
    if (!review || !items.length) return;
    review.focus = Math.max(0, Math.min(items.length - 1, i));
    items.forEach((li, j) => li.classList.toggle("focused", j === review.focus));
    document.querySelectorAll("#prompt [data-box]").forEach((g) => g.classList.toggle("focused", g.dataset.box === review.ids[review.focus]));
    if (move) items[review.focus].focus();
  }

  function decide(i, decision) {
    const li = findingItems()[i];
    if (!li || !review) return;
    review.decisions[li.dataset.finding] = decision;
    li.dataset.decision = decision;
    li.querySelector(".state").textContent = decision === "confirm" ? WORDS.confirmed : WORDS.rejected;
    const box = document.querySelector(`#prompt [data-box="${CSS.escape(li.dataset.finding)}"]`);
    if (box) box.dataset.decision = decision;
    const next = review.ids.findIndex((id, j) => j > i && !review.decisions[id]);
    focusFinding(next >= 0 ? next : i, true);
  }

  function submitReview() {
    if (!review) return;
    const decisions = findingItems().filter((li) => review.decisions[li.dataset.finding]).map((li) => {
      const reason = li.querySelector(".reason").value.trim();
      return { finding: li.dataset.finding, decision: review.decisions[li.dataset.finding], ...(reason ? { reason } : {}) };
    });
    answer({ decisions });
  }

  // While a question's answer (or the finish) is on its way its buttons rest, and a second key
  // press is not sent again; the next question, once the station asks it, takes answers at once.
  function setPromptBusy(busy) {
    $("prompt").querySelectorAll("button").forEach((b) => { b.disabled = busy; });
  }

  async function send(s, path, body) {
    const id = current.id;
    const asked = `${id}:${s.key}`;
    if (answering === asked) return;
    answering = asked;
    setPromptBusy(true);
    try {
      show(await api("POST", path, body));
    } catch (e) {
      flash(e.message);
      refresh(id); // refused: perhaps the console was behind; the station says where it stands
    } finally {
      if (answering === asked) answering = null; // not the next question's, asked meanwhile
      if ($("prompt").dataset.step === s.key) setPromptBusy(false);
    }
  }

  function answer(body) {
    const s = waitingStep(current);
    if (s) return send(s, `/api/station/inspections/${current.id}/steps/${s.key}/answer`, body);
  }

  function finish() {
    const s = waitingStep(current);
    if (s && s.action === "result") return send(s, `/api/station/inspections/${current.id}/finish`);
  }

  // One resume at a time: a second R while the first is on its way would be refused with an error.
  let resuming = null; // the inspection whose resume is on its way
  async function resume() {
    const id = current.id;
    if (resuming === id) return;
    resuming = id;
    $("resume").disabled = true;
    try { show(await api("POST", `/api/station/inspections/${id}/resume`)); }
    catch (e) { flash(e.message); refresh(id); }
    finally { resuming = null; $("resume").disabled = false; }
  }

  async function abort() {
    if (!current || !confirm(_("Abort inspection #%(id)s?", { id: current.id }))) return;
    try { show(await api("POST", `/api/station/inspections/${current.id}/abort`)); }
    catch (e) { flash(e.message); }
  }

  // Each fetch stands alone (one slow reply holds up none after it); show() keeps the newest.
  async function refresh(id) {
    try { show(await api("GET", `/api/station/inspections/${id}`)); } catch (e) { flash(e.message); }
  }

  // The operator opens an inspection from the list.
  function open(id) {
    shownId = Number(id);
    refresh(shownId);
  }

  async function loadRecent() {
    try {
      const rows = await api("GET", "/api/station/inspections?limit=10");
      $("recent").innerHTML = rows.map((r) => `<li data-id="${r.id}">
        <button class="link open" data-id="${r.id}">${esc(_("#%(id)s %(kind)s", { id: r.id, kind: r.shown.kind }))}</button>
        <span class="badge"></span>
        ${r.shown.grade ? `<span class="grade-name">${esc(r.shown.grade)}</span>` : ""}
        ${r.certificate_url ? `<a href="${esc(r.certificate_url)}" target="_blank">${esc(r.certificate_id)}</a>${platformNote(r)}` : ""}
        <span class="muted">${esc(moment(r.created_at))}</span></li>`).join("");
      rows.forEach((r) => statusBadge(document.querySelector(`#recent li[data-id="${r.id}"] .badge`), current && current.id === r.id ? current : r));
      $("recent").querySelectorAll("button.open").forEach((b) => { b.onclick = () => open(b.dataset.id); });
      if (shownId == null && rows.length) open(rows[0].id);
    } catch (e) { flash(e.message); }
  }

  async function loadDevices() {
    try {
      const d = await api("GET", "/api/station/devices");
      const NAMES = { rig: _("Rig"), scale: _("Balance"), phone: _("Phone cable"), camera: _("Top camera"),
                      side_camera: _("Side camera"), grader: _("Grader"), certifier: _("Certificates") };
      const rows = [[_("Station"), d.simulate ? _("%(station)s (simulated)", { station: d.station_id }) : d.station_id]];
      for (const name of ["rig", "scale"]) {
        const x = d[name];
        rows.push([NAMES[name], x ? (x.error ? _("error: %(error)s", { error: x.error }) : [x.model, x.serial || x.serial_number, x.firmware].filter(Boolean).join(" · ") || _("connected")) : "—"]);
      }
      for (const name of ["phone", "camera", "side_camera", "grader", "certifier"]) rows.push([NAMES[name], d[name] ? _("available") : "—"]);
      for (const [name, why] of Object.entries(d.missing || {})) rows.push([_("%(device)s: not available", { device: NAMES[name] || name }), why]);
      $("devices").innerHTML = rows.map(([k, x]) => `<dt>${esc(k)}</dt><dd>${esc(typeof x === "object" ? JSON.stringify(x) : x)}</dd>`).join("");
      showArmed(d.armed_kind); // what the station is armed for; opening the page changes nothing
    } catch (e) { flash(e.message); }
  }

  // The sync with the platform, in the operator's language; nothing at all on a stand-alone station.
  const SYNC_EVERY_MS = 3000;
  const STANDALONE_EVERY_MS = 30000;
  const PROBLEM = { warn: "alert alert-warn", bad: "alert alert-bad" };
  let syncTimer = null;
  async function loadSync() {
    clearTimeout(syncTimer);
    let next = SYNC_EVERY_MS;
    try {
      const state = await api("GET", "/api/station/sync");
      const w = state.shown;
      const panel = $("sync-panel");
      panel.hidden = !w;
      if (!w) next = STANDALONE_EVERY_MS;
      else {
        panel.dataset.tone = w.tone;
        panel.dataset.condition = state.condition;
        $("sync-where").textContent = w.platform;
        $("sync-headline").textContent = w.headline;
        $("sync-problem").hidden = !w.problem;
        $("sync-problem").className = PROBLEM[w.tone] || "alert alert-warn";
        $("sync-problem-text").textContent = w.problem || "";
        $("sync-advice").textContent = w.advice || "";
        $("sync-detail").textContent = w.detail || "";
        $("sync-refused").hidden = !w.refused;
        $("sync-refused-text").textContent = w.refused || "";
        $("sync-refused-detail").textContent = w.refused_detail || "";
      }
    } catch (e) { /* the last state stays on screen; the next look tries again */ }
    syncTimer = setTimeout(loadSync, next);
  }

  let previewUrl = null;
  async function refreshPreview() {
    try {
      const res = await fetch("/api/station/camera.jpg", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) {
        let data = null;
        try { data = await res.json(); } catch (e) { data = null; }
        throw new Error((data && (data.message || data.detail)) || res.statusText);
      }
      const url = URL.createObjectURL(await res.blob());
      $("preview").src = url;
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = url;
      $("camera-status").textContent = _("Live · %(time)s", { time: time(new Date().toISOString()) });
    } catch (e) { $("camera-status").textContent = _("Camera: %(error)s", { error: e.message }); }
    setTimeout(refreshPreview, 1000);
  }

  function listen() {
    const es = new EventSource("/api/station/events");
    es.onmessage = () => {};
    // Connected again (the station restarted, the network came back): what was missed is not all
    // replayed, so ask the station where the inspection stands.
    let opened = false;
    es.onopen = () => {
      if (opened && shownId != null) refresh(shownId);
      if (opened) loadRecent();
      opened = true;
    };
    const handler = (ev) => {
      const e = JSON.parse(ev.data);
      if (!e.inspection_id) return;
      if (shownId == null || e.type === "inspection.started") shownId = e.inspection_id;
      // A step's event carries the public view it was sent with: already seen, nothing to fetch.
      // (The platform's word on a certificate is not part of the inspection's revision.)
      const seen = e.type.startsWith("step.") && current && current.id === e.inspection_id
        && e.inspection && e.inspection.revision <= current.revision;
      if (e.inspection_id === shownId && !seen) refresh(e.inspection_id);
      if (e.type.startsWith("inspection.") || e.type.startsWith("certificate.") || e.type === "step.waiting") loadRecent();
      if (e.type === "inspection.completed" || e.type === "certificate.published") loadSync();
    };
    for (const t of ["inspection.started", "inspection.completed", "inspection.interrupted", "inspection.aborted",
                     "inspection.resumed", "step.started", "step.finished", "step.waiting",
                     "certificate.published"]) es.addEventListener(t, handler);
    es.addEventListener("button.ignored", (ev) => {
      const e = JSON.parse(ev.data);
      flash(_("The start button was ignored: %(reason)s", { reason: e.reason_text || e.reason }), "alert-warn");
    });
  }

  document.addEventListener("keydown", (e) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (e.key === "Escape") { if (typing) document.activeElement.blur(); else abort(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const s = waitingStep(current);
    const k = e.key.toLowerCase();
    if (k === "1") arm("phone");
    else if (k === "2") arm("jewelry");
    else if (k === "s") start();
    else if (k === "r" && current && current.status === "interrupted") resume();
    else if (s && s.action === "operator.check" && k === "p") answer({ passed: true });
    else if (s && s.action === "operator.check" && k === "f") answer({ passed: false });
    else if (s && s.action === "result" && e.key === "Enter") finish();
    else if (s && s.action === "operator.review" && review && (k === "arrowdown" || k === "j")) focusFinding(review.focus + 1, true);
    else if (s && s.action === "operator.review" && review && (k === "arrowup" || k === "k")) focusFinding(review.focus - 1, true);
    else if (s && s.action === "operator.review" && review && k === "y") decide(review.focus, "confirm");
    else if (s && s.action === "operator.review" && review && k === "n") decide(review.focus, "reject");
    else if (s && s.action === "operator.review" && review && e.key === "Enter" && !e.target.closest("button")) submitReview();
    else return;
    e.preventDefault();
  });

  document.querySelectorAll(".kind").forEach((b) => { b.onclick = () => arm(b.dataset.kind); });
  $("start").onclick = start;
  $("resume").onclick = resume;
  $("abort").onclick = abort;
  loadDevices();
  loadRecent();
  loadSync();
  refreshPreview();
  listen();
})();
