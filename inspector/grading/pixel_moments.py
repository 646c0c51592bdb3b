"""Shape measures of many labelled components at once, from their pixel lists.

A jewelry crop has 20-40 strokes long enough to judge, and measuring each one with its own dozen small
numpy calls cost more than the segmentation network's post-processing put together (~4 ms per crop of
the 50 ms frame budget). The measures below are sums per component (``np.bincount``), so every
component is measured in a handful of whole-array operations, with the same values as one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LabelledPixels:
    """The pixels of ``n`` components: coordinates (in any unit) and the component 0..n-1 of each."""

    xs: np.ndarray  # float64
    ys: np.ndarray  # float64
    label: np.ndarray  # intp
    n: int
    count: np.ndarray = field(init=False)  # float64 pixels per component

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", np.bincount(self.label, minlength=self.n).astype(np.float64))

    def sums(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.label, weights=values, minlength=self.n)

    def means(self, values: np.ndarray) -> np.ndarray:
        return self.sums(values) / np.maximum(self.count, 1.0)

    def scaled(self, sx: float, sy: float) -> LabelledPixels:
        return LabelledPixels(self.xs * sx, self.ys * sy, self.label, self.n)


def from_mask(mask: np.ndarray) -> LabelledPixels:
    """The pixels of one component mask, as component 0."""
    ys, xs = np.nonzero(mask)
    return LabelledPixels(xs.astype(np.float64), ys.astype(np.float64), np.zeros(len(xs), np.intp), 1)


@dataclass(frozen=True)
class PrincipalFrame:
    """Each pixel's offset from its component's centroid, and each component's main axis."""

    dx: np.ndarray  # per pixel
    dy: np.ndarray
    along: np.ndarray  # (n, 2) unit vectors: the direction the component's pixels spread most
    across: np.ndarray  # (n, 2) the direction at right angles to it

    def project(self, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) of each pixel: its offset along and across its component's main axis."""
        a, b = self.along[label], self.across[label]
        return self.dx * a[:, 0] + self.dy * a[:, 1], self.dx * b[:, 0] + self.dy * b[:, 1]


def principal_frame(px: LabelledPixels) -> PrincipalFrame:
    """Centroids and eigenvectors of each component's scatter matrix (largest eigenvalue = along)."""
    dx = px.xs - px.means(px.xs)[px.label]
    dy = px.ys - px.means(px.ys)[px.label]
    scatter = np.empty((px.n, 2, 2))
    scatter[:, 0, 0] = px.sums(dx * dx)
    scatter[:, 0, 1] = scatter[:, 1, 0] = px.sums(dx * dy)
    scatter[:, 1, 1] = px.sums(dy * dy)
    _, vecs = np.linalg.eigh(scatter)  # eigenvalues ascending, eigenvectors in the columns
    return PrincipalFrame(dx, dy, vecs[:, :, 1], vecs[:, :, 0])


def bend(px: LabelledPixels, frame: PrincipalFrame | None = None) -> np.ndarray:
    """RMS distance of each component's pixels from the best quadratic through them (along its main
    axis), in the pixels' unit: 0 for a straight or evenly curved stroke, large for a jagged one.
    Components of fewer than 4 pixels get 0."""
    frame = frame if frame is not None else principal_frame(px)
    u, v = frame.project(px.label)  # both centred on their component: the fit needs no intercept...
    u2 = u * u
    w = u2 - px.means(u2)[px.label]  # ...once u^2 is centred too
    suu, sww, suw = px.sums(u2), px.sums(w * w), px.sums(u * w)
    suv, swv = px.sums(u * v), px.sums(w * v)
    det = suu * sww - suw * suw
    # pixels on only two positions along the axis leave u^2 no freedom of its own: a straight fit
    curved = det > 1e-9 * np.maximum(suu * sww, 1e-300)
    safe = np.where(curved, det, 1.0)
    b = np.where(curved, (sww * suv - suw * swv) / safe, suv / np.maximum(suu, 1e-300))
    a = np.where(curved, (suu * swv - suw * suv) / safe, 0.0)
    residual = v - b[px.label] * u - a[px.label] * w
    out = np.sqrt(px.means(residual * residual))
    out[px.count < 4] = 0.0
    return np.asarray(out)


def across_gradient(px: LabelledPixels, gx: np.ndarray, gy: np.ndarray, along: np.ndarray) -> np.ndarray:
    """Mean |cos| between each component's main axis and the gradient (gx, gy) under its pixels:
    near 1 when the component runs across the gradient's slope, near 0 when it runs along a contour.
    ``gx``/``gy``: the gradient at each pixel, in ``px`` order. Components of fewer than 3 pixels
    get 0.5."""
    a = along[px.label]
    norm = np.sqrt(gx * gx + gy * gy) + 1e-6
    out = px.means(np.abs(gx * a[:, 0] + gy * a[:, 1]) / norm)
    out[px.count < 3] = 0.5
    return np.asarray(out)
