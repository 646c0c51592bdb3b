"""Figures shared by the evaluations and the fitting tools."""

from __future__ import annotations

import numpy as np


def auroc(scores: list[float], labels: list[int]) -> float | None:
    """Area under the ROC curve via the rank-sum (ties count half)."""
    s = np.asarray(scores, np.float64)
    y = np.asarray(labels, bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))
