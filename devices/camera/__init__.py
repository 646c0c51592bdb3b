"""Station camera: the ``Camera`` interface, the OpenCV driver and a simulated camera.

from devices.camera import open_camera
cam = open_camera("0")            # device index, video file path or stream URL
frame = cam.capture(1280, 720)    # BGR image + what resolution was really delivered
"""

from devices.camera.base import (
    Camera,
    CameraError,
    CameraInfo,
    CameraNoFrame,
    CameraOpenError,
    CameraResolutionError,
    Frame,
)
from devices.camera.opencv import OpenCVCamera, classify_source
from devices.camera.simulated import SimulatedCamera, StationItem
from devices.camera.simulated_side import SimulatedSideCamera


def open_camera(source: str | int) -> OpenCVCamera:
    """Open a real camera source (raises ``CameraOpenError`` with the reason)."""
    cam = OpenCVCamera(source)
    cam.open()
    return cam


__all__ = [
    "Camera",
    "CameraError",
    "CameraInfo",
    "CameraNoFrame",
    "CameraOpenError",
    "CameraResolutionError",
    "Frame",
    "OpenCVCamera",
    "SimulatedCamera",
    "SimulatedSideCamera",
    "StationItem",
    "classify_source",
    "open_camera",
]
