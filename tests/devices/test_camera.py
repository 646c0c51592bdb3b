"""Camera driver (real OpenCV path on a video file) and the simulated station camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera import (
    Camera,
    CameraNoFrame,
    CameraOpenError,
    CameraResolutionError,
    OpenCVCamera,
    SimulatedCamera,
    classify_source,
)
from devices.phone import AdbTcpTransport, DisplayState, screen_off, screen_on
from devices.rig import RigDriver
from devices.simulated_station import SimulatedStation


def _write_video(path: Path, w: int = 320, h: int = 240, n: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    assert writer.isOpened()
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :, 2] = 40 * i  # a different red level per frame
        cv2.rectangle(img, (20 + 10 * i, 30), (120 + 10 * i, 130), (255, 255, 255), -1)
        writer.write(img)
    writer.release()


def test_file_source_delivers_bgr_frames(tmp_path: Path) -> None:
    """A recorded video works as a camera source: BGR frames with their real resolution."""
    video = tmp_path / "station.avi"
    _write_video(video)
    with OpenCVCamera(str(video)) as cam:
        assert isinstance(cam, Camera)
        f1 = cam.capture()
        f2 = cam.capture()
        info = cam.info()
    assert f1.image.shape == (240, 320, 3) and f1.image.dtype == np.uint8
    assert f1.resolution == (320, 240) and f1.resolution_matched
    assert f2.index == 2 and not np.array_equal(f1.image, f2.image)
    assert (info.kind, info.width, info.height) == ("file", 320, 240)


def test_requested_resolution_is_verified(tmp_path: Path) -> None:
    """Asking for a mode the source cannot give is reported, and refused when strict."""
    video = tmp_path / "station.avi"
    _write_video(video)
    with OpenCVCamera(str(video)) as cam:
        frame = cam.capture(640, 480)
        assert frame.requested == (640, 480)
        assert frame.resolution == (320, 240) and not frame.resolution_matched
        with pytest.raises(CameraResolutionError, match="320x240, not the requested 640x480"):
            cam.capture(640, 480, strict=True)
        assert cam.capture(320, 240, strict=True).resolution_matched


def test_file_loops_instead_of_running_dry(tmp_path: Path) -> None:
    """A short recording stands in for a live camera: it rewinds at the end."""
    video = tmp_path / "short.avi"
    _write_video(video, n=2)
    with OpenCVCamera(str(video)) as cam:
        frames = [cam.capture() for _ in range(5)]
    assert len(frames) == 5


def test_unopenable_sources_give_clear_errors(tmp_path: Path) -> None:
    """A missing file, a bogus file and a missing device index each say what is wrong."""
    with pytest.raises(CameraOpenError, match="no such video file"):
        OpenCVCamera(str(tmp_path / "nope.mp4")).open()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises((CameraOpenError, CameraNoFrame)):
        OpenCVCamera(str(junk)).capture()
    with pytest.raises(CameraOpenError):
        OpenCVCamera(97).open()


def test_source_classification() -> None:
    """`INSPECTOR_CAMERA_SOURCE` may be an index, a URL or a path."""
    assert classify_source("0") == ("device", 0)
    assert classify_source(2) == ("device", 2)
    assert classify_source("rtsp://10.0.0.5/live")[0] == "url"
    assert classify_source("/videos/session.mp4")[0] == "file"


def test_simulated_camera_renders_the_item_and_follows_the_turntable() -> None:
    """The simulated camera shows the placed item; turning the table changes the picture."""
    cam = SimulatedCamera(width=320, height=180)
    assert isinstance(cam, Camera)
    empty = cam.capture()
    cam.set_item("phone", seed=7, defects=("crack",))
    a = cam.capture()
    cam.set_angle(90)
    b = cam.capture()
    assert a.image.shape == (180, 320, 3)
    assert not np.array_equal(a.image, b.image)
    assert not np.array_equal(empty.image, a.image)
    scene = a.meta["scene"]
    assert scene.spec.kind == "phone" and scene.spec.defects == ("crack",)
    quad = np.asarray(a.meta["item_quad"])
    assert quad.shape == (4, 2)
    assert (quad[:, 0].min() >= -1) and (quad[:, 0].max() <= 321)  # the item is in the frame
    assert scene.masks["crack"].any()


def test_simulated_camera_linked_pose_and_faults() -> None:
    """Angle and light can come from the rig; a flaky or unplugged camera raises clearly."""
    state = {"angle": 0.0, "light": 1.0}
    cam = SimulatedCamera(width=256, height=144)
    cam.set_item("jewelry", seed=3)
    cam.link(angle=lambda: state["angle"], light=lambda: state["light"])
    bright = cam.capture(256, 144, strict=True)
    state["light"] = 0.1
    dark = cam.capture(256, 144)
    assert dark.meta["light_level"] == pytest.approx(0.1)
    assert dark.image.mean() < bright.image.mean()
    cam.fail_next = 1
    with pytest.raises(CameraNoFrame):
        cam.capture()
    cam.unplug()
    with pytest.raises(CameraOpenError):
        cam.capture()
    cam.replug()
    assert cam.capture().index >= 3


def test_stream_url_source(tmp_path: Path) -> None:
    """A network stream URL is a camera source too (here a video served over local HTTP)."""
    import functools
    import http.server
    import threading

    _write_video(tmp_path / "live.avi")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # clients closing early are normal for video readers

    server = Quiet(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a, **k: None  # type: ignore[attr-defined, method-assign]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/live.avi"
        with OpenCVCamera(url, open_timeout=5) as cam:
            frame = cam.capture()
        assert frame.resolution == (320, 240) and frame.meta["kind"] == "url"
        with pytest.raises(CameraOpenError, match="could not be opened"):
            OpenCVCamera(f"http://127.0.0.1:{server.server_address[1]}/missing.avi", open_timeout=2).open()
    finally:
        server.shutdown()
        server.server_close()


def test_simulated_station_camera_shows_the_phone_screen_the_phone_reports() -> None:
    """Switching the simulated phone's display off over ADB darkens its glass in the station camera's
    next frame; waking it brings the wallpaper back."""
    with SimulatedStation(rig=False, scale=False, camera_size=(320, 180)) as station:
        station.put_phone(seed=3, defects=("crack",))
        assert station.camera is not None and station.phone is not None
        lit = station.camera.capture()
        assert lit.meta["screen_on"] and lit.meta["scene"].spec.item["screen"] == "wallpaper"
        transport = AdbTcpTransport(station.phone.host, station.phone.port, timeout=5.0)
        try:
            assert screen_off(transport).state == DisplayState.OFF
            dark = station.camera.capture()
            assert not dark.meta["screen_on"] and dark.meta["scene"].spec.item["screen"] == "off"
            assert dark.image.mean() < lit.image.mean()
            assert dark.meta["scene"].masks["crack"].any()
            assert screen_on(transport).state == DisplayState.ON
            assert station.camera.capture().meta["screen_on"]
        finally:
            transport.close()


def test_simulated_side_camera_sees_the_edge_the_turntable_turns_to_it() -> None:
    """The station's side camera sees the phone the top camera sees: at each 90-degree stop of the
    simulated rig another edge of its frame (short, long, short, long), with the chips that phone has
    on that edge in the frame's ground truth; a piece of jewelry leaves the bare backdrop."""
    with SimulatedStation(
        scale=False, phone=False, camera_size=(320, 180), side_camera_size=(640, 360)
    ) as st:
        st.rig.deg_per_s = 3600.0
        assert st.side_camera is not None and isinstance(st.side_camera, Camera)
        st.put_phone(seed=2, defects=("chip",))
        assert st.rig_port is not None
        rig = RigDriver(st.rig_port)
        rig.connect()
        try:
            rig.home()
            seen = {}
            for angle in (0, 90, 180, 270):
                rig.rotate_to(float(angle))
                frame = st.side_camera.capture()
                assert frame.resolution == (640, 360)
                seen[angle] = frame.meta["side_view"]
        finally:
            rig.close()
        assert [seen[a]["edge"] for a in (0, 90, 180, 270)] == ["bottom", "right", "top", "left"]
        assert seen[90]["edge_length_mm"] > seen[0]["edge_length_mm"] + 50  # a long edge, then a short one
        assert seen[0]["defects"] and not seen[180]["defects"]  # this phone has no chip on its top edge
        st.put_jewelry(seed=1)
        assert st.side_camera.capture().meta["side_view"]["edge"] is None
