"""The inspection pipeline: a persisted state machine walking a flow (``flows.py``) step by step.

Why it is shaped like this:
* Each step's outcome is committed in ONE transaction together with the inspection's progress
  (and, for the result step, the certificate), so a crash leaves the step either fully done or
  not done. Photos go to the content-addressed store before that commit; an orphan photo from a
  crash is harmless, a step pointing at a missing photo cannot happen.
* Steps run in a worker thread (device calls block); operator steps park the inspection in
  ``waiting_operator`` and the worker exits, so nothing waits on a person while holding a thread.
* A lost device (pulled cable) ends the step in ``error`` and the inspection in ``interrupted``
  with the reason; ``resume`` re-runs from that step. On start the service marks inspections
  left ``running`` by a crash as ``interrupted`` (they can be resumed or aborted).
* A lost database does the same, and writing ``interrupted`` is retried until the database is
  back (``recovery.py``), so an inspection never stays ``running`` without a worker.
* Several stations may share one database: every query is scoped to ``settings.station_id``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from inspector.auth.tenancy import EVERYTHING
from inspector.config import Settings
from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.i18n import N_, AppLocale
from inspector.photostore import PhotoStore
from inspector.station.events import EventBus
from inspector.station.flows import ITEM_KINDS, StepSpec, flow_for
from inspector.station.notices import inspection_notice, step_notice
from inspector.station.ports import DeviceLost, GradeOutcome, StationHardware, StepFailed
from inspector.station.recovery import DATABASE_LOST, InterruptRecorder, interrupt_stuck
from inspector.station.said import Said, english, said, say
from inspector.station.tables import Inspection, InspectionStep
from inspector.station.wording import (
    HEALTH_WORDS,
    LOCK_WORDS,
    STATUS_WORDS,
    VERDICT_WORDS,
    grade_said,
    inspection_shown,
    step_shown,
)

log = logging.getLogger(__name__)

ACTIVE = ("running", "waiting_operator")
TERMINAL = ("completed", "aborted")
DONE_STEP = ("passed", "warning", "failed", "skipped")
JPEG_QUALITY = 90


class StationError(Exception):
    """A request the station cannot honour now; ``status`` is the HTTP code to answer with.

    ``message`` is an English message id with ``%(name)s`` placeholders for ``values``: ``str()``
    is the English (the API's ``detail``), ``text(locale)`` what the console shows.
    """

    def __init__(self, message: str, status: int = 409, **values: Any) -> None:
        self.said = said(message, **values)
        super().__init__(english([self.said]))
        self.status = status

    def text(self, locale: AppLocale) -> str:
        return say(self.said, locale)


@dataclass
class StepOutcome:
    status: str  # passed | warning | failed | skipped
    summary: str
    result: dict[str, Any] = field(default_factory=dict)
    inspection: dict[str, Any] = field(default_factory=dict)  # columns of Inspection to update
    # Runs inside the step's commit; what it returns is added to the step's result.
    in_commit: Callable[[Session, Inspection], dict[str, Any] | None] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _iso(dt: datetime | None) -> str | None:
    return _aware(dt).isoformat() if dt else None


def mask(value: str | None) -> str | None:
    """An IMEI/serial as the stream and the public live view name it: read, but no digit of it.

    The last four digits plus the model's TAC and the Luhn digit would leave 100 candidates to
    try on the certificate's match form.
    """
    return "recorded" if value else value


_GRADE_ORDER = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]


def grade_rank(outcome: GradeOutcome) -> int:
    """Position on the scale (0 = best): the grader's own rank when given, else by letter."""
    if outcome.rank is not None:
        return outcome.rank
    g = outcome.grade.strip().upper()
    return _GRADE_ORDER.index(g) if g in _GRADE_ORDER else len(_GRADE_ORDER)


class StationService:
    """One station: its hardware, its database and its live event bus."""

    def __init__(
        self, engine: Engine, settings: Settings, hardware: StationHardware, bus: EventBus | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.hw = hardware
        self.bus = bus or EventBus()
        self.photos = PhotoStore(settings.data_dir / "photos")
        self.armed_kind = "phone"
        self._lock = threading.RLock()  # serialises state transitions of all inspections
        self._workers: dict[int, threading.Thread] = {}
        self._again: set[int] = set()  # inspections whose worker must look again before it leaves
        self._device_lock = threading.Lock()  # camera/turntable are shared with the preview
        self._started = False
        self.recorder = InterruptRecorder(
            engine,
            settings.station_id,
            lock=self._lock,
            worker_alive=self._worker_alive,
            on_recorded=lambda iid, key: self._publish("inspection.interrupted", iid, key),
        )

    @property
    def station_id(self) -> str:
        return self.settings.station_id

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> list[int]:
        """Recover from a crash and listen to the rig's start button. Returns interrupted ids."""
        if self._started:
            return []
        self._started = True
        recovered = self.recover()
        if self.hw.rig is not None:
            self.hw.rig.on_start_button(self._on_start_button)
        return recovered

    def recover(self) -> list[int]:
        """Mark this station's inspections a dead worker left ``running`` as ``interrupted``."""
        with self._lock:
            ids = interrupt_stuck(self.engine, self.station_id, self._worker_alive)
        for i in ids:
            self._publish("inspection.interrupted", i)
        return ids

    def shutdown(self, timeout: float = 10.0) -> None:
        for t in list(self._workers.values()):
            t.join(timeout)
        self.recorder.close()

    def _worker_alive(self, inspection_id: int) -> bool:
        t = self._workers.get(inspection_id)
        return t is not None and t.is_alive()

    def wait_idle(self, inspection_id: int, timeout: float = 60.0) -> None:
        """Block until no worker runs for this inspection (tests, demo, bench)."""
        t = self._workers.get(inspection_id)
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                raise TimeoutError(f"inspection {inspection_id} still running after {timeout} s")

    # ---- commands -------------------------------------------------------------------------

    def start_inspection(
        self,
        kind: str,
        operator: str,
        *,
        started_by: str = "api",
        supersedes: str | None = None,
        auto_finish: bool = True,
    ) -> int:
        if kind not in ITEM_KINDS:
            raise StationError(
                N_("unknown item kind %(kind)s; expected one of %(kinds)s"),
                422,
                kind=repr(kind),
                kinds=ITEM_KINDS,
            )
        supersedes = supersedes.strip().upper() if supersedes and supersedes.strip() else None
        flow = flow_for(kind)
        if self.recorder.pending():
            self.recorder.flush()  # the database is back: write what it refused before
        with self._lock, Session(self.engine) as s:
            self._refuse_if_busy(s)
            if supersedes and self.hw.certifier is not None and not self.hw.certifier.exists(s, supersedes):
                raise StationError(
                    N_("no certificate %(id)s: check the id on the item's label"), 422, id=supersedes
                )
            if self.hw.prepare is not None:
                self.hw.prepare(kind)
            insp = Inspection(
                item_kind=kind,
                status="running",
                station_id=self.settings.station_id,
                operator=operator,
                started_by=started_by,
                supersedes=supersedes,
                auto_finish=auto_finish,
                flow=[st.as_dict() for st in flow],
            )
            s.add(insp)
            s.flush()
            assert insp.id is not None
            for pos, st in enumerate(flow):
                s.add(
                    InspectionStep(
                        inspection_id=insp.id, position=pos, key=st.key, action=st.action, label=st.label
                    )
                )
            s.commit()
            iid = insp.id
            self.armed_kind = kind
            self._publish("inspection.started", iid)
            self._spawn(iid)  # under the lock: recovery never sees it running without its worker
        return iid

    def answer(
        self,
        inspection_id: int,
        step_key: str,
        user: str,
        *,
        passed: bool | None = None,
        fields: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        """Record an operator check (pass/fail) or declared fields, with who and when."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            step = self._step(s, inspection_id, step_key)
            spec = StepSpec(step.key, step.action, step.label, self._spec(insp, step.position).params)
            if insp.status != "waiting_operator" or step.status != "waiting":
                raise StationError(
                    N_("“%(step)s” is not waiting for an answer (inspection %(state)s, step %(step_state)s)"),
                    step=said(step.label),
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                    step_state=said(STATUS_WORDS.get(step.status, step.status)),
                )
            if spec.action == "operator.check":
                if passed is None:
                    raise StationError(N_("answer this check with passed: true or false"), 422)
                status = "passed" if passed else "failed"
                result: dict[str, Any] = {
                    "passed": passed,
                    "summary": "pass" if passed else "FAIL",
                    "said": [said(N_("pass") if passed else N_("FAIL"))],
                }
            elif spec.action == "operator.declare":
                clean = self._validate_fields(spec, fields or {})
                status = "passed"
                declared = _declared(spec, clean)
                result = {"fields": clean, "summary": english(declared), "said": declared}
            elif spec.action == "result":
                raise StationError(N_("the result step is completed with 'finish', not with an answer"))
            else:
                raise StationError(
                    N_("“%(step)s” is automatic; it cannot be answered"), step=said(step.label)
                )
            if note:
                result["note"] = note[:500]
            now = _now()
            step.status, step.result, step.answered_by, step.answered_at = status, result, user, now
            step.finished_at = now
            step.duration_ms = (
                int((now - _aware(step.started_at)).total_seconds() * 1000) if step.started_at else None
            )
            if spec.action == "operator.declare":
                insp.identity = {**insp.identity, "declared": result["fields"]}
            insp.current_step = step.position + 1
            insp.status, insp.updated_at = "running", now
            s.add(step)
            s.add(insp)
            s.commit()
            self._publish("step.finished", inspection_id, step_key)
            self._spawn(inspection_id)

    def finish(self, inspection_id: int, user: str) -> None:
        """The operator confirms: run the result step (issue the certificate)."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if insp.status != "waiting_operator":
                raise StationError(
                    N_("inspection %(id)s is %(state)s; nothing to finish"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            step = s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id, InspectionStep.status == "waiting"
                )
            ).first()
            if step is None or step.action != "result":
                raise StationError(
                    N_("answer the pending check “%(step)s” before finishing"),
                    step=said(step.label) if step else "?",
                )
            step.status, step.answered_by, step.answered_at = "pending", user, _now()
            insp.status, insp.updated_at = "running", _now()
            insp.auto_finish = True
            s.add(step)
            s.add(insp)
            s.commit()
            self._spawn(inspection_id)

    def abort(self, inspection_id: int, user: str, reason: str | None = None) -> None:
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if insp.status in TERMINAL:
                raise StationError(
                    N_("inspection %(id)s is already %(state)s"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            insp.status = "aborted"
            insp.error = f"aborted by {user}" + (f": {reason}" if reason else "")
            insp.finished_at = insp.updated_at = _now()
            for st in s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id, col(InspectionStep.status).in_(["waiting"])
                )
            ):
                st.status = "pending"
                s.add(st)
            s.add(insp)
            s.commit()
        self._publish("inspection.aborted", inspection_id)

    def resume(self, inspection_id: int, user: str) -> None:
        """Continue an interrupted inspection from its first unfinished step."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if insp.status != "interrupted":
                raise StationError(
                    N_("inspection %(id)s is %(state)s; only an interrupted one can be resumed"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            self._refuse_if_busy(s, exclude=inspection_id)
            for st in s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id,
                    col(InspectionStep.status).in_(["error", "running"]),
                )
            ):
                st.status = "pending"
                s.add(st)
            insp.status, insp.error, insp.updated_at = "running", None, _now()
            s.add(insp)
            s.commit()
            self._publish("inspection.resumed", inspection_id, by=user)
            self._spawn(inspection_id)

    def _on_start_button(self) -> None:
        try:
            iid = self.start_inspection(
                self.armed_kind, "rig-button", started_by="rig_button", auto_finish=False
            )
            log.info("start button: inspection %s (%s)", iid, self.armed_kind)
        except StationError as exc:  # the console says why, in the station's language
            self.bus.publish("button.ignored", reason=str(exc), reason_text=exc.text(self.settings.locale))

    # ---- queries --------------------------------------------------------------------------

    def get(
        self, inspection_id: int, public: bool = False, locale: AppLocale | None = None
    ) -> dict[str, Any]:
        """The inspection with its steps; ``shown`` in ``locale`` (default: the station's)."""
        with Session(self.engine) as s:
            return self._view(s, self._get(s, inspection_id), public, locale=locale)

    def list(
        self,
        limit: int = 50,
        status: str | None = None,
        kind: str | None = None,
        locale: AppLocale | None = None,
    ) -> list[dict[str, Any]]:
        """This station's inspections, newest first."""
        with Session(self.engine) as s:
            q = (
                select(Inspection)
                .where(Inspection.station_id == self.station_id)
                .order_by(col(Inspection.id).desc())
                .limit(max(1, min(limit, 500)))
            )
            if status:
                q = q.where(Inspection.status == status)
            if kind:
                q = q.where(Inspection.item_kind == kind)
            return [self._view(s, i, public=False, steps=False, locale=locale) for i in s.exec(q).all()]

    def live(self) -> dict[str, Any] | None:
        """The public view of the inspection this station's stream should show: the active one, else
        the last; in the station's language, as the overlay shows it to the audience."""
        with Session(self.engine) as s:
            mine = select(Inspection).where(Inspection.station_id == self.station_id)
            insp = s.exec(
                mine.where(col(Inspection.status).in_(ACTIVE)).order_by(col(Inspection.id).desc())
            ).first()
            if insp is None:
                insp = s.exec(mine.order_by(col(Inspection.id).desc())).first()
            return self._view(s, insp, public=True) if insp else None

    def devices(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "station_id": self.settings.station_id,
            "simulate": self.settings.simulate,
            "armed_kind": self.armed_kind,
            "missing": dict(self.hw.missing),
        }
        for name in ("rig", "scale"):
            dev = getattr(self.hw, name)
            try:
                out[name] = dev.identity() if dev is not None else None
            except Exception as exc:  # a device that fails to identify is shown as such
                out[name] = {"error": str(exc)}
        out["phone"] = "available" if self.hw.phone is not None else None
        out["camera"] = "available" if self.hw.camera is not None else None
        out["grader"] = "available" if self.hw.grader is not None else None
        out["certifier"] = "available" if self.hw.certifier is not None else None
        return out

    def preview_jpeg(self, width: int = 640) -> bytes:
        if self.hw.camera is None:
            raise StationError(N_("no camera configured"), 503)
        with self._device_lock:
            frame = self.hw.camera.capture()
        h, w = frame.shape[:2]
        if w > width:
            frame = cv2.resize(frame, (width, int(h * width / w)), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise StationError(N_("camera frame could not be encoded"), 500)
        return bytes(buf.tobytes())

    # ---- worker ---------------------------------------------------------------------------

    def _spawn(self, inspection_id: int) -> None:
        with self._lock:
            t = self._workers.get(inspection_id)
            if t is not None and t.is_alive() and t is not threading.current_thread():
                # The worker may be on its way out (it just saw a waiting step): it reads the
                # state again before it leaves, so the new state is never left without a worker.
                self._again.add(inspection_id)
                return
            t = threading.Thread(
                target=self._run, args=(inspection_id,), name=f"inspection-{inspection_id}", daemon=True
            )
            self._workers[inspection_id] = t
            t.start()

    def _run(self, inspection_id: int) -> None:
        while True:
            try:
                while self._advance(inspection_id):
                    pass
            except TRANSIENT_DATABASE_ERRORS:
                log.warning("inspection %s: the database stopped answering", inspection_id, exc_info=True)
                self._interrupt(inspection_id, None, DATABASE_LOST.format(where=""))
            except Exception:  # never let a worker die silently: the inspection shows the error
                log.exception("inspection %s: worker crashed", inspection_id)
                self._interrupt(inspection_id, None, "internal error in the station; see the service log")
            with self._lock:  # leave only when nobody handed this worker new work meanwhile
                if inspection_id in self._again:
                    self._again.discard(inspection_id)
                    continue
                if self._workers.get(inspection_id) is threading.current_thread():
                    del self._workers[inspection_id]
                return

    def _advance(self, inspection_id: int) -> bool:
        """Run one step. Returns False when the worker should stop."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if insp.status != "running":
                return False
            step = s.exec(
                select(InspectionStep)
                .where(
                    InspectionStep.inspection_id == inspection_id,
                    col(InspectionStep.status).not_in(DONE_STEP),
                )
                .order_by(col(InspectionStep.position))
            ).first()
            if step is None:
                insp.status, insp.finished_at, insp.updated_at = "completed", _now(), _now()
                s.add(insp)
                s.commit()
                self._publish("inspection.completed", inspection_id)
                return False
            spec = self._spec(insp, step.position)
            wait = spec.operator or (spec.action == "result" and not insp.auto_finish)
            step.started_at = step.started_at if (wait and step.started_at) else _now()
            step.status = "waiting" if wait else "running"
            step.attempts += 0 if wait else 1
            insp.status = "waiting_operator" if wait else "running"
            insp.current_step, insp.updated_at = step.position, _now()
            s.add(step)
            s.add(insp)
            s.commit()
            kind, key, position = insp.item_kind, step.key, step.position
            ctx = self._context(s, inspection_id)
            supersedes = insp.supersedes
        self._publish("step.waiting" if wait else "step.started", inspection_id, key)
        if wait:
            return False

        t0 = time.monotonic()
        try:
            outcome = self._execute(spec, kind, ctx, inspection_id, supersedes)
        except DeviceLost as exc:
            self._interrupt(inspection_id, key, f"{spec.label}: device lost: {exc}")
            return False
        except StepFailed as exc:
            self._interrupt(inspection_id, key, f"{spec.label}: {exc}")
            return False
        except Exception as exc:
            log.exception("inspection %s step %s failed", inspection_id, key)
            self._interrupt(inspection_id, key, f"{spec.label}: unexpected error: {exc}")
            return False
        elapsed = int((time.monotonic() - t0) * 1000)

        try:
            status = self._commit_step(inspection_id, key, position, outcome, elapsed)
        except TRANSIENT_DATABASE_ERRORS:  # nothing of the step is kept: resume runs it again
            log.warning("inspection %s step %s: database unavailable", inspection_id, key, exc_info=True)
            self._interrupt(inspection_id, key, DATABASE_LOST.format(where=f" while saving '{spec.label}'"))
            return False
        except Exception as exc:  # e.g. the certificate was refused: nothing of the step is kept
            log.exception("inspection %s step %s could not be committed", inspection_id, key)
            self._interrupt(inspection_id, key, f"{spec.label}: {exc}")
            return False
        self._publish("step.finished", inspection_id, key)
        if status == "completed":
            self._publish("inspection.completed", inspection_id)
        return status == "running"

    def _commit_step(
        self, inspection_id: int, key: str, position: int, outcome: StepOutcome, elapsed: int
    ) -> str:
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            step = self._step(s, inspection_id, key)
            step.status, step.error = outcome.status, None
            step.result = {**outcome.result, "summary": outcome.summary}
            step.finished_at, step.duration_ms = _now(), elapsed
            if insp.status == "running":  # an abort during the step keeps the step's data, not its effects
                for name, value in outcome.inspection.items():
                    setattr(insp, name, value)
                insp.current_step = position + 1
                if outcome.in_commit is not None:
                    t0 = time.monotonic()
                    extra = outcome.in_commit(s, insp)  # e.g. sign the certificate: part of the step's time
                    if extra:
                        step.result = {**step.result, **extra}
                    step.duration_ms = elapsed + int((time.monotonic() - t0) * 1000)
            insp.updated_at = _now()
            s.add(step)
            s.add(insp)
            s.commit()  # the step, its data and the inspection's progress: all or nothing
            return insp.status

    def _interrupt(self, inspection_id: int, key: str | None, message: str) -> None:
        """End the inspection ``interrupted`` (resumable); retried until the database takes it."""
        self.recorder.record(inspection_id, key, message)

    # ---- step actions ---------------------------------------------------------------------

    def _execute(
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
            "result": self._result,
        }[spec.action]
        return handler(spec, kind, ctx, inspection_id, supersedes)

    def _need(self, name: str) -> Any:
        dev = getattr(self.hw, name)
        if dev is None:
            why = self.hw.missing.get(name, "not configured on this station")
            raise DeviceLost(f"no {name}: {why}")
        return dev

    def _phone_connect(self, spec: StepSpec, *_: Any) -> StepOutcome:
        info = self._need("phone").connect()  # how and where: for the operator, never on the stream
        parts = [said(N_("connected"))]
        return StepOutcome("passed", english(parts), {"connection": info, "said": parts})

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
        status = "passed" if known else "warning"
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
                status = "failed"
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
        status = "passed"
        min_cap = int(spec.params.get("min_capacity_pct", 80))
        if (health not in (None, "good")) or (cap is not None and cap < min_cap):
            status = "failed"
        elif health is None:
            status = "warning"
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
        status = "failed" if problems else ("warning" if warn else "passed")
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
        status, parts = "passed", [said(N_("%(grams)s g"), grams=grams)]
        result: dict[str, Any] = {"weight_mg": mg, "grams": grams, "carats": carats, "millicarats": mg * 5}
        certifier = self.hw.certifier
        if supersedes and certifier is not None:
            with Session(self.engine) as s:
                certified = certifier.certified_weight_mg(s, supersedes)
            if certified is not None:
                tolerance = weight_tolerance_mg(kind)
                diff = mg - certified
                result.update(certified_mg=certified, difference_mg=diff, tolerance_mg=tolerance)
                if abs(diff) > tolerance:
                    status = "failed"
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
        with self._device_lock:
            rig.set_light(pct)
            rig.home()
        parts = [said(N_("light %(pct)s%%, turntable homed"), pct=f"{pct:.0f}")]
        return StepOutcome("passed", english(parts), {"light_pct": pct, "said": parts})

    def _photos(self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any) -> StepOutcome:
        rig, cam = self._need("rig"), self._need("camera")
        side = str(spec.params.get("side", "top"))
        photos = []
        # After a restart or a replug the rig has power-cycled: light off, table not homed.
        light = [r["light_pct"] for r in ctx.values() if "light_pct" in r]
        if light:
            with self._device_lock:
                rig.set_light(float(light[-1]))
        for angle in spec.params.get("angles", [0]):
            with self._device_lock:
                rig.rotate_to(float(angle))
                cam.set_scene(kind, side, float(angle))
                frame = cam.capture()
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise StepFailed("camera frame could not be encoded")
            sha = self.photos.put(bytes(buf.tobytes()))
            photos.append(
                {
                    "sha256": sha,
                    "side": side,
                    "angle": angle,
                    "width": int(frame.shape[1]),
                    "height": int(frame.shape[0]),
                }
            )
        parts = [said(N_("1 photo")) if len(photos) == 1 else said(N_("%(count)s photos"), count=len(photos))]
        return StepOutcome("passed", english(parts), {"photos": photos, "said": parts})

    def _grade(self, spec: StepSpec, kind: str, ctx: dict[str, dict[str, Any]], *_: Any) -> StepOutcome:
        photos = [p for r in ctx.values() for p in r.get("photos", [])]
        supports = getattr(self.hw.grader, "supports", None)
        if self.hw.grader is None or (supports is not None and not supports(kind)):
            # The full reason (with paths) is on the devices panel; the record says only what happened.
            parts = [said(N_("not graded: no grading model for this item type on this station"))]
            return StepOutcome(
                "skipped",
                english(parts),
                {"photos": photos, "said": parts},
                inspection={"grade": None, "grade_reasons": []},
            )
        graded, worst, worst_rank = [], None, -1
        reasons: list[str] = []
        caveats: list[str] = []
        versions: dict[str, str] = {}
        for p in photos:
            img = cv2.imdecode(np.frombuffer(self.photos.get(p["sha256"]), np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                raise StepFailed(f"stored photo {p['sha256'][:12]} cannot be decoded")
            try:
                out = self.hw.grader.grade(img, kind, p["side"])
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
                    "reasons": out.reasons,
                    "measurements": out.measurements,
                    "overlay_sha256": overlay,
                }
            )
            versions.update(out.model_versions)
            own = [r for r in out.reasons if r not in out.caveats]  # caveats: once, at the end
            reasons += [f"{p['side']} {p['angle']}°: {r}" if len(photos) > 1 else r for r in own]
            caveats += out.caveats
            rank = grade_rank(out)
            if rank > worst_rank:
                worst, worst_rank = out.grade, rank
        if not graded:
            raise StepFailed("no photos to grade")
        reasons = list(dict.fromkeys(reasons + caveats))
        return StepOutcome(
            "passed",
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

    def _result(
        self,
        spec: StepSpec,
        kind: str,
        ctx: dict[str, dict[str, Any]],
        inspection_id: int,
        supersedes: str | None,
    ) -> StepOutcome:
        failed = [k for k, r in ctx.items() if r.get("_status") == "failed"]
        verdict = "fail" if failed else "pass"
        certifier = self.hw.certifier
        labels = {s.key: s.label for s in flow_for(kind)}
        parts = [said(N_("verdict: %(verdict)s"), verdict=said(VERDICT_WORDS[verdict]))]
        if failed:
            parts.append(said(N_("failed: %(checks)s"), checks=[said(labels.get(k, k)) for k in failed]))

        def issue(session: Session, insp: Inspection) -> dict[str, Any] | None:
            insp.verdict = verdict
            insp.status, insp.finished_at = "completed", _now()
            if certifier is None:
                return None
            record = self._certificate_record(session, insp)
            cert = certifier.issue(session, record)
            insp.certificate_id, insp.certificate_url = cert.human_id, cert.url
            if insp.supersedes:
                return {"warranty_claim": report_reinspection(session, insp, record)}
            return None

        if certifier is None:  # why is on the devices panel; the summary is public
            parts.append(said(N_("no certificate: this station has no certificate issuer")))
        return StepOutcome(
            "passed",
            english(parts),
            {"verdict": verdict, "failed_steps": failed, "said": parts},
            in_commit=issue,
        )

    def _certificate_record(self, session: Session, insp: Inspection) -> dict[str, Any]:
        """Everything the certificate states, gathered from the committed steps."""
        steps = session.exec(
            select(InspectionStep)
            .where(InspectionStep.inspection_id == insp.id)
            .order_by(col(InspectionStep.position))
        ).all()
        photos: list[dict[str, Any]] = []
        versions: dict[str, str] = {}
        checks = []
        for st in steps:
            if st.action == "result":
                continue
            res = st.result or {}
            checks.append(
                {
                    "key": st.key,
                    "label": st.label,
                    "status": st.status,
                    "summary": res.get("summary"),
                    "answered_by": st.answered_by,
                    "answered_at": _iso(st.answered_at),
                }
            )
            if st.action == "grade":
                photos = res.get("photos", photos)
                versions.update(res.get("model_versions", {}))
            elif st.action == "camera.photos" and not any(
                p["sha256"] == x["sha256"] for x in res.get("photos", []) for p in photos
            ):
                photos += res.get("photos", [])
        return {
            "inspection_id": insp.id,
            "item_kind": insp.item_kind,
            "station_id": insp.station_id,
            "operator": insp.operator,
            "identity": insp.identity,
            "grade": insp.grade,
            "grade_reasons": insp.grade_reasons,
            "verdict": insp.verdict,
            "checks": checks,
            "photos": photos,
            "model_versions": versions,
            "supersedes": insp.supersedes,
            "started_at": _iso(insp.created_at),
            "finished_at": _iso(_now()),
        }

    # ---- helpers --------------------------------------------------------------------------

    def _refuse_if_busy(self, s: Session, exclude: int | None = None) -> None:
        q = select(Inspection).where(
            Inspection.station_id == self.station_id, col(Inspection.status).in_(ACTIVE)
        )
        for other in s.exec(q).all():
            if other.id != exclude:
                raise StationError(
                    N_("inspection %(id)s is in progress on this station; finish or abort it first"),
                    id=other.id,
                )

    def _get(self, s: Session, inspection_id: int) -> Inspection:
        """This station's inspection; another station's is as unknown here as a missing one."""
        insp = s.get(Inspection, inspection_id)
        if insp is None or insp.station_id != self.station_id:
            raise StationError(N_("no inspection %(id)s on this station"), 404, id=inspection_id)
        return insp

    @staticmethod
    def _step(s: Session, inspection_id: int, key: str) -> InspectionStep:
        step = s.exec(
            select(InspectionStep).where(
                InspectionStep.inspection_id == inspection_id, InspectionStep.key == key
            )
        ).first()
        if step is None:
            raise StationError(N_("inspection %(id)s has no step '%(key)s'"), 404, id=inspection_id, key=key)
        return step

    @staticmethod
    def _spec(insp: Inspection, position: int) -> StepSpec:
        return StepSpec.from_dict(insp.flow[position])

    @staticmethod
    def _context(s: Session, inspection_id: int) -> dict[str, dict[str, Any]]:
        """Results of the finished steps, by key: what later steps build on (survives restarts)."""
        out: dict[str, dict[str, Any]] = {}
        for st in s.exec(
            select(InspectionStep)
            .where(InspectionStep.inspection_id == inspection_id, col(InspectionStep.status).in_(DONE_STEP))
            .order_by(col(InspectionStep.position))
        ):
            out[st.key] = {**(st.result or {}), "_status": st.status}
        return out

    @staticmethod
    def _validate_fields(spec: StepSpec, given: dict[str, Any]) -> dict[str, str]:
        allowed = {f["name"]: f for f in spec.params.get("fields", [])}
        unknown = set(given) - set(allowed)
        if unknown:
            raise StationError(N_("unknown field(s): %(names)s"), 422, names=sorted(unknown))
        clean: dict[str, str] = {}
        for name, f in allowed.items():
            value = str(given.get(name) or "").strip()[:200]
            if f.get("required") and not value:
                raise StationError(N_("%(field)s is required"), 422, field=said(f["label"]))
            if value and f.get("choices") and value not in f["choices"]:
                raise StationError(
                    N_("%(field)s must be one of: %(choices)s"),
                    422,
                    field=said(f["label"]),
                    choices=[said(c) for c in f["choices"]],
                )
            clean[name] = value
        return clean

    def _view(
        self,
        s: Session,
        insp: Inspection,
        public: bool,
        steps: bool = True,
        locale: AppLocale | None = None,
    ) -> dict[str, Any]:
        locale = locale or self.settings.locale
        ident = dict(insp.identity or {})
        if public:
            ident = {
                "brand": ident.get("brand"),
                "model": ident.get("model"),
                "storage_gb": ident.get("storage_gb"),
                "imei": mask((ident.get("imeis") or [None])[0]),
                "grams": ident.get("grams"),
                "carats": ident.get("carats"),
                "declared": ident.get("declared"),
            }
            ident = {k: v for k, v in ident.items() if v}
        view: dict[str, Any] = {
            "id": insp.id,
            "item_kind": insp.item_kind,
            "status": insp.status,
            "station_id": insp.station_id,
            "current_step": insp.current_step,
            "identity": ident,
            "grade": insp.grade,
            "grade_reasons": insp.grade_reasons,
            "verdict": insp.verdict,
            "certificate_id": insp.certificate_id,
            "certificate_url": insp.certificate_url,
            "error": insp.error,
            "supersedes": insp.supersedes,
            "created_at": _iso(insp.created_at),
            "updated_at": _iso(insp.updated_at),
            "finished_at": _iso(insp.finished_at),
        }
        notice = inspection_notice(insp.status, insp.error)
        pub = self.hw.publication
        view["certificate_on_platform"] = (
            pub.on_platform(s, insp.certificate_id) if pub is not None and insp.certificate_id else None
        )
        if public and view["certificate_on_platform"] is False:  # the QR code once buyers can open it
            view.update(certificate_id=None, certificate_url=None)
        if public:  # a fixed notice, never the internal reason (paths, SQL, an operator's note)
            view.update(error=notice.message if notice else None, error_code=notice.value if notice else None)
        else:
            view.update(operator=insp.operator, started_by=insp.started_by, auto_finish=insp.auto_finish)
        rows = (
            s.exec(
                select(InspectionStep)
                .where(InspectionStep.inspection_id == insp.id)
                .order_by(col(InspectionStep.position))
            ).all()
            if steps
            else []
        )
        graded = next((st.result or {} for st in rows if st.action == "grade"), {})
        stopped = next((st.label for st in rows if st.status == "error"), None)
        view["shown"] = inspection_shown(
            locale,
            kind=insp.item_kind,
            status=insp.status,
            identity=insp.identity or {},
            grade=insp.grade,
            verdict=insp.verdict,
            notice=notice,
            error=insp.error,
            error_step=stopped,
            graded_photos=graded.get("photos", []) if steps else None,
            public=public,
        )
        if steps:
            view["steps"] = [self._step_view(insp, st, public, locale) for st in rows]
        return view

    def _step_view(
        self, insp: Inspection, st: InspectionStep, public: bool, locale: AppLocale
    ) -> dict[str, Any]:
        res = st.result or {}
        spec = self._spec(insp, st.position)
        out: dict[str, Any] = {
            "key": st.key,
            "label": st.label,
            "action": st.action,
            "status": st.status,
            "operator": spec.operator,
            "summary": res.get("summary"),
            "error": st.error,
            "duration_ms": st.duration_ms,
            "attempts": st.attempts,
            "started_at": _iso(st.started_at),
            "finished_at": _iso(st.finished_at),
            "answered_by": st.answered_by,
            "answered_at": _iso(st.answered_at),
            "photos": [
                {k: p.get(k) for k in ("sha256", "overlay_sha256", "side", "angle", "grade")}
                for p in res.get("photos", [])
            ],
        }
        if spec.operator or st.action == "result":
            out["params"] = spec.params
        notice = step_notice(st.error)
        if public:
            # The stream shows what was measured, never IMEIs, serials or raw device reports.
            out.pop("answered_by")
            out.update(error=notice.message if notice else None, error_code=notice.value if notice else None)
        else:
            out["result"] = {k: v for k, v in res.items() if k != "report"} if st.key == "identity" else res
        out["shown"] = step_shown(
            locale,
            label=st.label,
            status=st.status,
            result=res,
            params=spec.params,
            error=st.error,
            notice=notice,
            public=public,
        )
        return out

    def _publish(self, type_: str, inspection_id: int, step_key: str | None = None, **extra: Any) -> None:
        try:
            snap = self.get(inspection_id, public=True)
        except (StationError, SQLAlchemyError):  # the event goes out even when the database is down
            snap = None
        self.bus.publish(type_, inspection_id=inspection_id, step=step_key, inspection=snap, **extra)


def _declared(spec: StepSpec, clean: dict[str, str]) -> list[Said]:
    """The declared fields as the step summary says them (a choice is a word to translate)."""
    specs = {f["name"]: f for f in spec.params.get("fields", [])}
    parts = [
        said(
            N_("%(field)s: %(value)s"),
            field=said(specs[name]["label"]),
            value=said(value) if specs[name].get("choices") else value,
        )
        for name, value in clean.items()
        if value
    ]
    return parts or [said(N_("nothing declared"))]


def weight_tolerance_mg(kind: str) -> int:
    """How far a re-weighed item may differ from its certificate (the warranty plan's rule)."""
    try:
        from warranty import default_plan_for

        tol = default_plan_for(kind).identity.weight_tolerance_mg
    except Exception:  # no plan: fall back to a strict 10 mg
        return 10
    return int(tol) if tol is not None else 10


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


def report_reinspection(session: Session, insp: Inspection, record: dict[str, Any]) -> str:
    """Hand a re-inspection to the warranty claim waiting for it (state "received"), if any.

    Runs in a savepoint: a claim that cannot take it leaves the certificate untouched and the
    reason in the step result, for staff to record by hand.
    """
    try:
        from warranty.service import Actor, find_open_claim, record_reinspection
    except ImportError:
        return "warranty module not installed"
    assert insp.supersedes is not None
    claim = find_open_claim(session, insp.supersedes, EVERYTHING)
    if claim is None:
        return f"no open claim on {insp.supersedes}"
    if claim.state != "received":
        return f"claim {claim.ref} is {claim.state}, not waiting for a re-inspection"
    defects = []
    for i, p in enumerate(record.get("photos", [])):
        for cls, m in (p.get("measurements") or {}).items():
            if isinstance(m, dict) and m.get("count"):
                defects += [{"kind": cls, "region": str(p.get("side", "")), "photo": i}] * int(m["count"])
    data = {
        "inspection_id": f"{insp.station_id}:{insp.id}",
        "certificate_human_id": insp.certificate_id or "",
        "grade": insp.grade or "ungraded",
        "photos": [p["sha256"] for p in record.get("photos", [])][:24],
        "defects": defects[:200],
        "weight_mg": (insp.identity or {}).get("weight_mg"),
        "notes": f"station re-inspection, verdict {insp.verdict}",
    }
    try:
        with session.begin_nested():
            record_reinspection(session, claim.ref, data, Actor(insp.operator, "operator"))
    except Exception as exc:  # the certificate still stands; staff see why the claim was not updated
        log.warning("re-inspection not recorded on claim %s: %s", claim.ref, exc)
        return f"claim {claim.ref} not updated: {exc}"
    return f"recorded on claim {claim.ref}"
