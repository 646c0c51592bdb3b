"""The camera interface shared by the OpenCV driver and the simulated camera.

Frames are BGR ``uint8`` arrays (OpenCV's native order) with the metadata the pipeline
needs to trust them: where they came from, which resolution was asked for and which one
was actually delivered (cameras silently substitute the nearest mode they support).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


class CameraError(Exception):
    """Base class of every camera failure."""


class CameraOpenError(CameraError):
    """The source cannot be opened: no such device index, missing file, unreachable URL."""


class CameraNoFrame(CameraError):
    """The source is open but delivered no frame (device unplugged, end of stream)."""


class CameraResolutionError(CameraError):
    """``strict`` capture and the camera did not deliver the requested resolution."""


@dataclass(frozen=True)
class Frame:
    """One captured frame. ``image`` is HxWx3 BGR uint8."""

    image: np.ndarray
    source: str
    index: int
    requested: tuple[int, int] | None
    timestamp: float = field(default_factory=time.time)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def resolution(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def resolution_matched(self) -> bool:
        """True when no resolution was requested or the camera delivered exactly it."""
        return self.requested is None or self.requested == self.resolution


@dataclass(frozen=True)
class CameraInfo:
    """What ``inspector devices`` shows about a camera."""

    source: str
    kind: str  # "device", "file", "url" or "simulated"
    width: int | None
    height: int | None
    backend: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "backend": self.backend,
        }


@runtime_checkable
class Camera(Protocol):
    """Anything that can deliver station frames: ``OpenCVCamera`` or ``SimulatedCamera``."""

    def open(self) -> None:
        """Open the source; raises ``CameraOpenError``. Idempotent."""

    def capture(self, width: int | None = None, height: int | None = None, *, strict: bool = False) -> Frame:
        """Capture one frame, asking for ``width`` x ``height`` when given.

        The frame reports what was delivered; with ``strict`` a different resolution
        raises ``CameraResolutionError`` instead.
        """
        ...

    def info(self) -> CameraInfo:
        """Source description and current resolution."""
        ...

    def close(self) -> None:
        """Release the device. Idempotent."""


def check_resolution(frame: Frame, strict: bool) -> Frame:
    if strict and not frame.resolution_matched:
        assert frame.requested is not None
        w, h = frame.requested
        raise CameraResolutionError(
            f"camera {frame.source} delivered {frame.width}x{frame.height}, not the requested {w}x{h}"
        )
    return frame
