"""Simulated station camera: renders the item on the station as the real camera would see it.

It implements the same ``Camera`` interface as ``OpenCVCamera``. Frames come from the
procedural scene renderer the grading models are trained on
(``models.synth.scene.render_scene``), so the demo and the tests grade realistic frames
with known ground truth (``frame.meta["scene"]`` carries the masks and item outline).

The turntable angle, light level and whether a phone's display is lit come from whoever drives
the station: call ``set_angle``/``set_light``/``set_screen_on``, or ``link(angle=..., light=...,
screen_on=...)`` with callables (the simulated station links them to the simulated rig and phone,
so turning the rig turns the picture and switching the phone's screen off darkens its glass).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from devices.camera.base import CameraInfo, CameraNoFrame, CameraOpenError, Frame, check_resolution

KINDS = ("phone", "jewelry")


@dataclass(frozen=True)
class StationItem:
    """The item sitting on the station: what gets rendered."""

    kind: str
    seed: int = 0
    side: str = "screen"
    defects: tuple[str, ...] = ()
    model: str | None = None  # the phone model it is (its back is drawn from the feature catalogue)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seed": self.seed,
            "side": self.side,
            "defects": list(self.defects),
            "model": self.model,
        }


def _empty_station(width: int, height: int, light: float) -> np.ndarray:
    """An empty turntable under the light box (no item placed)."""
    img = np.full((height, width, 3), 70, np.float32)
    img[:] = (62, 66, 70)
    center = (width // 2, int(height * 0.55))
    axes = (int(width * 0.32), int(height * 0.36))
    cv2.ellipse(img, center, axes, 0, 0, 360, (120, 122, 125), -1, cv2.LINE_AA)
    cv2.ellipse(img, center, axes, 0, 0, 360, (90, 92, 95), max(2, width // 300), cv2.LINE_AA)
    img *= 0.25 + 0.75 * float(np.clip(light, 0.0, 1.0))
    return np.clip(img, 0, 255).astype(np.uint8)


class SimulatedCamera:
    """A camera that renders the station. ``source`` names it in listings."""

    def __init__(
        self,
        item: StationItem | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        distractors: bool = True,
        source: str = "sim://station-camera",
    ) -> None:
        self.source = source
        self.width = width
        self.height = height
        self.distractors = distractors
        self._item = item
        self._angle = 0.0
        self._light = 1.0
        self._screen_on = True
        self._angle_fn: Callable[[], float] | None = None
        self._light_fn: Callable[[], float] | None = None
        self._screen_fn: Callable[[], bool] | None = None
        self._item_fn: Callable[[], StationItem | None] | None = None
        self._lock = threading.Lock()
        self._opened = False
        self._count = 0
        self.unplugged = False
        self.fail_next = 0
        """Fault switch: the next N captures deliver no frame (like a flaky USB camera)."""

    # -- the station state --------------------------------------------------------------
    @property
    def item(self) -> StationItem | None:
        """What is on the station: from the item link when set (a second camera sees the first's)."""
        return self._item_fn() if self._item_fn is not None else self._item

    def set_item(
        self,
        kind: str,
        *,
        seed: int = 0,
        side: str = "screen",
        defects: Sequence[str] = (),
        model: str | None = None,
    ) -> StationItem:
        """Put an item on the station (``kind`` "phone" or "jewelry"; ``model``: the phone model, whose
        back is drawn as the feature catalogue has it; a model it does not know gets a generic back)."""
        if kind not in KINDS:
            raise ValueError(f"unknown item kind {kind!r}: expected one of {KINDS}")
        if side not in ("screen", "back"):
            raise ValueError(f"unknown side {side!r}: expected 'screen' or 'back'")
        item = StationItem(kind=kind, seed=int(seed), side=side, defects=tuple(defects), model=model)
        self._item = item
        return item

    def clear_item(self) -> None:
        self._item = None

    def set_angle(self, degrees: float) -> None:
        self._angle = float(degrees) % 360.0

    def set_light(self, level: float) -> None:
        """Light box level 0..1."""
        self._light = float(np.clip(level, 0.0, 1.0))

    def set_screen_on(self, on: bool) -> None:
        """Is the phone's display lit (its screen side shows wallpaper and icons) or dark glass?"""
        self._screen_on = bool(on)

    def link(
        self,
        *,
        angle: Callable[[], float] | None = None,
        light: Callable[[], float] | None = None,
        screen_on: Callable[[], bool] | None = None,
        item: Callable[[], StationItem | None] | None = None,
    ) -> None:
        """Read angle (degrees) / light (0..1) / the phone's display state / the item on the station
        from callables at every capture."""
        self._angle_fn = angle
        self._light_fn = light
        self._screen_fn = screen_on
        self._item_fn = item

    def screen_on(self) -> bool:
        """Whether a phone on the station has its display lit now (from the link when set)."""
        return bool(self._screen_fn()) if self._screen_fn is not None else self._screen_on

    def pose(self) -> tuple[float, float]:
        """Current (angle in degrees, light level 0..1), from the links when set."""
        angle = self._angle_fn() if self._angle_fn is not None else self._angle
        light = self._light_fn() if self._light_fn is not None else self._light
        return float(angle) % 360.0, float(np.clip(light, 0.0, 1.0))

    # -- fault switches -----------------------------------------------------------------
    def unplug(self) -> None:
        self.unplugged = True

    def replug(self) -> None:
        self.unplugged = False

    # -- Camera interface ---------------------------------------------------------------
    def open(self) -> None:
        if self.unplugged:
            raise CameraOpenError(f"camera source {self.source!r} could not be opened (unplugged)")
        self._opened = True

    def close(self) -> None:
        self._opened = False

    def __enter__(self) -> SimulatedCamera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def capture(self, width: int | None = None, height: int | None = None, *, strict: bool = False) -> Frame:
        if (width is None) != (height is None):
            raise ValueError("give both width and height, or neither")
        w = self.width if width is None else int(width)
        h = self.height if height is None else int(height)
        if w < 64 or h < 64:
            raise ValueError("the simulated camera renders at least 64x64 pixels")
        with self._lock:
            self.open()
            if self.fail_next > 0:
                self.fail_next -= 1
                raise CameraNoFrame(f"camera source {self.source!r} returned no frame")
            angle, light = self.pose()
            item = self.item
            lit = self.screen_on()
            meta: dict[str, Any] = {
                "kind": "simulated",
                "angle_deg": angle,
                "light_level": light,
                "screen_on": lit,
                "item": item.as_dict() if item else None,
            }
            image = self._render(item, angle, light, lit, w, h, meta)
            self._count += 1
            frame = Frame(
                image=image,
                source=self.source,
                index=self._count,
                requested=(w, h) if width is not None else None,
                meta=meta,
            )
        return check_resolution(frame, strict)

    def _render(
        self,
        item: StationItem | None,
        angle: float,
        light: float,
        lit: bool,
        w: int,
        h: int,
        meta: dict[str, Any],
    ) -> np.ndarray:
        """The frame of the station as this camera sees it; ground truth goes into ``meta``."""
        if item is None:
            return _empty_station(w, h, light)
        from models.synth.scene import known_phone_model, render_scene  # heavy: only when a frame is wanted

        scene = render_scene(
            item.kind,
            seed=item.seed,
            defects=item.defects,
            side=item.side,
            angle_deg=angle,
            light_level=light,
            width=w,
            height=h,
            distractors=self.distractors,
            screen_on=lit,
            phone_model=item.model if known_phone_model(item.model) else None,
        )
        meta["scene"] = scene
        meta["item_quad"] = scene.item_quad.tolist()
        return scene.image

    def info(self) -> CameraInfo:
        return CameraInfo(
            source=self.source, kind="simulated", width=self.width, height=self.height, backend="synthetic"
        )
