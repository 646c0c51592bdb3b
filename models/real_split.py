"""One fixed split of the real photos in ../shared/data into train / validation / test, by file hash.

A photo's split follows from the SHA-256 of its bytes alone (the first 8 hex digits as a fraction of
2**32: below 0.6 train, below 0.8 validation, else test), so it never moves when files are added,
renamed or moved, and identical bytes can never land on both sides. The test part is never used to fit
anything, thresholds included. The split is committed as ``models/real_split.csv``; this command
re-derives it and fails when the data no longer matches it.

Labels: ``phones-collected/`` has a ``manifest.csv`` whose ``label`` and ``subtype`` columns (and
``sha256``, checked) are taken as they are; the other folders have no manifest, so their labels are the
data README's table, declared once in ``LABELLED_FOLDERS``. A folder that is in neither fails the run.

    python -m models.real_split [--data DIR]          # check models/real_split.csv against the data
    python -m models.real_split --write [--data DIR]  # (re)write it
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
from dataclasses import astuple, dataclass, fields
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

SPLIT_CSV = Path(__file__).resolve().parent / "real_split.csv"
REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MANIFEST = "manifest.csv"


class Label(StrEnum):
    DAMAGED = "damaged"
    INTACT = "intact"
    OIL_STAIN = "oil_stain"  # screen dirt: a hard negative, never damage


class Split(StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"


def shared_data_dir() -> Path:
    """The real photos: $INSPECTOR_SHARED_DATA, else ../shared/data beside the repository."""
    env = os.environ.get("INSPECTOR_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class FolderLabel:
    label: Label
    subtype: str
    source: str


PHONES_REAL_SOURCE = "MinKhaungMinLwin/Phone_cracked_screen_detection"
# Folders without a manifest, labelled as the data README's first table says.
LABELLED_FOLDERS: dict[str, FolderLabel] = {
    "phones-real/damaged": FolderLabel(Label.DAMAGED, "cracked_screen_or_back", PHONES_REAL_SOURCE),
    "phones-real/good": FolderLabel(Label.INTACT, "bench_screen_dark", PHONES_REAL_SOURCE),
    "screen-surface/oil": FolderLabel(Label.OIL_STAIN, "oil", "screen-surface lab dataset"),
    "screen-surface/stain": FolderLabel(Label.OIL_STAIN, "stain", "screen-surface lab dataset"),
}
MANIFEST_LABELS = {"damaged": Label.DAMAGED, "intact": Label.INTACT}


@dataclass(frozen=True)
class RealPhoto:
    file: str  # path under the data directory, e.g. "phones-real/good/0001.jpg"
    folder: str  # the top-level set it came with: phones-real, phones-collected, screen-surface
    label: Label
    subtype: str
    source: str
    sha256: str
    split: Split


class SplitError(RuntimeError):
    """The data cannot be labelled, or no longer matches the committed split."""


def split_of(sha256: str) -> Split:
    """60 / 20 / 20 by the first 8 hex digits of the hash."""
    frac = int(sha256[:8], 16) / 16**8
    return Split.TRAIN if frac < 0.6 else Split.VALIDATION if frac < 0.8 else Split.TEST


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _photo(data: Path, path: Path, label: Label, subtype: str, source: str, sha: str) -> RealPhoto:
    rel = path.relative_to(data).as_posix()
    return RealPhoto(rel, rel.split("/")[0], label, subtype, source, sha, split_of(sha))


def _manifest_photos(data: Path, top: Path) -> list[RealPhoto]:
    with (top / MANIFEST).open(newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    out = []
    for sub in sorted(p for p in top.iterdir() if p.is_dir()):
        for path in _images(sub):
            rel = path.relative_to(top).as_posix()
            row = rows.pop(rel, None)
            if row is None:
                raise SplitError(f"{path}: not in {top / MANIFEST}")
            if row["label"] not in MANIFEST_LABELS:
                raise SplitError(f"{path}: unknown label {row['label']!r} in {top / MANIFEST}")
            sha = _sha256(path)
            if row.get("sha256") and row["sha256"] != sha:
                raise SplitError(f"{path}: SHA-256 differs from {top / MANIFEST}")
            label = MANIFEST_LABELS[row["label"]]
            out.append(_photo(data, path, label, row["subtype"], row["source_repo"], sha))
    if rows:
        raise SplitError(f"{top / MANIFEST} lists missing files: {', '.join(sorted(rows)[:5])}")
    return out


def derive(data: Path) -> list[RealPhoto]:
    """Every real photo under ``data`` with its label and split, sorted by file."""
    if not data.is_dir():
        raise SplitError(f"no real photos at {data} (set INSPECTOR_SHARED_DATA or pass --data)")
    photos: list[RealPhoto] = []
    for top in sorted(p for p in data.iterdir() if p.is_dir()):
        if (top / MANIFEST).is_file():
            photos += _manifest_photos(data, top)
            continue
        for sub in sorted(p for p in top.iterdir() if p.is_dir()):
            key = sub.relative_to(data).as_posix()
            if key not in LABELLED_FOLDERS:
                raise SplitError(f"{sub}: no manifest and no label in models.real_split.LABELLED_FOLDERS")
            spec = LABELLED_FOLDERS[key]
            photos += [
                _photo(data, p, spec.label, spec.subtype, spec.source, _sha256(p)) for p in _images(sub)
            ]
    return sorted(photos, key=lambda p: p.file)


COLUMNS = tuple(f.name for f in fields(RealPhoto))


def write_csv(photos: list[RealPhoto], path: Path = SPLIT_CSV) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(astuple(p) for p in photos)


def read_csv(path: Path = SPLIT_CSV) -> list[RealPhoto]:
    with path.open(newline="") as f:
        return [
            RealPhoto(
                r["file"],
                r["folder"],
                Label(r["label"]),
                r["subtype"],
                r["source"],
                r["sha256"],
                Split(r["split"]),
            )
            for r in csv.DictReader(f)
        ]


def read_image(data: Path, file: str) -> np.ndarray:
    """The photo ``file`` (a path under ``data``) as BGR; RuntimeError naming it when it cannot be read."""
    img = cv2.imread(str(data / file), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError(f"{data / file}: not readable as an image")
    return np.asarray(img)


def differences(committed: list[RealPhoto], derived: list[RealPhoto]) -> list[str]:
    """What changed between the committed split and the data, one line per file."""
    old = {p.file: p for p in committed}
    new = {p.file: p for p in derived}
    out = [f"missing from the data: {f}" for f in sorted(old.keys() - new.keys())]
    out += [f"new in the data: {f}" for f in sorted(new.keys() - old.keys())]
    out += [f"changed: {f}" for f in sorted(old.keys() & new.keys()) if old[f] != new[f]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="real photos (default ../shared/data)")
    ap.add_argument("--csv", type=Path, default=SPLIT_CSV)
    ap.add_argument("--write", action="store_true", help="write the split instead of checking it")
    args = ap.parse_args(argv)
    try:
        photos = derive(args.data or shared_data_dir())
    except SplitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.write:
        write_csv(photos, args.csv)
        print(f"wrote {len(photos)} photos to {args.csv}")
        return 0
    diff = differences(read_csv(args.csv), photos)
    if diff:
        print(f"the data no longer matches {args.csv} ({len(diff)} files):", file=sys.stderr)
        print("\n".join(diff[:20]), file=sys.stderr)
        return 1
    counts: dict[tuple[str, str], int] = {}
    for p in photos:
        counts[(p.split, p.label)] = counts.get((p.split, p.label), 0) + 1
    print(f"{args.csv.name} matches the data: {len(photos)} photos")
    for s in Split:
        print(f"  {s}: " + ", ".join(f"{lab} {counts.get((s, lab), 0)}" for lab in Label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
