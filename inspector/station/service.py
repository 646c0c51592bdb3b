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
from typing import Any

import cv2
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from inspector.config import Settings
from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.i18n import N_, AppLocale
from inspector.photostore import Shelf, photo_store
from inspector.refusal import Refused
from inspector.station.events import EventBus
from inspector.station.flows import ITEM_KINDS, REVIEW, StepSpec, flow_for
from inspector.station.ports import DeviceLost, StationHardware, StepFailed
from inspector.station.recovery import DATABASE_LOST, InterruptRecorder, interrupt_stuck
from inspector.station.review import ReviewRefused, ReviewStatus, findings, graded_photos, review
from inspector.station.review_overlay import redraw_overlays
from inspector.station.said import Said, english, said, say
from inspector.station.schemas import InspectionOut, InspectionPublic, InspectionSummary
from inspector.station.states import (
    ACTIVE,
    DONE_STEP,
    InspectionStatus,
    OperatorAction,
    StepStatus,
    after,
    allowed,
)
from inspector.station.steps import StepOutcome, StepRunner
from inspector.station.tables import Inspection, InspectionStep
from inspector.station.times import aware, now
from inspector.station.views import inspection_out, inspection_public, inspection_summary
from inspector.station.wording import (
    STATUS_WORDS,
)

log = logging.getLogger(__name__)


class StationError(Refused):
    """A request the station cannot honour now; ``status`` is the HTTP code to answer with.

    ``message`` is an English message id with ``%(name)s`` placeholders for ``values``: ``str()``
    is the English (the API's ``detail``), ``reason(locale)`` what the console shows.
    """

    code = "station_refused"

    def __init__(self, message: str, status: int = 409, **values: Any) -> None:
        self.said = said(message, **values)
        super().__init__(english([self.said]))
        self.status = status

    def reason(self, locale: AppLocale) -> str:
        return say(self.said, locale)


class StationService:
    """One station: its hardware, its database and its live event bus."""

    def __init__(
        self, engine: Engine, settings: Settings, hardware: StationHardware, bus: EventBus | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.hw = hardware
        self.bus = bus or EventBus()
        self.photos = photo_store(settings, engine, Shelf.STATION)
        self.armed_kind = "phone"
        self._lock = threading.RLock()  # serialises state transitions of all inspections
        self._workers: dict[int, threading.Thread] = {}
        self._again: set[int] = set()  # inspections whose worker must look again before it leaves
        self._device_lock = threading.Lock()  # camera/turntable are shared with the preview
        self.steps = StepRunner(hardware, engine, self.photos, self._device_lock)
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
                status=InspectionStatus.running,
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
        decisions: list[dict[str, Any]] | None = None,
        note: str | None = None,
    ) -> None:
        """Record an operator check (pass/fail), declared fields or the review of the marked
        findings, with who and when."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            step = self._step(s, inspection_id, step_key)
            spec = StepSpec(step.key, step.action, step.label, self._spec(insp, step.position).params)
            if not allowed(OperatorAction.answer, insp.status) or step.status != StepStatus.waiting:
                raise StationError(
                    N_("“%(step)s” is not waiting for an answer (inspection %(state)s, step %(step_state)s)"),
                    step=said(step.label),
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                    step_state=said(STATUS_WORDS.get(step.status, step.status)),
                )
            if spec.action == "operator.check":
                if passed is None:
                    raise StationError(N_("answer this check with passed: true or false"), 422)
                status = StepStatus.passed if passed else StepStatus.failed
                result: dict[str, Any] = {
                    "passed": passed,
                    "summary": "pass" if passed else "FAIL",
                    "said": [said(N_("pass") if passed else N_("FAIL"))],
                }
            elif spec.action == "operator.declare":
                clean = self._validate_fields(spec, fields or {})
                status = StepStatus.passed
                declared = _declared(spec, clean)
                result = {"fields": clean, "summary": english(declared), "said": declared}
            elif spec.action == REVIEW:
                if not decisions:
                    raise StationError(
                        N_("answer the review with decisions: confirm or reject each marked finding"), 422
                    )
                graded = graded_photos(self._context(s, inspection_id), spec.params)
                machine = str(insp.grade)  # the grade step's: the review runs right after it
                try:
                    reviewed = review(insp.item_kind, graded, machine, decisions, user, now(), self.hw.grader)
                except ReviewRefused as exc:
                    raise StationError(exc.said["msg"], 422, **exc.said["values"]) from None
                said_summary = english(reviewed.result["said"])
                status, result = StepStatus.passed, {**reviewed.result, "summary": said_summary}
                if "final_photos" in result and self.hw.grader is not None:
                    result["final_photos"] = redraw_overlays(
                        result["final_photos"], result["decisions"], self.photos, self.hw.grader
                    )
                if reviewed.status is ReviewStatus.ADJUSTED:
                    insp.grade, insp.grade_reasons = reviewed.grade, reviewed.reasons
            elif spec.action == "result":
                raise StationError(N_("the result step is completed with 'finish', not with an answer"))
            else:
                raise StationError(
                    N_("“%(step)s” is automatic; it cannot be answered"), step=said(step.label)
                )
            if note:
                result["note"] = note[:500]
            answered = now()
            step.status, step.result, step.answered_by, step.answered_at = status, result, user, answered
            step.finished_at = answered
            step.duration_ms = (
                int((answered - aware(step.started_at)).total_seconds() * 1000) if step.started_at else None
            )
            if spec.action == "operator.declare":
                insp.identity = {**insp.identity, "declared": result["fields"]}
            insp.current_step = step.position + 1
            insp.status, insp.updated_at = after(OperatorAction.answer), answered
            s.add(step)
            s.add(insp)
            s.commit()
            self._publish("step.finished", inspection_id, step_key)
            self._spawn(inspection_id)

    def finish(self, inspection_id: int, user: str) -> None:
        """The operator confirms: run the result step (issue the certificate)."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if not allowed(OperatorAction.finish, insp.status):
                raise StationError(
                    N_("inspection %(id)s is %(state)s; nothing to finish"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            step = s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id, InspectionStep.status == StepStatus.waiting
                )
            ).first()
            if step is None or step.action != "result":
                raise StationError(
                    N_("answer the pending check “%(step)s” before finishing"),
                    step=said(step.label) if step else "?",
                )
            step.status, step.answered_by, step.answered_at = StepStatus.pending, user, now()
            insp.status, insp.updated_at = after(OperatorAction.finish), now()
            insp.auto_finish = True
            s.add(step)
            s.add(insp)
            s.commit()
            self._spawn(inspection_id)

    def abort(self, inspection_id: int, user: str, reason: str | None = None) -> None:
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if not allowed(OperatorAction.abort, insp.status):
                raise StationError(
                    N_("inspection %(id)s is already %(state)s"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            insp.status = after(OperatorAction.abort)
            insp.error = f"aborted by {user}" + (f": {reason}" if reason else "")
            insp.finished_at = insp.updated_at = now()
            for st in s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id,
                    col(InspectionStep.status).in_([StepStatus.waiting]),
                )
            ):
                st.status = StepStatus.pending
                s.add(st)
            s.add(insp)
            s.commit()
        self._publish("inspection.aborted", inspection_id)

    def resume(self, inspection_id: int, user: str) -> None:
        """Continue an interrupted inspection from its first unfinished step."""
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            if not allowed(OperatorAction.resume, insp.status):
                raise StationError(
                    N_("inspection %(id)s is %(state)s; only an interrupted one can be resumed"),
                    id=inspection_id,
                    state=said(STATUS_WORDS.get(insp.status, insp.status)),
                )
            self._refuse_if_busy(s, exclude=inspection_id)
            if self.hw.prepare is not None:  # a simulated station restarted empty: the item is still there
                self.hw.prepare(insp.item_kind)
            for st in s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id,
                    col(InspectionStep.status).in_([StepStatus.error, StepStatus.running]),
                )
            ):
                st.status = StepStatus.pending
                s.add(st)
            insp.status, insp.error, insp.updated_at = after(OperatorAction.resume), None, now()
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
            self.bus.publish("button.ignored", reason=str(exc), reason_text=exc.reason(self.settings.locale))

    # ---- queries --------------------------------------------------------------------------

    def get(self, inspection_id: int, locale: AppLocale | None = None) -> InspectionOut:
        """The operator's view of the inspection with its steps; ``shown`` in ``locale`` (default:
        the station's)."""
        with Session(self.engine) as s:
            return inspection_out(
                s,
                self._get(s, inspection_id),
                locale=locale or self.settings.locale,
                publication=self.hw.publication,
            )

    def get_public(self, inspection_id: int) -> InspectionPublic:
        """The stream's cut of the inspection, in the station's language."""
        with Session(self.engine) as s:
            return self._public(s, self._get(s, inspection_id))

    def list_inspections(
        self,
        limit: int = 50,
        status: str | None = None,
        kind: str | None = None,
        locale: AppLocale | None = None,
    ) -> list[InspectionSummary]:
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
            where = locale or self.settings.locale
            return [
                inspection_summary(s, i, locale=where, publication=self.hw.publication)
                for i in s.exec(q).all()
            ]

    def live(self) -> InspectionPublic | None:
        """The public view of the inspection this station's stream should show: the active one, else
        the last; in the station's language, as the overlay shows it to the audience."""
        with Session(self.engine) as s:
            mine = select(Inspection).where(Inspection.station_id == self.station_id)
            insp = s.exec(
                mine.where(col(Inspection.status).in_(ACTIVE)).order_by(col(Inspection.id).desc())
            ).first()
            if insp is None:
                insp = s.exec(mine.order_by(col(Inspection.id).desc())).first()
            return self._public(s, insp) if insp else None

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
        out["side_camera"] = "available" if self.hw.side_camera is not None else None
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
            if insp.status != InspectionStatus.running:
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
                insp.status, insp.finished_at, insp.updated_at = InspectionStatus.completed, now(), now()
                s.add(insp)
                s.commit()
                self._publish("inspection.completed", inspection_id)
                return False
            spec = self._spec(insp, step.position)
            ctx = self._context(s, inspection_id)
            to_review = findings(graded_photos(ctx, spec.params)) if spec.action == REVIEW else []
            nothing_to_review = spec.action == REVIEW and not to_review
            wait = (spec.operator and not nothing_to_review) or (
                spec.action == "result" and not insp.auto_finish
            )
            step.started_at = step.started_at if (wait and step.started_at) else now()
            step.status = StepStatus.waiting if wait else StepStatus.running
            if wait and to_review:  # what the console puts to the operator
                parts = [said(N_("%(count)s findings to confirm or reject"), count=len(to_review))]
                step.result = {"findings": to_review, "said": parts, "summary": english(parts)}
            step.attempts += 0 if wait else 1
            insp.status = InspectionStatus.waiting_operator if wait else InspectionStatus.running
            insp.current_step, insp.updated_at = step.position, now()
            s.add(step)
            s.add(insp)
            s.commit()
            kind, key, position = insp.item_kind, step.key, step.position
            supersedes = insp.supersedes
        self._publish("step.waiting" if wait else "step.started", inspection_id, key)
        if wait:
            return False

        t0 = time.monotonic()
        try:
            outcome = self.steps.run(spec, kind, ctx, inspection_id, supersedes)
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
        if status == InspectionStatus.completed:
            self._publish("inspection.completed", inspection_id)
        return status == InspectionStatus.running

    def _commit_step(
        self, inspection_id: int, key: str, position: int, outcome: StepOutcome, elapsed: int
    ) -> str:
        with self._lock, Session(self.engine) as s:
            insp = self._get(s, inspection_id)
            step = self._step(s, inspection_id, key)
            step.status, step.error = outcome.status, None
            step.result = {**outcome.result, "summary": outcome.summary}
            step.finished_at, step.duration_ms = now(), elapsed
            # an abort during the step keeps the step's data, not its effects
            if insp.status == InspectionStatus.running:
                for name, value in outcome.inspection.items():
                    setattr(insp, name, value)
                insp.current_step = position + 1
                if outcome.in_commit is not None:
                    t0 = time.monotonic()
                    extra = outcome.in_commit(s, insp)  # e.g. sign the certificate: part of the step's time
                    if extra:
                        step.result = {**step.result, **extra}
                    step.duration_ms = elapsed + int((time.monotonic() - t0) * 1000)
            insp.updated_at = now()
            s.add(step)
            s.add(insp)
            s.commit()  # the step, its data and the inspection's progress: all or nothing
            return insp.status

    def _interrupt(self, inspection_id: int, key: str | None, message: str) -> None:
        """End the inspection ``interrupted`` (resumable); retried until the database takes it."""
        self.recorder.record(inspection_id, key, message)

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

    def _public(self, s: Session, insp: Inspection) -> InspectionPublic:
        return inspection_public(s, insp, locale=self.settings.locale, publication=self.hw.publication)

    def _publish(self, type_: str, inspection_id: int, step_key: str | None = None, **extra: Any) -> None:
        try:
            snap: dict[str, Any] | None = self.get_public(inspection_id).model_dump(mode="json")
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
