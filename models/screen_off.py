"""Does the shipped phone grader grade the glass as well with the display off as with it on?

The station can turn a phone's screen off before the screen photo (issue 28): with the display off the
glass is a dark mirror under the light box and wallpapers, icons and text no longer look like cracks.
The shipped models were trained on lit (and some dark) screens, so before the flow switches the screen
off by default this grades the same scenes both ways: for each of clean, scratched and cracked phones,
``--n`` renders with the screen on and the same seeds (same phone, pose, light and defect) with it off.

    python -m models.screen_off [--n 40] [--seed0 50000] [--json out.json]

Prints the grade counts per condition and screen state, and the figures that decide the default:
clean phones graded A, cracked phones graded D (the lowest grade), scratched phones graded D.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inspector.grading import Grader
from models.cpu_share import add_threads_argument, use_threads
from models.synth.station_frames import FRAME_WIDTHS, station_frame

CONDITIONS: dict[str, tuple[str, ...]] = {"clean": (), "scratched": ("scratch",), "cracked": ("crack",)}
STATES = ("on", "off")
DEFAULT_SEED0 = 50_000  # clear of the phone training scenes (seeds 0 to about 3,000)


@dataclass
class Tally:
    """Grades given to one condition with the screen in one state."""

    grades: Counter[str] = field(default_factory=Counter)
    flagged: int = 0  # the item-level damage model called the phone damaged

    @property
    def n(self) -> int:
        return sum(self.grades.values())

    def share(self, grade: str) -> float:
        return self.grades[grade] / self.n if self.n else 0.0


def measure(grader: Grader, n: int, seed0: int) -> dict[str, dict[str, Tally]]:
    """Grade ``n`` screen photos per condition, each scene once lit and once dark (paired by seed)."""
    out = {cond: {state: Tally() for state in STATES} for cond in CONDITIONS}
    for ci, (cond, defects) in enumerate(CONDITIONS.items()):
        for i in range(n):
            seed = seed0 + ci * 10_000 + i
            for state in STATES:
                rng = np.random.default_rng(seed)  # the same pose, light and width both ways
                width = int(rng.choice(FRAME_WIDTHS))
                scene = station_frame("phone", seed, rng, defects, width, "screen", screen_on=state == "on")
                res = grader.grade(scene.image, "phone", "screen")
                tally = out[cond][state]
                tally.grades[res.grade] += 1
                tally.flagged += int(res.damage is not None and res.damage.flagged)
    return out


def to_dict(figures: dict[str, dict[str, Tally]]) -> dict[str, Any]:
    return {
        cond: {
            state: {"grades": dict(sorted(t.grades.items())), "flagged": t.flagged, "n": t.n}
            for state, t in by.items()
        }
        for cond, by in figures.items()
    }


def markdown(figures: dict[str, dict[str, Tally]], letters: list[str]) -> str:
    best, lowest = letters[0], letters[-1]
    rows = [
        "| phones | screen | " + " | ".join(letters) + " | damage model flags |",
        "|---|---|" + "---|" * len(letters) + "---|",
    ]
    for cond, by in figures.items():
        for state, t in by.items():
            counts = " | ".join(str(t.grades[g]) for g in letters)
            rows.append(f"| {cond} | {state} | {counts} | {t.flagged}/{t.n} |")
    summary = []
    for state in STATES:
        summary.append(
            f"screen {state}: clean graded {best} {figures['clean'][state].share(best):.0%}, "
            f"cracked graded {lowest} {figures['cracked'][state].share(lowest):.0%}, "
            f"scratched graded {lowest} {figures['scratched'][state].share(lowest):.0%}"
        )
    return "\n".join(rows) + "\n\n" + "\n".join(summary) + "\n" + f"verdict: {verdict(figures, letters)}\n"


def verdict(figures: dict[str, dict[str, Tally]], letters: list[str]) -> str:
    """Which screen state grades better: the one that keeps clean phones at the best grade and cracked
    ones at the lowest; "off" only when it is no worse on either."""
    best, lowest = letters[0], letters[-1]
    clean = {s: figures["clean"][s].share(best) for s in STATES}
    cracked = {s: figures["cracked"][s].share(lowest) for s in STATES}
    if clean["off"] >= clean["on"] and cracked["off"] >= cracked["on"]:
        return "off (no worse on clean or cracked phones)"
    return "on (grading with the screen off is worse: retrain on dark glass before switching)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m models.screen_off",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--n", type=int, default=40, help="phones per condition and screen state (default 40)")
    ap.add_argument("--seed0", type=int, default=DEFAULT_SEED0, help="first scene seed (default %(default)s)")
    ap.add_argument("--models", type=Path, default=None, help="folder of the ONNX models (default: shipped)")
    ap.add_argument("--json", type=Path, default=None, help="also write the counts to this JSON file")
    add_threads_argument(ap)
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be 1 or more")
    threads = use_threads(ap, args.threads)
    grader = Grader.load(models_dir=args.models, kinds=("phone",), threads=threads)
    letters = [g.grade for g in grader.scales["phone"].grades]
    figures = measure(grader, args.n, args.seed0)
    sys.stdout.write(markdown(figures, letters))
    if args.json is not None:
        args.json.write_text(json.dumps(to_dict(figures), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
