"""Side-photo edge grading on renders: clean edges called clean, chips and dents found where they are.

    python bench/edge_grading.py [--n 60] [--width 1280 --height 720]

Renders ``n`` clean edges and ``n`` edges with one chip or dent each (seeds, turntable stops, rims,
shapes and sizes drawn at random; seeds 10_000 on, never used in the tests), grades each side photo
with ``grade_edge`` and prints: clean edges graded A, defects found (a notch whose box overlaps the
drawn one), other notches marked on damaged edges, the width/area error of the found ones, and the
time per side photo (render, grade).
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from inspector.grading.edge_grade import grade_edge
from inspector.grading.scales import SCALES_DIR, load_scale
from models.synth.side_view import phone_body, random_edge_defect, render_side_view


def _overlaps(a: list[int], b: list[int], pad: int = 3) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax - pad < bx + bw and bx - pad < ax + aw and ay - pad < by + bh and by - pad < ay + ah


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    args = ap.parse_args()
    scale = load_scale(SCALES_DIR / "phone.json")
    rng = np.random.default_rng(12345)
    render_ms: list[float] = []
    grade_ms: list[float] = []
    clean_a = 0
    found = 0
    extra = 0
    width_err: list[float] = []
    shape_right = 0
    area_err: list[float] = []
    misses: list[str] = []
    for i in range(2 * args.n):
        damaged = i >= args.n
        seed = 10_000 + i
        angle = float(rng.choice([0, 90, 180, 270]))
        body = phone_body(seed)
        edge_mm = body.width_mm if angle in (0.0, 180.0) else body.height_mm
        drawn = [random_edge_defect(rng, edge_mm)] if damaged else []
        t0 = time.perf_counter()
        view = render_side_view(
            seed=seed, angle_deg=angle, defects=drawn, width=args.width, height=args.height
        )
        t1 = time.perf_counter()
        res = grade_edge(view.image, scale)
        t2 = time.perf_counter()
        render_ms.append((t1 - t0) * 1000)
        grade_ms.append((t2 - t1) * 1000)
        boxes = [[int(v) for v in cv2.boundingRect(d.contour_frame)] for d in res.defects]
        if not damaged:
            clean_a += res.grade == "A"
            continue
        truth = view.defects[0]
        hit = [b for b in boxes if _overlaps(b, truth["box"])]
        extra += len(boxes) - len(hit)
        if hit:
            found += 1
            d = res.defects[boxes.index(hit[0])]
            shape_right += res.shapes[boxes.index(hit[0])] == truth["shape"]
            width_err.append(d.length_mm - truth["width_mm"])
            area_err.append(d.area_mm2 - truth["area_mm2"])
        else:
            misses.append(f"seed {seed} {truth['shape']} {truth['width_mm']:.1f}x{truth['depth_mm']:.2f} mm")
    n = args.n
    print(f"side photos {args.width}x{args.height}, {n} clean + {n} with one chip or dent")
    print(f"clean edges graded A: {clean_a}/{n} ({100 * clean_a / n:.0f} %)")
    print(f"chips/dents found where drawn: {found}/{n} ({100 * found / n:.0f} %); other marks: {extra}")
    if width_err:
        print(
            f"found ones: width error median {statistics.median(width_err):+.2f} mm, "
            f"area error median {statistics.median(area_err):+.2f} mm2; "
            f"named chip or dent as drawn: {shape_right}/{found}"
        )
    for m in misses:
        print("  missed:", m)
    print(
        f"time per side photo: render median {statistics.median(render_ms):.0f} ms, "
        f"grade median {statistics.median(grade_ms):.0f} ms, p95 "
        f"{sorted(grade_ms)[int(0.95 * len(grade_ms)) - 1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
