"""Fault campaign: randomized faults against a real station, then a consistency check after each one.

Starts a real ``inspector serve --simulate`` process (simulated rig, balance, ADB phone and
camera), drives phone and jewelry inspections and warranty claims through its HTTP API as an
operator, a buyer and staff would, and at a random moment injects one fault:

* ``kill``: SIGKILL of the server (then it is started again on the same data);
* ``cable``: the simulated rig, balance or phone cable pulled for a moment (debug route
  ``/api/station/simulator/...``, registered only on simulated stations);
* ``db_drop`` / ``db_hang``: PostgreSQL dropped, or accepting and never answering, through a TCP
  proxy between the server and the database (``tests/faultproxy.py``; needs ``--db postgresql``);
* ``disk_full``: the data directory (photos, keys and, on SQLite, the database) sits on a small
  tmpfs that is filled to the last bytes (needs root for ``mount``).

After each fault has cleared it waits for the station to settle and checks the inspection or
claim from the database and the HTTP API (see ``bench/faultkit/checks.py``); interrupted
inspections are resumed by the next inspection fault and claims are carried on, so every one
is driven to its end. It prints faults by kind, inspections and claims consistent / total and
each inconsistency with the seed and fault number that reproduce it.

    .venv/bin/python bench/faults.py                                   # 1,000 faults, SQLite
    .venv/bin/python bench/faults.py --db postgresql --faults 200 --seed 7 --json out.json
    .venv/bin/python bench/faults.py --kinds kill,cable --faults 20
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from bench.auto_operator import answer  # noqa: E402
from bench.faultkit.checks import (  # noqa: E402
    all_claim_refs,
    all_inspection_ids,
    check_claim,
    check_inspection,
    inspection_status,
)
from bench.faultkit.disk import DiskUnavailable, SmallDisk  # noqa: E402
from bench.faultkit.server import StationProcess  # noqa: E402
from inspector.auth import Role, create_user, issue_token  # noqa: E402
from inspector.db import make_engine, migrate, session_scope  # noqa: E402
from inspector.photostore import FileSystemPhotoStore, PhotoStore  # noqa: E402
from inspector.station.runtime import free_port  # noqa: E402
from inspector.station.tables import Inspection  # noqa: E402
from tests.faultproxy import FaultProxy, Mode  # noqa: E402
from tests.scratch_db import scratch_postgres_database  # noqa: E402
from warranty.plans import get_plan  # noqa: E402
from warranty.tables import Claim  # noqa: E402

PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
STATION_ID = "station-1"
SETTLE_S = 30.0  # an inspection still "running" this long after a fault cleared has no worker
UP_S = 30.0  # the station must answer again this soon after a fault cleared
DEVICES = {"phone": ("phone", "rig"), "jewelry": ("scale", "rig")}


class FaultKind(StrEnum):
    """A fault the campaign injects; ``db_*`` need PostgreSQL, ``disk_full`` needs a tmpfs mount."""

    kill = "kill"
    cable = "cable"
    db_drop = "db_drop"
    db_hang = "db_hang"
    disk_full = "disk_full"

    @property
    def on_claims(self) -> bool:
        """Claims use no device, so a pulled cable cannot hit one."""
        return self is not FaultKind.cable


@dataclass
class Finding:
    fault: int
    kind: str
    target: str
    issue: str


@dataclass
class CertItem:
    """A certified item a claim can be opened against, and what identifies it at the returns desk."""

    human_id: str
    item_kind: str
    imei: str | None
    weight_mg: int | None
    problem: str
    sold: bool = False


@dataclass
class Report:
    machine: dict[str, Any]
    seed: int
    db: str
    kinds: list[str]
    faults_requested: int
    faults_injected: dict[str, int] = field(default_factory=dict)
    faults_on: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_starts: int = 0
    server_exits_unasked: int = 0
    unresponsive_after_fault: int = 0
    inspections_consistent: int = 0
    inspections_total: int = 0
    inspections_by_status: dict[str, int] = field(default_factory=dict)
    claims_consistent: int = 0
    claims_total: int = 0
    claims_by_state: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inconsistencies: list[dict[str, Any]] = field(default_factory=list)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


@contextlib.contextmanager
def scratch_database(kind: str, workdir: Path, data_dir: Path) -> Iterator[str]:
    """An empty database: a SQLite file in the data dir, or a PostgreSQL database dropped at the end."""
    if kind == "sqlite":
        yield f"sqlite:///{data_dir / 'inspector.db'}"
        return
    with scratch_postgres_database(PG_URL, "faults") as url:
        yield url


def buyer_address(cert: str) -> str:
    """A client address of its own for each certificate's buyer (TEST-NET-2, RFC 5737).

    The station trusts ``X-Forwarded-For`` from loopback, so the campaign's buyers look like the
    different people they are; from one address the per-client claim limits would refuse most of
    them, and the campaign would test the limiter instead of the claims.
    """
    n = int.from_bytes(cert.encode(), "big") % 254 + 1
    return f"198.51.100.{n}"


def via_proxy(url: str, proxy: FaultProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


class Driver(threading.Thread):
    """Moves one inspection or claim forward over HTTP until it ends or ``stop`` is set; rides out
    a dead or hanging server by retrying, as the console and the staff pages would."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stop = threading.Event()

    def pause(self, seconds: float) -> None:
        self.stop.wait(seconds)


class InspectionDriver(Driver):
    def __init__(self, client: httpx.Client, iid: int) -> None:
        super().__init__(f"drive-inspection-{iid}")
        self.client, self.iid = client, iid
        self.refused: str | None = None  # the station's refusal of an answer: the campaign's own fault

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                view = self.client.get(f"/api/station/inspections/{self.iid}").json()
                if view["status"] in ("completed", "aborted", "interrupted"):
                    return
                waiting = [s for s in view["steps"] if s["status"] == "waiting"]
                if view["status"] == "waiting_operator" and waiting:
                    key = waiting[0]["key"]
                    r = self.client.post(
                        f"/api/station/inspections/{self.iid}/steps/{key}/answer", json=answer(waiting[0])
                    )
                    if r.status_code == 422:  # asking again would get the same answer: stop and say so
                        self.refused = f"the station refused the answer to step {key!r}: {r.text[:300]}"
                        return
            except (httpx.HTTPError, ValueError, KeyError):
                self.pause(0.2)
            self.pause(0.05)


class ClaimDriver(Driver):
    """Walks a claim open -> accept -> receive -> reinspect -> approve/deny -> resolve -> close."""

    def __init__(self, staff: httpx.Client, ref: str, item: CertItem, deny: bool) -> None:
        super().__init__(f"drive-claim-{ref}")
        self.staff, self.ref, self.item, self.deny = staff, ref, item, deny
        self.closed = False

    def body(self, state: str, version: int) -> tuple[str, dict[str, Any]] | None:
        """The next call for a claim in ``state`` (path suffix and JSON), None when closed."""
        base: dict[str, Any] = {"version": version}
        if state == "submitted":
            return "transitions", {**base, "action": "accept"}
        if state == "awaiting_item":
            ident = (
                {"identity_value": self.item.imei} if self.item.imei else {"weight_mg": self.item.weight_mg}
            )
            return "transitions", {**base, "action": "receive", **ident}
        if state == "received":
            return "reinspection", {**base, "grade": "B", "inspection_id": "campaign"}
        if state == "reinspected":
            if self.deny:
                code = get_plan_for(self.item).deny_codes[0]
                return "transitions", {**base, "action": "deny", "reason_code": code, "note": "campaign"}
            return "transitions", {**base, "action": "approve", "outcome": "repair", "note": "campaign"}
        if state in ("approved", "denied"):
            return "transitions", {**base, "action": "resolve", "note": "campaign"}
        if state == "resolved":
            return "transitions", {**base, "action": "close"}
        return None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                r = self.staff.get(f"/api/warranty/claims/{self.ref}")
                if r.status_code != 200:
                    self.pause(0.2)
                    continue
                claim = r.json()
                nxt = self.body(claim["state"], claim["version"])
                if nxt is None:
                    self.closed = True
                    return
                self.staff.post(f"/api/warranty/claims/{self.ref}/{nxt[0]}", json=nxt[1])
            except (httpx.HTTPError, ValueError, KeyError):
                self.pause(0.2)
            self.pause(0.02)


def get_plan_for(item: CertItem) -> Any:
    return get_plan("phone-180" if item.item_kind == "phone" else "jewelry-authenticity")


class Campaign:
    """Runs the faults one after another against one station and records what each left behind."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.kinds = [FaultKind(k) for k in args.kinds]
        self.report = Report(machine(), args.seed, args.db, [k.value for k in self.kinds], args.faults)
        self.findings: list[Finding] = []
        self.bad_inspections: set[int] = set()
        self.bad_claims: set[str] = set()
        self.pool: list[CertItem] = []
        self.current_inspection: int | None = None
        self.inspection_faults = 0
        self.current_claim: tuple[str, CertItem] | None = None
        self.disk: SmallDisk | None = None
        self.proxy: FaultProxy | None = None
        self.server: StationProcess
        self.engine: Engine
        self.op: httpx.Client
        self.staff: httpx.Client
        self.buyer: httpx.Client
        self.last_refusal = ""
        self.photos: PhotoStore

    # -- set-up -----------------------------------------------------------------------------
    def _usable_kinds(self) -> None:
        if self.args.db == "sqlite":
            dropped = [k for k in self.kinds if k in (FaultKind.db_drop, FaultKind.db_hang)]
            if dropped:
                self.report.notes.append(
                    "database drops and hangs need --db postgresql (a TCP proxy in front of the server); "
                    "left out: " + ", ".join(dropped)
                )
                self.kinds = [k for k in self.kinds if k not in dropped]
        if FaultKind.disk_full in self.kinds:
            disk = SmallDisk(self.workdir / "disk", self.args.disk_mb)
            try:
                disk.mount()
                self.disk = disk
            except DiskUnavailable as exc:
                self.report.notes.append(f"disk_full left out: {exc}")
                self.kinds.remove(FaultKind.disk_full)
        if not self.kinds:
            raise SystemExit("no fault kind can run here (see the notes above)")

    def run(self) -> Report:
        t0 = time.monotonic()
        self._usable_kinds()
        data_dir = (self.disk.mountpoint if self.disk else self.workdir) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with scratch_database(self.args.db, self.workdir, data_dir) as url:
                migrate(url)
                self.engine = make_engine(url)
                server_url = url
                if self.args.db == "postgresql":
                    target = make_url(url)
                    self.proxy = FaultProxy(target.host or "127.0.0.1", target.port or 5432)
                    server_url = via_proxy(url, self.proxy)
                self.photos = FileSystemPhotoStore(data_dir / "photos")
                port = free_port()
                self.server = StationProcess(data_dir, server_url, port, self.workdir / "serve.log")
                op_token, staff_token = self._people()
                timeout = httpx.Timeout(10.0, connect=3.0)
                base = f"http://127.0.0.1:{port}"
                self.op = httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {op_token}"}, timeout=timeout
                )
                self.staff = httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {staff_token}"}, timeout=timeout
                )
                self.buyer = httpx.Client(base_url=base, timeout=timeout)
                self.server.start()
                try:
                    stop_at = t0 + 60 * self.args.max_minutes if self.args.max_minutes else None
                    for i in range(self.args.faults):
                        if stop_at is not None and time.monotonic() > stop_at:
                            budget = f"--max-minutes {self.args.max_minutes}"
                            self.report.notes.append(
                                f"stopped after {i} of {self.args.faults} faults: {budget}"
                            )
                            break
                        self._one(i)
                    self._finish_open_work()
                    self._final_sweep()
                finally:
                    self.report.server_starts = self.server.starts
                    self.server.stop()
                    self.op.close()
                    self.staff.close()
                    self.buyer.close()
                    if self.proxy is not None:
                        self.proxy.close()
                    self.engine.dispose()
        finally:
            if self.disk is not None:
                self.disk.release()
                self.disk.unmount()
        self.report.seconds = round(time.monotonic() - t0, 1)
        self.report.inconsistencies = [asdict(f) for f in self.findings]
        return self.report

    def _people(self) -> tuple[str, str]:
        with session_scope(self.engine) as s:
            op = create_user(s, "campaign-op", Role.operator, uuid.uuid4().hex)
            staff = create_user(s, "campaign-staff", Role.staff, uuid.uuid4().hex)
            return issue_token(s, op, name="campaign"), issue_token(s, staff, name="campaign")

    # -- one fault --------------------------------------------------------------------------
    def _one(self, i: int) -> None:
        rng = random.Random(f"{self.args.seed}:{i}")
        kind = rng.choice(self.kinds)
        on_claim = kind.on_claims and bool(self.pool) and rng.random() < self.args.claim_share
        self._ensure_up(i, "before the fault")
        driver, label = self._claim_driver(rng) if on_claim else self._inspection_driver(rng)
        target = "claim" if on_claim else "inspection"
        self.report.faults_injected[kind] = self.report.faults_injected.get(kind, 0) + 1
        self.report.faults_on[target] = self.report.faults_on.get(target, 0) + 1
        delay = rng.uniform(0.0, 0.8 if on_claim else 4.5)
        if driver is not None:
            driver.start()
        time.sleep(delay)
        detail = self._inject(kind, rng)
        self._ensure_up(i, f"after {kind}", fault_kind=kind, label=label)
        issues = self._settle(driver, on_claim)
        for issue in issues:
            self._find(i, kind, label, issue)
        state = self._after(on_claim)
        mark = "ok" if not issues else f"INCONSISTENT ({len(issues)})"
        if not self.args.quiet or issues or (i + 1) % 50 == 0:
            print(
                f"[{i + 1:>4}/{self.args.faults}] {kind:<9} {label:<22} at {delay:3.1f} s {detail:<24} "
                f"-> {state:<16} {mark}",
                flush=True,
            )
            for issue in issues:
                print(f"         {issue}", flush=True)

    def _find(self, i: int, kind: str, label: str, issue: str) -> None:
        self.findings.append(Finding(i + 1, kind, label, issue))
        what, _, ident = label.partition(" ")
        if what == "inspection" and ident.isdigit():
            self.bad_inspections.add(int(ident))
        elif what == "claim":
            self.bad_claims.add(ident)

    def _inspection_driver(self, rng: random.Random) -> tuple[Driver | None, str]:
        iid = self.current_inspection
        if iid is not None:
            status = inspection_status(self.engine, iid)
            if status == "interrupted":
                r = self.op.post(f"/api/station/inspections/{iid}/resume")
                if r.status_code != 200:
                    self.current_inspection = iid = None
            elif status not in ("running", "waiting_operator"):
                self.current_inspection = iid = None
        if iid is None:
            kind = rng.choice(("phone", "jewelry"))
            r = self.op.post("/api/station/inspections", json={"kind": kind})
            if r.status_code == 409:  # one is still active (e.g. left by an abort a fault ate): carry it on
                iid = self._active_inspection()
            elif r.status_code == 201:
                iid = int(r.json()["id"])
            if iid is None:
                return None, f"inspection start {r.status_code}"
            self.current_inspection, self.inspection_faults = iid, 0
        self.inspection_faults += 1
        return InspectionDriver(self.op, iid), f"inspection {iid}"

    def _active_inspection(self) -> int | None:
        with Session(self.engine) as s:
            active = s.exec(
                select(Inspection.id)
                .where(col(Inspection.status).in_(("running", "waiting_operator")))
                .order_by(col(Inspection.id).desc())
            ).first()
        return active

    def _claim_driver(self, rng: random.Random) -> tuple[Driver | None, str]:
        if self.current_claim is None:
            item = rng.choice(self.pool)
            ref = self._open_claim(item)
            if ref is None:
                note = f"a claim could not be opened: {self.last_refusal}"
                if note not in self.report.notes:
                    self.report.notes.append(note)
                return None, "claim (not opened)"
            self.current_claim = (ref, item)
        ref, item = self.current_claim
        return ClaimDriver(self.staff, ref, item, deny=rng.random() < 0.3), f"claim {ref}"

    def _open_claim(self, item: CertItem) -> str | None:
        order_ref = f"ORDER-{item.human_id}"
        if not item.sold:
            r = self.staff.post(
                "/api/warranty/sales",
                json={
                    "cert": item.human_id,
                    "order_ref": order_ref,
                    "price_minor": 129_900,
                    "currency": "CNY",
                },
            )
            item.sold = r.status_code in (201, 409)
            if not item.sold:
                self.last_refusal = f"sale {r.status_code}: {r.text[:200]}"
                return None
        r = self.buyer.post(
            "/api/warranty/claims",
            json={"cert": item.human_id, "order_ref": order_ref, "problem": item.problem},
            headers={"X-Forwarded-For": buyer_address(item.human_id)},
        )
        if r.status_code == 201:
            return str(r.json()["ref"])
        with Session(self.engine) as s:  # a claim opened before a fault ate the answer
            claim = s.exec(select(Claim).where(Claim.open_cert == item.human_id)).first()
            if claim is None:
                self.last_refusal = f"open {r.status_code}: {r.text[:200]}"
            return claim.ref if claim is not None else None

    def _inject(self, kind: FaultKind, rng: random.Random) -> str:
        if kind is FaultKind.kill:
            self.server.kill()
            self._restart()
            return "SIGKILL, restarted"
        if kind is FaultKind.cable:
            iid = self.current_inspection
            item_kind = "phone"
            if iid is not None:
                with Session(self.engine) as s:
                    insp = s.get(Inspection, iid)
                    item_kind = insp.item_kind if insp is not None else "phone"
            device = rng.choice(DEVICES[item_kind])
            hold = rng.uniform(0.1, 1.5)
            self._cable(device, "unplug")
            time.sleep(hold)
            self._cable(device, "replug")
            return f"{device} out {hold:.1f} s"
        if kind in (FaultKind.db_drop, FaultKind.db_hang):
            assert self.proxy is not None
            hold = rng.uniform(0.2, 2.5) if kind is FaultKind.db_drop else rng.uniform(0.5, 5.0)
            self.proxy.set_mode(Mode.DROP if kind is FaultKind.db_drop else Mode.HANG)
            time.sleep(hold)
            self.proxy.set_mode(Mode.PASS)
            return f"database {kind.value[3:]} {hold:.1f} s"
        assert self.disk is not None
        leave = rng.choice((0, 0, 4096, 65536))
        self.disk.fill(leave)
        hold = rng.uniform(0.3, 2.5)
        time.sleep(hold)
        self.disk.release()
        return f"disk full ({leave} B) {hold:.1f} s"

    def _restart(self) -> None:
        """Start the server again; a start that fails is a finding, and it is tried twice more."""
        for attempt in range(3):
            try:
                self.server.start()
                return
            except RuntimeError as exc:
                self.report.notes.append(f"restart {attempt + 1} failed: {str(exc)[-600:]}")
        raise SystemExit("the station would not start again three times in a row; see the notes")

    def _cable(self, device: str, action: str) -> None:
        for _ in range(20):  # the fault must happen: retry while the station is busy or restarting
            try:
                if self.op.post(f"/api/station/simulator/{device}/{action}").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def _ensure_up(self, i: int, when: str, fault_kind: str = "", label: str = "") -> None:
        if not self.server.alive():
            self.report.server_exits_unasked += 1
            self.report.notes.append(
                f"fault #{i + 1}: the server exited by itself {when}:\n{self.server.tail(600)}"
            )
            self._restart()
            return
        if not self.server.wait_up(UP_S):
            self.report.unresponsive_after_fault += 1
            self._find(
                i,
                fault_kind or "-",
                label or "station",
                f"the station did not answer for {UP_S:.0f} s {when}",
            )
            self.server.kill()
            self._restart()

    def _settle(self, driver: Driver | None, on_claim: bool) -> list[str]:
        """Let the driver carry the work on until it ends or waits (at most SETTLE_S), then check it."""
        if driver is None:
            return []
        deadline = time.monotonic() + SETTLE_S
        driver.join(SETTLE_S)
        driver.stop.set()
        driver.join(15)
        if on_claim:
            assert self.current_claim is not None
            return check_claim(self.engine, self.staff, self.photos, self.current_claim[0])
        iid = self.current_inspection
        assert iid is not None
        while inspection_status(self.engine, iid) == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        issues = check_inspection(self.engine, self.op, self.photos, STATION_ID, iid)
        if isinstance(driver, InspectionDriver) and driver.refused:
            issues.append(driver.refused)
        if inspection_status(self.engine, iid) == "running":  # stuck: a restart frees it for the next fault
            self.server.kill()
            self._restart()
        return issues

    def _after(self, on_claim: bool) -> str:
        """Book-keeping once a fault's target settled; returns its state for the progress line."""
        if on_claim:
            if self.current_claim is None:
                return "-"
            ref = self.current_claim[0]
            with Session(self.engine) as s:
                claim = s.exec(select(Claim).where(Claim.ref == ref)).first()
                state = claim.state if claim is not None else "missing"
            if state == "closed":
                self.current_claim = None
            return state
        iid = self.current_inspection
        if iid is None:
            return "-"
        status = inspection_status(self.engine, iid) or "missing"
        if status == "completed":
            self._add_to_pool(iid)
            self.current_inspection = None
        elif status in ("aborted", "missing"):
            self.current_inspection = None
        elif self.inspection_faults >= self.args.max_faults_per_inspection:
            with contextlib.suppress(httpx.HTTPError):
                self.op.post(f"/api/station/inspections/{iid}/abort", json={"reason": "fault campaign"})
            self.current_inspection = None
        return status

    def _add_to_pool(self, iid: int) -> None:
        view = self.op.get(f"/api/station/inspections/{iid}").json()
        identity = view.get("identity") or {}
        kind = view["item_kind"]
        imeis = identity.get("imeis") or []
        self.pool.append(
            CertItem(
                human_id=view["certificate_id"],
                item_kind=kind,
                imei=imeis[0] if kind == "phone" and imeis else None,
                weight_mg=identity.get("weight_mg"),
                problem="functional_fault" if kind == "phone" else "weight_material",
            )
        )

    # -- the end ----------------------------------------------------------------------------
    def _finish_open_work(self) -> None:
        """Drive what the last faults left open to its end, with no more faults."""
        n = self.args.faults
        for _ in range(3):
            iid = self.current_inspection
            if iid is None:
                break
            if inspection_status(self.engine, iid) == "interrupted":
                self.op.post(f"/api/station/inspections/{iid}/resume")
            driver = InspectionDriver(self.op, iid)
            driver.start()
            for issue in self._settle(driver, on_claim=False):
                self._find(n - 1, "-", f"inspection {iid}", f"after the campaign: {issue}")
            self._after(on_claim=False)
        if self.current_claim is not None:
            ref, item = self.current_claim
            claim_driver = ClaimDriver(self.staff, ref, item, deny=False)
            claim_driver.start()
            for issue in self._settle(claim_driver, on_claim=True):
                self._find(n - 1, "-", f"claim {ref}", f"after the campaign: {issue}")

    def _final_sweep(self) -> None:
        """Every inspection and claim in the database, checked once more at the end."""
        statuses: Counter[str] = Counter()
        ids = all_inspection_ids(self.engine)
        for iid in ids:
            statuses[inspection_status(self.engine, iid) or "missing"] += 1
            for issue in check_inspection(self.engine, self.op, self.photos, STATION_ID, iid):
                self._find(self.args.faults - 1, "final", f"inspection {iid}", issue)
        refs = all_claim_refs(self.engine)
        states: Counter[str] = Counter()
        for ref in refs:
            with Session(self.engine) as s:
                claim = s.exec(select(Claim).where(Claim.ref == ref)).first()
                states[claim.state if claim is not None else "missing"] += 1
            for issue in check_claim(self.engine, self.staff, self.photos, ref):
                self._find(self.args.faults - 1, "final", f"claim {ref}", issue)
        r = self.report
        r.inspections_total, r.claims_total = len(ids), len(refs)
        r.inspections_consistent = len([i for i in ids if i not in self.bad_inspections])
        r.claims_consistent = len([c for c in refs if c not in self.bad_claims])
        r.inspections_by_status, r.claims_by_state = dict(statuses), dict(states)


def print_summary(r: Report) -> None:
    print()
    print(
        f"Fault campaign: seed {r.seed}, {r.db}, {r.seconds:.0f} s "
        f"on {r.machine['cores']} x {r.machine['cpu']}"
    )
    print()
    print("| fault kind | injected |")
    print("|---|---|")
    for kind, n in sorted(r.faults_injected.items()):
        print(f"| {kind} | {n} |")
    print(
        f"| **total** | **{sum(r.faults_injected.values())}** "
        f"(on inspections {r.faults_on.get('inspection', 0)}, on claims {r.faults_on.get('claim', 0)}) |"
    )
    print()
    print("| what | consistent / total | final states |")
    print("|---|---|---|")
    st = ", ".join(f"{k} {v}" for k, v in sorted(r.inspections_by_status.items()))
    cl = ", ".join(f"{k} {v}" for k, v in sorted(r.claims_by_state.items()))
    print(f"| inspections | {r.inspections_consistent} / {r.inspections_total} | {st} |")
    print(f"| claims | {r.claims_consistent} / {r.claims_total} | {cl} |")
    print()
    print(
        f"server starts {r.server_starts}, exits nobody asked for {r.server_exits_unasked}, "
        f"unresponsive {UP_S:.0f} s after a fault {r.unresponsive_after_fault}"
    )
    for note in r.notes:
        print(f"note: {note}")
    if r.inconsistencies:
        print(
            f"\n{len(r.inconsistencies)} inconsistencies "
            f"(reproduce: --seed {r.seed} --faults N, N = the fault number):"
        )
        for f in r.inconsistencies:
            print(f"  fault #{f['fault']} {f['kind']} {f['target']}: {f['issue']}")
    else:
        print("\nno inconsistencies")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Randomized faults (kill -9, cable pulls, database drops and hangs, disk full) against a "
        "real station, with a consistency check of every inspection and claim after each one.",
        epilog="Reproduce a finding with the seed and fault count it names. Exit code 0: all consistent; "
        "1: inconsistencies found.",
    )
    ap.add_argument("--faults", type=int, default=1000, help="how many faults to inject (default 1000)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    ap.add_argument(
        "--db", choices=("sqlite", "postgresql"), default="sqlite", help="database (default sqlite)"
    )
    ap.add_argument(
        "--kinds",
        default=",".join(k.value for k in FaultKind),
        help=f"comma-separated fault kinds (default all: {', '.join(k.value for k in FaultKind)})",
    )
    ap.add_argument(
        "--claim-share", type=float, default=0.35, help="share of faults aimed at claims (default 0.35)"
    )
    ap.add_argument("--max-faults-per-inspection", type=int, default=5, help="then it is aborted (default 5)")
    ap.add_argument(
        "--disk-mb", type=int, default=1024, help="size of the tmpfs for disk_full (default 1024)"
    )
    ap.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop injecting after this long, then check and report",
    )
    ap.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    ap.add_argument("--workdir", type=Path, help="keep the data, database and server log here")
    ap.add_argument("--quiet", action="store_true", help="print every 50th fault and the inconsistent ones")
    args = ap.parse_args(argv)
    if args.faults < 1:
        ap.error("--faults must be at least 1")
    try:
        args.kinds = [FaultKind(k.strip()).value for k in args.kinds.split(",") if k.strip()]
    except ValueError:
        ap.error(f"--kinds: choose from {', '.join(k.value for k in FaultKind)}")
    if not args.kinds:
        ap.error("--kinds: name at least one fault kind")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"fault campaign: {args.faults} faults, seed {args.seed}, {args.db}, kinds {','.join(args.kinds)}",
        flush=True,
    )
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report = Campaign(args, args.workdir.resolve()).run()
    else:
        with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
            report = Campaign(args, Path(tmp)).run()
    print_summary(report)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0 if not report.inconsistencies else 1


if __name__ == "__main__":
    sys.exit(main())
