"""A stand-in segmentation model: softmax over a 1x1 convolution of the image, with the grading
metadata, small enough to build in a test (needs the ``onnx`` package).

Import as ``from onnx_stub import tiny_model`` (``tests/`` is on ``sys.path`` through its conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def tiny_model(
    path: Path,
    classes: list[str],
    seed: int,
    weights: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    **meta: str,
) -> Path:
    """Write the model to ``path``: per-class logits = ``weights`` (C x 3, BGR in 0..1) . pixel +
    ``bias``; without ``weights`` they are random from ``seed``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n = len(classes)
    if weights is None:
        weights = np.random.default_rng(seed).normal(0, 2, (n, 3))
    w = numpy_helper.from_array(np.asarray(weights, np.float32).reshape(n, 3, 1, 1), "w")
    b = numpy_helper.from_array(np.asarray(np.zeros(n) if bias is None else bias, np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", n, "h", "w"])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    fields = {
        "kind": "jewelry",
        "classes": json.dumps(classes),
        "input_size": "[256, 256]",
        "resample": "area",
        "margin_px": "0",
        "name": path.stem,
        "version": "1.0.0",
        **meta,
    }
    for k, v in fields.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(model, str(path))
    return path


def tiny_scorer(path: Path, features: list[str], weights: np.ndarray, bias: float = 0.0, **meta: str) -> Path:
    """A stand-in scratch-line scorer: P(scratch) = sigmoid(features . ``weights`` + ``bias``), with
    the metadata the grader checks."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.asarray(weights, np.float32).reshape(-1, 1), "w")
    b = numpy_helper.from_array(np.asarray([bias], np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["z0"]),
            helper.make_node("Add", ["z0", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p"]),
            helper.make_node("Reshape", ["p", "shape"], ["p_scratch"]),
        ],
        "tiny_scorer",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", len(features)])],
        [helper.make_tensor_value_info("p_scratch", TensorProto.FLOAT, ["n"])],
        [w, b, numpy_helper.from_array(np.array([-1], np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in {"kind": "jewelry", "features": json.dumps(features), **meta}.items():
        e = model.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(model, str(path))
    return path
