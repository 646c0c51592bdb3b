"""Compare freshly built models with the shipped ones and ship a kind only when it is not worse.

``make models`` builds into ``models/work/candidate``, calibrates and evaluates there, evaluates the
shipped models with the same code, and then runs this. A rebuild that comes out worse (training on 2
CPU cores for 40 minutes is noisy; one evening rebuild flagged twice as many real good phones) no
longer overwrites the shipped file. ``--force`` ships regardless; the comparison is printed either way
as a Markdown table for the model card.

    python -m models.promote --candidate models/work/candidate [--kind both] [--force]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.grading.calibration import calibration_path
from inspector.grading.item_damage import BACKBONE_FILE
from inspector.grading.scorer_kinds import SCORER_KINDS

MODELS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Gate:
    """One figure the candidate may not lose on: ``path`` into the evaluation report, and how much
    worse (in the figure's bad direction) still counts as noise."""

    label: str
    path: tuple[str, ...]
    higher_is_better: bool
    slack: float


GATES: dict[str, tuple[Gate, ...]] = {
    "phone": (
        Gate("synthetic grade accuracy", ("phone", "grade_accuracy"), True, 0.01),
        Gate("synthetic AUROC damaged/undamaged", ("phone", "auroc_damaged"), True, 0.01),
        Gate("synthetic cracked phones with the crack found", ("phone", "crack_item_recall"), True, 0.02),
        Gate("synthetic defects found where they are", ("phone", "mean_item_recall_located"), True, 0.02),
        # A cracked phone certified anything but D is the buyer's loss, whichever grade it gets. The
        # gate once counted only B or C: it blocked the pretrained-encoder rebuild for three cracked
        # renders that v5.0 graded A and it graded C (the damage head missed the crack in both; the new
        # network found their real scratches), with as many cracked phones graded D (67 of 93).
        Gate("synthetic cracked phones not graded D", ("phone", "cracked_not_graded_lowest"), False, 0.02),
        # Scratches are a small share of the mean above: a rebuild that lost nearly all of them (the
        # station scene mix, phone card) stayed within its noise.
        Gate(
            "synthetic scratched phones, scratch found",
            ("phone", "item_recall_located", "scratch"),
            True,
            0.02,
        ),
        # v5.0 passed while grading 7 points fewer clean renders A (0.903 against v4.0's 0.973): no
        # other gate sees a seller's clean phone lose its grade to false marks. The slack is about three
        # of the ~100 clean phones among the held-out renders.
        Gate("synthetic clean phones graded A", ("phone", "clean_graded_a_rate"), True, 0.03),
        # The real validation part (models/real_split.csv: 13 damaged, 47 intact, 54 oil/stain photos):
        # each slack is about one photo, so one photo either way is noise and two are a loss.
        Gate("real validation AUROC damaged/intact", ("real", "whole", "auroc"), True, 0.02),
        Gate("real validation intact graded below best", ("real", "whole", "intact_below_best"), False, 0.03),
        Gate("real validation intact graded lowest", ("real", "whole", "intact_lowest"), False, 0.03),
        Gate("real validation oil/stain called damage", ("real", "whole", "oil_stain_damage"), False, 0.03),
        Gate("real validation damaged graded lowest", ("real", "whole", "damaged_lowest"), True, 0.08),
    ),
    "jewelry": (
        Gate("synthetic grade accuracy", ("jewelry", "grade_accuracy"), True, 0.01),
        Gate("synthetic AUROC damaged/undamaged", ("jewelry", "auroc_damaged"), True, 0.01),
        Gate("synthetic defects found where they are", ("jewelry", "mean_item_recall_located"), True, 0.02),
        Gate("synthetic Fair pieces graded Fair", ("jewelry", "lowest_graded_lowest"), True, 0.03),
        Gate("synthetic Fair pieces graded Excellent", ("jewelry", "lowest_graded_best"), False, 0.02),
    ),
}


def figure(report: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) else None


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def compare(kind: str, shipped: dict[str, Any], candidate: dict[str, Any]) -> tuple[bool, list[str]]:
    """(not worse on every gate, Markdown table rows). A gate neither report has (no real photos on
    this machine) cannot block. One only the candidate has blocks too: the shipped report is older
    than the gate, and a comparison by hand against it once let a candidate that certified twice as
    many Fair pieces Excellent through, until the shipped model was evaluated again."""
    ok = True
    rows = [f"| {kind} | shipped | candidate | verdict |", "|---|---|---|---|"]
    for g in GATES[kind]:
        old, new = figure(shipped, g.path), figure(candidate, g.path)
        if old is None and new is None:
            verdict = "not measured"
        elif old is None:
            verdict, ok = "no shipped figure: evaluate the shipped model again", False
        elif new is None:
            verdict, ok = "missing", False
        else:
            loss = round((old - new) if g.higher_is_better else (new - old), 9)  # 0.645 - 0.635 > 0.01
            verdict = "worse" if loss > g.slack else ("better" if loss < -g.slack else "same (within noise)")
            ok = ok and verdict != "worse"
        rows.append(f"| {g.label} | {_fmt(old)} | {_fmt(new)} | {verdict} |")
    return ok, rows


def promote(kind: str, candidate_dir: Path, models_dir: Path) -> list[Path]:
    """Copy the candidate model, its fitted decision rule, (jewelry) its candidate scorers and (phone)
    its item-level damage head and backbone over the shipped files; a shipped rule or scorer the
    candidate has none of is removed, since it was fitted for the old model."""
    model = candidate_dir / f"{kind}_defects.onnx"
    if not model.is_file():
        raise SystemExit(f"{model} is missing: the candidate was not built")
    copied = [models_dir / model.name]
    shutil.copyfile(model, copied[0])
    damage = (candidate_dir / BACKBONE_FILE, candidate_dir / f"{kind}_damage_head.json")
    for src in (calibration_path(model), *(k.path(model) for k in SCORER_KINDS.values()), *damage):
        if src.name == BACKBONE_FILE and not damage[1].is_file():
            continue  # the backbone is shared: only a kind with a head of its own brings it
        dst = models_dir / src.name
        if src.is_file():
            shutil.copyfile(src, dst)
            copied.append(dst)
        else:
            dst.unlink(missing_ok=True)
    return copied


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidate", type=Path, default=MODELS_DIR / "work" / "candidate")
    ap.add_argument("--shipped-eval", type=Path, default=MODELS_DIR / "work" / "shipped_eval.json")
    ap.add_argument("--candidate-eval", type=Path, default=None, help="default: CANDIDATE/eval.json")
    ap.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the shipped models live")
    ap.add_argument("--kind", choices=["phone", "jewelry", "both"], default="both")
    ap.add_argument("--force", action="store_true", help="ship the candidate even where it is worse")
    args = ap.parse_args(argv)
    cand_eval = args.candidate_eval or args.candidate / "eval.json"
    reports = []
    for p in (args.shipped_eval, cand_eval):
        try:
            reports.append(json.loads(p.read_text()))
        except FileNotFoundError:
            print(f"error: {p} not found: run `python -m models.evaluate --out {p}` first", file=sys.stderr)
            return 2
        except json.JSONDecodeError as exc:
            print(f"error: {p} is not a JSON evaluation report ({exc})", file=sys.stderr)
            return 2
    shipped, candidate = reports
    kinds = ["phone", "jewelry"] if args.kind == "both" else [args.kind]
    for kind in kinds:
        ok, rows = compare(kind, shipped, candidate)
        print("\n".join(rows))
        if ok or args.force:
            for dst in promote(kind, args.candidate, args.models_dir):
                print(f"[{kind}] shipped {dst}")
            if not ok:
                print(f"[{kind}] worse on a gate, shipped anyway (--force)")
        else:
            print(f"[{kind}] kept the shipped model: the candidate is worse on a gate above")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
