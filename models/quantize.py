"""8-bit weights and activations for a float ONNX feature extractor (onnxruntime's static quantisation).

The item-damage backbone is most of a station photo's grading time; with 8-bit convolutions (AVX-512
VNNI, AMX) it runs about twice as fast. The activation ranges are read off real photos of the train
part of ``models/real_split.csv`` (the first by hash, so every rebuild reads the same ones). The first
layers can stay float: quantised, they alone cost most of the features' fidelity (the phone damage
card has the figures). A head is always fitted on the quantised backbone's own features.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from models.real_split import SPLIT_CSV, Split, read_csv, read_image, shared_data_dir

CALIBRATION_PHOTOS = 64


class _Batches(CalibrationDataReader):
    def __init__(self, name: str, batches: Iterator[np.ndarray]) -> None:
        self.name, self.batches = name, batches

    def get_next(self) -> dict[str, np.ndarray] | None:
        x = next(self.batches, None)
        return None if x is None else {self.name: x}


def calibration_images(n: int = CALIBRATION_PHOTOS, data: Path | None = None) -> list[np.ndarray]:
    """The first ``n`` train photos by hash (BGR): always the same ones."""
    data = data or shared_data_dir()
    train = sorted((p for p in read_csv(SPLIT_CSV) if p.split == Split.TRAIN), key=lambda p: p.sha256)
    return [read_image(data, p.file) for p in train[:n]]


def quantize(
    src: Path,
    out: Path,
    images: list[np.ndarray],
    to_input: Callable[[np.ndarray], np.ndarray],
    keep_float: tuple[str, ...] = (),
) -> None:
    """Write ``src`` quantised to ``out``: int8 weights per output channel, uint8 activations whose
    ranges are the extremes seen over ``images`` (each turned into one input batch by ``to_input``);
    nodes whose names start with one of ``keep_float`` stay float."""
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre))
        graph = onnx.load(str(pre)).graph
        name = graph.input[0].name
        floats = [n.name for n in graph.node if n.name.startswith(keep_float)] if keep_float else []
        quantize_static(
            str(pre),
            str(out),
            _Batches(name, (to_input(im) for im in images)),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=floats,
        )
