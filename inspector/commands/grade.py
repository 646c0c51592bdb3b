"""``inspector grade``: grade photos of phones or jewelry and write the overlay images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2

from inspector.cli import CommandError

MAX_FILE_BYTES = 50 * 1024 * 1024
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})


def _run(args: argparse.Namespace) -> int:
    from inspector.grading import Grader, GradingError, ModelError, ScaleError

    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    try:
        grader = Grader.load(models_dir=args.models_dir, kinds=(args.kind,), threads=args.threads)
    except (ModelError, ScaleError) as exc:
        raise CommandError(str(exc)) from None
    results: list[dict[str, object]] = []
    failures = 0
    for path, problem in _inputs(args.images):
        if problem is None:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                problem = "not an image OpenCV can read"
            else:
                try:
                    res = grader.grade(image, args.kind, args.side)
                except GradingError as exc:
                    problem = str(exc)
        if problem is not None:
            failures += 1
            results.append({"file": str(path), "error": problem})
            if not args.json:
                print(f"{path}: error: {problem}")
            continue
        overlay_path = out_dir / f"{path.stem}.grade.png"
        overlay_path.write_bytes(res.overlay_png())
        summary = res.to_dict()
        summary["file"] = str(path)
        summary["overlay"] = str(overlay_path)
        results.append(summary)
        if not args.json:
            print(f"{path}: grade {res.grade} ({res.grade_title}), damage score {res.damage_score:.2f}")
            for reason in res.reasons:
                print(f"    {reason}")
            print(f"    overlay: {overlay_path}  ({res.timings_ms['total']:.0f} ms)")
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    if failures and failures == len(results):
        raise CommandError(f"none of the {failures} file(s) could be graded")
    return 1 if failures else 0


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
        "<name>.grade.png overlays into --out.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="photos (JPEG, PNG, ...) or folders of them")
    p.add_argument("--kind", choices=["phone", "jewelry"], default="phone", help="what is in the photo")
    p.add_argument("--side", choices=["screen", "back"], default="screen", help="phone side shown")
    p.add_argument("--out", default="grades", help="directory for the overlay images (default: ./grades)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--models-dir", default=None, help="directory holding <kind>_defects.onnx")
    p.add_argument("--threads", type=int, default=2, help="inference threads (default 2)")
    p.set_defaults(handler=_run)
