"""Camera driver on OpenCV ``VideoCapture``: a device index, a video file or a stream URL."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from devices.camera.base import (
    CameraError,
    CameraInfo,
    CameraNoFrame,
    CameraOpenError,
    Frame,
    check_resolution,
)

_URL_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "udp://", "tcp://", "rtmp://")


def classify_source(source: str | int) -> tuple[str, str | int]:
    """Return (kind, value for VideoCapture): "device" for an index, "url" or "file"."""
    if isinstance(source, int):
        return "device", source
    text = str(source).strip()
    if text.isdigit():
        return "device", int(text)
    if text.lower().startswith(_URL_SCHEMES):
        return "url", text
    return "file", text


class OpenCVCamera:
    """A real camera (or recorded video) through OpenCV.

    ``loop_file``: a video file rewinds at its end instead of running dry, so a recorded
    session can stand in for a camera in a demo.
    """

    def __init__(
        self, source: str | int, *, loop_file: bool = True, warmup_frames: int = 0, open_timeout: float = 5.0
    ) -> None:
        self.kind, self._target = classify_source(source)
        self.source = str(source)
        self.loop_file = loop_file
        self.warmup_frames = warmup_frames
        self.open_timeout = open_timeout
        self._cap: Any = None
        self._lock = threading.Lock()
        self._count = 0

    def open(self) -> None:
        with self._lock:
            self._open_locked()

    def _open_locked(self) -> None:
        if self._cap is not None:
            return
        if self.kind == "file" and not Path(str(self._target)).is_file():
            raise CameraOpenError(f"camera source {self.source!r}: no such video file")
        if self.kind == "device" and os.name == "posix" and Path("/dev").is_dir():
            dev = Path(f"/dev/video{self._target}")
            if not dev.exists():
                raise CameraOpenError(f"camera {self._target}: {dev} does not exist (no camera plugged in?)")
        if self.kind == "url":
            # Without these an unreachable stream can block for minutes inside FFmpeg.
            ms = int(self.open_timeout * 1000)
            cap = cv2.VideoCapture(
                self._target,
                cv2.CAP_FFMPEG,
                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms],
            )
        else:
            cap = cv2.VideoCapture(self._target)
        if not cap.isOpened():
            cap.release()
            raise CameraOpenError(f"camera source {self.source!r} could not be opened by OpenCV")
        self._cap = cap
        for _ in range(self.warmup_frames):  # auto-exposure needs a few frames on real webcams
            cap.read()

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None

    def __enter__(self) -> OpenCVCamera:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(self, width: int, height: int) -> None:
        cap = self._cap
        cur = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if cur != (width, height):
            # Files ignore this; cameras pick their nearest supported mode. Either way the
            # frame itself is checked below rather than trusting the return value.
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def _read(self) -> np.ndarray | None:
        ok, img = self._cap.read()
        if (not ok or img is None) and self.kind == "file" and self.loop_file:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, img = self._cap.read()
        if not ok or img is None:
            return None
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        return np.ascontiguousarray(img, dtype=np.uint8)

    def capture(self, width: int | None = None, height: int | None = None, *, strict: bool = False) -> Frame:
        if (width is None) != (height is None):
            raise ValueError("give both width and height, or neither")
        if width is not None and height is not None and (width <= 0 or height <= 0):
            raise ValueError("width and height must be positive")
        with self._lock:
            self._open_locked()
            requested = (width, height) if width is not None and height is not None else None
            if requested:
                self._request(*requested)
            try:
                img = self._read()
            except cv2.error as exc:
                raise CameraError(f"camera {self.source!r}: OpenCV error {exc}") from exc
            if img is None:
                # A dead device stays dead for this handle: release so the next call reopens.
                self._cap.release()
                self._cap = None
                raise CameraNoFrame(f"camera source {self.source!r} returned no frame (unplugged or ended?)")
            self._count += 1
            frame = Frame(
                image=img,
                source=self.source,
                index=self._count,
                requested=requested,
                meta={"kind": self.kind},
            )
        return check_resolution(frame, strict)

    def info(self) -> CameraInfo:
        with self._lock:
            self._open_locked()
            cap = self._cap
            w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or None
            h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or None
            backend = cap.getBackendName() if hasattr(cap, "getBackendName") else None
        return CameraInfo(source=self.source, kind=self.kind, width=w, height=h, backend=backend)
