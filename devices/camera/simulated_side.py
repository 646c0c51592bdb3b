"""Simulated side camera: the station's low-angle view of the edge of the phone that faces it.

Same ``Camera`` interface and links as ``SimulatedCamera`` (turntable angle, light, the item; the
simulated station links its item to the top camera's, so both see the same phone). Frames come from
``models.synth.side_view``: the phone's frame as a band against the backdrop, with the chips and
dents that phone's seed puts on the edge in view; ``frame.meta["side_view"]`` carries the ground
truth (edge, millimetres per pixel, each chip/dent with its box). A piece of jewelry or an empty
turntable gives the bare backdrop: the side view is for phones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from devices.camera.base import CameraInfo
from devices.camera.simulated import SimulatedCamera, StationItem
from models.synth.side_view import render_side_view


class SimulatedSideCamera(SimulatedCamera):
    """Renders the side view; ``source`` names it in listings."""

    def __init__(
        self,
        item: StationItem | None = None,
        *,
        width: int = 1280,
        height: int = 720,
        source: str = "sim://station-side-camera",
    ) -> None:
        super().__init__(item, width=width, height=height, distractors=False, source=source)

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
        phone = item is not None and item.kind == "phone"
        view = render_side_view(
            seed=item.seed if item is not None else 0,
            angle_deg=angle,
            item_defects=item.defects if item is not None else (),
            light_level=light,
            width=w,
            height=h,
            phone=phone,
        )
        meta["side_view"] = view.meta()
        return view.image

    def info(self) -> CameraInfo:
        return CameraInfo(
            source=self.source,
            kind="simulated",
            width=self.width,
            height=self.height,
            backend="synthetic side view",
        )
