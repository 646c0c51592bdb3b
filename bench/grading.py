"""Grading latency per camera frame: find item + rectify/crop + ONNX inference + measure + grade.

    .venv/bin/python bench/grading.py [--frames 60] [--threads 2] [--sizes 1280x720 3840x2160]

Frames are rendered station scenes (phones with and without defects, jewelry) at each frame size (the
station's top camera is 3840x2160; the models were trained at the 1280x720 scale), each rendered
before its timing starts; the overlay drawing is timed separately (PNG encoding is not part of a frame).

The same 2-core machine has given 2.5-3x different figures hours apart, so every run prints its
time and a CPU reference (a fixed single-threaded pure-Python loop) to read the figures against.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.grading import Grader
from models.synth.scene import JEWELRY_CLASSES, PHONE_CLASSES, render_scene


def cpu_reference_ms(repeats: int = 5) -> float:
    """Best of ``repeats`` timings of a fixed pure-Python loop: the machine's speed right now."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def frame_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"frame size must be WIDTHxHEIGHT, got {text!r}") from None
    return w, h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60, help="frames per kind")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", type=frame_size, nargs="+", default=[(1280, 720), (3840, 2160)])
    args = ap.parse_args()
    grader = Grader.load(threads=args.threads)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"{now}; machine: {platform.machine()}, {args.threads} inference threads, "
        f"python {platform.python_version()}; CPU reference {cpu_reference_ms():.0f} ms (lower is faster)"
    )
    for width, height in args.sizes:
        for kind, classes in (("phone", PHONE_CLASSES), ("jewelry", JEWELRY_CLASSES)):
            bench_kind(grader, kind, classes, args.frames, width, height)


def bench_kind(
    grader: Grader, kind: str, classes: tuple[str, ...], frames: int, width: int, height: int
) -> None:
    """Grade ``frames`` rendered frames of one kind and size (the same seeds at every size)."""
    rng = np.random.default_rng(0)
    per_frame: list[float] = []
    overlay: list[float] = []
    stages: dict[str, list[float]] = {
        "locate": [],
        "infer": [],
        "item_damage": [],
        "measure": [],
        "grade": [],
    }
    for i in range(-3, frames):  # three warm-up frames first
        defects = [c for c in classes if rng.random() < 0.3]
        side = "screen" if i % 2 else "back"
        angle = float(rng.uniform(0, 360))
        img = render_scene(
            kind, seed=500 + i, defects=defects, side=side, angle_deg=angle, width=width, height=height
        ).image
        t0 = time.perf_counter()
        res = grader.grade(img, kind, side)
        total = (time.perf_counter() - t0) * 1e3
        if i < 0:
            continue
        overlay.append(res.timings_ms["overlay"])
        per_frame.append(total - res.timings_ms["overlay"])
        for k in stages:
            stages[k].append(res.timings_ms[k])
    p50, p95 = np.percentile(per_frame, [50, 95])
    stage_txt = ", ".join(f"{k} {np.percentile(v, 50):.1f}" for k, v in stages.items())
    print(
        f"{kind:8s} {width}x{height}: find+rectify+infer+grade p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"(n={len(per_frame)}; stage p50 ms: {stage_txt}; overlay p50 {np.percentile(overlay, 50):.1f} ms)",
        flush=True,
    )


if __name__ == "__main__":
    main()
