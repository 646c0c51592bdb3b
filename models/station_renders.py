"""What a streamer sees on the station: grades of rendered station frames, by what is on the mat.

Five rows of ``--n`` renders each (seeds from 50,000, random pose, light and distractors: glare,
reflections, fingerprints, oil, dust, line wallpapers): clean phones screen up and back up (camera
lenses, flash, logo), phones with one scratch, cracked phones, clean jewels. Secondary to the real
photos (``models.evaluate_real``): renders are where lenses, logos and wallpapers can be placed on
purpose, not where a model is judged.

    python -m models.station_renders [--n 40] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.grading import Grader
from models.synth.station_frames import station_frame

SEED0 = 50_000
WIDTH = 1280


@dataclass(frozen=True)
class Row:
    label: str
    kind: str
    side: str
    defects: tuple[str, ...]
    wanted: tuple[str, ...]  # the grades a buyer would expect


ROWS = (
    Row("clean phone, screen up", "phone", "screen", (), ("A",)),
    Row("clean phone, back up (lenses, flash, logo)", "phone", "back", (), ("A",)),
    Row("phone with one scratch", "phone", "screen", ("scratch",), ("B", "C")),
    Row("cracked phone", "phone", "screen", ("crack",), ("D",)),
    Row("clean jewel", "jewelry", "screen", (), ("A",)),
)


def grade_counts(grader: Grader, row: Row, n: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for i in range(n):
        seed = SEED0 + i
        scene = station_frame(row.kind, seed, np.random.default_rng(seed), row.defects, WIDTH, side=row.side)
        counts[grader.grade(scene.image, row.kind, row.side if row.kind == "phone" else "screen").grade] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="renders per row (default 40)")
    ap.add_argument("--models-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    grader = Grader.load(models_dir=args.models_dir)
    print("| rendered | wanted | as wanted | grades |\n|---|---|---|---|")
    for row in ROWS:
        counts = grade_counts(grader, row, args.n)
        good = sum(counts[g] for g in row.wanted)
        grades = ", ".join(f"{g} {c}" for g, c in sorted(counts.items()))
        print(f"| {row.label} | {' or '.join(row.wanted)} | {good} / {args.n} | {grades} |", flush=True)


if __name__ == "__main__":
    main()
