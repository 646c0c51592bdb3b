"""The back of a catalogued phone model, drawn where the grader's catalogue says its features are.

The catalogue (``inspector.grading.known_features``) is the one the grader masks with, so a render of
a known model puts its lenses, flash, sensors and logo exactly where a station would expect them.
"""

from __future__ import annotations

import cv2
import numpy as np

from inspector.grading.known_features import BackLayout, Feature, draw_layout

Image = np.ndarray


def _feature_mask(shape: tuple[int, int], layout: BackLayout, f: Feature, px_mm: float) -> Image:
    m = np.zeros(shape, np.uint8)
    one = BackLayout(layout.model, layout.name, layout.size_mm, (f,))
    draw_layout(m, one, (0.0, 0.0), (px_mm, px_mm))
    return m


def draw_back(
    rng: np.random.Generator, img: Image, body_colour: np.ndarray, layout: BackLayout, px_mm: float
) -> dict[str, Image]:
    """In place: the island, lenses, flash, sensors and logo of ``layout`` on the flat back ``img``
    (float BGR at ``px_mm``); returns each feature kind's mask (uint8 {0,1})."""
    h, w = img.shape[:2]
    masks: dict[str, Image] = {}
    order = ("camera_island", "lens", "flash", "sensor", "logo")
    for f in sorted(layout.features, key=lambda f: order.index(f.kind) if f.kind in order else len(order)):
        m = _feature_mask((h, w), layout, f, px_mm)
        masks[f.kind] = masks.get(f.kind, np.zeros((h, w), np.uint8)) | m
        sel = m > 0
        c = (round(f.center_mm[0] * px_mm), round(f.center_mm[1] * px_mm))
        r = round(min(f.size_mm) / 2 * px_mm)
        if f.kind == "camera_island":
            img[sel] = img[sel] * rng.uniform(0.5, 0.9) + rng.uniform(5, 30)
            edge = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
            img[edge] = img[edge] * 0.7 + 50
        elif f.kind == "lens":
            cv2.circle(img, c, r, (70, 70, 72), -1, cv2.LINE_AA)
            cv2.circle(img, c, round(r * 0.78), (8, 8, 10), -1, cv2.LINE_AA)
            cv2.circle(img, c, round(r * 0.35), (35, 20, 25), -1, cv2.LINE_AA)
            cv2.circle(img, (c[0] - r // 3, c[1] - r // 3), max(1, r // 6), (210, 210, 210), -1, cv2.LINE_AA)
        elif f.kind == "flash":
            img[sel] = (150, 215, 235)
        elif f.kind == "sensor":
            cv2.circle(img, c, r, (20, 20, 25), -1, cv2.LINE_AA)
        elif f.kind == "logo":
            tone = (
                (body_colour * 0.8 + 40).tolist()
                if rng.random() < 0.5
                else (body_colour * 1.15 + 25).tolist()
            )
            if f.shape == "circle":
                cv2.circle(img, c, r, tone, max(2, r // 4), cv2.LINE_AA)
            else:
                word = layout.name.split()[0].upper()
                fw = f.size_mm[0] * px_mm
                scale = fw / max(1, cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)[0][0])
                (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
                ink = np.zeros((h, w), np.uint8)  # OpenCV draws text on 8-bit images only
                cv2.putText(
                    ink,
                    word,
                    (c[0] - tw // 2, c[1] + th // 2),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    scale,
                    255,
                    2,
                    cv2.LINE_AA,
                )
                a = ink.astype(np.float32)[..., None] / 255.0
                img[:] = img * (1 - a) + np.asarray(tone, np.float32) * a
    return masks
