"""The station's pusher: sends the outbox to the platform, oldest first, for as long as it takes.

One thread per station process, and a few more that carry the next photos beside the oldest
item (a certificate goes only once its photos are on the platform). It never gives up on an item the
platform could still take: an unreachable platform is tried again after a wait that doubles up
to ``sync_max_backoff_s``; a platform that refuses the whole station (a revoked key) is asked
again at that slowest pace, in case someone enrolled the station again; only an item the
platform refused for good is set aside (and kept, with the reason). Every wait is bounded and
every state change is logged once. A commit that queues something wakes it at once, so a
certificate reaches the platform within moments of being issued when the platform is reachable.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.certificates.keys import SigningKeyError, station_private_key
from inspector.certificates.service import find_row
from inspector.config import Settings
from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.photostore import PhotoStoreError, Shelf, photo_store
from inspector.sync.client import ItemRefused, PlatformClient, PlatformUnreachable, StationRefused
from inspector.sync.enrolment import current_enrolment
from inspector.sync.outbox import add_waiter, mark_refused, mark_sent, next_batch, remove_waiter
from inspector.sync.receipts import BadReceipt, check_inclusion
from inspector.sync.tables import Enrolment, ItemKind, OutboxItem, Problem

log = logging.getLogger("inspector.sync")

IDLE_POLL_S = 5.0  # something queued by another process (a CLI) is noticed this late
FIRST_RETRY_S = 0.5
PHOTOS_AT_ONCE = 4  # photos sent beside the oldest item: the platform's disk and database work overlap


class Condition(StrEnum):
    """Where the sync stands; kept on the enrolment row so every process can show it."""

    STANDALONE = "standalone"
    """Not enrolled: certificates are this station's own; nothing to send."""
    IDLE = "idle"
    """Everything sent."""
    SENDING = "sending"
    """Items are going out."""
    OFFLINE = "offline"
    """The platform cannot be reached or does not answer properly: trying again with backoff."""
    REFUSED = "refused"
    """The platform refuses this station (its key was revoked): nothing goes until it enrols again."""


class Backoff:
    """Waits that double from ``first`` up to ``cap``, with a little jitter so stations spread out."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def next(self) -> float:
        wait = self._next
        self._next = min(self.cap, self._next * 2)
        return wait * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self._next = self.first


def _now() -> datetime:
    return datetime.now(UTC)


_Failure = PlatformUnreachable | BadReceipt | StationRefused | ItemRefused


class Pusher:
    """``start()`` runs the loop in a thread; ``stop()`` ends it within one request's timeout."""

    def __init__(
        self, engine: Engine, settings: Settings, on_sent: Callable[[str], None] | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.station_id = settings.station_id
        self.on_sent = on_sent
        self.photos = photo_store(settings, engine, Shelf.STATION)
        self.backoff = Backoff(FIRST_RETRY_S, settings.sync_max_backoff_s)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._uploads = ThreadPoolExecutor(1 + PHOTOS_AT_ONCE, thread_name_prefix="sync-upload")
        self._client: PlatformClient | None = None
        self._said: Condition | None = None
        self._error = ""

    # ---- life cycle

    def start(self) -> Pusher:
        add_waiter(self._ready)
        self._thread = threading.Thread(target=self._loop, name="sync-pusher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._ready.set()
        if self._thread is not None:
            self._thread.join(timeout)
        remove_waiter(self._ready)
        self._uploads.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()
            self._client = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._ready.clear()  # before looking: a commit from now on wakes the wait below
            try:
                wait = self.run_once()
            except TRANSIENT_DATABASE_ERRORS as exc:
                self._note(
                    Condition.OFFLINE,
                    f"this station's database does not answer: {type(exc).__name__}",
                    Problem.DATABASE,
                )
                wait = self.backoff.next()
            except Exception as exc:  # the thread must outlive any one surprise; it says what it was
                log.exception("sync: unexpected failure; trying again in %.0f s", self.backoff.cap)
                self._note(
                    Condition.OFFLINE, f"unexpected failure: {type(exc).__name__}: {exc}", Problem.UNEXPECTED
                )
                wait = self.backoff.cap
            if wait <= 0:
                continue
            if self._said in (Condition.IDLE, Condition.STANDALONE):
                self._ready.wait(wait)  # new items end an idle wait at once
            else:
                self._stop.wait(wait)  # a backoff is never cut short by new items

    # ---- one step

    def run_once(self) -> float:
        """Send the oldest waiting item and the photos behind it, if any; how long to wait before
        the next step (0: none)."""
        with Session(self.engine) as session:
            enrolment = current_enrolment(session, self.station_id)
            items = next_batch(session, self.station_id, PHOTOS_AT_ONCE) if enrolment is not None else []
            if enrolment is not None:
                session.expunge(enrolment)
            for item in items:
                session.expunge(item)
        if enrolment is None:
            self._note(Condition.STANDALONE)
            return IDLE_POLL_S
        if not items:
            self._note(Condition.IDLE, enrolment=enrolment)
            self.backoff.reset()
            return IDLE_POLL_S
        try:
            client = self._client_for(enrolment)
        except SigningKeyError as exc:
            self._note(Condition.REFUSED, str(exc), Problem.KEY_MISSING, enrolment=enrolment)
            return self.backoff.cap
        return self._send(client, enrolment, items)

    def _client_for(self, enrolment: Enrolment) -> PlatformClient:
        client = self._client
        if client is not None and (
            client.enrolment.key_fingerprint != enrolment.key_fingerprint
            or client.enrolment.platform_url != enrolment.platform_url
        ):
            client.close()
            client = None
        if client is None:
            key = station_private_key(self.settings, enrolment.key_fingerprint)
            client = self._client = PlatformClient(enrolment, key)
        return client

    def _upload(self, client: PlatformClient, enrolment: Enrolment, item: OutboxItem) -> str | _Failure:
        """Send one item: its receipt, or why it did not go."""
        try:
            if item.kind == ItemKind.PHOTO.value:
                return self._send_photo(client, item.ref)
            return self._send_certificate(client, enrolment, item.ref)
        except (PlatformUnreachable, BadReceipt, StationRefused, ItemRefused) as exc:
            return exc

    def _send(self, client: PlatformClient, enrolment: Enrolment, items: list[OutboxItem]) -> float:
        if len(items) == 1:
            outcomes = [self._upload(client, enrolment, items[0])]
        else:
            outcomes = list(self._uploads.map(lambda item: self._upload(client, enrolment, item), items))
        sent = [(item, o) for item, o in zip(items, outcomes, strict=True) if isinstance(o, str)]
        refused = [(item, o) for item, o in zip(items, outcomes, strict=True) if isinstance(o, ItemRefused)]
        stopped = next(
            (o for o in outcomes if isinstance(o, PlatformUnreachable | BadReceipt | StationRefused)), None
        )
        with Session(self.engine) as session:
            for item, receipt in sent:
                assert item.seq is not None
                mark_sent(session, item.seq, receipt)
            for item, exc in refused:
                assert item.seq is not None
                log.warning(
                    "sync: the platform refused %s %s; it stays on this station: %s", item.kind, item.ref, exc
                )
                mark_refused(session, item.seq, str(exc), exc.refusal.value if exc.refusal else "")
            if sent and stopped is None:
                self._note(Condition.SENDING, enrolment=enrolment, session=session)
            session.commit()
        for item, exc in refused:
            self._note(
                Condition.SENDING,
                f"the platform refused {item.kind} {item.ref}: {exc}",
                exc.refusal.value if exc.refusal is not None else Problem.ERROR_ANSWER,
                enrolment=enrolment,
            )
        if self.on_sent is not None:
            for item, _ in sent:
                if item.kind == ItemKind.CERTIFICATE.value:
                    self.on_sent(item.ref)
        if isinstance(stopped, StationRefused):
            self._note(Condition.REFUSED, str(stopped), stopped.refusal.value, enrolment=enrolment)
            return self.backoff.cap
        if stopped is not None:
            problem = stopped.problem if isinstance(stopped, PlatformUnreachable) else Problem.BAD_RECEIPT
            self._note(
                Condition.OFFLINE, f"{enrolment.platform_url}: {stopped}", problem, enrolment=enrolment
            )
            return self.backoff.next()
        if sent:
            self.backoff.reset()
        return 0.0

    def _send_photo(self, client: PlatformClient, sha256: str) -> str:
        """Stream the photo from the store; one gone or corrupt here is refused for good."""
        try:
            photo = self.photos.open(sha256)
        except PhotoStoreError as exc:
            raise ItemRefused(None, f"photo {sha256[:12]} is no longer on this station") from exc
        try:
            with photo:
                return client.put_photo(photo).model_dump_json()
        except PhotoStoreError as exc:  # corrupt: found while streaming it
            raise ItemRefused(None, f"photo {sha256[:12]} cannot be sent: {exc}") from exc

    def _send_certificate(self, client: PlatformClient, enrolment: Enrolment, human_id: str) -> str:
        with Session(self.engine) as session:
            row = find_row(session, human_id)
            body = row.credential if row is not None else None
        if body is None:
            raise ItemRefused(None, f"certificate {human_id} is no longer on this station")
        receipt = client.put_certificate(human_id, body.encode())
        check_inclusion(enrolment, json.loads(body), receipt.inclusion_proof)
        return receipt.model_dump_json()

    # ---- state

    def _note(
        self,
        condition: Condition,
        error: str = "",
        problem: str = "",
        *,
        enrolment: Enrolment | None = None,
        session: Session | None = None,
    ) -> None:
        """Remember the state on the enrolment row; log only when the condition changes.

        ``problem`` is the error's kind (a ``Problem`` or a refusal), so people can be told in
        their language; ``condition_since`` keeps when the condition began, across restarts.
        """
        changed = condition is not self._said
        if changed:
            self._log(condition, error)
        if enrolment is None or (not changed and error == self._error and condition is not Condition.SENDING):
            self._said, self._error = condition, error
            return
        own = session is None
        s = session or Session(self.engine)
        try:
            row = current_enrolment(s, self.station_id)
            if row is not None:
                if row.condition != condition.value or row.condition_since is None:
                    row.condition_since = _now()
                row.condition = condition.value
                if error:
                    row.last_error, row.last_error_at = error[:2000], _now()
                    row.last_error_kind = problem or Problem.UNEXPECTED.value
                elif condition is Condition.SENDING:
                    row.last_success_at = _now()
                s.add(row)
                if own:
                    s.commit()
        finally:
            if own:
                s.close()
        self._said, self._error = condition, error

    def _log(self, condition: Condition, error: str) -> None:
        before = self._said
        if condition is Condition.OFFLINE:
            log.warning(
                "sync: the platform is unreachable (%s); the station keeps working and tries again, "
                "waiting up to %.0f s between tries",
                error,
                self.backoff.cap,
            )
        elif condition is Condition.REFUSED:
            log.error("sync: the platform refuses this station: %s; certificates stay here", error)
        elif before in (Condition.OFFLINE, Condition.REFUSED):
            log.info("sync: the platform takes uploads again")
        elif condition is Condition.STANDALONE and before is None:
            log.info("sync: this station is not enrolled with a platform; it signs on its own")
        else:
            log.debug("sync: %s", condition.value)
