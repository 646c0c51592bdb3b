"""What a lit phone screen shows in real photos: text, a clock, icons, app grids, keypads, photos and
sharp-edged art, drawn over the wallpaper.

Every stroke here is a thin, high-contrast line or edge that is not damage: the hard negatives a
crack and scratch model must learn to leave alone. ``draw_screen_content`` returns the pixels it
drew, so a scene can say where screen content is and a test can check nothing there is marked.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Image = np.ndarray

_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
)
_TEXT = (
    "Messages Photos Camera Settings Mail Clock Maps Weather Music Notes Files Wallet Store Phone "
    "Contacts Calendar Today 09:41 Monday battery 87% Wi-Fi 5G LTE Hello, see you at 7 tomorrow "
    "OK Cancel Delete Share Reply Send Search Update available Low battery"
)
_WORDS = tuple(_TEXT.split())


def _colour(rng: np.random.Generator, bg: np.ndarray) -> tuple[float, ...]:
    """A colour that stands out from ``bg``: light on dark, dark on light (as interfaces do)."""
    light = float(bg.mean()) < 128
    v = rng.uniform(200, 255) if light else rng.uniform(0, 60)
    return tuple(float(np.clip(v + rng.uniform(-25, 25), 0, 255)) for _ in range(3))


def _text_lines(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """Lines of words at several sizes: a chat, a mail list, a settings page."""
    h, w = img.shape[:2]
    y = int(rng.uniform(0.08, 0.3) * h)
    size = rng.uniform(0.35, 0.8) * w / 330
    while y < h * rng.uniform(0.6, 0.95):
        words = " ".join(rng.choice(_WORDS, int(rng.integers(1, 6))))
        x = int(rng.uniform(0.04, 0.2) * w)
        font = int(rng.choice(_FONTS))
        col = _colour(rng, img[min(y, h - 1), min(x, w - 1)])
        th = max(1, round(size * rng.uniform(1, 2.2)))
        for target, c in ((img, col), (ink, (1,))):
            cv2.putText(target, words, (x, y), font, size, c, th, cv2.LINE_AA)
        if rng.random() < 0.3:  # a hairline divider between list rows
            yy = y + int(8 * size)
            for target, c in ((img, col), (ink, (1,))):
                cv2.line(target, (x, yy), (w - x, yy), c, 1, cv2.LINE_AA)
        y += int(rng.uniform(28, 60) * size)


def _clock(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """A lock-screen clock and date: large thin digits."""
    h, w = img.shape[:2]
    text = f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"
    size = rng.uniform(1.6, 3.0) * w / 330
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 2)
    x, y = max(0, (w - tw) // 2), int(rng.uniform(0.15, 0.3) * h)
    col = _colour(rng, img[y, w // 2])
    th = max(1, round(size * rng.uniform(0.8, 3)))
    for target, c in ((img, col), (ink, (1,))):
        cv2.putText(target, text, (x, y), int(rng.choice(_FONTS[:2])), size, c, th, cv2.LINE_AA)
        cv2.putText(target, "Mon 7 Dec", (x, y + int(30 * size)), cv2.FONT_HERSHEY_SIMPLEX, size / 3, c, 1)


def _icon(rng: np.random.Generator, img: Image, ink: Image, x: int, y: int, s: int) -> None:
    """One app icon: a rounded square with a glyph (a circle, a bar, a letter or a camera)."""
    col = rng.uniform(0, 255, 3).tolist()
    r = max(2, s // 4)
    for target, c in ((img, col), (ink, [1])):
        cv2.rectangle(target, (x + r, y), (x + s - r, y + s), c, -1)
        cv2.rectangle(target, (x, y + r), (x + s, y + s - r), c, -1)
        for cx, cy in ((x + r, y + r), (x + s - r, y + r), (x + r, y + s - r), (x + s - r, y + s - r)):
            cv2.circle(target, (cx, cy), r, c, -1, cv2.LINE_AA)
    glyph = _colour(rng, np.asarray(col))
    kind = int(rng.integers(0, 4))
    c0 = (x + s // 2, y + s // 2)
    if kind == 0:
        cv2.circle(img, c0, s // 4, glyph, max(1, s // 12), cv2.LINE_AA)
    elif kind == 1:
        cv2.line(
            img, (x + s // 4, y + s // 2), (x + 3 * s // 4, y + s // 2), glyph, max(1, s // 10), cv2.LINE_AA
        )
    elif kind == 2:
        letter = chr(int(rng.integers(65, 91)))
        cv2.putText(img, letter, (x + s // 4, y + 3 * s // 4), cv2.FONT_HERSHEY_SIMPLEX, s / 40, glyph, 2)
    else:
        cv2.rectangle(img, (x + s // 5, y + s // 3), (x + 4 * s // 5, y + 3 * s // 4), glyph, 1, cv2.LINE_AA)
        cv2.circle(img, c0, s // 7, glyph, 1, cv2.LINE_AA)


def _app_grid(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """A home screen: rows of icons with their names under them and a dock."""
    h, w = img.shape[:2]
    cols = int(rng.integers(4, 6))
    s = int(w / (cols + 1.2))
    gap = (w - cols * s) // (cols + 1)
    for r in range(int(rng.integers(3, 7))):
        for c in range(cols):
            if rng.random() < 0.15:
                continue
            x, y = gap + c * (s + gap), int(0.1 * h) + r * int(s * 1.45)
            if y + s >= h:
                break
            _icon(rng, img, ink, x, y, s)
            name = str(rng.choice(_WORDS))[:8]
            col = _colour(rng, img[min(h - 1, y + s + 4), min(w - 1, x + s // 2)])
            for target, cc in ((img, col), (ink, (1,))):
                cv2.putText(
                    target, name, (x, y + s + int(s * 0.28)), cv2.FONT_HERSHEY_SIMPLEX, s / 170, cc, 1
                )
    y = int(h * 0.86)
    for c in range(cols):
        _icon(rng, img, ink, gap + c * (s + gap), y, s)


def _keypad(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """A dialler or PIN pad: a 3x4 grid of rings with digits and the number typed above it."""
    h, w = img.shape[:2]
    r = int(w * rng.uniform(0.1, 0.13))
    top = int(h * rng.uniform(0.3, 0.42))
    for i, key in enumerate("123456789*0#"):
        cx = int(w * (0.22 + 0.28 * (i % 3)))
        cy = top + (i // 3) * int(r * 2.5)
        if cy + r >= h:
            break
        col = _colour(rng, img[cy, cx])
        for target, c in ((img, col), (ink, (1,))):
            if rng.random() < 0.8:
                cv2.circle(target, (cx, cy), r, c, 1, cv2.LINE_AA)
            cv2.putText(
                target, key, (cx - r // 3, cy + r // 3), cv2.FONT_HERSHEY_SIMPLEX, r / 28, c, 2, cv2.LINE_AA
            )
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(3, 11))))
    col = _colour(rng, img[top // 2, w // 2])
    for target, c in ((img, col), (ink, (1,))):
        cv2.putText(
            target, digits, (int(w * 0.12), top // 2), cv2.FONT_HERSHEY_SIMPLEX, w / 300, c, 2, cv2.LINE_AA
        )


def _photo(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """A photo on screen (gallery, a camera preview): a horizon, buildings with hard edges, branches
    and sky texture, framed by a thin border."""
    h, w = img.shape[:2]
    y0, y1 = int(rng.uniform(0.05, 0.3) * h), int(rng.uniform(0.55, 0.95) * h)
    ph, pw = y1 - y0, w
    sky, ground = rng.uniform(60, 255, 3), rng.uniform(10, 140, 3)
    horizon = int(rng.uniform(0.3, 0.7) * ph)
    pic = np.empty((ph, pw, 3), np.float32)
    pic[:horizon] = sky
    pic[horizon:] = ground
    pic += rng.normal(0, rng.uniform(3, 15), (ph, pw, 1)).astype(np.float32)
    for _ in range(int(rng.integers(2, 9))):  # buildings: rectangles with rows of windows
        bx, bw = int(rng.uniform(0, pw)), int(rng.uniform(0.05, 0.3) * pw)
        top = int(rng.uniform(0.1, 0.9) * horizon)
        col = rng.uniform(20, 220, 3).tolist()
        cv2.rectangle(pic, (bx, top), (bx + bw, horizon + 2), col, -1)
        for wy in range(top + 4, horizon - 4, 8):
            cv2.line(pic, (bx + 2, wy), (bx + bw - 2, wy), rng.uniform(0, 255, 3).tolist(), 1)
    for _ in range(int(rng.integers(0, 4))):  # branches / wires: long thin dark curves
        pts = np.cumsum(rng.normal(0, 6, (20, 2)), axis=0) + np.array(
            [rng.uniform(0, pw), rng.uniform(0, ph)]
        )
        pts[:, 0] += np.linspace(0, rng.uniform(-pw, pw), 20)
        cv2.polylines(pic, [pts.astype(np.int32)], False, rng.uniform(0, 60, 3).tolist(), 1, cv2.LINE_AA)
    img[y0:y1] = np.clip(pic, 0, 255)
    ink[y0:y1] = 1
    cv2.rectangle(img, (0, y0), (w - 1, y1 - 1), _colour(rng, sky), 1)


def _art(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """Sharp-edged art: flat polygons, thin strokes and rays, as in a game or a designed wallpaper."""
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(3, 12))):
        col = rng.uniform(0, 255, 3).tolist()
        if rng.random() < 0.5:
            pts = (rng.random((int(rng.integers(3, 6)), 2)) * [w, h]).astype(np.int32)
            for target, c in ((img, col), (ink, [1])):
                cv2.fillPoly(target, [pts], c, cv2.LINE_AA)
        else:
            p0 = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            p1 = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            th = int(rng.integers(1, 3))
            for target, c in ((img, col), (ink, [1])):
                cv2.line(target, p0, p1, c, th, cv2.LINE_AA)


def _status_bar(rng: np.random.Generator, img: Image, ink: Image) -> None:
    """Time, signal bars and battery along the top edge."""
    h, w = img.shape[:2]
    y = max(8, int(h * 0.03))
    col = _colour(rng, img[y, w // 2])
    size = w / 700
    for target, c in ((img, col), (ink, (1,))):
        cv2.putText(target, "9:41", (int(w * 0.06), y), cv2.FONT_HERSHEY_SIMPLEX, size, c, 1, cv2.LINE_AA)
        for i in range(4):
            x = int(w * 0.72) + i * 4
            cv2.line(target, (x, y), (x, y - 2 - 2 * i), c, 2)
        cv2.rectangle(target, (int(w * 0.84), y - 7), (int(w * 0.93), y), c, 1)


_LAYOUTS: tuple[Callable[[np.random.Generator, Image, Image], None], ...] = (
    _text_lines,
    _clock,
    _app_grid,
    _keypad,
    _photo,
    _art,
)


def draw_screen_content(rng: np.random.Generator, disp: Image) -> Image:
    """In place: one or two screen layouts and a status bar over the display image ``disp`` (float
    BGR); returns the HxW uint8 {0,1} mask of the pixels the content covers."""
    h, w = disp.shape[:2]
    canvas = np.clip(disp, 0, 255).astype(np.uint8)  # OpenCV draws text on 8-bit images only
    ink = np.zeros((h, w), np.uint8)
    picks = rng.choice(len(_LAYOUTS), int(rng.integers(1, 3)), replace=False)
    for i in picks:
        _LAYOUTS[int(i)](rng, canvas, ink)
    _status_bar(rng, canvas, ink)
    disp[:] = canvas
    return (cv2.dilate(ink, np.ones((3, 3), np.uint8)) > 0).astype(np.uint8)
