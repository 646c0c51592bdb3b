"""Frames as a station camera takes them, for everything that scores a model on renders.

Calibration, evaluation, probes and the candidate scorers' training all render the same kind of
frame: a 16:9 camera frame, the item at any angle, the light box anywhere from 40 % to full. The
caller draws the frame width, the defects and the side from its own generator (each in its own order,
which fixes which scenes its seeds render); this draws the pose and the light after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.synth.scene import RenderedScene, render_scene
from models.synth.scene_mix import STATION_MIX, SceneMix

FRAME_WIDTHS = (640, 960, 1280)
LIGHT_RANGE = (0.4, 1.0)  # training renders go darker (0.35) than anything the figures are taken on


def station_frame(
    kind: str,
    seed: int,
    rng: np.random.Generator,
    defects: Sequence[str],
    width: int,
    side: str = "screen",
    only_distractors: Sequence[str] | None = None,
    screen_on: bool = True,
    harder: bool = False,
    phone_model: str | None = None,
) -> RenderedScene:
    """One rendered frame of ``width`` x ``width`` * 9 / 16, its angle and light level drawn from ``rng``;
    ``screen_on=False`` photographs a phone's glass with the display switched off; ``harder`` adds
    screen content and a cluttered desk, ``phone_model`` draws that catalogued model's back."""
    return render_scene(
        kind,
        seed=seed,
        defects=defects,
        side=side,
        angle_deg=float(rng.uniform(0, 360)),
        light_level=float(rng.uniform(*LIGHT_RANGE)),
        width=width,
        height=width * 9 // 16,
        only_distractors=only_distractors,
        screen_on=screen_on,
        harder=harder,
        phone_model=phone_model,
    )


def station_shot(
    kind: str,
    seed: int,
    rng: np.random.Generator,
    defects: Sequence[str],
    width: int,
    side: str = "screen",
    only_distractors: Sequence[str] | None = None,
    mix: SceneMix = STATION_MIX,
) -> tuple[RenderedScene, str | None]:
    """``station_frame`` of a phone photographed as ``mix`` draws scene ``seed`` (a jewel as it is),
    and the catalogued model its back shows, which the grader is told (None: an unnamed phone)."""
    shot = mix.draw(seed, side) if kind == "phone" else {}
    scene = station_frame(kind, seed, rng, defects, width, side, only_distractors, **shot)
    return scene, shot.get("phone_model")
