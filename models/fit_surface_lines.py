"""Train the jewelry scratch-line scorer (``inspector.grading.surface_lines``) and export it to ONNX.

Renders jewelry pieces (seeds from ``LINE_SEED0``, apart from training, validation and held-out
scenes), frames each one and runs the segmentation model on it exactly as the grader does, and
measures every candidate stroke. A stroke whose pixels lie mostly (``TRUE_SHARE``) within 2 px of a
rendered, visible scratch is a scratch; everything else (bevel edges, stone facets, prongs,
tarnish texture, sparkles, glare) is not. A small MLP on the standardised measures learns P(scratch);
the standardisation and the sigmoid are part of the exported graph, so the grader feeds it raw
measures. A fifth of the pieces is kept out of training and reported (line AUROC, and per piece:
scratched pieces found and clean pieces marked at a few thresholds); the threshold itself is fitted
by ``python -m models.calibrate`` on its own validation renders.

The scorer reads the segmentation model's probabilities, so it belongs to one model: re-run this after
every jewelry model change (``make models`` does).

    python -m models.fit_surface_lines [--models-dir models] [--n 4800] [--minutes 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspector.grading.surface_lines import FEATURES, scorer_path, surface_lines
from models.crop_labels import crop_labels
from models.evaluate import auroc
from models.synth.scene import JEWELRY_CLASSES, render_scene
from models.train import sample_defects

MODELS_DIR = Path(__file__).resolve().parent
LINE_SEED0 = 6_000_000
DEFAULT_N = 4800
TRUE_SHARE = 0.5  # a stroke is a scratch when this share of its pixels is within 2 px of one
HIDDEN = (48, 24)
REPORT_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


@dataclass
class PieceLines:
    """The candidate strokes of one rendered piece and what they really are."""

    seed: int
    features: np.ndarray  # lines x len(FEATURES)
    truth: np.ndarray  # 1.0 scratch, 0.0 not
    scratched: bool  # the piece has a visible scratch (some may have no candidate on it)
    clean: bool  # the piece has no visible defect at all


_MODEL: Any = None


def _segmentation(models_dir: Path) -> Any:
    """One segmentation model per worker process."""
    global _MODEL
    if _MODEL is None:
        from inspector.grading.model import SegModel

        _MODEL = SegModel(models_dir / "jewelry_defects.onnx", "jewelry", threads=1)
    return _MODEL


def piece_lines(args: tuple[str, int]) -> PieceLines:
    models_dir, seed = Path(args[0]), args[1]
    model = _segmentation(models_dir)
    rng = np.random.default_rng(seed)
    w = int(rng.choice([640, 960, 1280]))
    scene = render_scene(
        "jewelry",
        seed=seed,
        defects=sample_defects("jewelry", rng),
        angle_deg=float(rng.uniform(0, 360)),
        light_level=float(rng.uniform(0.4, 1.0)),
        width=w,
        height=w * 9 // 16,
    )
    loc = model.locate(scene.image)
    probs = model.predict(loc.crop)
    gt = crop_labels(scene.masks, JEWELRY_CLASSES, loc, scene.visibility)
    lines = surface_lines(loc.crop, probs, model.info.classes, loc.mm_per_px)
    near = cv2.dilate(
        (gt == 1 + JEWELRY_CLASSES.index("scratch")).astype(np.uint8), np.ones((5, 5), np.uint8)
    )
    truth = [float(ln.part.box(near)[ln.part.mask > 0].mean() >= TRUE_SHARE) for ln in lines]
    feats = np.stack([ln.features for ln in lines]) if lines else np.zeros((0, len(FEATURES)), np.float32)
    return PieceLines(
        seed,
        feats,
        np.array(truth, np.float32),
        bool(near.any()),
        not bool(gt.any()),
    )


def render_pieces(models_dir: Path, n: int, seed0: int, procs: int) -> list[PieceLines]:
    jobs = [(str(models_dir), seed0 + i) for i in range(n)]
    if procs <= 1:
        return [piece_lines(j) for j in jobs]
    # spawn, not fork: see models.train.build_dataset
    with mp.get_context("spawn").Pool(procs) as pool:
        return pool.map(piece_lines, jobs, chunksize=16)


def _stack(pieces: list[PieceLines]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([p.features for p in pieces]) if pieces else np.zeros((0, len(FEATURES)))
    y = np.concatenate([p.truth for p in pieces]) if pieces else np.zeros(0)
    return x.astype(np.float32), y.astype(np.float32)


def train_mlp(
    x: np.ndarray, y: np.ndarray, minutes: float, seed: int = 0
) -> tuple[Any, np.ndarray, np.ndarray]:
    """(network, mean, scale): an MLP on standardised measures, trained with Adam on cross-entropy."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    xt = torch.from_numpy((x - mean) / scale)
    yt = torch.from_numpy(y)
    layers: list[nn.Module] = []
    width = x.shape[1]
    for h in HIDDEN:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 1))
    net = nn.Sequential(*layers)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed)
    epochs, deadline = 0, time.monotonic() + minutes * 60
    while epochs < 60 and time.monotonic() < deadline:
        for idx in torch.randperm(len(yt), generator=gen).split(512):
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]).squeeze(1), yt[idx])
            loss.backward()
            opt.step()
        epochs += 1
    net.eval()
    return net, mean, scale


def predict(net: Any, mean: np.ndarray, scale: np.ndarray, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        z = net(torch.from_numpy(((x - mean) / scale).astype(np.float32))).squeeze(1)
    return np.asarray(torch.sigmoid(z).numpy(), np.float32)


def report(pieces: list[PieceLines], scores: list[np.ndarray]) -> dict[str, Any]:
    """Line AUROC and, per threshold, scratched pieces found (a true scratch line accepted) and clean
    pieces marked (any line accepted), on pieces the scorer was not trained on."""
    flat = np.concatenate(scores) if scores else np.zeros(0)
    truth = np.concatenate([p.truth for p in pieces]) if pieces else np.zeros(0)
    scratched = [(p, s) for p, s in zip(pieces, scores, strict=True) if p.scratched]
    clean = [s for p, s in zip(pieces, scores, strict=True) if p.clean]
    per_threshold = {}
    for t in REPORT_THRESHOLDS:
        per_threshold[str(t)] = {
            "scratched_found": round(
                float(np.mean([((s >= t) & (p.truth > 0)).any() for p, s in scratched])), 3
            )
            if scratched
            else None,
            "clean_marked": round(float(np.mean([(s >= t).any() for s in clean])), 3) if clean else None,
        }
    line_auroc = auroc(list(flat), list(truth.astype(int)))
    return {
        "pieces": len(pieces),
        "scratched_pieces": len(scratched),
        "clean_pieces": len(clean),
        "lines": len(truth),
        "scratch_lines": int(truth.sum()),
        "scratched_with_a_candidate": round(float(np.mean([(p.truth > 0).any() for p, _ in scratched])), 3)
        if scratched
        else None,
        "line_auroc": round(line_auroc, 3) if line_auroc is not None else None,
        "by_threshold": per_threshold,
    }


def export(net: Any, mean: np.ndarray, scale: np.ndarray, out: Path, meta: dict[str, str]) -> None:
    """ONNX with the standardisation and the sigmoid inside: raw measures in, P(scratch) out."""
    import onnx
    import torch

    mu = torch.from_numpy(mean.astype(np.float32))
    sd = torch.from_numpy(scale.astype(np.float32))

    class Scorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.inner((x - mu) / sd)).squeeze(1)

    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        Scorer().eval(),
        (torch.zeros(1, len(FEATURES)),),
        str(tmp),
        input_names=["features"],
        output_names=["p_scratch"],
        dynamic_axes={"features": {0: "n"}, "p_scratch": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    m = onnx.load(str(tmp))
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, str(out))
    tmp.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="holds jewelry_defects.onnx")
    ap.add_argument("--n", type=int, default=DEFAULT_N, help="rendered pieces (default %(default)s)")
    ap.add_argument("--seed0", type=int, default=LINE_SEED0)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=3.0, help="training time limit (default %(default)s)")
    args = ap.parse_args()
    if args.n < 20:
        ap.error(f"--n must be at least 20 pieces, not {args.n}")
    seg = args.models_dir / "jewelry_defects.onnx"
    if not seg.is_file():
        raise SystemExit(f"{seg} not found: the scorer reads that model's probabilities; build it first")
    t0 = time.monotonic()
    pieces = render_pieces(args.models_dir, args.n, args.seed0, args.procs)
    print(f"[jewelry lines] {args.n} pieces measured in {time.monotonic() - t0:.0f} s", flush=True)
    cut = len(pieces) * 4 // 5
    x, y = _stack(pieces[:cut])
    if y.sum() == 0 or y.min() == y.max():
        raise SystemExit("no scratch lines (or nothing but) among the rendered pieces: render more (--n)")
    net, mean, scale = train_mlp(x, y, args.minutes)
    held = pieces[cut:]
    figures = report(held, [predict(net, mean, scale, p.features) for p in held])
    print(f"[jewelry lines] on {len(held)} pieces kept out: {json.dumps(figures)}", flush=True)
    out = scorer_path(seg)
    export(
        net,
        mean,
        scale,
        out,
        {
            "kind": "jewelry",
            "features": json.dumps(list(FEATURES)),
            "segmentation_sha256": hashlib.sha256(seg.read_bytes()).hexdigest(),
            "trained_on": f"{cut} rendered pieces, seeds {args.seed0}.., "
            f"{datetime.now(UTC).date().isoformat()}",
            "held_out": json.dumps(figures),
            "output": "P(scratch) per candidate line",
        },
    )
    print(f"[jewelry lines] wrote {out} ({out.stat().st_size / 1e3:.0f} kB)", flush=True)


if __name__ == "__main__":
    main()
