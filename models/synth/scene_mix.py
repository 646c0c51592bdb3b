"""How a phone's scenes are photographed beyond the plain render: shared by training (``scene_mix`` of a
recipe), the rule's fitting (``models.calibrate``) and the held-out renders (``models.evaluate``), so
the rule is fitted and judged on the photos the grader will be given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inspector.grading.known_features import catalogue


@dataclass(frozen=True)
class SceneMix:
    """How a phone's training scenes are photographed beyond the plain render (a lit screen of gradients,
    a plain mat, an unnamed back): the share of screens photographed with the display off (how the
    station photographs the glass), of scenes with screen content (text, keypads, icons, photos, sharp
    art) on a cluttered desk, and of backs drawn as a catalogued model (lenses, flash, logo where that
    model has them). Drawn from their own random stream, so with every share 0 the scenes are exactly
    those of a recipe without a mix."""

    screen_off: float = 0.0
    harder: float = 0.0
    catalogued: float = 0.0

    @classmethod
    def parse(cls, shares: dict[str, float] | None) -> SceneMix:
        unknown = set(shares or {}) - {"screen_off", "harder", "catalogued"}
        if unknown:
            raise ValueError(f"scene_mix has no {sorted(unknown)} (it takes screen_off, harder, catalogued)")
        mix = cls(**(shares or {}))
        if not all(0.0 <= v <= 1.0 for v in (mix.screen_off, mix.harder, mix.catalogued)):
            raise ValueError(f"scene_mix shares must lie in 0..1, not {shares}")
        return mix

    @property
    def tag(self) -> str:
        """For cache file names: scenes of another mix are other pixels."""
        if self == SceneMix():
            return ""
        return f"_mix{self.screen_off:g}-{self.harder:g}-{self.catalogued:g}"

    def draw(self, seed: int, side: str) -> dict[str, Any]:
        """The ``render_scene`` settings of scene ``seed`` photographed on ``side``."""
        if self == SceneMix():
            return {}
        rng = np.random.default_rng(seed + 8_000_000)
        off, harder, named = rng.random(3)
        models = sorted(catalogue())
        return {
            "screen_on": not (side == "screen" and off < self.screen_off),
            "harder": bool(harder < self.harder),
            "phone_model": models[seed % len(models)] if side == "back" and named < self.catalogued else None,
        }


STATION_MIX = SceneMix(screen_off=0.5, harder=0.5, catalogued=0.5)
"""The phones the grader is given: the station photographs the glass with the display off, hand-held
photos show a lit screen with content on a cluttered desk, and the probe names most backs' model.
Half of each, so neither photo style decides a rule fitted or judged on these renders alone."""
