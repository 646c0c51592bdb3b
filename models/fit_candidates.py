"""Train a jewelry candidate scorer (``inspector.grading.candidates``) and export it to ONNX.

Three targets, each a region the grader judges whole:

- ``scratch_lines``: thin strokes of the crop (``inspector.grading.surface_lines``); a stroke whose
  pixels lie mostly (half) within 2 px of a rendered, visible scratch is a scratch; everything else
  (bevel edges, stone facets, prongs, tarnish texture, sparkles, glare) is not.
- ``stone_seats``: the regions the network marks as a missing stone (``inspector.grading.stone_seats``);
  one that lies at least 30 % on a rendered empty seat or loose stone is a stone defect (a loose stone
  read as missing still makes the piece Fair, as it should); a dark facet of an intact stone, a
  pendant's bail or a shaded cut-out edge is not.
- ``loose_stones``: the regions the network marks as a loose stone (``inspector.grading.loose_stones``);
  one that lies at least 30 % on a rendered loose stone (the stone off its seat and the seat's gap) or
  empty seat is a stone defect; a blob on an intact stone's dark facets or a glint is not.

Renders jewelry pieces (seeds from the target's own range, apart from training, validation and
held-out scenes), frames each one and runs the segmentation model on it exactly as the grader does,
and measures every candidate. A small MLP on the standardised measures learns P(defect); the
standardisation and the sigmoid are part of the exported graph, so the grader feeds it raw measures.
A fifth of the pieces is kept out of training and reported (candidate AUROC, and per piece: pieces
with the defect found and clean pieces marked at a few thresholds); the threshold itself is fitted by
``python -m models.calibrate`` on its own validation renders.

A scorer reads the segmentation model's probabilities, so it belongs to one model: re-run this after
every jewelry model change (``make models`` does).

    python -m models.fit_candidates --target scratch_lines [stone_seats loose_stones] [--n N]

Given several targets, each piece is rendered and segmented once and measured for all (``make models``
does this: rendering is nearly all of the time); the pieces then come from the first target's seeds.
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

from inspector.grading.candidates import ScorerKind
from inspector.grading.scorer_kinds import SCORER_KINDS
from models.crop_labels import crop_labels
from models.metrics import auroc
from models.synth.scene import JEWELRY_CLASSES
from models.synth.station_frames import FRAME_WIDTHS, station_frame
from models.train import sample_defects

MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_N = 4800
HIDDEN = (48, 24)


@dataclass(frozen=True)
class Target:
    """One scorer to train: its kind (which also finds a piece's candidates) and their truth."""

    kind: ScorerKind
    classes: tuple[str, ...]  # the rendered classes a candidate must lie on
    near_px: int  # tolerance around that class's pixels (odd kernel size; 1 = none)
    true_share: float  # share of the candidate's pixels that must lie there
    seed0: int


TARGETS = {
    "scratch_lines": Target(SCORER_KINDS["scratch_lines"], ("scratch",), 5, 0.5, 6_000_000),
    # a loose stone the network reads as missing still makes the piece Fair: such a seat is kept
    "stone_seats": Target(SCORER_KINDS["stone_seats"], ("missing_stone", "loose_stone"), 1, 0.3, 6_500_000),
    # likewise a missing stone the network reads as loose
    "loose_stones": Target(SCORER_KINDS["loose_stones"], ("loose_stone", "missing_stone"), 1, 0.3, 6_800_000),
}
REPORT_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


@dataclass
class PieceCandidates:
    """The candidates of one rendered piece and what they really are."""

    seed: int
    features: np.ndarray  # candidates x features
    truth: np.ndarray  # 1.0 the defect, 0.0 not
    has: bool  # the piece has the defect where the camera sees it (it may have no candidate on it)
    clean: bool  # the piece has no visible defect at all


_MODEL: Any = None


def _segmentation(models_dir: Path) -> Any:
    """One segmentation model per worker process."""
    global _MODEL
    if _MODEL is None:
        from inspector.grading.model import SegModel

        _MODEL = SegModel(models_dir / "jewelry_defects.onnx", "jewelry", threads=1)
    return _MODEL


def piece_candidates(args: tuple[tuple[str, ...], str, int]) -> dict[str, PieceCandidates]:
    """One rendered piece, framed and segmented once, with the candidates of every target on it."""
    targets, models_dir, seed = args[0], Path(args[1]), args[2]
    model = _segmentation(models_dir)
    rng = np.random.default_rng(seed)
    w = int(rng.choice(FRAME_WIDTHS))
    scene = station_frame("jewelry", seed, rng, sample_defects("jewelry", rng), w)
    loc = model.locate(scene.image)
    probs = model.predict(loc.crop)
    gt = crop_labels(scene.masks, JEWELRY_CLASSES, loc, scene.visibility)
    out = {}
    for name in targets:
        target = TARGETS[name]
        found = target.kind.find(loc.crop, probs, model.info.classes, loc.mm_per_px)
        on_class = np.isin(gt, [1 + JEWELRY_CLASSES.index(c) for c in target.classes]).astype(np.uint8)
        near = cv2.dilate(on_class, np.ones((target.near_px, target.near_px), np.uint8))
        truth = [float(c.part.box(near)[c.part.mask > 0].mean() >= target.true_share) for c in found]
        n_features = len(target.kind.features)
        feats = np.stack([c.features for c in found]) if found else np.zeros((0, n_features), np.float32)
        out[name] = PieceCandidates(
            seed, feats, np.array(truth, np.float32), bool(on_class.any()), not bool(gt.any())
        )
    return out


def render_pieces(
    targets: tuple[str, ...], models_dir: Path, n: int, seed0: int, procs: int
) -> list[dict[str, PieceCandidates]]:
    """Each piece rendered and segmented once for all ``targets``: rendering is most of the time."""
    jobs = [(targets, str(models_dir), seed0 + i) for i in range(n)]
    if procs <= 1:
        return [piece_candidates(j) for j in jobs]
    # spawn, not fork: see models.train.build_dataset
    with mp.get_context("spawn").Pool(procs) as pool:
        return pool.map(piece_candidates, jobs, chunksize=16)


def _stack(pieces: list[PieceCandidates]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([p.features for p in pieces])
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


def report(pieces: list[PieceCandidates], scores: list[np.ndarray]) -> dict[str, Any]:
    """Candidate AUROC and, per threshold, pieces with the defect found (a true candidate accepted)
    and clean pieces marked (any candidate accepted), on pieces the scorer was not trained on."""
    flat = np.concatenate(scores) if scores else np.zeros(0)
    truth = np.concatenate([p.truth for p in pieces]) if pieces else np.zeros(0)
    having = [(p, s) for p, s in zip(pieces, scores, strict=True) if p.has]
    clean = [s for p, s in zip(pieces, scores, strict=True) if p.clean]
    per_threshold = {}
    for t in REPORT_THRESHOLDS:
        per_threshold[str(t)] = {
            "found": round(float(np.mean([((s >= t) & (p.truth > 0)).any() for p, s in having])), 3)
            if having
            else None,
            "clean_marked": round(float(np.mean([(s >= t).any() for s in clean])), 3) if clean else None,
        }
    candidate_auroc = auroc(list(flat), list(truth.astype(int)))
    return {
        "pieces": len(pieces),
        "pieces_with_the_defect": len(having),
        "clean_pieces": len(clean),
        "candidates": len(truth),
        "true_candidates": int(truth.sum()),
        "with_a_true_candidate": round(float(np.mean([(p.truth > 0).any() for p, _ in having])), 3)
        if having
        else None,
        "auroc": round(candidate_auroc, 3) if candidate_auroc is not None else None,
        "by_threshold": per_threshold,
    }


def export(net: Any, mean: np.ndarray, scale: np.ndarray, out: Path, meta: dict[str, str]) -> None:
    """ONNX with the standardisation and the sigmoid inside: raw measures in, P(defect) out."""
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
        (torch.zeros(1, len(mean)),),
        str(tmp),
        input_names=["features"],
        output_names=["p_defect"],
        dynamic_axes={"features": {0: "n"}, "p_defect": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    m = onnx.load(str(tmp))
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(m, str(out))
    tmp.unlink()


def fit_target(name: str, pieces: list[PieceCandidates], seg: Path, seed0: int, minutes: float) -> None:
    """Train one scorer on the first four fifths of ``pieces``, report on the rest, export beside ``seg``."""
    target, tag = TARGETS[name], f"[jewelry {name}]"
    cut = len(pieces) * 4 // 5
    x, y = _stack(pieces[:cut])
    if y.sum() == 0 or y.min() == y.max():
        raise SystemExit(
            f"{tag} no true candidates (or nothing but) among the rendered pieces: render more (--n)"
        )
    net, mean, scale = train_mlp(x, y, minutes)
    held = pieces[cut:]
    figures = report(held, [predict(net, mean, scale, p.features) for p in held])
    print(f"{tag} on {len(held)} pieces kept out: {json.dumps(figures)}", flush=True)
    out = target.kind.path(seg)
    export(
        net,
        mean,
        scale,
        out,
        {
            "kind": "jewelry",
            "target": name,
            "features": json.dumps(list(target.kind.features)),
            "segmentation_sha256": hashlib.sha256(seg.read_bytes()).hexdigest(),
            "trained_on": f"{cut} rendered pieces, seeds {seed0}.., {datetime.now(UTC).date().isoformat()}",
            "held_out": json.dumps(figures),
            "output": f"P({' or '.join(target.classes)}) per candidate",
        },
    )
    print(f"{tag} wrote {out} ({out.stat().st_size / 1e3:.0f} kB)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--target",
        choices=sorted(TARGETS),
        nargs="+",
        required=True,
        help="the scorer(s) to train; several share one rendering of the pieces",
    )
    ap.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="holds jewelry_defects.onnx")
    ap.add_argument("--n", type=int, default=DEFAULT_N, help="rendered pieces (default %(default)s)")
    ap.add_argument(
        "--seed0", type=int, default=None, help="first scene seed (default: the first target's own)"
    )
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument(
        "--minutes", type=float, default=3.0, help="training time limit per scorer (default %(default)s)"
    )
    args = ap.parse_args()
    if args.n < 20:
        ap.error(f"--n must be at least 20 pieces, not {args.n}")
    targets = tuple(dict.fromkeys(args.target))
    seed0 = TARGETS[targets[0]].seed0 if args.seed0 is None else args.seed0
    seg = args.models_dir / "jewelry_defects.onnx"
    if not seg.is_file():
        raise SystemExit(f"{seg} not found: the scorer reads that model's probabilities; build it first")
    t0 = time.monotonic()
    pieces = render_pieces(targets, args.models_dir, args.n, seed0, args.procs)
    print(
        f"[jewelry {' + '.join(targets)}] {args.n} pieces measured in {time.monotonic() - t0:.0f} s",
        flush=True,
    )
    for name in targets:
        fit_target(name, [p[name] for p in pieces], seg, seed0, args.minutes)


if __name__ == "__main__":
    main()
