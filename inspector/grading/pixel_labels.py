"""The network's per-pixel answer as a class map, before any fitted rule: the grader's calibrated
rule and the stone-seat candidates both start from it."""

from __future__ import annotations

import numpy as np

DEFECT_THRESHOLD = 0.5


def most_likely_defect(probs: np.ndarray) -> np.ndarray:
    """Per pixel, the defect class (1..) with the highest probability, whatever P(any defect) is; on a
    tie the first, as ``argmax``. A pass per class: ``argmax`` over the class axis is a strided
    reduction (1.3 ms against 1.1 on random 6x256x256 probabilities; 0.95 against 0.44 ms in the
    grader's profile)."""
    best = np.ones(probs.shape[1:], np.int64)
    top = probs[1].copy()
    for c in range(2, probs.shape[0]):
        higher = probs[c] > top
        best[higher] = c
        np.maximum(top, probs[c], out=top)
    return best


def labels_from_probs(
    probs: np.ndarray, threshold: float = DEFECT_THRESHOLD, best: np.ndarray | None = None
) -> np.ndarray:
    """Per-pixel class map: a pixel is a defect when P(any defect) >= threshold, and then the most
    likely defect class (``best``, when the caller has it already); so two similar classes splitting
    their vote still count as a defect."""
    labels = most_likely_defect(probs) if best is None else best.copy()
    labels[probs[0] > 1.0 - threshold] = 0
    return labels
