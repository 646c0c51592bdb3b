"""Probe a model on held-out pieces with one defect each: does it find the defect, and does it mark clean
pieces? A quick gate for a part model (or a stage) before the hour of calibration, evaluation and
rebuild; no decision rule involved, only the raw probabilities.

    python -m models.probe --model models/work/jewelry_surface.onnx --kind jewelry --classes dent scratch

For each probed class, ``--n`` pieces with only that defect; and ``--n`` clean pieces. A piece is
*marked* when at least ``--min-px`` crop pixels have P(any probed class) >= ``--threshold``; a defect is
*found* when that many of its labelled pixels (or pixels within 2 px) have P(its class) >= the
threshold. A class's pieces are the same whichever classes are probed with it. Seeds from
11,500,000: held-out (training stays below 2,000,000, ``models.evaluate`` uses the first few hundred
from 11,000,000).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inspector.grading.model import SegModel
from models.crop_labels import crop_labels
from models.evaluate import CLASSES, found_where_labelled
from models.synth.station_frames import FRAME_WIDTHS, station_frame

PROBE_SEED0 = 11_500_000


@dataclass(frozen=True)
class ProbeRow:
    """One group of pieces: ``defect`` ("clean" or a class), how many were ``marked`` and ``found``;
    ``marked_by``: per probed class, the pieces it alone would mark (a piece can count for several), so
    that a clean piece's mark says which class made it."""

    defect: str
    pieces: int
    marked: int
    found: int | None
    mean_p_on_defect: float | None
    marked_by: dict[str, int]


def probe(
    model_path: Path, kind: str, classes: list[str], n: int, threshold: float = 0.5, min_px: int = 5
) -> list[ProbeRow]:
    """Render ``n`` clean pieces and ``n`` per probed class, frame each as the model wants, count."""
    model = SegModel(model_path, kind, threads=2)
    out_classes = list(model.info.classes)
    missing = [c for c in classes if c not in out_classes]
    if missing:
        raise SystemExit(f"{model_path} has no class {missing}; it outputs {out_classes[1:]}")
    kind_classes = CLASSES[kind]
    ids = [out_classes.index(c) for c in classes]
    rows = []
    for defect in ["clean", *classes]:
        # seeded by the class, not by its place in ``classes``: a class gets the same pieces whichever
        # classes it is probed with (by place, loose stones were found on 15 of 20 pieces in one probe
        # of a model and on 16 of 20 in another of the same model)
        group = 0 if defect == "clean" else kind_classes.index(defect) + 1
        marked = found = 0
        marked_by = dict.fromkeys(classes, 0)
        p_on: list[float] = []
        for i in range(n):
            seed = PROBE_SEED0 + group * 10_000 + i
            rng = np.random.default_rng(seed)
            w = int(rng.choice(FRAME_WIDTHS))
            side = str(rng.choice(["screen", "back"]))
            scene = station_frame(kind, seed, rng, [] if defect == "clean" else [defect], w, side)
            loc = model.locate(scene.image)
            probs = model.predict(loc.crop)
            marked += int(np.count_nonzero(probs[ids].sum(axis=0) >= threshold) >= min_px)
            for c, j in zip(classes, ids, strict=True):
                marked_by[c] += int(np.count_nonzero(probs[j] >= threshold) >= min_px)
            if defect != "clean":
                labels = crop_labels(scene.masks, kind_classes, loc, scene.visibility)
                ci = kind_classes.index(defect) + 1
                pc = probs[out_classes.index(defect)]
                found += found_where_labelled(np.where(pc >= threshold, ci, 0), labels, ci, min_px)
                gt = labels == ci
                if gt.any():
                    p_on.append(float(pc[gt].mean()))
        rows.append(
            ProbeRow(
                defect,
                n,
                marked,
                None if defect == "clean" else found,
                round(float(np.mean(p_on)), 3) if p_on else None,
                marked_by,
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="an ONNX grading model (whole or a part)")
    ap.add_argument("--kind", choices=sorted(CLASSES), required=True)
    ap.add_argument("--classes", nargs="+", required=True, help="the classes to probe, e.g. dent scratch")
    ap.add_argument("--n", type=int, default=30, help="pieces per group (default %(default)s)")
    ap.add_argument("--threshold", type=float, default=0.5, help="P that marks (default %(default)s)")
    ap.add_argument("--min-px", type=int, default=5, help="pixels that make a mark (default %(default)s)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    unknown = [c for c in args.classes if c not in CLASSES[args.kind]]
    if unknown:
        ap.error(f"not a {args.kind} class: {unknown} (classes: {list(CLASSES[args.kind])})")
    rows = probe(args.model, args.kind, args.classes, args.n, args.threshold, args.min_px)
    print(
        f"| pieces | marked (P >= {args.threshold}, {args.min_px}+ px) | found | mean P on the defect | "
        "marked by |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        found = "-" if r.found is None else f"{r.found} / {r.pieces}"
        p = "-" if r.mean_p_on_defect is None else f"{r.mean_p_on_defect:.3f}"
        by = ", ".join(f"{c} {k}" for c, k in r.marked_by.items()) if len(r.marked_by) > 1 else "-"
        print(f"| {r.defect} | {r.marked} / {r.pieces} | {found} | {p} | {by} |")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
