"""An inspection always ends in a recorded state, even when the database fails under it.

A worker that loses its device or its database marks the inspection ``interrupted``. That write
can fail too (the database is the thing that failed), so it is retried with a bounded backoff;
when it still cannot be written the interruption is kept here and a background thread retries it
until the database answers again, then also recovers any other inspection of this station that
a dead worker left ``running``. On start-up the service does the same recovery.

Every query here is scoped to one station: stations that share a database never touch each
other's inspections.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.station.states import TERMINAL, InspectionStatus, StepStatus
from inspector.station.tables import Inspection, InspectionStep

log = logging.getLogger(__name__)

RESTART_MESSAGE = "the station stopped{where}; resume to continue from the last completed step"
DATABASE_LOST = "the database stopped answering{where}; resume to continue from the last completed step"


def _now() -> datetime:
    return datetime.now(UTC)


def interrupt_stuck(engine: Engine, station_id: str, worker_alive: Callable[[int], bool]) -> list[int]:
    """Mark this station's inspections left ``running`` without a worker as ``interrupted``.

    Returns their ids. One transaction: either all of them are marked or none.
    """
    ids: list[int] = []
    with Session(engine) as s:
        rows = s.exec(
            select(Inspection).where(
                Inspection.station_id == station_id,
                Inspection.status == InspectionStatus.running,
            )
        ).all()
        for insp in rows:
            assert insp.id is not None
            if worker_alive(insp.id):
                continue
            step = s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == insp.id, InspectionStep.status == StepStatus.running
                )
            ).first()
            where = f" during step '{step.label}'" if step else ""
            if step is not None:
                step.status, step.error = StepStatus.error, "interrupted by a station restart"
                s.add(step)
            insp.status, insp.updated_at = InspectionStatus.interrupted, _now()
            insp.error = RESTART_MESSAGE.format(where=where)
            s.add(insp)
            ids.append(insp.id)
        s.commit()
    return ids


def record_interrupt(engine: Engine, inspection_id: int, key: str | None, message: str) -> bool:
    """Write the interruption (and the failed step's error). False when the inspection had already
    ended (completed or aborted), which is then left as it is."""
    with Session(engine) as s:
        insp = s.get(Inspection, inspection_id)
        if insp is None or insp.status in TERMINAL:
            return False
        if key is not None:
            step = s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id, InspectionStep.key == key
                )
            ).first()
            if step is not None:
                step.status, step.error, step.finished_at = StepStatus.error, message[:2000], _now()
                s.add(step)
        else:  # no step named: the one left running is the one that was cut off
            for step in s.exec(
                select(InspectionStep).where(
                    InspectionStep.inspection_id == inspection_id,
                    col(InspectionStep.status) == StepStatus.running,
                )
            ):
                step.status, step.error, step.finished_at = StepStatus.error, message[:2000], _now()
                s.add(step)
        insp.status, insp.error, insp.updated_at = InspectionStatus.interrupted, message[:2000], _now()
        s.add(insp)
        s.commit()
    return True


@dataclass(frozen=True)
class _Pending:
    key: str | None
    message: str


class InterruptRecorder:
    """Records interruptions, retrying what the database refuses until it answers again."""

    def __init__(
        self,
        engine: Engine,
        station_id: str,
        *,
        lock: AbstractContextManager[object],
        worker_alive: Callable[[int], bool],
        on_recorded: Callable[[int, str | None], None],
        attempts: int = 5,
        first_wait_s: float = 0.25,
        max_wait_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.station_id = station_id
        self._lock = lock  # the service's transition lock, held only while writing, never while waiting
        self._worker_alive = worker_alive
        self._on_recorded = on_recorded
        self._attempts = attempts
        self._first_wait_s = first_wait_s
        self._max_wait_s = max_wait_s
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pending(self) -> list[int]:
        """Ids whose interruption is not written yet."""
        with self._pending_lock:
            return sorted(self._pending)

    def record(self, inspection_id: int, key: str | None, message: str) -> bool:
        """Write the interruption now, retrying a few times; True when written, False when deferred
        to the background retry (or when the inspection had already ended)."""
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=self._first_wait_s, max=self._max_wait_s),
                retry=retry_if_exception_type(TRANSIENT_DATABASE_ERRORS),
                sleep=self._sleep,
                reraise=True,
            ):
                with attempt:
                    written = self._write(inspection_id, key, message)
        except TRANSIENT_DATABASE_ERRORS:
            log.warning(
                "inspection %s: could not record the interruption (database unavailable); retrying "
                "in the background",
                inspection_id,
            )
            with self._pending_lock:
                self._pending[inspection_id] = _Pending(key, message)
            self._ensure_thread()
            return False
        if written:
            self._on_recorded(inspection_id, key)
        return written

    def flush(self) -> list[int]:
        """Try every pending interruption once, then recover this station's stuck inspections.

        Returns the ids written. Raises the database's error when it is still unavailable.
        """
        with self._pending_lock:
            pending = dict(self._pending)
        done: list[int] = []
        for iid, p in pending.items():
            written = self._write(iid, p.key, p.message)
            with self._pending_lock:
                self._pending.pop(iid, None)
            if written:
                done.append(iid)
                self._on_recorded(iid, p.key)
        if pending:
            with self._lock:
                stuck = interrupt_stuck(self.engine, self.station_id, self._worker_alive)
            for iid in stuck:
                self._on_recorded(iid, None)
            done += stuck
        return done

    def close(self) -> None:
        """Stop the background retry (whatever is left is recovered on the next start)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)  # close() cuts the wait short

    def _write(self, inspection_id: int, key: str | None, message: str) -> bool:
        with self._lock:
            return record_interrupt(self.engine, inspection_id, key, message)

    def _ensure_thread(self) -> None:
        with self._pending_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._retry_loop, name="interrupt-recorder", daemon=True)
            self._thread.start()

    def _retry_loop(self) -> None:
        wait = self._first_wait_s
        while not self._stop.wait(wait):
            try:
                self.flush()
            except TRANSIENT_DATABASE_ERRORS:
                wait = min(wait * 2, self._max_wait_s)
                continue
            except Exception:  # a bug must not spin: log it and keep the rest for the next start
                log.exception("recording interruptions failed")
                return
            with self._pending_lock:
                if not self._pending:
                    self._thread = None
                    return
