"""``inspector grade``: grade photos of phones or jewelry and write the overlay images."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspector.cli import CommandError
from inspector.grading import (
    Defect,
    Grader,
    GradeResult,
    GradeScaleError,
    GradingError,
    ModelError,
    load_scale,
)
from inspector.grading.edge_grade import EDGE, grade_edge
from inspector.grading.scales import SCALES_DIR

MAX_FILE_BYTES = 50 * 1024 * 1024
NOT_FOUND = (
    "no item found in the photo: not graded (damage_probability is for the whole photo; "
    "on the station, place the item inside the marked area)"
)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})


@dataclass(frozen=True)
class _Graded:
    """One file's result: its overlay, its JSON entry and what a person reads (given the overlay's path)."""

    overlay_png: bytes
    entry: Callable[[Path], dict[str, object]]
    lines: Callable[[Path], list[str]]


def _run(args: argparse.Namespace) -> int:
    grade_one = _edge_grader(args) if args.side == EDGE else _top_grader(args)
    out_dir = _out_dir(args)
    results: list[dict[str, object]] = []
    failures = 0
    for path, problem in _inputs(args.images):
        graded = None
        if problem is None:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                problem = "not an image OpenCV can read"
            else:
                try:
                    graded = grade_one(image, path)
                except GradingError as exc:
                    problem = str(exc)
        if graded is None:
            failures += 1
            results.append({"file": str(path), "error": problem})
            if not args.json:
                print(f"{path}: error: {problem}")
            continue
        overlay_path = out_dir / f"{path.stem}.grade.png"
        overlay_path.write_bytes(graded.overlay_png)
        results.append(graded.entry(overlay_path))
        if not args.json:
            print(f"{path}: " + "\n    ".join(graded.lines(overlay_path)))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    if failures and failures == len(results):
        raise CommandError(f"none of the {failures} file(s) could be graded")
    return 1 if failures else 0


def _top_grader(args: argparse.Namespace) -> Callable[[np.ndarray, Path], _Graded]:
    """Photos from above: the item found, its defects marked by the kind's model and measured."""
    try:
        grader = Grader.load(models_dir=args.models_dir, kinds=(args.kind,), threads=args.threads)
    except (ModelError, GradeScaleError) as exc:
        raise CommandError(str(exc)) from None

    def grade_one(image: np.ndarray, path: Path) -> _Graded:
        res = grader.grade(image, args.kind, args.side, phone_model=args.phone_model)

        def lines(overlay_path: Path) -> list[str]:
            graded = (
                f"grade {res.grade} ({res.grade_title})" if res.item_found else "no item found, not graded"
            )
            out = [f"{graded}, damage probability {res.damage_probability:.2f}", *res.reasons]
            if res.suspected:
                out.append(
                    f"{len(res.suspected)} possible crack mark(s) not counted: the item as a whole "
                    "does not look damaged; look at the overlay"
                )
            return [*out, f"overlay: {overlay_path}  ({res.timings_ms['total']:.0f} ms)"]

        return _Graded(res.overlay_png(), lambda overlay_path: entry(res, path, overlay_path), lines)

    return grade_one


def _edge_grader(args: argparse.Namespace) -> Callable[[np.ndarray, Path], _Graded]:
    """Side photos of a phone's frame: the outline is measured (no model), graded on the phone scale."""
    if args.kind != "phone":
        raise CommandError("--side edge is for side photos of phones (--kind phone)")
    try:
        scale = load_scale(SCALES_DIR / "phone.json")
    except GradeScaleError as exc:
        raise CommandError(str(exc)) from None

    def grade_one(image: np.ndarray, path: Path) -> _Graded:
        res = grade_edge(image, scale)

        def summary(overlay_path: Path) -> dict[str, object]:
            out: dict[str, object] = {"file": str(path), **res.to_dict(), "overlay": str(overlay_path)}
            out["defects"] = [
                {**_defect(d), "shape": shape} for d, shape in zip(res.defects, res.shapes, strict=True)
            ]
            out["suspected"] = []
            return out

        def lines(overlay_path: Path) -> list[str]:
            graded = f"grade {res.grade} ({res.grade_title})" if res.item_found else "no phone edge found"
            return [graded, *res.reasons, f"overlay: {overlay_path}  ({res.timings_ms['total']:.0f} ms)"]

        return _Graded(res.overlay_png(), summary, lines)

    return grade_one


def _out_dir(args: argparse.Namespace) -> Path:
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    return out_dir


def entry(res: GradeResult, path: Path, overlay_path: Path) -> dict[str, object]:
    """One file's JSON entry: the grade summary, with ``grade`` null when no item was found (a grade of
    the whole frame would not be a grade of the item) and each defect with its box in frame pixels."""
    summary: dict[str, object] = {"file": str(path), **res.to_dict(), "overlay": str(overlay_path)}
    summary["defects"] = [_defect(d) for d in res.defects]
    summary["suspected"] = [_defect(d) for d in res.suspected]  # marked, not counted: see the docs
    if not res.item_found:
        summary["grade"] = None
        summary["grade_title"] = None
        summary["reasons"] = [NOT_FOUND, *res.caveats]
    return summary


def _defect(d: Defect) -> dict[str, object]:
    return {
        "class": d.cls,
        "length_mm": round(d.length_mm, 2),
        "area_mm2": round(d.area_mm2, 2),
        "box": [int(v) for v in cv2.boundingRect(d.contour_frame)],  # x, y, width, height
    }


def _inputs(names: list[str]) -> list[tuple[Path, str | None]]:
    """Each file to grade with the reason it cannot be (None: try it); folders give their images."""
    found: list[tuple[Path, str | None]] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                found.append((path, f"folder has no {'/'.join(sorted(IMAGE_SUFFIXES))} files"))
            found.extend(_checked(p) for p in images)
        else:
            found.append(_checked(path))
    return found


def _checked(path: Path) -> tuple[Path, str | None]:
    if not path.exists():
        return path, "no such file"
    if not path.is_file():
        return path, "not a regular file"
    if path.stat().st_size > MAX_FILE_BYTES:
        return path, "file larger than 50 MB"
    return path, None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grade",
        help="grade image files of phones or jewelry and write overlays",
        description="Find the item in each photo, mark its defects with the ONNX model, measure them in "
        "millimetres and grade it with the scale in inspector/grading/scales/. Writes "
        "<name>.grade.png overlays into --out. --json prints one list, one entry per file: grade (null "
        "when no item is found), damage_probability (calibrated on real photos, whole item), reasons, "
        "defects (class, mm, box), suspected (crack marks not counted: the item as a whole does not "
        "look damaged), overlay; a file that cannot be read is an entry with error.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="photos (JPEG, PNG, ...) or folders of them")
    p.add_argument("--kind", choices=["phone", "jewelry"], default="phone", help="what is in the photo")
    p.add_argument(
        "--side",
        choices=["screen", "back", EDGE],
        default="screen",
        help="phone side shown; edge: a side photo of the frame (chips and dents measured on its "
        "outline, no model; damage_probability is null)",
    )
    p.add_argument(
        "--phone-model",
        default=None,
        help="the phone's model as it reports it (e.g. 'Pixel 6'): its lenses and logo are not graded",
    )
    p.add_argument("--out", default="grades", help="directory for the overlay images (default: ./grades)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--models-dir", default=None, help="directory holding <kind>_defects.onnx")
    p.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    p.set_defaults(handler=_run)
