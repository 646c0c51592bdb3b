"""Grading figures on the real photos of ../shared/data, by the fixed split of ``models/real_split.csv``.

For one part of the split (the test part unless told) and for each real folder in it: AUROC damaged vs
intact phones (the item-level damage score), the share of intact phones graded below the best grade and
graded the lowest grade, the share of oil/stain crops called damage (graded below the best grade), and
the share of damaged phones graded the lowest grade. Runs the shipped grader (``Grader.grade``, the
station's own code); the same figures score any other scorer through ``figures``.

    python -m models.evaluate_real [--split test|validation|train|all] [--data DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inspector.grading import Grader
from models.cpu_share import add_threads_argument, use_threads
from models.metrics import auroc
from models.real_split import SPLIT_CSV, Label, RealPhoto, read_csv, read_image, shared_data_dir

WORK = Path(__file__).resolve().parent / "work"
TARGETS = (
    "targets on the real test split: AUROC >= 0.97, intact lowest <= 3 %, "
    "oil/stain called damage <= 2 %, damaged lowest >= 90 %"
)


@dataclass(frozen=True)
class Verdict:
    """What a grader said about one photo."""

    score: float  # item-level damage score or probability, higher = more likely damaged
    below_best: bool  # graded below the scale's best grade
    lowest: bool  # graded the scale's lowest grade
    item_found: bool | None = None  # None: the grader does not locate items


@dataclass(frozen=True)
class Figures:
    rows: str  # which photos
    n_damaged: int
    n_intact: int
    n_oil_stain: int
    auroc: float | None
    intact_below_best: float | None
    intact_lowest: float | None
    oil_stain_damage: float | None
    damaged_lowest: float | None
    item_found: float | None


def _share(flags: list[bool]) -> float | None:
    return float(np.mean(flags)) if flags else None


def figures(rows: str, photos: Iterable[RealPhoto], verdicts: Mapping[str, Verdict]) -> Figures:
    """The "Must show" figures of issue 28 for ``photos`` (each must have a verdict)."""
    by: dict[Label, list[Verdict]] = {lab: [] for lab in Label}
    for p in photos:
        by[p.label].append(verdicts[p.file])
    dmg, intact, oil = by[Label.DAMAGED], by[Label.INTACT], by[Label.OIL_STAIN]
    phones = dmg + intact
    return Figures(
        rows=rows,
        n_damaged=len(dmg),
        n_intact=len(intact),
        n_oil_stain=len(oil),
        auroc=auroc([v.score for v in phones], [1] * len(dmg) + [0] * len(intact)),
        intact_below_best=_share([v.below_best for v in intact]),
        intact_lowest=_share([v.lowest for v in intact]),
        oil_stain_damage=_share([v.below_best for v in oil]),
        damaged_lowest=_share([v.lowest for v in dmg]),
        item_found=_share([v.item_found for v in phones if v.item_found is not None]),
    )


def table(
    photos: list[RealPhoto], verdicts: Mapping[str, Verdict], split: str, by: Callable[[RealPhoto], str]
) -> list[Figures]:
    """Figures for the part ``split`` ("all" for every photo) and for each group ``by`` names in it."""
    part = [p for p in photos if split in ("all", p.split)]
    out = [figures(f"{split} split", part, verdicts)]
    for key in sorted({by(p) for p in part}):
        out.append(figures(f"{split}: {key}", [p for p in part if by(p) == key], verdicts))
    return out


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f} %"


def markdown(rows: list[Figures]) -> str:
    head = (
        "| photos | damaged / intact / oil-stain | AUROC | intact below best | intact lowest "
        "| oil/stain called damage | damaged lowest | item found |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"| {f.rows} | {f.n_damaged} / {f.n_intact} / {f.n_oil_stain} | "
        + ("-" if f.auroc is None else f"{f.auroc:.3f}")
        + f" | {_pct(f.intact_below_best)} | {_pct(f.intact_lowest)} | {_pct(f.oil_stain_damage)} "
        f"| {_pct(f.damaged_lowest)} | {_pct(f.item_found)} |"
        for f in rows
    ]
    return "\n".join([head, *lines])


def shipped_trained_on(photos: list[RealPhoto]) -> set[str]:
    """Files the shipped phone model was fine-tuned on: the first half (sorted) of phones-real/good,
    screen-surface/oil and /stain (``models.train --real-negatives``). Its figures on them flatter it."""
    out: set[str] = set()
    for folder in ("phones-real/good", "screen-surface/oil", "screen-surface/stain"):
        files = sorted(p.file for p in photos if p.file.startswith(folder + "/"))
        out.update(files[: len(files) // 2])
    return out


def grade_photos(
    grader: Grader, photos: list[RealPhoto], data: Path, cache: Path | None = None
) -> dict[str, Verdict]:
    """The grader's verdict on each photo; with ``cache``, kept there by the models' and their rule's
    hashes and the file's hash (a refitted rule grades again)."""
    phone = grader.models["phone"]
    model = phone.info.sha256 + ":" + hashlib.sha256(phone.calibration.model_dump_json().encode()).hexdigest()
    if "phone" in grader.item_damage:
        model += ":" + grader.item_damage["phone"].head_sha256
    scale = grader.scales["phone"]
    best, lowest = scale.grades[0].grade, scale.grades[-1].grade
    done: dict[str, dict[str, float | bool]] = (
        json.loads(cache.read_text()) if cache is not None and cache.is_file() else {}
    )
    out: dict[str, Verdict] = {}
    for p in photos:
        key = f"{model}:{p.sha256}"
        if key not in done:
            res = grader.grade(read_image(data, p.file), "phone", "screen")
            done[key] = {
                "score": res.damage_score,
                "below_best": res.grade != best,
                "lowest": res.grade == lowest,
                "item_found": res.item_found,
            }
        v = done[key]
        out[p.file] = Verdict(
            float(v["score"]), bool(v["below_best"]), bool(v["lowest"]), bool(v["item_found"])
        )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(done))
    return out


def split_report(
    grader: Grader, data: Path, split: str = "validation", csv: Path = SPLIT_CSV
) -> dict[str, Any]:
    """The figures of one part of the split, whole and by folder, for ``models.evaluate``'s report: the
    promotion gate reads the validation part (the test part never chooses a model)."""
    part = [p for p in read_csv(csv) if split in ("all", p.split)]
    rows = table(part, grade_photos(grader, part, data), split, lambda p: p.folder)
    return {"split": split, "whole": asdict(rows[0]), "by_folder": [asdict(f) for f in rows[1:]]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["test", "validation", "train", "all"], default="test")
    ap.add_argument("--data", type=Path, default=None, help="real photos (default ../shared/data)")
    ap.add_argument("--csv", type=Path, default=SPLIT_CSV)
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=WORK / "eval_real.json")
    add_threads_argument(ap)
    args = ap.parse_args(argv)
    threads = use_threads(ap, args.threads)
    photos = read_csv(args.csv)
    part = [p for p in photos if args.split in ("all", p.split)]
    grader = Grader.load(models_dir=args.models_dir, kinds=("phone",), threads=threads)
    verdicts = grade_photos(grader, part, args.data or shared_data_dir(), WORK / "real_shipped_cache.json")
    rows = table(part, verdicts, args.split, lambda p: p.folder)
    trained = shipped_trained_on(photos)
    unseen = [p for p in part if p.file not in trained]
    rows.append(figures(f"{args.split}: not in the shipped model's fine-tuning", unseen, verdicts))
    info = grader.models["phone"].info
    print(f"shipped grader {info.name} {info.version} ({info.sha256[:12]}) on {args.csv.name}, {TARGETS}")
    print(markdown(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": info.to_dict(), "rows": [asdict(f) for f in rows]}, indent=2))


if __name__ == "__main__":
    main()
