"""Evaluate the shipped grading models: held-out synthetic scenes and the real photos in ../shared/data.

Phones are rendered as the station and hand-held photos show them (``STATION_MIX``: display off, screen
content on a cluttered desk, catalogued backs with the model named to the grader).

Runs the full station pipeline (find item, rectify/crop, ONNX, measure, grade) exactly as
``Grader.grade`` does; no torch needed. Prints a Markdown summary and writes ``models/work/eval.json``.

    python -m models.evaluate [--n-phone 300] [--n-jewelry 600] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspector.grading import Grader
from inspector.grading.components import ClassMeasurement
from inspector.grading.grader import measure_labels
from models.cpu_share import add_threads_argument, use_threads
from models.crop_labels import crop_labels
from models.evaluate_real import TARGETS, Figures, split_report
from models.evaluate_real import markdown as real_table
from models.metrics import auroc
from models.real_split import shared_data_dir
from models.synth.scene import JEWELRY_CLASSES, PHONE_CLASSES
from models.synth.station_frames import FRAME_WIDTHS, station_shot

MODELS_DIR = Path(__file__).resolve().parent
HELDOUT_SEED0 = {"phone": 10_000_000, "jewelry": 11_000_000}  # training uses seeds below 2_000_000
CLASSES = {"phone": PHONE_CLASSES, "jewelry": JEWELRY_CLASSES}


def found_where_labelled(pred: np.ndarray, gt: np.ndarray, class_index: int, min_px: int = 5) -> bool:
    """A defect counts as found only where it is: predicted pixels of the class on (or within 2 px of)
    its true pixels. A false alarm elsewhere on a cracked phone must not count as finding the crack."""
    near = cv2.dilate((gt == class_index).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return int(np.count_nonzero((pred == class_index) & near)) >= min_px


def found_located(
    gt_meas: dict[str, ClassMeasurement],
    meas: dict[str, ClassMeasurement],
    pred: np.ndarray,
    gt: np.ndarray,
    classes: tuple[str, ...],
) -> dict[str, bool]:
    """Per class the item truly has (``gt_meas``): reported (``meas``) and found where it is."""
    return {
        name: meas[name].count > 0 and found_where_labelled(pred, gt, classes.index(name))
        for name in gt_meas
        if gt_meas[name].count and name in meas
    }


def eval_synthetic(grader: Grader, kind: str, n: int) -> dict[str, Any]:
    rng = np.random.default_rng(HELDOUT_SEED0[kind])
    classes = CLASSES[kind]
    model = grader.models[kind]
    scale = grader.scales[kind]
    inter = np.zeros(len(classes) + 1)
    union = np.zeros(len(classes) + 1)
    scores, damaged, grades_ok = [], [], []
    found: dict[str, list[bool]] = {c: [] for c in classes}  # per class: items that have it, located?
    scratch_as_crack: list[bool] = []  # scratched but not cracked items: a crack reported?
    crack_as_wear: list[bool] = []  # cracked items: graded as mere wear (between best and lowest)?
    crack_not_lowest: list[bool] = []  # cracked items: graded anything but the lowest grade?
    pred_grades: list[str] = []  # predicted grades, in scene order
    clean_marked: dict[str, list[bool]] = {c: [] for c in classes}  # per class: undamaged items marked?
    confusion: dict[str, dict[str, int]] = {}
    graded: list[tuple[str, str, set[str]]] = []  # (true grade, given grade, classes the item has)
    for i in range(n):
        seed = HELDOUT_SEED0[kind] + i
        if rng.random() < 0.35:
            defects: list[str] = []
        else:
            defects = [c for c in classes if rng.random() < 0.35] or [str(rng.choice(classes))]
        w = int(rng.choice(FRAME_WIDTHS))
        side = str(rng.choice(["screen", "back"]))
        scene, phone_model = station_shot(kind, seed, rng, defects, w, side)
        res = grader.grade(scene.image, kind, side, phone_model=phone_model)
        loc, pred = res.located, res.labels
        if loc is None or pred is None:
            raise RuntimeError("Grader.grade returned no crop framing or label map")
        gt = crop_labels(scene.masks, classes, loc, scene.visibility)
        for ci in range(1, len(classes) + 1):
            inter[ci] += np.logical_and(pred == ci, gt == ci).sum()
            union[ci] += np.logical_or(pred == ci, gt == ci).sum()
        gt_meas, _ = measure_labels(gt, loc, model.info.classes, scale)
        gi, _ = grader._decide(gt_meas, scale)
        gt_grade = scale.grades[gi].grade
        pred_grades.append(res.grade)
        grades_ok.append(gt_grade == res.grade)
        confusion.setdefault(gt_grade, {}).setdefault(res.grade, 0)
        confusion[gt_grade][res.grade] += 1
        graded.append((gt_grade, res.grade, {c for c, m in gt_meas.items() if m.count}))
        scores.append(res.damage_score)
        damaged.append(int(any(m.count for m in gt_meas.values())))
        if not damaged[-1]:
            for name in classes:
                clean_marked[name].append(res.measurements[name].count > 0)
        for name, hit in found_located(gt_meas, res.measurements, pred, gt, model.info.classes).items():
            found[name].append(hit)
        if kind == "phone" and gt_meas["scratch"].count and not gt_meas["crack"].count:
            scratch_as_crack.append(res.measurements["crack"].count > 0)
        if kind == "phone" and gt_meas["crack"].count:
            given = scale.grade_index(res.grade)
            crack_as_wear.append(0 < given < len(scale.grades) - 1)
            crack_not_lowest.append(given < len(scale.grades) - 1)
    iou = {name: (float(inter[ci] / union[ci]) if union[ci] else None) for ci, name in enumerate(classes, 1)}
    lowest, best = scale.grades[-1].grade, scale.grades[0].grade
    return {
        "n": n,
        "pixel_iou": iou,
        "mean_iou": float(np.mean([v for v in iou.values() if v is not None])),
        "auroc_damaged": auroc(scores, damaged),
        "grade_accuracy": float(np.mean(grades_ok)),
        "grade_within_one": None,
        "confusion_true_to_pred": confusion,
        "damaged_fraction": float(np.mean(damaged)),
        "crack_item_recall": float(np.mean(found["crack"])) if kind == "phone" and found["crack"] else None,
        "item_recall_located": {c: (float(np.mean(v)) if v else None) for c, v in found.items()},
        # one figure for "finds each kind of defect where it is", so a rebuild cannot trade classes away
        "mean_item_recall_located": float(np.mean([np.mean(v) for v in found.values() if v])),
        "scratched_uncracked_read_as_cracked": float(np.mean(scratch_as_crack)) if scratch_as_crack else None,
        "cracked_graded_as_wear": float(np.mean(crack_as_wear)) if crack_as_wear else None,
        "cracked_not_graded_lowest": float(np.mean(crack_not_lowest)) if crack_not_lowest else None,
        "clean_graded_a_rate": float(
            np.mean([g == "A" for g, d in zip(pred_grades, damaged, strict=True) if not d])
        )
        if not all(damaged)
        else None,
        # why clean items lose their grade: per class, the share of undamaged items it was reported on
        "clean_items_marked": {c: (float(np.mean(v)) if v else None) for c, v in clean_marked.items()},
        **lowest_grade_figures(confusion, lowest, best),
        "lowest_graded_best_had": lowest_graded_best_had(graded, lowest, best),
    }


def lowest_grade_figures(confusion: dict[str, dict[str, int]], lowest: str, best: str) -> dict[str, Any]:
    """Of the items whose true grade is the scale's lowest (a cracked screen, a missing or loose stone):
    the share graded lowest, and the share graded best. The second is the costliest error a
    certificate can carry (a piece with a missing stone certified Excellent)."""
    row = confusion.get(lowest, {})
    n = sum(row.values())
    if not n:
        return {"lowest_graded_lowest": None, "lowest_graded_best": None}
    return {"lowest_graded_lowest": row.get(lowest, 0) / n, "lowest_graded_best": row.get(best, 0) / n}


def lowest_graded_best_had(graded: list[tuple[str, str, set[str]]], lowest: str, best: str) -> dict[str, int]:
    """Of the lowest-grade items graded best: per class, how many had it. Says which class a rule lets
    through (a loose stone it does not keep, or a missing one), so the next fix aims at that class."""
    had: dict[str, int] = {}
    for true, given, classes in graded:
        if true == lowest and given == best:
            for c in sorted(classes):
                had[c] = had.get(c, 0) + 1
    return had


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _breakdown(label: str, per_class: dict[str, Any] | None) -> str:
    """A per-class figure spelt out after its total, e.g. ' (marked: dent 0.015, tarnish 0.046)'."""
    if not per_class:
        return ""
    return f" ({label}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in per_class.items()) + ")"


def markdown(report: dict[str, Any]) -> str:
    lines = []
    for kind in ("phone", "jewelry"):
        r = report.get(kind)
        if not r:
            continue
        lines.append(
            f"**{kind}** held-out synthetic (n={r['n']}): "
            + ", ".join(f"IoU {k} {_fmt(v)}" for k, v in r["pixel_iou"].items())
            + f"; mean IoU {_fmt(r['mean_iou'])}; "
            f"AUROC damaged/undamaged {_fmt(r['auroc_damaged'])}; "
            f"grade accuracy {_fmt(r['grade_accuracy'])}; "
            f"lowest-grade items graded lowest {_fmt(r.get('lowest_graded_lowest'))}, "
            f"graded best {_fmt(r.get('lowest_graded_best'))}"
            + _breakdown("they had", r.get("lowest_graded_best_had"))
            + "; "
            f"clean items graded A {_fmt(r.get('clean_graded_a_rate'))}"
            + _breakdown("marked", r.get("clean_items_marked"))
            + "; "
            f"cracked items with a crack found {_fmt(r.get('crack_item_recall'))}; "
            + "items with the defect found where it is: "
            + ", ".join(f"{k} {_fmt(v)}" for k, v in (r.get("item_recall_located") or {}).items())
            + (
                f"; scratched (not cracked) phones reported cracked {_fmt(sc)}"
                if (sc := r.get("scratched_uncracked_read_as_cracked")) is not None
                else ""
            )
            + (
                f"; cracked phones graded as mere wear {_fmt(cw)}, not graded lowest "
                f"{_fmt(r.get('cracked_not_graded_lowest'))}"
                if (cw := r.get("cracked_graded_as_wear")) is not None
                else ""
            )
        )
    out = "\n".join(f"- {ln}" for ln in lines)
    real = report.get("real")
    if real:
        rows = [Figures(**real["whole"]), *(Figures(**f) for f in real["by_folder"])]
        out += f"\n\nReal photos, {real['split']} part of the fixed split ({TARGETS}):\n\n" + real_table(rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["phone", "jewelry", "both"], default="both")
    ap.add_argument("--n-phone", type=int, default=300)
    # 600, not 200: the first 200 pieces put jewelry v2.0 at grade accuracy 0.650 with 6 of 97 Fair
    # pieces graded Excellent, all 600 at 0.622 and 33 of 269, while the promotion gates' slack is 1 to
    # 3 points. On 200 pieces a rebuild could not be told from the shipped model.
    ap.add_argument("--n-jewelry", type=int, default=600)
    ap.add_argument("--data", type=Path, default=None, help="real photos (default ../shared/data)")
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=MODELS_DIR / "work" / "eval.json")
    add_threads_argument(ap)
    args = ap.parse_args()
    threads = use_threads(ap, args.threads)
    kinds = ("phone", "jewelry") if args.kind == "both" else (args.kind,)
    grader = Grader.load(models_dir=args.models_dir, kinds=kinds, threads=threads)
    t0 = time.time()
    report: dict[str, Any] = {"models": {k: m.info.to_dict() for k, m in grader.models.items()}}
    for kind in kinds:
        report[kind] = eval_synthetic(grader, kind, args.n_phone if kind == "phone" else args.n_jewelry)
    if "phone" in kinds:  # the real photos are all phones
        data = args.data or shared_data_dir()
        if data.is_dir():
            report["real"] = split_report(grader, data, "validation")
    report["seconds"] = round(time.time() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"(full report: {args.out})")


if __name__ == "__main__":
    main()
