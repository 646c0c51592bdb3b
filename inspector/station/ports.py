"""What the inspection pipeline needs from the outside world, and nothing more.

The pipeline is written against these small protocols; ``inspector.station.hardware``
adapts the real drivers (``devices.*``), the grader (``inspector.grading``) and the
certificate issuer (``inspector.certificates``) to them. Tests and the benchmark can plug
in anything of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
from sqlmodel import Session


class DeviceLost(Exception):
    """A device went away mid-step (cable pulled, port vanished): the inspection is resumable."""


class StepFailed(Exception):
    """A step could not produce a result for a reason that is not a lost device."""


class RigPort(Protocol):
    def set_light(self, percent: float) -> None: ...

    def rotate_to(self, angle: float) -> None: ...

    def home(self) -> None: ...

    def identity(self) -> dict[str, Any]: ...

    def on_start_button(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) whenever the rig's start button is pressed."""


class ScalePort(Protocol):
    def stable_weight_mg(self) -> int: ...

    def identity(self) -> dict[str, Any]: ...


class ScreenState(StrEnum):
    """What a phone's display shows, as far as a photo of its glass is concerned."""

    ON = "on"
    """Lit: wallpaper, icons and text are in the photo."""
    OFF = "off"
    """Dark glass: a crack shows as a bright line under the light box."""
    DOZING = "dozing"
    """Asleep with an always-on display: a dim clock stays on the glass."""
    UNKNOWN = "unknown"
    """The phone does not say (``ScreenReading.detail`` says why)."""


@dataclass(frozen=True)
class ScreenReading:
    """The display's state after the station switched it, and why it is unknown when it is."""

    state: ScreenState
    detail: str | None = None


class PhonePort(Protocol):
    def connect(self) -> dict[str, Any]:
        """Find the phone on USB; returns what identifies the connection (serial, transport)."""

    def probe(self) -> dict[str, Any]:
        """The full phone report (``devices.phone.PhoneReport.to_dict()`` shape)."""

    def screen_off(self) -> ScreenReading:
        """Switch the display off; raises DeviceLost (no phone) or StepFailed (the phone refused)."""

    def screen_on(self) -> ScreenReading:
        """Switch the display back on; raises as ``screen_off``."""


class CameraPort(Protocol):
    def capture(self) -> np.ndarray:
        """One BGR frame of what is on the station now."""

    def set_scene(self, kind: str | None, side: str | None, angle: float | None) -> None:
        """Tell a simulated camera what is on the turntable (no-op for a real camera)."""


EDGE_SIDE = "edge"
"""The side of a side-camera photo of a phone's frame."""
EDGE_CLASSES = ("chip",)
"""What the edge photos measure (the phone scale's chip/dent class)."""


@dataclass
class GradeOutcome:
    grade: str
    reasons: list[str]
    measurements: dict[str, Any] = field(default_factory=dict)
    overlay_png: bytes | None = None
    model_versions: dict[str, str] = field(default_factory=dict)
    rank: int | None = None  # position on the grade scale, 0 = best (for the worst-of rule)
    caveats: list[str] = field(default_factory=list)  # reasons about the model, not this photo
    # Each marked defect, for the operator's review: {"n", "cls", "length_um", "area_um2", "box"
    # [x, y, w, h] and "outline" [[x, y], ...] in photo pixels}; integers only, as everything that
    # may get signed.
    findings: list[dict[str, Any]] = field(default_factory=list)
    damaged: bool | None = None  # the item-level verdict (phones); None: the kind has no such model
    damage_pct: int | None = None  # its probability, in per cent
    item_found: bool = True
    item_quad: list[list[int]] = field(default_factory=list)  # the item's box, TL TR BR BL in photo pixels


class GraderPort(Protocol):
    def grade(
        self,
        image: np.ndarray,
        kind: str,
        side: str,
        phone_model: str | None = None,
        measured_elsewhere: tuple[str, ...] = (),
    ) -> GradeOutcome:
        """``phone_model``: the phone model the probe reported, whose known features are not graded;
        ``measured_elsewhere``: defect classes other photos of the item measure (a phone's chips on
        the side camera's photos), so this photo's model need not warn that it rarely finds them."""
        ...

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
        """The grade of one photo from the findings the operator kept (the scale's own rule)."""

    def overlay(self, image: np.ndarray, quad: list[list[int]], findings: list[dict[str, Any]]) -> bytes:
        """The marked photo (PNG) drawn again with only ``findings`` (their ``outline``)."""


@dataclass
class IssuedCert:
    human_id: str
    url: str
    qr_svg: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CertifierPort(Protocol):
    def issue(self, session: Session, inspection: dict[str, Any]) -> IssuedCert:
        """Issue a certificate for a finished inspection (within ``session``'s transaction)."""

    def exists(self, session: Session, human_id: str) -> bool:
        """Is there a certificate with this id (for re-inspections)?"""

    def identity_matches(self, session: Session, human_id: str, value: str) -> bool:
        """Is ``value`` (IMEI or serial) the one certified on ``human_id``?"""

    def certified_weight_mg(self, session: Session, human_id: str) -> int | None:
        """The weight a jewelry certificate states."""


@dataclass(frozen=True)
class PlanTerms:
    """What the station needs of an item kind's default warranty plan."""

    plan_id: str
    days: int
    weight_tolerance_mg: int | None  # how far a re-weighed piece may differ from its certificate


@dataclass(frozen=True)
class ReturnedItem:
    """A returned item's re-inspection, for the warranty claim that waits for it."""

    certificate_id: str  # the original certificate, the one the claim is on
    inspection_id: str
    new_certificate_id: str
    grade: str
    photos: list[str]  # SHA-256 of each photo, in the photo store
    defects: list[dict[str, Any]]
    weight_mg: int | None
    notes: str
    operator: str


class WarrantyPort(Protocol):
    def plan_terms(self, kind: str) -> PlanTerms | None:
        """The default plan a new certificate of this kind carries; None when there is none."""

    def record_return(self, session: Session, item: ReturnedItem) -> str:
        """Hand a re-inspection to the claim waiting for it (in a savepoint of ``session``); says in
        words what happened, for the step result staff read."""


class Publication(StrEnum):
    """Where an enrolled station's certificate stands with the platform (what the overlay shows)."""

    WAITING = "waiting"
    """Queued: buyers cannot open it yet; the stream says it is being published."""
    ON_PLATFORM = "on_platform"
    """The platform has it (and the station its inclusion proof): its QR code may be shown."""
    REFUSED = "refused"
    """The platform refused it for good; it is kept here with the reason and never shown as a QR code."""


class PublicationPort(Protocol):
    def publication(self, session: Session, human_id: str) -> tuple[Publication, str] | None:
        """Where the certificate stands with the platform, and the platform's reason when it refused
        it. None: a stand-alone certificate (no platform)."""


@dataclass
class StationHardware:
    """The devices one station drives; ``None`` where the station has no such device."""

    rig: RigPort | None = None
    scale: ScalePort | None = None
    phone: PhonePort | None = None
    camera: CameraPort | None = None  # the top camera
    side_camera: CameraPort | None = None  # the low-angle side camera (a phone's frame edges)
    grader: GraderPort | None = None
    certifier: CertifierPort | None = None
    publication: PublicationPort | None = None
    warranty: WarrantyPort | None = None
    missing: dict[str, str] = field(default_factory=dict)  # component -> why it is unavailable
    simulation: Any = None  # the SimulatedStation behind the devices, when simulated
    # Called when an inspection of a kind starts; a simulated station puts such an item in place.
    prepare: Callable[[str], None] | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for fn in reversed(self.closers):
            try:
                fn()
            except Exception:  # closing must go on for the other devices
                continue
        self.closers.clear()
