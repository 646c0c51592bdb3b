"""What a streamer sees on the station: grades of rendered station frames, by what is on the mat.

Plain rows (``--n`` renders each, seeds from 50,000; random pose, light and distractors: glare,
reflections, fingerprints, oil, dust, line wallpapers): clean phones screen up and back up, phones
with one scratch, cracked phones, clean jewels. Harder rows (``--n-hard`` renders each, the same
seeds) add what real photos have: text, clocks, icons, keypads, photos and sharp art on lit screens,
a textured cluttered desk around the mat; backs of the catalogued models (the grader is told the
model, as the station tells it the probe's answer) and of unknown ones (found by the generic finder).
For clean items, ``on known parts`` counts the renders with a mark (counted or only suspected) on a
known feature: lenses, flash, sensors, logo, camera island, anywhere on a clean lit display, or on an
intact stone of a jewel.
The demo line grades the demo's phone (seed 7) clean, with one scratch and cracked.

Secondary to the real photos (``models.evaluate_real``): renders are where lenses, logos and screen
content can be placed on purpose, not where a model is judged.

    python -m models.station_renders [--n 40] [--n-hard 200] [--only TEXT] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspector.grading import Grader
from inspector.grading.grader import GradeResult
from inspector.grading.known_features import catalogue
from models.synth.scene import RenderedScene, render_scene
from models.synth.station_frames import station_frame

SEED0 = 50_000
WIDTH = 1280
DEMO_SEED = 7  # the phone ``inspector demo`` puts on the station (its --seed default)
DEMO_MODEL = "Pixel 6"  # what the demo's simulated phone reports
KNOWN_PARTS = ("lens", "flash", "sensor", "logo", "camera_island", "display", "intact_stone")


@dataclass(frozen=True)
class Row:
    label: str
    kind: str
    side: str
    defects: tuple[str, ...]
    wanted: tuple[str, ...]  # the grades a buyer would expect
    harder: bool = False
    model: bool = False  # a catalogued model's back, and the grader is told which
    screen_on: bool = True  # False: the glass as the station photographs it, the display switched off


ROWS = (
    Row("clean phone, screen up", "phone", "screen", (), ("A",)),
    Row("clean phone, back up (lenses, flash, logo)", "phone", "back", (), ("A",)),
    Row("phone with one scratch", "phone", "screen", ("scratch",), ("B", "C")),
    Row("cracked phone", "phone", "screen", ("crack",), ("D",)),
    Row("clean jewel", "jewelry", "screen", (), ("A",)),
)
HARD_ROWS = (
    Row("harder: clean phone, screen up (text, icons, keypads, photos)", "phone", "screen", (), ("A",), True),
    Row("harder: clean phone, back up, catalogued model", "phone", "back", (), ("A",), True, True),
    Row("harder: clean phone, back up, unknown model", "phone", "back", (), ("A",), True),
    Row(
        "harder: clean phone, screen off (as the station photographs the glass)",
        "phone",
        "screen",
        (),
        ("A",),
        True,
        screen_on=False,
    ),
    Row("harder: phone with one scratch", "phone", "screen", ("scratch",), ("B", "C"), True),
    Row("harder: cracked phone", "phone", "screen", ("crack",), ("D",), True),
    Row(
        "harder: cracked phone, screen off (as the station photographs the glass)",
        "phone",
        "screen",
        ("crack",),
        ("D",),
        True,
        screen_on=False,
    ),
    Row("clean jewel (never D)", "jewelry", "screen", (), ("A", "B", "C"), True),
)


def render(row: Row, seed: int) -> tuple[RenderedScene, str | None]:
    """The row's render of ``seed`` and the model the grader is told (None: not known)."""
    rng = np.random.default_rng(seed)
    models = sorted(catalogue())
    model = models[seed % len(models)] if row.model else None
    scene = station_frame(
        row.kind,
        seed,
        rng,
        row.defects,
        WIDTH,
        side=row.side,
        screen_on=row.screen_on,
        harder=row.harder,
        phone_model=model,
    )
    return scene, model


def marked_on_known_parts(scene: RenderedScene, res: GradeResult) -> bool:
    """Does any mark, counted or only suspected, overlap a known feature of the rendered item?"""
    known = np.zeros(scene.image.shape[:2], np.uint8)
    parts = {**scene.features, **scene.landmarks}
    for name in KNOWN_PARTS:
        if name in parts:
            known |= parts[name]
    for d in [*res.defects, *res.suspected]:
        m = np.zeros_like(known)
        cv2.fillPoly(m, [d.contour_frame], 1)
        if (m & known).any():
            return True
    return False


def grade_counts(grader: Grader, row: Row, n: int) -> tuple[Counter[str], int]:
    """Grades of the row's ``n`` renders, and how many of them (clean rows) have a mark on a known part."""
    counts: Counter[str] = Counter()
    on_known = 0
    for i in range(n):
        scene, model = render(row, SEED0 + i)
        side = row.side if row.kind == "phone" else "screen"
        res = grader.grade(scene.image, row.kind, side, phone_model=model)
        counts[res.grade] += 1
        on_known += int(not row.defects and marked_on_known_parts(scene, res))
    return counts, on_known


def demo_grades(grader: Grader, screen_on: bool = True) -> list[str]:
    """The demo's phone clean, with one scratch and cracked, screen up as the station frames it (the
    station grades the glass with the display off: ``screen_on=False``); then its clean back, graded
    with the model its probe reports."""
    out = []
    for defects in ((), ("scratch",), ("crack",)):
        rng = np.random.default_rng(DEMO_SEED)
        scene = station_frame("phone", DEMO_SEED, rng, defects, WIDTH, screen_on=screen_on)
        out.append(grader.grade(scene.image, "phone", "screen").grade)
    back = render_scene(
        "phone", seed=DEMO_SEED, side="back", width=WIDTH, height=WIDTH * 9 // 16, phone_model=DEMO_MODEL
    )
    out.append(grader.grade(back.image, "phone", "back", phone_model=DEMO_MODEL).grade)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="renders per plain row (default 40)")
    ap.add_argument("--n-hard", type=int, default=200, help="renders per harder row (default 200)")
    ap.add_argument("--only", default=None, help="only the rows whose label contains this text")
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    grader = Grader.load(models_dir=args.models_dir)
    rows = [(r, args.n) for r in ROWS] + [(r, args.n_hard) for r in HARD_ROWS]
    print("| rendered | wanted | as wanted | grades | clean, marked on known parts |\n|---|---|---|---|---|")
    for row, n in rows:
        if args.only is not None and args.only not in row.label:
            continue
        counts, on_known = grade_counts(grader, row, n)
        good = sum(counts[g] for g in row.wanted)
        grades = ", ".join(f"{g} {c}" for g, c in sorted(counts.items()))
        known = f"{on_known} / {n}" if not row.defects else "-"
        print(f"| {row.label} | {' or '.join(row.wanted)} | {good} / {n} | {grades} | {known} |", flush=True)
    if args.only is not None:
        return
    print()
    for screen_on, how in ((False, "display off, as the station grades the glass"), (True, "display lit")):
        clean, scratch, crack, back = demo_grades(grader, screen_on)
        print(
            f"demo phone (seed {DEMO_SEED}), screen up, {how}: clean {clean}, one scratch {scratch}, "
            f"cracked {crack}; clean back ({DEMO_MODEL}) {back}"
        )


if __name__ == "__main__":
    main()
