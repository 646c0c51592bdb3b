"""Join a base model and a part model into one ONNX file the grader runs like any other model.

Jewelry dents and scratches need a training dose that makes a network over-mark stones and small dark
structures (v7, jewelry card history), while stones and tarnish need a mild one. So a small
*part* model learns only the surface classes, and the *base* model keeps the rest. The joined file
runs both on the same crop and mixes their probabilities:

- a class only the base knows keeps the base's probability;
- the base's mass on background and on the part's classes ("free" mass) is shared out by the part:
  P(background) = free x part's P(background), P(c) = free x part's P(c).

A part trained with class weights w (cross-entropy weight 32 on dents) outputs probabilities skewed
towards its rare classes: the weighted loss is minimised by p_c proportional to w_c x the posterior.
When the part's metadata records ``class_weights`` the join first undoes that (p_c / w_c, summed to
1 again). Without it, the part's diffuse mass on clean metal (P(dent) 0.3-0.5 on bevel shading)
lowered P(background) under the base's classes too, and the grader, which keeps a pixel when P(any
defect) reaches its class's threshold, marked tarnish on clean pieces (h2, jewelry card history).

The result is a distribution over the base's classes (it sums to 1 per pixel), so the calibration,
the grader and the evaluation need no change. ``python -m models.compose --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from inspector.grading.model import FRAMING_DEFAULTS

INPUT = "image"
OUTPUT = "probs"
FRAMING: dict[str, str | None] = {"kind": None, "input_size": None, **FRAMING_DEFAULTS}
"""Metadata that must agree (a missing key means what it means to SegModel): both models have to see
the same crop."""


class ComposeError(ValueError):
    """The two models cannot be joined (other framing, unknown classes, a damaged file)."""


def _meta(model: object) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}  # type: ignore[attr-defined]


def mix_plan(base: list[str], part: list[str]) -> tuple[list[int], list[int], list[int]]:
    """Channel indices for the mix: (base channels that make the free mass, base channels kept as
    they are, and for every output channel its index in concat(part x free, kept))."""
    if base[0] != "background" or part[0] != "background":
        raise ComposeError("channel 0 of both models must be background")
    unknown = [c for c in part[1:] if c not in base]
    if unknown:
        raise ComposeError(f"the part model's classes {unknown} are not classes of the base model {base[1:]}")
    taken = {base.index(c) for c in part[1:]}
    free = [0, *sorted(taken)]
    kept = [i for i in range(1, len(base)) if i not in taken]
    order = []
    for i, c in enumerate(base):
        order.append(part.index(c) if i == 0 or i in taken else len(part) + kept.index(i))
    return free, kept, order


def unweight(probs: np.ndarray, weights: list[float]) -> np.ndarray:
    """Posteriors from the probabilities of a model trained with class-weighted cross-entropy."""
    scaled = probs / np.asarray(weights, probs.dtype).reshape(1, -1, 1, 1)
    return np.asarray(scaled / scaled.sum(axis=1, keepdims=True))


def part_weights(meta: dict[str, str], classes: list[str]) -> list[float] | None:
    """The part's training class weights from its metadata, checked; None when it records none."""
    raw = meta.get("class_weights")
    if raw is None:
        return None
    try:
        weights = [float(w) for w in json.loads(raw)]
    except (ValueError, TypeError):
        raise ComposeError(f"class_weights {raw!r} in the part's metadata is not a list of numbers") from None
    if len(weights) != len(classes) or min(weights) <= 0:
        raise ComposeError(f"class_weights {weights} do not fit the part's classes {classes} (one > 0 each)")
    return weights


def mix(
    base_probs: np.ndarray,
    part_probs: np.ndarray,
    base: list[str],
    part: list[str],
    weights: list[float] | None = None,
) -> np.ndarray:
    """The same mix in numpy (N x C x H x W): the reference the joined graph is tested against."""
    if weights is not None:
        part_probs = unweight(part_probs, weights)
    free_idx, kept, order = mix_plan(base, part)
    free = base_probs[:, free_idx].sum(axis=1, keepdims=True)
    cat = np.concatenate([part_probs * free, base_probs[:, kept]], axis=1)
    return np.asarray(cat[:, order])


def compose(base_path: Path, part_path: Path, out: Path) -> dict[str, str]:
    """Write the joined model to ``out``; returns its metadata."""
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import TensorProto, helper, numpy_helper

    models, shas = [], []
    for p in (base_path, part_path):
        try:
            blob = p.read_bytes()
            models.append(onnx.load_from_string(blob))
        except (OSError, DecodeError) as exc:
            raise ComposeError(f"{p}: cannot read the ONNX model ({exc})") from None
        shas.append(hashlib.sha256(blob).hexdigest())
    base, part = models
    bm, pm = _meta(base), _meta(part)
    for key, default in FRAMING.items():
        bv, pv = bm.get(key, default), pm.get(key, default)
        if bv != pv:
            raise ComposeError(
                f"the models see different crops: {key} is {bv!r} in {base_path.name} "
                f"and {pv!r} in {part_path.name}"
            )
    base_classes, part_classes = json.loads(bm["classes"]), json.loads(pm["classes"])
    free_idx, kept, order = mix_plan(base_classes, part_classes)
    weights = part_weights(pm, part_classes)
    b = onnx.compose.add_prefix(base, "base/")
    p = onnx.compose.add_prefix(part, "part/")

    def const(name: str, values: list[int]) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(values, np.int64), name)

    part_out = p.graph.output[0].name
    unweighting = []
    if weights is not None:
        unweighting = [
            helper.make_node("Mul", [part_out, "mix/inv_weights"], ["mix/part_over_w"]),
            helper.make_node("ReduceSum", ["mix/part_over_w", "mix/axis1"], ["mix/part_total"], keepdims=1),
            helper.make_node("Div", ["mix/part_over_w", "mix/part_total"], ["mix/part_posterior"]),
        ]
        part_out = "mix/part_posterior"
    nodes = [
        helper.make_node("Identity", [INPUT], [b.graph.input[0].name]),
        helper.make_node("Identity", [INPUT], [p.graph.input[0].name]),
        *b.graph.node,
        *p.graph.node,
        *unweighting,
        helper.make_node("Gather", [b.graph.output[0].name, "mix/free_idx"], ["mix/free_parts"], axis=1),
        helper.make_node("ReduceSum", ["mix/free_parts", "mix/axis1"], ["mix/free"], keepdims=1),
        helper.make_node("Mul", [part_out, "mix/free"], ["mix/part_scaled"]),
        helper.make_node("Gather", [b.graph.output[0].name, "mix/kept_idx"], ["mix/kept"], axis=1),
        helper.make_node("Concat", ["mix/part_scaled", "mix/kept"], ["mix/cat"], axis=1),
        helper.make_node("Gather", ["mix/cat", "mix/order"], [OUTPUT], axis=1),
    ]
    inits = [
        *b.graph.initializer,
        *p.graph.initializer,
        const("mix/free_idx", free_idx),
        const("mix/kept_idx", kept),
        const("mix/order", order),
        const("mix/axis1", [1]),
    ]
    if weights is not None:
        inv = (1.0 / np.asarray(weights, np.float32)).reshape(1, -1, 1, 1)
        inits.append(numpy_helper.from_array(inv, "mix/inv_weights"))
    graph = helper.make_graph(
        nodes,
        "composed",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["n", len(base_classes), "h", "w"])],
        inits,
    )
    opset = max(o.version for m in (base, part) for o in m.opset_import if o.domain in ("", "ai.onnx"))
    joined = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    joined.ir_version = max(base.ir_version, part.ir_version)
    meta = dict(bm)
    meta["parts"] = json.dumps(
        {
            "base": {"name": bm.get("name"), "version": bm.get("version"), "sha256": shas[0]},
            "part": {
                "name": pm.get("name"),
                "version": pm.get("version"),
                "sha256": shas[1],
                "classes": part_classes[1:],
                "unweighted_by": weights,
            },
        }
    )
    for k, v in meta.items():
        entry = joined.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(joined)
    tmp = out.with_suffix(".tmp.onnx")
    onnx.save(joined, str(tmp))
    tmp.replace(out)
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="model for all classes (e.g. stones, tarnish)")
    ap.add_argument("--part", type=Path, required=True, help="model that takes over some of its classes")
    ap.add_argument("--out", type=Path, required=True, help="joined .onnx file to write")
    args = ap.parse_args()
    try:
        meta = compose(args.base, args.part, args.out)
    except ComposeError as exc:
        raise SystemExit(f"cannot compose: {exc}") from None
    part = json.loads(meta["parts"])["part"]
    unweighted = f" (its loss weights {part['unweighted_by']} undone)" if part["unweighted_by"] else ""
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {part['classes']} from "
        f"{args.part.name}{unweighted}, the rest from {args.base.name}"
    )


if __name__ == "__main__":
    main()
