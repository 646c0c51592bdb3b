"""Build the shipped item-level damage model: the chosen backbone and a logistic head fitted for it.

The recipe (``models/phone_damage.md``, the card, says why this backbone and these photos):

- real photos of ``models/real_split.csv``: the train part fits the head (damaged phones positive;
  intact phones and oil/stain crops negative), plus each train intact phone again at 800 px and with a
  crack painted on (``models.painted``): the same photo both ways, so the head learns glass, not style;
- station renders (seeds of their own, never the evaluation's): cracked phones positive; clean and
  scratched phones, both sides, with glare, reflections, fingerprints, oil, dust and line wallpapers,
  negative: the lowest grade is a cracked item, and the station's camera, lenses and logos must not
  look like one;
- the validation part of the real photos alone sets the threshold: the lowest probability that flags
  at most 3 % of intact phones and 2 % of oil/stain crops. At or above it the item makes the lowest
  grade; below it the pixel model's crack marks are dropped. The test part is never read here.

    python -m models.damage_head --out-dir models/work/candidate [--held-out]   # about 4 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from inspector.grading.item_damage import BACKBONE_FILE, ItemDamage, LinearHead, head_input, item_view
from inspector.grading.model import SegModel, default_models_dir
from models.backbone_choice import (
    choose_threshold,
    evaluate_candidate,
    extract,
    fit_head,
    painted_copies,
    photos_to_read,
)
from models.backbones import BACKBONES, ensure_built, image_features, session
from models.evaluate_real import markdown
from models.item_views import PHONE as VIEWS
from models.real_split import SPLIT_CSV, Label, RealPhoto, Split, read_csv, shared_data_dir
from models.synth.station_frames import station_frame

BACKBONE = "efficientnet_lite0_int8"
RENDER_SEED0 = 700_000  # the evaluation renders use seeds below 100,000
RENDERS_PER_CLASS = 120  # clean, scratched, cracked phones; half screen, half back
SHIPPED_DIR = Path(__file__).resolve().parent  # models/: what the product loads
WORK = SHIPPED_DIR / "work"
RENDER_CACHE = WORK / "features" / f"{BACKBONE}{VIEWS.tag}_renders.npz"


def item_viewer(models_dir: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The part of a photo the grader shows the head: the located item (the shipped phone model's
    locator), else the whole photo, at most the tiles' pixels on its longer side."""
    seg = SegModel(models_dir / "phone_defects.onnx", "phone", threads=1)

    def view(image: np.ndarray) -> np.ndarray:
        loc = seg.locate(image)
        return item_view(image, loc.quad if loc.found else None, VIEWS.longest)

    return view


def render_features(
    n: int, view: Callable[[np.ndarray], np.ndarray], threads: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Head inputs and labels (True = cracked) of ``3 * n`` station renders, cached on disk."""
    if RENDER_CACHE.is_file():
        with np.load(RENDER_CACHE) as z:
            if len(z["y"]) == 3 * n:
                return z["x"], z["y"]
    backbone = BACKBONES[BACKBONE]
    sess = session(backbone, threads)
    xs, ys = [], []
    for i in range(3 * n):
        defects: tuple[str, ...] = ((), ("scratch",), ("crack",))[i % 3]
        seed = RENDER_SEED0 + i
        rng = np.random.default_rng(seed)
        width = int(rng.choice([960, 1280]))
        side = "screen" if (i // 3) % 2 == 0 else "back"
        scene = station_frame("phone", seed, rng, defects, width, side=side)
        xs.append(
            head_input(image_features(sess, backbone, view(scene.image), VIEWS.grid, VIEWS.size, VIEWS.rows))
        )
        ys.append(defects == ("crack",))
        if (i + 1) % 30 == 0:
            print(f"renders: {i + 1}/{3 * n}", flush=True)
    x, y = np.stack(xs), np.array(ys)
    RENDER_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(RENDER_CACHE, x=x, y=y)
    return x, y


def real_features(
    photos: list[RealPhoto], data: Path, view: Callable[[np.ndarray], np.ndarray]
) -> dict[str, np.ndarray]:
    """Backbone features of the split's train and validation photos (never its test part), cached."""
    return extract(
        BACKBONES[BACKBONE],
        photos_to_read(photos, test=False),
        data,
        view,
        VIEWS.tag,
        VIEWS.grid,
        VIEWS.size,
        VIEWS.rows,
    )


def build(out_dir: Path, data: Path, models_dir: Path, renders: int = RENDERS_PER_CLASS) -> LinearHead:
    """Write ``damage_backbone.onnx`` and ``phone_damage_head.json`` into ``out_dir``; ``models_dir``
    holds the phone model whose locator frames the item."""
    backbone = BACKBONES[BACKBONE]
    ensure_built(backbone, SHIPPED_DIR / BACKBONE_FILE)
    photos = read_csv(SPLIT_CSV)
    view = item_viewer(models_dir)
    feats = real_features(photos, data, view)
    train = [p for p in photos if p.split == Split.TRAIN]
    train += painted_copies(train, Split.TRAIN)
    val = [p for p in photos if p.split == Split.VALIDATION]
    xr, yr = render_features(renders, view)
    x = np.concatenate([np.stack([head_input(feats[p.sha256]) for p in train]), xr])
    y = np.concatenate([np.array([p.label == Label.DAMAGED for p in train]), yr])
    head = fit_head(BACKBONE, x, y)
    pv = head.probability(np.stack([head_input(feats[p.sha256]) for p in val]))
    label = np.array([p.label for p in val])
    intact, oil = pv[label == Label.INTACT], pv[label == Label.OIL_STAIN]
    threshold = choose_threshold(intact, oil)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backbone.path, out_dir / BACKBONE_FILE)
    sha = hashlib.sha256((out_dir / BACKBONE_FILE).read_bytes()).hexdigest()
    head = replace(
        head, threshold=threshold, backbone_sha256=sha, grid=VIEWS.grid, size=VIEWS.size, rows=VIEWS.rows
    )
    (out_dir / "phone_damage_head.json").write_text(head.to_json() + "\n")
    ItemDamage(out_dir, "phone")  # loads as the grader will, or fails here
    return head


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=None, help="real photos (default ../shared/data)")
    ap.add_argument("--models-dir", type=Path, default=default_models_dir(), help="holds phone_defects.onnx")
    ap.add_argument("--renders", type=int, default=RENDERS_PER_CLASS, help="station renders per class")
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="also print the validation figures of the real-photo recipe held out by source (the card's)",
    )
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    head = build(args.out_dir, args.data or shared_data_dir(), args.models_dir, args.renders)
    if args.held_out:
        photos = read_csv(SPLIT_CSV)
        view = item_viewer(args.models_dir)
        data = args.data or shared_data_dir()
        feats = real_features(photos, data, view)
        print(markdown(evaluate_candidate(BACKBONE, photos, feats, painted=True)[1]))
    print(
        f"damage head written to {args.out_dir} in {time.monotonic() - t0:.0f} s, "
        f"threshold {head.threshold:.4f}"
    )


if __name__ == "__main__":
    main()
