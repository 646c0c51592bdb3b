"""Adapters from the real drivers, grader and certificate issuer to the pipeline's ports.

``build_hardware(settings)`` gives the station its devices: the simulated station
(``devices.simulated_station``: pty rig and balance, ADB phone, rendered camera) when
``settings.simulate`` is on, else the configured serial ports, ADB phone and OpenCV camera.
Every driver exception that means "the device went away" becomes ``DeviceLost`` so the
pipeline can leave the inspection resumable; a component that is not installed or not
configured is listed in ``StationHardware.missing`` with the reason, never faked.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from pydantic import ValidationError
from sqlmodel import Session

import inspector.certificates as certificates
from devices.camera import Camera, CameraError, SimulatedCamera, open_camera
from devices.phone import (
    AdbServerTransport,
    AdbTcpTransport,
    AdbTransport,
    DisplayReading,
    PhoneDisconnected,
    PhoneError,
    PhoneNotFound,
    PhoneUnauthorized,
    list_adb_devices,
)
from devices.phone import screen_off as phone_screen_off
from devices.phone import screen_on as phone_screen_on
from devices.phone.probe import probe_phone
from devices.rig import ButtonPressed, RigDisconnected, RigDriver, RigError, RigTimeout
from devices.scale import MtSicsScale, ScaleDisconnected, ScaleTimeout
from devices.scale import ScaleError as BalanceError
from devices.simulated_station import SimulatedStation
from inspector.auth.tenancy import EVERYTHING
from inspector.config import Settings
from inspector.grading import Grader, GradeScaleError, ModelError
from inspector.grading.decide import Mark, regrade
from inspector.grading.edge_grade import EDGE, METHOD, grade_edge
from inspector.grading.grader import KINDS
from inspector.grading.overlay import draw_overlay, encode_png, outline_points
from inspector.station.certificate_requests import certificate_request
from inspector.station.ports import (
    DeviceLost,
    GradeOutcome,
    IssuedCert,
    PlanTerms,
    Publication,
    ReturnedItem,
    ScreenReading,
    ScreenState,
    StationHardware,
    StepFailed,
    WarrantyPort,
)
from inspector.sync.enrolment import current_enrolment
from inspector.sync.issuing import issue_for_platform
from inspector.sync.outbox import publication
from warranty import Actor, PlanError, default_plan_for, find_open_claim, record_reinspection
from warranty.errors import WarrantyError

log = logging.getLogger(__name__)

# After a replug the rig driver reconnects by itself; a step waits this long for it.
RECONNECT_WAIT_S = 2.0


class RigAdapter:
    """``devices.rig.RigDriver`` behind ``RigPort``; a thread turns start-button events into callbacks."""

    def __init__(self, driver: RigDriver) -> None:
        self.driver = driver
        self._callbacks: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._events, name="rig-events", daemon=True)
        self._thread.start()

    def _call(self, fn: Callable[[], Any]) -> Any:
        if not self.driver.connected and not self.driver.wait_connected(RECONNECT_WAIT_S):
            raise DeviceLost(f"rig controller on {self.driver.port} is not connected (USB cable?)")
        try:
            return fn()
        except (RigDisconnected, RigTimeout) as exc:
            raise DeviceLost(f"rig controller: {exc}") from exc
        except RigError as exc:
            raise StepFailed(f"rig controller: {exc}") from exc

    def set_light(self, percent: float) -> None:
        self._call(lambda: self.driver.set_light(percent))

    def rotate_to(self, angle: float) -> None:
        def move() -> None:
            if not self.driver.status().homed:  # power-cycled since the light step: find home first
                self.driver.home(timeout=20.0)
            self.driver.rotate_to(angle, timeout=20.0)

        self._call(move)

    def home(self) -> None:
        self._call(lambda: self.driver.home(timeout=20.0))

    def counters(self) -> dict[str, int]:
        """The link's frame counters (sent, retransmits, bad CRC, timeouts, reconnects)."""
        return dict(self.driver.stats)

    def identity(self) -> dict[str, Any]:
        ident = self.driver.identity
        if ident is None:
            return {"port": self.driver.port, "connected": False}
        d = dict(vars(ident)) if hasattr(ident, "__dict__") else {"identity": str(ident)}
        return {
            "port": self.driver.port,
            "connected": self.driver.connected,
            **{k: (str(v) if not isinstance(v, int | str | float | bool) else v) for k, v in d.items()},
        }

    def on_start_button(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def _events(self) -> None:
        while not self._stop.is_set():
            try:
                ev = self.driver.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(ev, ButtonPressed):
                for cb in list(self._callbacks):
                    try:
                        cb()
                    except Exception:  # a failing listener must not stop the event thread
                        log.exception("start button handler failed")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.driver.close()


class ScaleAdapter:
    """``devices.scale.MtSicsScale`` behind ``ScalePort``."""

    def __init__(self, driver: MtSicsScale) -> None:
        self.driver = driver

    def stable_weight_mg(self) -> int:
        try:
            return int(self.driver.stable_weight(timeout=10.0).mg)
        except ScaleDisconnected as exc:
            raise DeviceLost(f"balance: {exc}") from exc
        except ScaleTimeout as exc:
            raise StepFailed(f"balance: {exc}") from exc
        except BalanceError as exc:
            raise StepFailed(f"balance: {exc}") from exc

    def counters(self) -> dict[str, int]:
        """The link's counters (commands sent, retries, reconnects)."""
        return dict(self.driver.stats)

    def identity(self) -> dict[str, Any]:
        try:
            ident = self.driver.identify()
        except Exception as exc:  # shown in the device panel, not fatal
            return {"port": self.driver.port, "error": str(exc)}
        return {"port": self.driver.port, **ident.as_dict()}

    def close(self) -> None:
        self.driver.close()


class PhoneAdapter:
    """Opens an ADB transport per inspection (a replugged phone gets a fresh connection)."""

    def __init__(self, open_transport: Callable[[], Any], describe: str) -> None:
        self._open = open_transport
        self.describe = describe
        self._transport: Any = None

    def _wrap(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (PhoneDisconnected, PhoneNotFound, OSError) as exc:
            self._drop()
            raise DeviceLost(f"phone ({self.describe}): {exc}") from exc
        except PhoneUnauthorized as exc:
            self._drop()
            raise StepFailed(
                f"phone: {exc}; accept the USB debugging prompt on the phone and resume"
            ) from exc
        except PhoneError as exc:
            raise StepFailed(f"phone: {exc}") from exc

    def _drop(self) -> None:
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close()
            self._transport = None

    def connect(self) -> dict[str, Any]:
        self._drop()
        self._transport = self._wrap(self._open)
        return {
            "serial": str(getattr(self._transport, "serial", self.describe)),
            "transport": type(self._transport).__name__,
        }

    def probe(self) -> dict[str, Any]:
        if self._transport is None:
            self.connect()
        report = self._wrap(lambda: probe_phone(self._transport))
        data: dict[str, Any] = report.to_dict()
        return data

    def screen_off(self) -> ScreenReading:
        return self._screen(phone_screen_off)

    def screen_on(self) -> ScreenReading:
        return self._screen(phone_screen_on)

    def _screen(self, switch: Callable[[AdbTransport], DisplayReading]) -> ScreenReading:
        if self._transport is None:
            self.connect()
        reading: DisplayReading = self._wrap(lambda: switch(self._transport))
        if reading.state is None:
            return ScreenReading(ScreenState.UNKNOWN, reading.unknown)
        return ScreenReading(ScreenState(reading.state.value))

    def close(self) -> None:
        self._drop()


class CameraAdapter:
    """A camera behind ``CameraPort``; ``size``: the resolution asked for at every capture (a real
    camera delivers its nearest mode; None: whatever it is set to, as a simulated camera is)."""

    def __init__(self, camera: Camera, size: tuple[int, int] | None = None) -> None:
        self.camera = camera
        self.size = size

    def capture(self) -> np.ndarray:
        try:
            if self.size is None:
                image: np.ndarray = self.camera.capture().image
            else:
                image = self.camera.capture(*self.size).image
        except CameraError as exc:
            raise DeviceLost(f"camera: {exc}") from exc
        return image

    def set_scene(self, kind: str | None, side: str | None, angle: float | None) -> None:
        """Turn the simulated phone over (screen/back); the rig link already turns the table."""
        if not isinstance(self.camera, SimulatedCamera):  # the side camera follows the rig link alone
            return
        item = self.camera.item
        if item is not None and kind == "phone" and side in ("screen", "back") and item.side != side:
            self.camera.set_item(item.kind, seed=item.seed, side=side, defects=item.defects, model=item.model)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.camera.close()


class GraderAdapter:
    """``inspector.grading.Grader`` behind ``GraderPort``."""

    def __init__(self, grader: Grader) -> None:
        self.grader = grader

    def supports(self, kind: str) -> bool:
        return kind in self.grader.models

    def grade(
        self,
        image: np.ndarray,
        kind: str,
        side: str,
        phone_model: str | None = None,
        measured_elsewhere: tuple[str, ...] = (),
    ) -> GradeOutcome:
        if kind == "phone" and side == EDGE:
            return self._grade_edge(image)
        res = self.grader.grade(
            image,
            kind,
            side if kind == "phone" else "screen",
            phone_model=phone_model,
            measured_elsewhere=measured_elsewhere,
        )
        data = res.to_dict()
        model = data.get("model") or {}
        versions = {
            f"{kind}_model": f"{model.get('name')} {model.get('version')} sha256:{model.get('sha256')}"
        }
        if data.get("scale"):
            versions[f"{kind}_scale"] = " ".join(str(v) for v in data["scale"].values())
        measurements = _integer_units(data.get("measurements") or {})
        measurements["damage_score_pct"] = round(float(data.get("damage_score", 0.0)) * 100)
        scale = self.grader.scales[kind]
        findings = [_finding(n, d) for n, d in enumerate([*res.defects, *res.suspected], start=1)]
        for f in findings[len(res.defects) :]:
            f["suspected"] = True  # marked, not counted: the operator's confirmation makes it count
        return GradeOutcome(
            str(res.grade),
            [str(r) for r in res.reasons],
            _jsonable(measurements),
            res.overlay_png(),
            versions,
            rank=scale.grade_index(res.grade),
            caveats=[str(c) for c in res.caveats],
            findings=findings,
            damaged=bool(res.damage.flagged) if res.damage is not None else None,
            damage_pct=round(100 * float(res.damage.probability)) if res.damage is not None else None,
            item_found=bool(res.item_found),
            item_quad=[[round(float(x)), round(float(y))] for x, y in res.item_quad],
        )

    def _grade_edge(self, image: np.ndarray) -> GradeOutcome:
        """A side photo: the frame's outline measured (``grade_edge``), graded on the phone scale."""
        res = grade_edge(image, self.grader.scales["phone"])
        if res.grade is None:
            raise ValueError(res.reasons[0])
        findings = [_finding(n, d) for n, d in enumerate(res.defects, start=1)]
        measurements = _integer_units({cls: m.to_dict() for cls, m in res.measurements.items()})
        return GradeOutcome(
            res.grade,
            list(res.reasons),
            _jsonable(measurements),
            res.overlay_png(),
            {"phone_edge": METHOD},
            rank=res.index,
            findings=findings,
            item_found=True,
        )

    def regrade(
        self,
        kind: str,
        side: str,
        findings: list[dict[str, Any]],
        *,
        damaged: bool | None,
        damage_pct: int,
        item_found: bool,
    ) -> GradeOutcome:
        scale = self.grader.scales[kind]
        marks = [Mark(str(f["cls"]), int(f["length_um"]) / 1000, int(f["area_um2"]) / 1e6) for f in findings]
        out = regrade(scale, side, marks, damaged=damaged, probability=damage_pct / 100, found=item_found)
        measurements = _integer_units({cls: m.to_dict() for cls, m in out.measurements.items()})
        return GradeOutcome(out.grade, out.reasons, _jsonable(measurements), rank=out.index)

    def overlay(self, image: np.ndarray, quad: list[list[int]], findings: list[dict[str, Any]]) -> bytes:
        marks = [(str(f["cls"]), np.asarray(f["outline"], np.int32)) for f in findings if f.get("outline")]
        return encode_png(draw_overlay(image, quad, marks))


class CertifierAdapter:
    """``inspector.certificates.issue_certificate`` behind ``CertifierPort``."""

    def __init__(self, module: Any, settings: Settings, warranty: WarrantyPort | None = None) -> None:
        self.module = module
        self.settings = settings
        self.warranty = warranty

    def exists(self, session: Session, human_id: str) -> bool:
        return self.module.get_certificate(session, human_id) is not None

    def identity_matches(self, session: Session, human_id: str, value: str) -> bool:
        return bool(self.module.identity_matches(session, human_id, value))

    def certified_weight_mg(self, session: Session, human_id: str) -> int | None:
        rec = self.module.get_certificate(session, human_id)
        if rec is None:
            return None
        mg = (rec.credential.get("credentialSubject", {}).get("identity") or {}).get("weight_mg")
        return mg if isinstance(mg, int) else None

    def issue(self, session: Session, inspection: dict[str, Any]) -> IssuedCert:
        request_cls = getattr(self.module, "CertificateRequest", None)
        request: Any = inspection
        if request_cls is not None:
            plan = self.warranty.plan_terms(inspection["item_kind"]) if self.warranty is not None else None
            request = certificate_request(request_cls, inspection, self.settings, plan)
        enrolment = current_enrolment(session, self.settings.station_id)
        issued: Any
        if enrolment is not None:  # signed for the platform and queued for it, in this transaction
            issued = issue_for_platform(session, request, self.settings, enrolment)
        else:
            issued = self.module.issue_certificate(session, request, settings=self.settings)
        human_id = str(getattr(issued, "human_id", None) or issued["human_id"])
        url = getattr(issued, "url", None) or self.module.certificate_url(self.settings, human_id)
        qr = None
        if hasattr(self.module, "qr_svg"):
            with contextlib.suppress(Exception):
                qr = self.module.qr_svg(str(url))
        return IssuedCert(human_id, str(url), qr)


class OutboxPublication:
    """Whether the platform has a certificate yet, from this station's outbox (``PublicationPort``)."""

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id

    def publication(self, session: Session, human_id: str) -> tuple[Publication, str] | None:
        return publication(session, self.station_id, human_id)


def _finding(n: int, d: Any) -> dict[str, Any]:
    """One marked defect for the review (integers only: it may get signed)."""
    return {
        "n": n,
        "cls": str(d.cls),
        "length_um": round(float(d.length_mm) * 1000),
        "area_um2": round(float(d.area_mm2) * 1e6),
        "box": [int(v) for v in cv2.boundingRect(d.contour_frame)],  # x, y, width, height
        "outline": outline_points(d.contour_frame),
    }


def _integer_units(measurements: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per class, the integer units only (count, micrometres, um^2): they get signed."""
    return {cls: {k: v for k, v in m.items() if isinstance(v, int)} for cls, m in measurements.items()}


def _encode_png(image: Any) -> bytes | None:
    ok, buf = cv2.imencode(".png", np.asarray(image))
    return bytes(buf.tobytes()) if ok else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def load_grader(hw: StationHardware) -> None:
    """Load every kind's model that is there; a kind without one (a model file missing or corrupt,
    a scale file invalid) is graded as 'not graded', and the devices panel says why."""
    models: dict[str, Any] = {}
    scales: dict[str, Any] = {}
    item_damage: dict[str, Any] = {}
    problems = []
    for kind in KINDS:
        try:
            one = Grader.load(kinds=(kind,))
        except (ModelError, GradeScaleError) as exc:
            problems.append(f"{kind}: {type(exc).__name__}: {exc}")
            continue
        models.update(one.models)
        scales.update(one.scales)
        item_damage.update(one.item_damage)  # the phone's item-level head: crack marks count only with it
    if models:
        hw.grader = GraderAdapter(Grader(models, scales, item_damage))
    if problems:
        hw.missing["grader"] = "grading unavailable for " + "; ".join(problems)


def load_certifier(hw: StationHardware, settings: Settings) -> None:
    hw.warranty = WarrantyDesk(settings.station_id)
    hw.certifier = CertifierAdapter(certificates, settings, hw.warranty)
    hw.publication = OutboxPublication(settings.station_id)


class WarrantyDesk:
    """The ``warranty`` package behind ``WarrantyPort``: plans for new certificates, and returned
    items handed to the claim waiting for their re-inspection (here, or on the platform)."""

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id

    def plan_terms(self, kind: str) -> PlanTerms | None:
        try:
            plan = default_plan_for(kind)
        except PlanError:
            return None
        return PlanTerms(str(plan.plan_id), int(plan.days), plan.identity.weight_tolerance_mg)

    def record_return(self, session: Session, item: ReturnedItem) -> str:
        if current_enrolment(session, self.station_id) is not None:  # claims live on the platform
            return (
                f"sent to the platform with certificate {item.new_certificate_id}; the claim on "
                f"{item.certificate_id} there takes it when it arrives"
            )
        claim = find_open_claim(session, item.certificate_id, EVERYTHING)
        if claim is None:
            return f"no open claim on {item.certificate_id}"
        if claim.state != "received":
            return f"claim {claim.ref} is {claim.state}, not waiting for a re-inspection"
        data = {
            "inspection_id": item.inspection_id,
            "certificate_human_id": item.new_certificate_id,
            "grade": item.grade,
            "photos": item.photos[:24],
            "defects": item.defects[:200],
            "weight_mg": item.weight_mg,
            "notes": item.notes,
        }
        try:
            with session.begin_nested():
                record_reinspection(session, claim.ref, data, Actor(item.operator, "operator"))
        except (WarrantyError, ValidationError) as exc:  # the certificate stands; staff see why
            log.warning("re-inspection not recorded on claim %s: %s", claim.ref, exc)
            return f"claim {claim.ref} not updated: {exc}"
        return f"recorded on claim {claim.ref}"


def place_simulated_item(sim: SimulatedStation, kind: str, *, seed: int | None = None) -> None:
    """Make sure a simulated item of ``kind`` is on the station (the demo places its own)."""

    cam = getattr(sim, "camera", None)
    item = getattr(cam, "item", None)
    if item is not None and item.kind == kind:
        return
    seed = random.randrange(1000) if seed is None else seed
    if kind == "phone":
        sim.put_phone(seed=seed)
    else:
        sim.put_jewelry(mg=random.randrange(1_500, 15_000), seed=seed)


def build_hardware(
    settings: Settings, *, simulation: Any = None, grader: bool = True, certifier: bool = True
) -> StationHardware:
    """Devices for this station. ``simulation``: a started ``SimulatedStation`` to drive (else one is
    started when ``settings.simulate`` is on and closed with the hardware)."""
    hw = StationHardware()
    sim = simulation
    if sim is None and settings.simulate:
        sim = SimulatedStation(
            camera_size=(settings.sim_camera_width, settings.sim_camera_height),
            side_camera_size=(settings.sim_side_camera_width, settings.sim_side_camera_height),
        ).start()
        hw.closers.append(sim.stop)
    hw.simulation = sim
    if sim is not None:
        hw.prepare = lambda kind: place_simulated_item(sim, kind)

    rig_port = sim.rig_port if sim is not None else settings.rig_port
    scale_port = sim.scale_port if sim is not None else settings.scale_port
    if rig_port:
        try:
            rig = RigDriver(rig_port, baud=settings.rig_baud)
            rig.connect()
            adapter = RigAdapter(rig)
            hw.rig = adapter
            hw.closers.append(adapter.close)
        except Exception as exc:  # the station still serves pages and the other devices
            hw.missing["rig"] = f"rig controller on {rig_port}: {exc}"
    else:
        hw.missing["rig"] = "no rig port configured (INSPECTOR_RIG_PORT)"
    if scale_port:
        try:
            scale = MtSicsScale(scale_port, baudrate=settings.scale_baud)
            scale.connect()
            sadapter = ScaleAdapter(scale)
            hw.scale = sadapter
            hw.closers.append(sadapter.close)
        except Exception as exc:  # see above
            hw.missing["scale"] = f"balance on {scale_port}: {exc}"
    else:
        hw.missing["scale"] = "no balance port configured (INSPECTOR_SCALE_PORT)"

    if sim is not None and sim.phone_address:
        host, _, port = str(sim.phone_address).rpartition(":")
        hw.phone = PhoneAdapter(lambda: AdbTcpTransport(host, int(port), timeout=5.0), sim.phone_address)
    elif sim is None:
        serial = settings.adb_serial

        def open_usb() -> Any:
            target = serial
            if target is None:
                ready = [d for d in list_adb_devices() if d.state == "device"]
                if not ready:
                    raise PhoneNotFound("no phone on USB (adb devices lists none ready)")
                target = ready[0].serial
            return AdbServerTransport(target)

        hw.phone = PhoneAdapter(open_usb, serial or "first USB phone")
    if isinstance(hw.phone, PhoneAdapter):
        hw.closers.append(hw.phone.close)

    if sim is not None and sim.camera is not None:
        hw.camera = CameraAdapter(sim.camera)
    elif sim is None:
        try:
            size = (settings.camera_width, settings.camera_height)
            hw.camera = CameraAdapter(open_camera(settings.camera_source), size=size)
        except Exception as exc:  # no camera: photo steps stop with this reason
            hw.missing["camera"] = f"camera {settings.camera_source}: {exc}"
    if isinstance(hw.camera, CameraAdapter):
        hw.closers.append(hw.camera.close)
    if sim is not None and sim.side_camera is not None:
        hw.side_camera = CameraAdapter(sim.side_camera)
    elif sim is None and settings.side_camera_source is None:
        hw.missing["side_camera"] = "no side camera configured (INSPECTOR_SIDE_CAMERA_SOURCE)"
    elif sim is None and settings.side_camera_source is not None:
        try:
            side_size = (settings.side_camera_width, settings.side_camera_height)
            hw.side_camera = CameraAdapter(open_camera(settings.side_camera_source), size=side_size)
        except Exception as exc:  # no side camera: the edge photos stop with this reason
            hw.missing["side_camera"] = f"side camera {settings.side_camera_source}: {exc}"
    if isinstance(hw.side_camera, CameraAdapter):
        hw.closers.append(hw.side_camera.close)

    if grader:
        load_grader(hw)
    if certifier:
        load_certifier(hw, settings)
    return hw
