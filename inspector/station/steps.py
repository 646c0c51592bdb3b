"""What each step of a flow does with the station's devices: the step handlers of the pipeline.

A handler runs in the inspection's worker thread, talks to the devices through their ports and
returns a ``StepOutcome``; the state machine (``service.py``) commits it. Nothing here changes an
inspection's state itself, except through ``StepOutcome.in_commit`` inside that commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.i18n import N_
from inspector.photostore import PhotoStore
from inspector.station.flows import REVIEW, StepSpec, flow_for
from inspector.station.grades import combine, grade_rank
from inspector.station.ports import (
    EDGE_CLASSES,
    EDGE_SIDE,
    DeviceLost,
    ScreenReading,
    ScreenState,
    StationHardware,
    StepFailed,
)
from inspector.station.record import certificate_record, returned_item
from inspector.station.review import ReviewStatus, marked_findings
from inspector.station.said import Said, english, said
from inspector.station.states import InspectionStatus, StepStatus
from inspector.station.tables import Inspection
from inspector.station.times import now
from inspector.station.wording import HEALTH_WORDS, LOCK_WORDS, VERDICT_WORDS, grade_said

log = logging.getLogger(__name__)

JPEG_QUALITY = 90


@dataclass
class StepOutcome:
    status: StepStatus  # passed, warning, failed or skipped
    summary: str
    result: dict[str, Any] = field(default_factory=dict)
    inspection: dict[str, Any] = field(default_factory=dict)  # columns of Inspection to update
    # Runs inside the step's commit; what it returns is added to the step's result.
    in_commit: Callable[[Session, Inspection], dict[str, Any] | None] | None = None


class StepRunner:
    """The step handlers, over one station's devices, database and photo store."""

    def __init__(
        self, hardware: StationHardware, engine: Engine, photos: PhotoStore, device_lock: threading.Lock
    ) -> None:
        self.hw = hardware
        self.engine = engine
        self.photos = photos
        self.device_lock = device_lock  # camera/turntable are shared with the preview

    def run(
        self,
        spec: StepSpec,
        kind: str,
        ctx: dict[str, dict[str, Any]],
        inspection_id: int,
        supersedes: str | None,
    ) -> StepOutcome:
        handler = {
            "phone.connect": self._phone_connect,
            "phone.identity": self._phone_identity,
            "phone.battery": self._phone_battery,
            "phone.lock": self._phone_lock,
            "scale.weigh": self._weigh,
            "rig.light": self._light,
            "camera.photos": self._photos,
            "grade": self._grade,
            REVIEW: self._review,
            "result": self._result,
        }[spec.action]
        return handler(spec, kind, ctx, inspection_id, supersedes)

    def _weight_tolerance_mg(self, kind: str) -> int:
        """How far a re-weighed item may differ from its certificate: the warranty plan's rule, or
        a strict 10 mg when the station has no plan for the kind."""
        terms = self.hw.warranty.plan_terms(kind) if self.hw.warranty is not None else None
        if terms is None or terms.weight_tolerance_mg is None:
            return 10
        return terms.weight_tolerance_mg

    def _need(self, name: str) -> Any:
        dev = getattr(self.hw, name)
        if dev is None:
            why = self.hw.missing.get(name, "not configured on this station")
            raise DeviceLost(f"no {name}: {why}")
        return dev

    def _phone_connect(self, spec: StepSpec, *_: Any) -> StepOutcome:
        info = self._need("phone").connect()  # how and where: for the operator, never on the stream
        parts = [said(N_("connected"))]
        return StepOutcome(StepStatus.passed, english(parts), {"connection": info, "said": parts})

    def _phone_identity(
        self, spec: StepSpec, kind: str, ctx: Any, inspection_id: int, supersedes: str | None
    ) -> StepOutcome:
        report = self._need("phone").probe()
        v = _facts(report)
        imeis = v.get("imeis") or []
        total = v.get("storage_total_bytes")
        identity = {
            "brand": v.get("brand"),
            "manufacturer": v.get("manufacturer"),
            "model": v.get("model"),
            "serial": v.get("device_serial"),
            "imeis": imeis,
            "android_version": v.get("android_version"),
            "storage_total_bytes": total,
            "storage_gb": _storage_gb(total),
        }
        known = bool(imeis) and bool(v.get("model"))
        name = " ".join(str(x) for x in (identity["brand"], identity["model"] or "") if x).strip()
        values: dict[str, Any] = {
            "name": name if identity["model"] else said(N_("unknown model")),
            "imei": said(N_("recorded")) if imeis else said(N_("unknown")),
        }
        if identity["storage_gb"]:
            parts = [said(N_("%(name)s, %(gb)s GB, IMEI %(imei)s"), gb=identity["storage_gb"], **values)]
        else:
            parts = [said(N_("%(name)s, IMEI %(imei)s"), **values)]
        status = StepStatus.passed if known else StepStatus.warning
        result: dict[str, Any] = {"identity": identity, "report": report}
        certifier = self.hw.certifier
        if supersedes and certifier is not None:
            # A re-inspection must be of the certified phone: compare against the certificate's hashes.
            ids = [i for i in [*imeis, identity["serial"]] if i]
            with Session(self.engine) as s:
                matched = any(certifier.identity_matches(s, supersedes, i) for i in ids)
            result["matches_certificate"] = matched
            if matched:
                parts.append(said(N_("matches certificate %(id)s"), id=supersedes))
            else:
                status = StepStatus.failed
                parts.append(said(N_("NOT the phone certified on %(id)s"), id=supersedes))
        result["said"] = parts
        return StepOutcome(status, english(parts), result, inspection={"identity": identity})

    def _phone_battery(
        self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any
    ) -> StepOutcome:
        v = _facts(ctx.get("identity", {}).get("report", {}))
        level, health = v.get("battery_level_pct"), v.get("battery_health")
        cap, cycles = v.get("battery_capacity_pct"), v.get("battery_cycle_count")
        res = {
            "level_pct": level,
            "health": health,
            "capacity_pct": cap,
            "cycle_count": cycles,
            "temperature_dc": v.get("battery_temperature_dc"),
        }
        parts = [
            said(N_("%(level)s%% charged"), level=level) if level is not None else said(N_("charge unknown")),
            said(N_("health %(health)s"), health=said(HEALTH_WORDS.get(health or "unknown", health or ""))),
        ]
        if cap is not None:
            parts.append(said(N_("capacity %(pct)s%%"), pct=cap))
        if cycles is not None:
            parts.append(said(N_("%(cycles)s charge cycles"), cycles=cycles))
        status = StepStatus.passed
        min_cap = int(spec.params.get("min_capacity_pct", 80))
        if (health not in (None, "good")) or (cap is not None and cap < min_cap):
            status = StepStatus.failed
        elif health is None:
            status = StepStatus.warning
        return StepOutcome(status, english(parts), {**res, "said": parts})

    def _phone_lock(self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any) -> StepOutcome:
        v = _facts(ctx.get("identity", {}).get("report", {}))
        res = {
            k: v.get(k)
            for k in (
                "frp_locked",
                "screen_lock_set",
                "screen_lock",
                "rooted",
                "bootloader_locked",
                "verified_boot_state",
                "google_accounts",
            )
        }
        problems: list[Said] = []
        if v.get("frp_locked"):
            problems.append(said(N_("FRP locked to an owner account")))
        if v.get("rooted"):
            problems.append(said(N_("rooted")))
        if v.get("bootloader_locked") is False:
            problems.append(said(N_("bootloader unlocked")))
        warn: list[Said] = []
        if v.get("screen_lock_set"):
            lock = str(v.get("screen_lock"))
            warn.append(said(N_("screen lock set (%(lock)s)"), lock=said(LOCK_WORDS.get(lock, lock))))
        if v.get("frp_locked") is None:
            warn.append(said(N_("FRP state unknown")))
        status = StepStatus.failed if problems else (StepStatus.warning if warn else StepStatus.passed)
        parts = problems + warn or [said(N_("no screen lock, no FRP lock, not rooted"))]
        return StepOutcome(status, english(parts), {**res, "said": parts})

    def _weigh(
        self, spec: StepSpec, kind: str, ctx: Any, inspection_id: int, supersedes: str | None
    ) -> StepOutcome:
        mg = int(self._need("scale").stable_weight_mg())
        if mg <= 0:
            raise StepFailed("the balance reads nothing: put the item on the pan and resume")
        grams = f"{mg / 1000:.3f}"
        carats = f"{mg / 200:.3f}"
        # A piece is weighed in grams; carats are for stones, and "27.160 ct" would read as one.
        status, parts = StepStatus.passed, [said(N_("%(grams)s g"), grams=grams)]
        result: dict[str, Any] = {"weight_mg": mg, "grams": grams, "carats": carats, "millicarats": mg * 5}
        certifier = self.hw.certifier
        if supersedes and certifier is not None:
            with Session(self.engine) as s:
                certified = certifier.certified_weight_mg(s, supersedes)
            if certified is not None:
                tolerance = self._weight_tolerance_mg(kind)
                diff = mg - certified
                result.update(certified_mg=certified, difference_mg=diff, tolerance_mg=tolerance)
                if abs(diff) > tolerance:
                    status = StepStatus.failed
                    parts.append(
                        said(
                            N_("%(diff)s mg against certificate %(id)s (tolerance %(tolerance)s mg)"),
                            diff=f"{diff:+d}",
                            id=supersedes,
                            tolerance=tolerance,
                        )
                    )
                else:
                    parts.append(
                        said(N_("matches certificate %(id)s (%(diff)s mg)"), id=supersedes, diff=f"{diff:+d}")
                    )
        result["said"] = parts
        return StepOutcome(
            status,
            english(parts),
            result,
            inspection={"identity": {"weight_mg": mg, "grams": grams, "carats": carats}},
        )

    def _light(self, spec: StepSpec, *_: Any) -> StepOutcome:
        rig = self._need("rig")
        pct = float(spec.params.get("percent", 80))
        with self.device_lock:
            rig.set_light(pct)
            rig.home()
        parts = [said(N_("light %(pct)s%%, turntable homed"), pct=f"{pct:.0f}")]
        return StepOutcome(StepStatus.passed, english(parts), {"light_pct": pct, "said": parts})

    def _photos(self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any) -> StepOutcome:
        """The photos of one side; with ``screen_off`` the phone's display is dark for them and lit
        again after. A screen that stays lit is recorded with the reason, never a failed step: the
        photo is still worth grading and a person sees why it was taken lit."""
        rig = self._need("rig")
        cam = self._need("side_camera" if spec.params.get("camera") == "side" else "camera")
        side = str(spec.params.get("side", "top"))
        # After a restart or a replug the rig has power-cycled: light off, table not homed.
        light = [r["light_pct"] for r in ctx.values() if "light_pct" in r]
        if light:
            with self.device_lock:
                rig.set_light(float(light[-1]))
        if not spec.params.get("screen_off"):
            photos = self._take_photos(spec, kind, side, rig, cam, None)
            parts = [self._photo_count(photos)]
            return StepOutcome(StepStatus.passed, english(parts), {"photos": photos, "said": parts})
        off, why_lit = self._switch_screen(ScreenState.OFF)
        # A phone that refused or says it is still lit is as it was: nothing to switch back.
        wake = not off.get("refused") and off["state"] != ScreenState.ON.value
        on: dict[str, Any] | None = None
        why_dark: Said | None = None
        try:
            photos = self._take_photos(spec, kind, side, rig, cam, off["state"])
        finally:
            if wake:
                on, why_dark = self._switch_screen(ScreenState.ON)
        parts = [self._photo_count(photos)]
        parts.append(
            said(N_("screen off for the photo"))
            if why_lit is None
            else said(N_("screen could not be turned off: %(why)s"), why=why_lit)
        )
        if why_dark is not None:
            parts.append(said(N_("screen could not be turned back on: %(why)s"), why=why_dark))
        status = StepStatus.passed if why_lit is None and why_dark is None else StepStatus.warning
        result = {"photos": photos, "screen": {"off": off, "on": on}, "said": parts}
        return StepOutcome(status, english(parts), result)

    @staticmethod
    def _photo_count(photos: list[dict[str, Any]]) -> Said:
        return said(N_("1 photo")) if len(photos) == 1 else said(N_("%(count)s photos"), count=len(photos))

    def _switch_screen(self, want: ScreenState) -> tuple[dict[str, Any], Said | None]:
        """Switch the phone's display; what it then shows, and why it is not ``want`` (None when it is).
        Never raises: a phone that is gone or refuses leaves the screen as it was, and the record says."""
        phone = self.hw.phone
        if phone is None:
            detail = self.hw.missing.get("phone", "not configured on this station")
            return {"state": ScreenState.UNKNOWN.value, "detail": detail}, said(N_("no phone connection"))
        try:
            reading = phone.screen_off() if want == ScreenState.OFF else phone.screen_on()
        except DeviceLost as exc:
            return {"state": ScreenState.UNKNOWN.value, "detail": str(exc)}, said(N_("phone not connected"))
        except StepFailed as exc:
            refused = {"state": ScreenState.UNKNOWN.value, "detail": str(exc), "refused": True}
            return refused, said(N_("the phone refused"))
        return {"state": reading.state.value, "detail": reading.detail}, _screen_why(reading, want)

    def _take_photos(
        self, spec: StepSpec, kind: str, side: str, rig: Any, cam: Any, screen: str | None
    ) -> list[dict[str, Any]]:
        photos = []
        for angle in spec.params.get("angles", [0]):
            with self.device_lock:
                rig.rotate_to(float(angle))
                cam.set_scene(kind, side, float(angle))
                frame = cam.capture()
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise StepFailed("camera frame could not be encoded")
            sha = self.photos.put(bytes(buf.tobytes()))
            photo: dict[str, Any] = {
                "sha256": sha,
                "side": side,
                "angle": angle,
                "width": int(frame.shape[1]),
                "height": int(frame.shape[0]),
            }
            if screen is not None:  # what the phone said its display showed when this was taken
                photo["screen"] = screen
            photos.append(photo)
        return photos

    def _grade(self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any) -> StepOutcome:
        photos = [p for r in ctx.values() for p in r.get("photos", [])]
        supports = getattr(self.hw.grader, "supports", None)
        if self.hw.grader is None or (supports is not None and not supports(kind)):
            # The full reason (with paths) is on the devices panel; the record says only what happened.
            parts = [said(N_("not graded: no grading model for this item type on this station"))]
            return StepOutcome(
                StepStatus.skipped,
                english(parts),
                {"photos": photos, "said": parts},
                inspection={"grade": None, "grade_reasons": []},
            )
        graded: list[dict[str, Any]] = []
        versions: dict[str, str] = {}
        model = (ctx.get("identity", {}).get("identity") or {}).get("model")  # the probe's answer
        # chips are measured on the side camera's photos: the top model's "rarely finds chips" is moot
        elsewhere = EDGE_CLASSES if any(p["side"] == EDGE_SIDE for p in photos) else ()
        for p in photos:
            img = cv2.imdecode(np.frombuffer(self.photos.get(p["sha256"]), np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                raise StepFailed(f"stored photo {p['sha256'][:12]} cannot be decoded")
            try:
                out = self.hw.grader.grade(
                    img, kind, p["side"], model if kind == "phone" else None, measured_elsewhere=elsewhere
                )
            except (ValueError, RuntimeError) as exc:  # e.g. no item found in the frame
                raise StepFailed(
                    f"could not grade the {p['side']} photo at {p['angle']}°: {exc}; "
                    "check the item's position and resume"
                ) from exc
            overlay = self.photos.put(out.overlay_png) if out.overlay_png else None
            graded.append(
                {
                    **p,
                    "grade": out.grade,
                    "rank": grade_rank(out),
                    "reasons": out.reasons,
                    "caveats": out.caveats,
                    "measurements": out.measurements,
                    "overlay_sha256": overlay,
                    "findings": marked_findings(len(graded), out),
                    "damaged": out.damaged,
                    "damage_pct": out.damage_pct,
                    "item_found": out.item_found,
                    "item_quad": out.item_quad,
                }
            )
            versions.update(out.model_versions)
        if not graded:
            raise StepFailed("no photos to grade")
        worst, reasons = combine(graded)
        return StepOutcome(
            StepStatus.passed,
            f"grade {worst}" + (f": {reasons[0]}" if reasons else ""),  # the record quotes the grader
            {
                "grade": worst,
                "reasons": reasons,
                "photos": graded,
                "model_versions": versions,
                "said": [grade_said(kind, str(worst))],  # pages show the measured defects themselves
            },
            inspection={"grade": worst, "grade_reasons": reasons},
        )

    def _review(self, spec: StepSpec, *_: Any) -> StepOutcome:
        """Runs only when the grader marked nothing: the review passes without the operator."""
        parts = [said(N_("nothing marked to review"))]
        return StepOutcome(
            StepStatus.passed, english(parts), {"review": ReviewStatus.NONE.value, "said": parts}
        )

    def _result(
        self,
        spec: StepSpec,
        kind: str,
        ctx: dict[str, dict[str, Any]],
        inspection_id: int,
        supersedes: str | None,
    ) -> StepOutcome:
        failed = [k for k, r in ctx.items() if r.get("_status") == StepStatus.failed]
        verdict = "fail" if failed else "pass"
        certifier = self.hw.certifier
        labels = {s.key: s.label for s in flow_for(kind)}
        parts = [said(N_("verdict: %(verdict)s"), verdict=said(VERDICT_WORDS[verdict]))]
        if failed:
            parts.append(said(N_("failed: %(checks)s"), checks=[said(labels.get(k, k)) for k in failed]))

        def issue(session: Session, insp: Inspection) -> dict[str, Any] | None:
            insp.verdict = verdict
            insp.status, insp.finished_at = InspectionStatus.completed, now()
            if certifier is None:
                return None
            record = certificate_record(session, insp)
            cert = certifier.issue(session, record)
            insp.certificate_id, insp.certificate_url = cert.human_id, cert.url
            if insp.supersedes:
                if self.hw.warranty is None:
                    return {"warranty_claim": "no warranty desk on this station"}
                said_by_claim = self.hw.warranty.record_return(session, returned_item(insp, record))
                return {"warranty_claim": said_by_claim}
            return None

        if certifier is None:  # why is on the devices panel; the summary is public
            parts.append(said(N_("no certificate: this station has no certificate issuer")))
        return StepOutcome(
            StepStatus.passed,
            english(parts),
            {"verdict": verdict, "failed_steps": failed, "said": parts},
            in_commit=issue,
        )


def _screen_why(reading: ScreenReading, want: ScreenState) -> Said | None:
    """Why the display is not in the wanted state, in words a person at the station acts on."""
    if reading.state == want:
        return None
    if reading.state == ScreenState.UNKNOWN:
        return said(N_("the phone does not report its screen state"))
    if reading.state == ScreenState.DOZING:
        return said(N_("the always-on display stays lit"))
    return said(N_("the phone did not switch it"))


def _facts(report: dict[str, Any]) -> dict[str, Any]:
    """Plain values of a PhoneReport dict (each field is {"value", "source", "unknown"})."""
    out: dict[str, Any] = {}
    for k, v in (report or {}).items():
        out[k] = v.get("value") if isinstance(v, dict) and "value" in v else v
    return out


def _storage_gb(total: int | None) -> int | None:
    """Marketed capacity (64, 128, 256 ...) from the bytes the filesystem reports."""
    if not total:
        return None
    gb = total / 1e9
    for size in (8, 16, 32, 64, 128, 256, 512, 1024, 2048):
        if gb <= size:
            return size
    return round(gb)
