"""Opening the ONNX files the grader ships: one error type for a file that is missing, unreadable or
damaged, saying how to rebuild it, instead of onnxruntime's own errors. Every model of the grader
(segmentation, scorers, damage backbone) opens its file here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnxruntime as ort


class ModelError(RuntimeError):
    """The model file is missing, unreadable, corrupt, or not the model the grader expects."""


def open_onnx(path: Path, what: str, rebuild: str, threads: int) -> tuple[Any, bytes]:
    """(onnxruntime session, file bytes) of an ONNX file the grader ships; ModelError naming ``what``
    is missing or damaged, and how to ``rebuild`` it, instead of onnxruntime's own errors."""
    if not path.is_file():
        raise ModelError(f"{what} not found at {path}: {rebuild}")
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{what} at {path} cannot be read: {exc.strerror}") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # the grader runs several sessions one after another: threads that spin-wait after one run take
    # the cores from the next session (measured: the backbone after the segmentation model, 2 cores)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(blob, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a damaged file
        raise ModelError(
            f"{what} at {path} is corrupt or not an ONNX model ({type(exc).__name__}); "
            f"{rebuild} or restore it from git"
        ) from None
    return session, blob
