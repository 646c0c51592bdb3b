"""Train the grading networks: render data, train a small U-Net on CPU, export to ONNX.

What to train is a recipe (``models/recipes/<kind>.json``, run by ``models.experiment``; ``make models``
runs both); this module is how one stage trains. Needs the optional ``train`` extra (torch, onnx); the
product itself only needs onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspector.grading.locate import (
    JEWELRY_INPUT,
    Located,
    crop_jewelry,
    locate,
    order_quad,
    phone_input,
    rectify_phone,
)
from models import checkpoint as checkpoints
from models.conv_blocks import double_conv
from models.crop_labels import crop_labels
from models.hard_negatives import MinedWindows, mine_windows
from models.lite_unet import lite_unet
from models.precision import choose_bf16
from models.rare_windows import RarePool, rare_mosaics
from models.real_split import Label, RealPhoto, Split, read_csv, shared_data_dir
from models.step import train_step
from models.synth.scene import DISTRACTORS, JEWELRY_CLASSES, LANDMARKS, PHONE_CLASSES, render_scene
from models.synth.scene_mix import SceneMix

MODELS_DIR = Path(__file__).resolve().parent
WORK_DIR = MODELS_DIR / "work"
CLASSES = {"phone": PHONE_CLASSES, "jewelry": JEWELRY_CLASSES}
WIDTHS = (640, 800, 960, 1280)
CROP = 160
WHOLE_FRAME_P = 0.12
MODEL_VERSION = "5.0.0"
ANTIALIAS = True
"""Models from v3 see anti-aliased crops (recorded as ``resample: area`` in the ONNX metadata)."""
MARGIN_PX = {"phone": 0, "jewelry": 0}
"""Mat kept around the phone body in the crop (ONNX metadata ``margin_px``): a
nick in the rim is a notch in the body's outline, which a crop ending exactly at the outline cannot
show (v4 never found one chip: its labels were the crop's outermost 1-3 pixels). Tried at 8 px (v5
experiment, models/phone_defects.md): chips were still not learnt, see there."""


def framing_tag(kind: str) -> str:
    """How this run crops, for cache file names: the margin and the resampling."""
    return f"m{MARGIN_PX[kind]}_{'area' if ANTIALIAS else 'linear'}"


def sample_defects(kind: str, rng: np.random.Generator) -> list[str]:
    """30% clean items (the hard negatives still appear), otherwise a random mix of defects."""
    if rng.random() < 0.3:
        return []
    classes = CLASSES[kind]
    picked = [c for c in classes if rng.random() < 0.35]
    return picked or [str(rng.choice(classes))]


def make_sample(
    kind: str, seed: int, mix: SceneMix = SceneMix()
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """One training pair in the model's frame: (crop BGR uint8, label map uint8, damaged flag, landmark
    map uint8: 0 none, i + 1 = LANDMARKS[kind][i], e.g. an intact stone).

    The crop uses the rendered item outline with a small jitter, standing in for detection error.
    """
    rng = np.random.default_rng(seed + 7_000_000)
    w = int(rng.choice(WIDTHS))
    h = w * 9 // 16
    defects = sample_defects(kind, rng)
    side = str(rng.choice(["screen", "back"]))
    scene = render_scene(
        kind,
        seed=seed,
        defects=defects,
        side=side,
        angle_deg=float(rng.uniform(0, 360)),
        light_level=float(rng.uniform(0.35, 1.0)),
        width=w,
        height=h,
        **mix.draw(seed, side),
    )
    # Crop exactly as the grader will (same detector), so train and run time see the same framing;
    # the rendered outline (jittered) stands in only when the detector finds nothing. Some phone
    # samples use the whole frame, as the grader does for a photo it cannot find a phone in: the
    # model then learns that the phone's own outline and the mat are not defects.
    if kind == "phone" and rng.random() < WHOLE_FRAME_P:
        loc = locate_whole_frame(scene.image)
    else:
        loc = locate(scene.image, kind, antialias=ANTIALIAS, margin_px=MARGIN_PX[kind])
    if not loc.found:
        q = scene.item_quad.copy()
        size = float(np.linalg.norm(q[2] - q[0]))
        q += rng.normal(0, 0.006 * size, q.shape).astype(np.float32)
        loc = (
            rectify_phone(scene.image, order_quad(q), antialias=ANTIALIAS, margin_px=MARGIN_PX[kind])
            if kind == "phone"
            else crop_jewelry(scene.image, q, antialias=ANTIALIAS)
        )
    label = crop_labels(scene.masks, CLASSES[kind], loc, scene.visibility)
    return loc.crop, label, int(label.max() > 0), crop_labels(scene.landmarks, LANDMARKS[kind], loc)


def locate_whole_frame(image: np.ndarray) -> Located:
    """The grader's fallback framing (no phone found): the whole frame warped to the model input."""
    h, w = image.shape[:2]
    q = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    # found: the framing is deliberate here
    return rectify_phone(image, q, antialias=ANTIALIAS, margin_px=MARGIN_PX["phone"])


def make_negative(kind: str, seed: int, mix: SceneMix = SceneMix()) -> tuple[np.ndarray, np.ndarray, int]:
    """A clean item with a random subset of the hard negatives forced on (glare, oil, reflections...):
    all background. Icons, camera bumps and rounded corners come with every render."""
    rng = np.random.default_rng(seed + 9_000_000)
    w = int(rng.choice(WIDTHS))
    picked = [d for d in DISTRACTORS if rng.random() < 0.6] or [str(rng.choice(DISTRACTORS))]
    side = str(rng.choice(["screen", "back"]))
    scene = render_scene(
        kind,
        seed=seed,
        defects=[],
        side=side,
        angle_deg=float(rng.uniform(0, 360)),
        light_level=float(rng.uniform(0.35, 1.0)),
        width=w,
        height=w * 9 // 16,
        only_distractors=picked,
        **mix.draw(seed, side),
    )
    whole = kind == "phone" and rng.random() < WHOLE_FRAME_P
    loc = (
        locate_whole_frame(scene.image)
        if whole
        else locate(scene.image, kind, antialias=ANTIALIAS, margin_px=MARGIN_PX[kind])
    )
    crop = loc.crop
    return crop, np.zeros(crop.shape[:2], np.uint8), 0


def real_negative_photos(part: Split = Split.TRAIN) -> list[RealPhoto]:
    """Real photos that are not damage (intact phones, oil and stain crops) in one part of the fixed
    split (``models/real_split.csv``): the train part is what the phone network trains on and its rule
    is fitted on. The test part is never read for fitting."""
    return [p for p in read_csv() if p.split is part and p.label is not Label.DAMAGED]


def real_negative_files(data: Path, part: Split = Split.TRAIN) -> list[Path]:
    """The files of ``real_negative_photos`` under the shared data directory ``data``."""
    return [data / p.file for p in real_negative_photos(part)]


def load_real_negatives(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """The train part's real negatives, rectified/resized by the station's own locator."""
    xs = []
    for p in real_negative_files(data):
        img = cv2.imread(str(p))
        if img is not None:
            xs.append(locate(img, "phone", antialias=ANTIALIAS, margin_px=MARGIN_PX["phone"]).crop)
    x = np.stack(xs)
    return x, np.zeros(x.shape[:3], np.uint8)


Dataset = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Crops, labels, damaged flags and landmark maps of a run of scenes, stacked."""


def _neg_worker(args: tuple[str, int, int, SceneMix]) -> Dataset:
    kind, start, n, mix = args
    xs, ys = [], []
    for s in range(start, start + n):
        x, y, _ = make_negative(kind, s, mix)
        xs.append(x)
        ys.append(y)
    labels = np.stack(ys)
    return np.stack(xs), labels, np.zeros(n, np.uint8), np.zeros_like(labels)


def _worker(args: tuple[str, int, int, SceneMix]) -> Dataset:
    kind, start, n, mix = args
    xs, ys, ds, ls = [], [], [], []
    for s in range(start, start + n):
        x, y, d, lm = make_sample(kind, s, mix)
        xs.append(x)
        ys.append(y)
        ds.append(d)
        ls.append(lm)
    return np.stack(xs), np.stack(ys), np.array(ds, np.uint8), np.stack(ls)


def build_dataset(
    kind: str, n: int, seed0: int, procs: int = 2, negatives: bool = False, mix: SceneMix = SceneMix()
) -> Dataset:
    """Render ``n`` scenes from ``seed0`` on ``procs`` processes: (crops, labels, damaged flags,
    landmark maps; negatives label no landmarks)."""
    chunk = math.ceil(n / (procs * 4))
    jobs = [(kind, seed0 + i, min(chunk, n - i), mix) for i in range(0, n, chunk)]
    work = _neg_worker if negatives else _worker
    if procs <= 1:
        parts = [work(job) for job in jobs]
    else:
        # spawn, not fork: a forked child inherits the locks of whatever threads the parent runs
        # (OpenCV's and onnxruntime's pools, a test suite's servers) and once hung in the test suite
        with mp.get_context("spawn").Pool(procs) as pool:
            parts = pool.map(work, jobs)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
    )


# Seeds: training scenes start at 0, hard negatives for fine-tuning at 3_000_000, calibration
# (validation) scenes at 20_000_000, held-out evaluation scenes at 10_000_000 (never overlap).
TRAIN_SEED0 = {"phone": 0, "jewelry": 1_000_000}
NEGATIVE_SEED0 = {"phone": 3_000_000, "jewelry": 4_000_000}
VALIDATION_SEED0 = {"phone": 20_000_000, "jewelry": 21_000_000}
HELDOUT_SEED0 = {"phone": 10_000_000, "jewelry": 11_000_000}


def sample_windows(
    xb: np.ndarray, yb: np.ndarray, rng: np.random.Generator, on_defect_p: float = 0.6, crop: int = CROP
) -> tuple[np.ndarray, np.ndarray]:
    """``crop`` x ``crop`` windows (float 0..1, int64 labels), one per sample: most windows are centred on a
    labelled defect pixel when the sample has one, because a random window of a thin crack or scratch
    is mostly background and teaches little; the rest are uniform, so the whole item is seen too.

    The class to centre on is drawn uniformly among the classes present, then a pixel of it: drawing
    a pixel directly would nearly always pick the crack (a shattered screen has ~8x the pixels of a
    scratch and ~80x those of a chip), and the rare classes were never learnt."""
    n, h, w = yb.shape
    xs = np.empty((n, crop, crop, 3), np.float32)
    ys = np.empty((n, crop, crop), np.int64)
    for i in range(n):
        cy = int(rng.integers(0, h - crop + 1))
        cx = int(rng.integers(0, w - crop + 1))
        if rng.random() < on_defect_p:
            present = np.flatnonzero(np.bincount(yb[i].reshape(-1))[1:]) + 1
            if len(present):
                py, px = np.nonzero(yb[i] == int(rng.choice(present)))
                k = int(rng.integers(0, len(py)))
                cy = int(np.clip(py[k] - crop // 2 + rng.integers(-40, 41), 0, h - crop))
                cx = int(np.clip(px[k] - crop // 2 + rng.integers(-40, 41), 0, w - crop))
        xs[i] = xb[i, cy : cy + crop, cx : cx + crop] / 255.0
        ys[i] = yb[i, cy : cy + crop, cx : cx + crop]
    return xs, ys


def class_weights(
    labels: np.ndarray, n_classes: int, max_weight: float, rare_boost: float = 1.0
) -> np.ndarray:
    """Cross-entropy weights: sqrt(inverse pixel frequency) capped at ``max_weight`` (strong weights
    over-mark defects). With ``rare_boost`` > 1 a defect class rarer than the commonest one keeps
    sqrt(its rarity relative to that class) on top, up to ``rare_boost`` x the cap: under one shared
    cap the crack, with ~8x the pixels of a scratch, took every line and the scratch class died."""
    freq = np.bincount(labels.reshape(-1), minlength=n_classes + 1).astype(np.float64) + 1
    weights = np.clip((freq[0] / freq) ** 0.5, 1.0, max_weight)
    if rare_boost > 1.0:
        relative = (freq[1:].max() / freq[1:]) ** 0.5
        weights[1:] = np.minimum(weights[1:] * relative, max_weight * rare_boost)
    return np.asarray(weights)


@dataclass(frozen=True)
class RareTiles:
    """``tiles`` slots of every batch filled with mosaics centred on the pool's classes, drawn from the
    whole training set ``x``/``y`` (models/rare_windows.py)."""

    x: np.ndarray
    y: np.ndarray
    pool: RarePool
    tiles: int


@dataclass(frozen=True)
class HardSlots:
    """``n`` slots of every batch filled with windows mined where a model marked what is not there
    (models/hard_negatives.py), drawn uniformly from ``mined``."""

    mined: MinedWindows
    n: int


LANDMARK_ID0 = 200
"""Landmark i is centred on as id LANDMARK_ID0 + i in a rare pool: above every class id."""


def rare_pool(
    labels: np.ndarray,
    landmarks: np.ndarray,
    rare_ids: tuple[int, ...],
    rare_landmarks: tuple[str, ...],
    kind: str,
) -> RarePool:
    """The pool of mosaic centres: the rare classes' pixels, and the named landmarks' pixels where
    nothing is labelled. A mosaic copies the labels as they are, so a window on an intact stone teaches
    that the stone is background: without them, two of every five mosaic windows showed a missing or
    loose stone and none an intact one (v11 graded 27 clean pieces Fair for stones marked loose)."""
    unknown = [n for n in rare_landmarks if n not in LANDMARKS[kind]]
    if unknown:
        raise ValueError(f"unknown {kind} landmark(s) {unknown}: expected some of {list(LANDMARKS[kind])}")
    if not rare_landmarks:
        return RarePool.build(labels, rare_ids)
    centres = labels.copy()
    ids = []
    for name in rare_landmarks:
        j = LANDMARKS[kind].index(name)
        centres[(landmarks == j + 1) & (labels == 0)] = LANDMARK_ID0 + j
        ids.append(LANDMARK_ID0 + j)
    return RarePool.build(centres, (*rare_ids, *ids))


def progress(pos: checkpoints.Position, steps: int, loss: float, t0: float, t_loop: float, step0: int) -> str:
    """One progress line: steps done (of the recipe's ``steps``, with the time left at this run's
    pace), the epoch, the loss and the time since the run started (``t0``)."""
    now = time.time()
    line = f"epoch {pos.epoch} step {pos.step}"
    if steps > 0:
        line += f"/{steps} ({100 * pos.step / steps:.0f} %)"
        rate = (pos.step - step0) / max(now - t_loop, 1e-9)
        if rate > 0:
            line += f", about {(steps - pos.step) / rate / 60:.0f} min left"
    return f"{line}, loss {loss:.4f}, elapsed {now - t0:.0f}s"


def prepare_batch(
    xb: np.ndarray,
    yb: np.ndarray,
    negs: list[tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    on_defect_p: float,
    crop: int = CROP,
    rare: RareTiles | None = None,
    hard: HardSlots | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One training batch (NCHW float32 0..1, NHW int64): a share from every negative set (all
    background), windows, then ``hard``'s mined windows and ``rare``'s rare-class mosaics in the last
    slots, photometric jitter (brightness/contrast/colour) and flips (the items are symmetric enough)."""
    bs = len(xb)
    tiles = rare.tiles if rare is not None else 0
    mined = hard.n if hard is not None else 0
    if tiles or mined:
        xb, yb = xb[: bs - tiles - mined], yb[: bs - tiles - mined]
    if negs:
        k = max(1, bs // (4 * len(negs)))
        scenes = len(xb) - k * len(negs)
        parts_x, parts_y = [xb[:scenes]], [yb[:scenes]]
        for NX, NY in negs:
            j = rng.integers(0, len(NX), k)
            parts_x.append(NX[j])
            parts_y.append(NY[j])
        xb, yb = np.concatenate(parts_x), np.concatenate(parts_y)
    x, y = sample_windows(xb, yb, rng, on_defect_p, crop)
    if hard is not None and mined:
        j = rng.integers(0, len(hard.mined.x), mined)
        x = np.concatenate([x, hard.mined.x[j].astype(np.float32) / 255.0])
        y = np.concatenate([y, hard.mined.y[j].astype(np.int64)])
    if rare is not None and tiles:
        mx, my = rare_mosaics(rare.x, rare.y, rare.pool, rng, tiles, crop)
        x = np.concatenate([x, mx.astype(np.float32) / 255.0])
        y = np.concatenate([y, my.astype(np.int64)])
    x = x * rng.uniform(0.7, 1.3, (bs, 1, 1, 1)) + rng.uniform(-0.1, 0.1, (bs, 1, 1, 3))
    x = x * rng.uniform(0.9, 1.1, (bs, 1, 1, 3))
    if rng.random() < 0.5:
        x, y = x[:, :, ::-1], y[:, :, ::-1]
    if rng.random() < 0.5:
        x, y = x[:, ::-1], y[:, ::-1]
    return (
        np.ascontiguousarray(np.clip(x, 0, 1).transpose(0, 3, 1, 2), np.float32),
        np.ascontiguousarray(y),
    )


UNET_WIDTHS = (12, 20, 32, 48)
BF16_UNITS_SPEEDUP = 0.5
"""Below this measured bfloat16 speed-up a CPU has no bfloat16 units (0.09-0.13x measured there;
2.2-2.9x with AMX, 1.8-2.0x with AVX-512 BF16): a recipe's bfloat16 steps run in float32 there."""


def _net(n_classes: int, widths: tuple[int, int, int, int] = UNET_WIDTHS) -> Any:
    import torch
    from torch import nn

    class UNet(nn.Module):
        """Small 3-level U-Net: thin lines need full resolution, the rest is context."""

        def __init__(self) -> None:
            super().__init__()
            c = widths
            self.e0, self.e1, self.e2, self.e3 = (
                double_conv(3, c[0]),
                double_conv(c[0], c[1]),
                double_conv(c[1], c[2]),
                double_conv(c[2], c[3]),
            )
            self.pool = nn.MaxPool2d(2)
            self.u2, self.d2 = nn.ConvTranspose2d(c[3], c[2], 2, 2), double_conv(2 * c[2], c[2])
            self.u1, self.d1 = nn.ConvTranspose2d(c[2], c[1], 2, 2), double_conv(2 * c[1], c[1])
            self.u0, self.d0 = nn.ConvTranspose2d(c[1], c[0], 2, 2), double_conv(2 * c[0], c[0])
            self.head = nn.Conv2d(c[0], n_classes + 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x0 = self.e0(x)
            x1 = self.e1(self.pool(x0))
            x2 = self.e2(self.pool(x1))
            x3 = self.e3(self.pool(x2))
            y = self.d2(torch.cat([self.u2(x3), x2], 1))
            y = self.d1(torch.cat([self.u1(y), x1], 1))
            y = self.d0(torch.cat([self.u0(y), x0], 1))
            return self.head(y)

    return UNet()


ENCODERS = ("lite0",)
"""Pretrained encoders a recipe may put under the pixel network (``encoder``); None: the U-Net."""


def check_encoder(encoder: str | None) -> None:
    if encoder is not None and encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}: one of {', '.join(ENCODERS)}, or none for the U-Net")


def pixel_net(n_classes: int, widths: tuple[int, int, int, int], encoder: str | None) -> Any:
    check_encoder(encoder)
    return _net(n_classes, widths) if encoder is None else lite_unet(n_classes)


def train(
    kind: str,
    n_train: int,
    minutes: float,
    out: Path,
    threads: int = 2,
    max_weight: float = 8.0,
    init: Path | None = None,
    lr0: float = 3e-3,
    n_negatives: int = 0,
    real_negatives: Path | None = None,
    on_defect_p: float = 0.6,
    state_path: Path | None = None,
    crop: int = CROP,
    batch: int = 16,
    dice_weight: float = 0.0,
    rare_boost: float = 1.0,
    rare_classes: tuple[str, ...] = (),
    rare_tiles: int = 0,
    rare_landmarks: tuple[str, ...] = (),
    weight_floor: dict[str, float] | None = None,
    classes: tuple[str, ...] | None = None,
    widths: tuple[int, int, int, int] = UNET_WIDTHS,
    name: str | None = None,
    mine_with: Path | None = None,
    hard_windows: int = 0,
    mine_threshold: float = 0.5,
    float32: bool = False,
    steps: int = 0,
    checkpoint: Path | None = None,
    scene_mix: dict[str, float] | None = None,
    encoder: str | None = None,
    version: str = MODEL_VERSION,
) -> dict[str, Any]:
    """Train (or, with ``init``, fine-tune) one model. ``n_negatives`` rendered hard negatives and the
    train part's real negatives (``real_negative_photos``) under ``real_negatives`` fill part of every
    batch; with ``rare_tiles`` that many slots of every batch are mosaics centred on ``rare_classes``
    and on the ``rare_landmarks`` (LANDMARKS, e.g. intact stones, labelled background as they are);
    ``weight_floor`` raises the cross-entropy weight of the named classes to at least its value.
    ``classes`` trains on a subset of the kind's classes (the others' pixels count as background), for
    a part model that ``models/compose.py`` joins with another; ``name`` is its ONNX name. With
    ``mine_with`` (an ONNX model of the same classes, e.g. the first stage's) ``hard_windows`` slots of
    every batch are windows centred on what that model marks (P >= ``mine_threshold``) where nothing
    is labelled. ``scene_mix`` names the shares of a ``SceneMix`` for the rendered scenes.
    ``encoder`` ``"lite0"`` trains ``models.lite_unet`` (a pretrained encoder) instead of the U-Net.

    ``steps`` above 0 is a recipe's budget: exactly that many steps (the same on every machine, so a
    rebuild repeats what shipped), in bfloat16 autocast unless ``float32`` or the CPU has no bfloat16
    units (``BF16_UNITS_SPEEDUP``), saved to
    ``checkpoint`` every ``CHECKPOINT_SECONDS`` and resumed from it when run again with the same
    settings. Otherwise the run trains for ``minutes``, rendering included, in bfloat16 where that is
    measured faster unless ``float32``."""
    import torch
    from torch import nn

    call = {k: v for k, v in locals().items() if k not in ("out", "threads", "state_path", "checkpoint")}
    check_encoder(encoder)  # before minutes of rendering, not after

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    t0 = time.time()
    # the framing is part of the cache's name: scenes cropped otherwise are other pixels
    mix = SceneMix.parse(scene_mix)
    cache = WORK_DIR / f"{kind}_train_{n_train}_{framing_tag(kind)}{mix.tag}.npz"
    z = np.load(cache) if cache.exists() else None
    if z is not None and "landmarks" in z:
        X, Y, L = z["x"], z["y"], z["landmarks"]
    else:  # no cache, or one written before scenes labelled their landmarks
        X, Y, _, L = build_dataset(kind, n_train, TRAIN_SEED0[kind], procs=threads, mix=mix)
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=X, y=Y, landmarks=L)
    negs: list[tuple[np.ndarray, np.ndarray]] = []
    if n_negatives:
        ncache = WORK_DIR / f"{kind}_neg_{n_negatives}_{framing_tag(kind)}{mix.tag}.npz"
        if ncache.exists():
            z = np.load(ncache)
            NX, NY = z["x"], z["y"]
        else:
            NX, NY, _, _ = build_dataset(kind, n_negatives, NEGATIVE_SEED0[kind], threads, True, mix)
            np.savez(ncache, x=NX, y=NY)
        negs.append((NX, NY))
    if real_negatives is not None and kind == "phone":
        negs.append(load_real_negatives(real_negatives))
    active = classes or CLASSES[kind]
    if classes:
        Y = subset_labels(Y, CLASSES[kind], classes)
    t_data = time.time() - t0
    print(
        f"[{kind}] data: {len(X)} samples {X.shape[1:]}, negatives {[len(n[0]) for n in negs]} "
        f"in {t_data:.0f}s",
        flush=True,
    )
    if len(X) < batch:
        raise ValueError(f"a batch of {batch} needs at least as many training scenes, not {len(X)}")
    n_cls = len(active)
    net = pixel_net(n_cls, widths, encoder)
    if init is not None:  # second stage: continue from a first run with other loss weights
        net.load_state_dict(torch.load(init))
    weights = class_weights(Y, n_cls, max_weight, rare_boost)
    for cls_name, floor in (weight_floor or {}).items():
        c = active.index(cls_name) + 1
        weights[c] = max(weights[c], floor)
    rare_ids = tuple(active.index(c) + 1 for c in rare_classes)
    rare = None
    if rare_tiles:
        rare = RareTiles(X, Y, rare_pool(Y, L, rare_ids, rare_landmarks, kind), rare_tiles)
    hard, mined_info = None, {}
    if mine_with is not None and hard_windows:
        mined = mine_false_marks(mine_with, active, [(X, Y), *negs], crop, threads, mine_threshold)
        mined_info = {"false_marks": mined.marks, "crops_marked": mined.crops_marked}
        print(f"[{kind}] mined {mined.marks} false marks in {mined.crops_marked} crops", flush=True)
        hard = HardSlots(mined, hard_windows) if mined.marks else None
    print(f"[{kind}] class weights {np.round(weights, 1).tolist()}", flush=True)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    opt = torch.optim.AdamW(net.parameters(), lr=lr0, weight_decay=1e-4)
    bs = batch
    net.train()
    bf16, speedup = False, 1.0
    if not float32:
        x, y = prepare_batch(X[:bs], Y[:bs], negs, np.random.default_rng(2), on_defect_p, crop, rare, hard)
        bf16, speedup = choose_bf16(net, torch.from_numpy(x), torch.from_numpy(y))
    if steps > 0 and not float32:
        # a recipe names its arithmetic; only a CPU without bfloat16 units (an order of magnitude
        # slower there) trains it in float32, and is told the result will differ slightly
        bf16 = speedup >= BF16_UNITS_SPEEDUP
        if not bf16:
            print(
                f"[{kind}] warning: this CPU has no bfloat16 units (bfloat16 {speedup:.2f}x): the recipe's "
                "bfloat16 steps run in float32, so the model will differ a little from one trained with them",
                flush=True,
            )
    precision = "bfloat16 autocast" if bf16 else "float32"
    budget = f"{steps} steps (the recipe's)" if steps > 0 else f"{minutes:g} min"
    print(f"[{kind}] {precision} (bfloat16 measured {speedup:.2f}x), {budget}", flush=True)
    # The budget counts rendering too, so a slow machine trains less instead of blowing the rebuild's
    # hour (rendering took 9.3 min one afternoon and 13.5 the same evening); at least a third is kept
    # for training.
    deadline = max(t0 + minutes * 60, time.time() + minutes * 20)
    rng = np.random.default_rng(1)
    pos = checkpoints.Position(0, 0, rng.permutation(len(X)), 0)
    key = ""
    if steps > 0 and checkpoint is not None:
        key = checkpoints.fingerprint(call, [p for p in (init, mine_with) if p is not None])
        resumed = checkpoints.resume(checkpoint, key, net, opt, rng)
        if resumed is not None:
            pos = resumed
            print(f"[{kind}] resumed at step {pos.step} of {steps} from {checkpoint}", flush=True)
    est_steps = steps or None
    t_loop, step0, saved_at = time.time(), pos.step, time.time()

    def budget_left() -> bool:
        return pos.step < steps if steps > 0 else time.time() < deadline

    while budget_left():
        if pos.batch_start + bs > len(pos.order):
            pos.order, pos.batch_start, pos.epoch = rng.permutation(len(X)), 0, pos.epoch + 1
        idx = pos.order[pos.batch_start : pos.batch_start + bs]
        pos.batch_start += bs
        x, y = prepare_batch(X[idx], Y[idx], negs, rng, on_defect_p, crop, rare, hard)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        if est_steps is None and pos.step == 20:
            per = (time.time() - t_data - t0) / 20
            est_steps = int((deadline - time.time()) / per) + 20
        if est_steps:
            lr = lr0 * 0.5 * (1 + math.cos(math.pi * min(1.0, pos.step / est_steps)))
            for g in opt.param_groups:
                g["lr"] = lr
        loss = train_step(net, opt, loss_fn, xt, yt, dice_weight, bf16)
        pos.step += 1
        if pos.step % 50 == 0:
            print(f"[{kind}] {progress(pos, steps, loss.item(), t0, t_loop, step0)}", flush=True)
        if key and checkpoint is not None and time.time() - saved_at >= checkpoints.CHECKPOINT_SECONDS:
            checkpoints.save(checkpoint, key, pos, net, opt, rng)
            saved_at = time.time()
    step, epoch = pos.step, pos.epoch + 1
    net.eval()
    torch.save(net.state_dict(), state_path or WORK_DIR / f"{kind}_state.pt")
    export_onnx(net, kind, out, active, name or f"{kind}_defects", [float(w) for w in weights], version)
    return {
        "classes": list(active),
        "widths": list(widths),
        "encoder": encoder,
        "train_samples": len(X),
        "steps": step,
        "epochs": epoch,
        "batch": bs,
        "window": crop,
        "dice_weight": dice_weight,
        "rare_boost": rare_boost,
        "rare_classes": list(rare_classes),
        "rare_tiles": rare_tiles,
        "rare_landmarks": list(rare_landmarks),
        "train_seconds": round(time.time() - t0),
        "data_seconds": round(t_data),
        "class_weights": np.round(weights, 2).tolist(),
        "negatives": [len(n[0]) for n in negs],
        "hard_windows": hard.n if hard is not None else 0,
        "mine_threshold": mine_threshold if hard is not None else None,
        **mined_info,
        "on_defect_window_p": on_defect_p,
        "lr0": lr0,
        "precision": precision,
        "bf16_speedup": round(speedup, 2),
        "scene_mix": asdict(mix),
    }


def mine_false_marks(
    model: Path,
    classes: tuple[str, ...],
    sets: list[tuple[np.ndarray, np.ndarray]],
    crop: int,
    threads: int,
    threshold: float = 0.5,
) -> MinedWindows:
    """Windows around every false mark (P >= ``threshold``) ``model`` makes on the crops of ``sets``
    (labels already in ``classes``' numbering); the model must output exactly those classes."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    if json.loads(meta.get("classes", "[]")) != ["background", *classes]:
        raise ValueError(f"{model} outputs {meta.get('classes')}, not background + {list(classes)}")
    name = session.get_inputs()[0].name

    def predict(x: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(x.transpose(0, 3, 1, 2), np.float32) * (1.0 / 255.0)
        return np.asarray(session.run(None, {name: batch})[0], np.float32)

    ids = tuple(range(1, len(classes) + 1))
    rng = np.random.default_rng(2)
    parts = [mine_windows(predict, x, y, ids, crop, rng, threshold) for x, y in sets]
    return MinedWindows(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        sum(p.marks for p in parts),
        sum(p.crops_marked for p in parts),
    )


def subset_labels(labels: np.ndarray, all_classes: tuple[str, ...], keep: tuple[str, ...]) -> np.ndarray:
    """Label ids renumbered to ``keep`` (1..len(keep), in its order); every other class becomes 0."""
    lut = np.zeros(len(all_classes) + 1, labels.dtype)
    for i, c in enumerate(keep):
        lut[all_classes.index(c) + 1] = i + 1
    return lut[labels]


def export_onnx(
    net: Any,
    kind: str,
    out: Path,
    classes: tuple[str, ...],
    name: str,
    loss_weights: list[float],
    version: str = MODEL_VERSION,
) -> None:
    """Export with softmax included and dynamic spatial size; BGR uint8 scaled to 0..1 is the input.
    ``loss_weights`` (the last stage's cross-entropy class weights) go into the metadata: models/compose.py
    undoes them for a part."""
    import torch

    class WithSoftmax(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.inner(x), dim=1)

    w, h = phone_input(MARGIN_PX["phone"]) if kind == "phone" else JEWELRY_INPUT
    dummy = torch.zeros(1, 3, h, w)
    model = WithSoftmax(net).eval()
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        model,
        (dummy,),
        str(tmp),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "probs": {0: "n", 2: "h", 3: "w"}},
        opset_version=17,
        dynamo=False,
    )
    import onnx

    m = onnx.load(str(tmp))
    meta = {
        "kind": kind,
        "classes": json.dumps(["background", *classes]),
        "input_size": json.dumps([w, h]),
        "name": name,
        "version": version,
        "input": "NCHW float32 BGR in 0..1",
        "resample": "area" if ANTIALIAS else "linear",
        "margin_px": str(MARGIN_PX[kind]),
        "output": "NCHW float32 per-pixel class probabilities",
        "class_weights": json.dumps([round(w, 4) for w in loss_weights]),
    }
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, str(out))
    tmp.unlink()
    print(
        f"[{kind}] wrote {out} ({out.stat().st_size / 1e6:.2f} MB) sha256 "
        f"{hashlib.sha256(out.read_bytes()).hexdigest()[:16]}",
        flush=True,
    )


def default_real_negatives() -> Path | None:
    """../shared/data beside the repository (or $INSPECTOR_SHARED_DATA), when it is there; real
    photos are never shipped."""
    d = shared_data_dir()
    return d if d.is_dir() else None
