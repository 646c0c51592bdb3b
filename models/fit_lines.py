"""Fit the crack-or-scratch line classifier (``inspector.grading.line_shapes``) on validation renders.

Every thin-line component the model marks under the fitted pixel rule is measured and given its
truth by overlap with the rendered labels (2 px tolerance; a line touching a crack counts as a crack).
A standardised logistic regression on the components that are a crack or a scratch gives
P(scratch); ``models.calibrate`` then picks the threshold and the minimum lengths on whole items.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from inspector.grading.calibration import Calibration, LineClassifier
from inspector.grading.components import Component, class_components
from inspector.grading.line_shapes import (
    LINE_FEATURES,
    LineComponent,
    classifier_probability,
    line_components,
    scratch_probability,
    sigmoid,
)
from models.metrics import auroc

SCRATCH_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
L2 = 1.0  # ridge on the standardised weights: ~10 features, a few hundred scratches
NEAR_PX = 5  # the 2 px tolerance of models.evaluate.found_where_labelled, as a 5x5 dilation


@dataclass
class Line:
    """One predicted thin line of a validation item and what it really is."""

    comp: LineComponent
    truth: int  # 0 neither (a false alarm), 1 crack, 2 scratch
    near_crack_px: int  # its marked pixels within 2 px of a true crack
    crack_parts: list[Component]  # what it measures as when judged a crack: its marked pixels
    p_scratch: float = 0.0


def item_lines(
    labels: np.ndarray,
    probs: np.ndarray,
    crop: np.ndarray,
    gt: np.ndarray,
    classes: tuple[str, ...],
    min_area_mm2: float,
    crack_min_area_mm2: float,
    mm_per_px: tuple[float, float],
) -> list[Line]:
    """The lines of one item as the grader judges them (``reclassify_lines``), with their truth."""
    kernel = np.ones((NEAR_PX, NEAR_PX), np.uint8)
    near_crack = cv2.dilate((gt == classes.index("crack")).astype(np.uint8), kernel)
    near_scratch = cv2.dilate((gt == classes.index("scratch")).astype(np.uint8), kernel)
    out = []
    for lc in line_components(labels, probs, crop, classes, min_area_mm2, mm_per_px):
        c = lc.part
        on = c.mask > 0
        nc = int(c.box(near_crack)[on].sum())
        ns = int(c.box(near_scratch)[on].sum())
        truth = 1 if nc and nc >= ns else 2 if ns else 0
        strong_near = int(c.box(near_crack)[lc.strong > 0].sum())
        parts = [
            replace(p, x=p.x + c.x, y=p.y + c.y)
            for p in class_components(lc.strong, 1, crack_min_area_mm2, mm_per_px)
        ]
        out.append(Line(lc, truth, strong_near, parts))
    return out


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = L2, iters: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Ridge logistic regression by Newton's method on standardised features:
    (mean, scale, coef, intercept)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    a = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.zeros(a.shape[1])
    ridge = l2 * np.diag(np.r_[np.ones(a.shape[1] - 1), 0.0])
    for _ in range(iters):
        p = sigmoid(a @ w)
        grad = a.T @ (p - y) + ridge @ w
        hess = (a * (p * (1 - p))[:, None]).T @ a + ridge
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


def _samples(lines_per_item: list[list[Line]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, ys, groups = [], [], []
    for i, lines in enumerate(lines_per_item):
        for ln in lines:
            if ln.truth:
                rows.append(ln.comp.features)
                ys.append(float(ln.truth == 2))
                groups.append(i)
    return np.array(rows), np.array(ys), np.array(groups)


def cross_validated_auroc(lines_per_item: list[list[Line]], folds: int = 5, seed: int = 0) -> float | None:
    """Crack-vs-scratch AUROC of the classifier on items it was not fitted on (folds by item)."""
    x, y, groups = _samples(lines_per_item)
    if len(y) == 0 or y.min() == y.max():
        return None
    fold_of = np.random.default_rng(seed).integers(0, folds, groups.max() + 1)[groups]
    p = np.zeros(len(y))
    for k in range(folds):
        test = fold_of == k
        if not test.any() or (~test).sum() == 0 or y[~test].min() == y[~test].max():
            continue
        p[test] = scratch_probability(x[test], *fit_logistic(x[~test], y[~test]))
    return auroc(list(p), list(y.astype(int)))


def fit_classifier(
    lines_per_item: list[list[Line]], threshold: float, fitted_on: str
) -> LineClassifier | None:
    """The classifier fitted on every true crack and scratch line; None without both kinds."""
    x, y, _ = _samples(lines_per_item)
    if len(y) == 0 or y.min() == y.max():
        return None
    mean, scale, coef, b = fit_logistic(x, y)
    return LineClassifier(
        features=list(LINE_FEATURES),
        mean=[round(float(v), 6) for v in mean],
        scale=[round(float(v), 6) for v in scale],
        coef=[round(float(v), 6) for v in coef],
        intercept=round(b, 6),
        scratch_threshold=threshold,
        fitted_on=fitted_on,
        validation={
            "crack_lines": int((y == 0).sum()),
            "scratch_lines": int((y == 1).sum()),
            "cv_auroc_crack_vs_scratch": round(cross_validated_auroc(lines_per_item) or 0.0, 3),
        },
    )


def set_probabilities(lines_per_item: list[list[Line]], clf: LineClassifier) -> None:
    for lines in lines_per_item:
        for ln, p in zip(lines, classifier_probability(clf, [ln.comp for ln in lines]), strict=True):
            ln.p_scratch = float(p)


def with_threshold(cal: Calibration, threshold: float, min_length_mm: dict[str, float]) -> Calibration:
    assert cal.line_classifier is not None
    clf = cal.line_classifier.model_copy(update={"scratch_threshold": threshold})
    return cal.model_copy(update={"line_classifier": clf, "min_length_mm": dict(min_length_mm)})
