"""A whole simulated inspection station in one line.

    with SimulatedStation() as station:
        station.rig_port        # pty path of the rig controller simulator
        station.scale_port      # pty path of the MT-SICS balance simulator
        station.phone_address   # "127.0.0.1:PORT" of the simulated phone's adbd
        station.camera          # SimulatedCamera (renders whatever is on the station, from above)
        station.side_camera     # SimulatedSideCamera (the edge of the phone facing it, low angle)
        station.put_phone(seed=3, defects=("crack",))   # item on the station (camera)
        station.put_jewelry(mg=3_217, seed=5)           # item on the camera and the scale

Every simulator sits behind the same transport as the real device (pty pairs for the
serial devices, TCP with the ADB protocol for the phone), so code that runs against a
station built here runs unchanged against hardware. The camera is linked to the rig and the
phone: it renders the turntable angle and light box level the rig simulator currently has, and
the phone's glass dark when the simulated phone's display has been switched off over ADB.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devices.camera.simulated import SimulatedCamera, StationItem
from devices.camera.simulated_side import SimulatedSideCamera
from devices.discovery import DeviceRecord, probe_camera, probe_phone_transport, probe_rig, probe_scale
from devices.scale.simulator import ScaleSimulator


class SimulatedStation:
    """Starts the rig, scale, phone and camera simulators (each can be left out)."""

    def __init__(
        self,
        *,
        rig: bool = True,
        scale: bool = True,
        phone: bool = True,
        camera: bool = True,
        side_camera: bool = True,
        link_dir: str | os.PathLike[str] | None = None,
        phone_profile: str = "pixel-6",
        phone_port: int = 0,
        camera_size: tuple[int, int] = (1280, 720),
        side_camera_size: tuple[int, int] = (1280, 720),
        scale_settle_s: float = 0.3,
        rig_pace: bool = True,
    ) -> None:
        self._want = {
            "rig": rig,
            "scale": scale,
            "phone": phone,
            "camera": camera,
            "side_camera": side_camera,
        }
        self.link_dir = Path(link_dir) if link_dir is not None else None
        self.phone_profile = phone_profile
        self.phone_port = phone_port
        self.camera_size = camera_size
        self.side_camera_size = side_camera_size
        self.scale_settle_s = scale_settle_s
        self.rig_pace = rig_pace
        self.rig: Any = None  # devices.rig.RigSimulator when started
        self.scale: ScaleSimulator | None = None
        self.phone: Any = None  # devices.phone.PhoneSimulator when started
        self.camera: SimulatedCamera | None = None
        self.side_camera: SimulatedSideCamera | None = None
        self.rig_port: str | None = None
        self.scale_port: str | None = None
        self.phone_address: str | None = None
        self._started = False

    # -- lifecycle --------------------------------------------------------------------------
    def _link(self, name: str) -> Path | None:
        if self.link_dir is None:
            return None
        self.link_dir.mkdir(parents=True, exist_ok=True)
        return self.link_dir / name

    def start(self) -> SimulatedStation:
        if self._started:
            return self
        self._started = True
        try:
            if self._want["rig"]:
                from devices.rig import RigSimulator

                self.rig = RigSimulator(link=self._link("ttyRIG"), pace=self.rig_pace)
                self.rig_port = self.rig.start()
            if self._want["scale"]:
                self.scale = ScaleSimulator(link=self._link("ttySCALE"), settle_s=self.scale_settle_s)
                self.scale_port = self.scale.start()
            if self._want["phone"]:
                from devices.phone import PhoneSimulator

                self.phone = PhoneSimulator(profile=self.phone_profile, port=self.phone_port)
                host, port = self.phone.start()
                self.phone_address = f"{host}:{port}"
            if self._want["camera"]:
                w, h = self.camera_size
                self.camera = SimulatedCamera(width=w, height=h)
                self.camera.link(
                    angle=self._rig_angle if self.rig is not None else None,
                    light=self._rig_light if self.rig is not None else None,
                    screen_on=self._phone_display_on if self.phone is not None else None,
                )
            if self._want["side_camera"]:
                w, h = self.side_camera_size
                self.side_camera = SimulatedSideCamera(width=w, height=h)
                self.side_camera.link(
                    angle=self._rig_angle if self.rig is not None else None,
                    light=self._rig_light if self.rig is not None else None,
                    item=self._item_on_station if self.camera is not None else None,
                )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for sim in (self.phone, self.scale, self.rig):
            if sim is not None:
                with contextlib.suppress(Exception):  # best effort: stop the others too
                    sim.stop()
        for cam in (self.camera, self.side_camera):
            if cam is not None:
                cam.close()
        self._started = False

    def __enter__(self) -> SimulatedStation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- rig <-> camera link ----------------------------------------------------------------
    def _rig_angle(self) -> float:
        """Mechanical turntable angle (what the camera sees, homed or not)."""
        rig = self.rig
        rig.status()  # advances the simulated motion to "now"
        return (float(rig.pos) / 10.0) % 360.0

    def _rig_light(self) -> float:
        return float(self.rig.light) / 255.0

    def _phone_display_on(self) -> bool:
        return bool(self.phone.display_on)

    def _item_on_station(self) -> StationItem | None:
        """The side camera sees what the top camera sees (one item on one turntable)."""
        return self.camera.item if self.camera is not None else None

    # -- the item on the station ------------------------------------------------------------
    def put_phone(self, *, seed: int = 0, side: str = "screen", defects: Sequence[str] = ()) -> StationItem:
        """A phone lies on the station (camera). Its ADB identity is the phone simulator's."""
        if self.camera is None:
            raise RuntimeError("this station has no camera")
        model = self.phone.profile.props.get("ro.product.model") if self.phone is not None else None
        return self.camera.set_item("phone", seed=seed, side=side, defects=defects, model=model)

    def put_jewelry(
        self, *, mg: int = 3_217, seed: int = 0, defects: Sequence[str] = ()
    ) -> StationItem | None:
        """A piece of jewelry on the turntable: the camera sees it and the scale weighs ``mg``."""
        if self.scale is not None:
            self.scale.place(mg)
        if self.camera is None:
            return None
        return self.camera.set_item("jewelry", seed=seed, defects=defects)

    def clear(self) -> None:
        """Take the item off the station."""
        if self.scale is not None:
            self.scale.remove()
        if self.camera is not None:
            self.camera.clear_item()

    def attach_phone_to_adb(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        """``adb connect`` the simulated phone so adb-server clients (and the ``adb`` CLI) see it
        under the serial ``phone_address``. Starts the local adb server if none runs."""
        if self.phone_address is None:
            raise RuntimeError("this station has no simulated phone")
        from devices.phone import adb_connect

        return adb_connect(self.phone_address, host=host, port=port)

    # -- what is there ----------------------------------------------------------------------
    def addresses(self) -> dict[str, str | None]:
        return {
            "rig": self.rig_port,
            "scale": self.scale_port,
            "phone": self.phone_address,
            "camera": self.camera.source if self.camera is not None else None,
            "side_camera": self.side_camera.source if self.side_camera is not None else None,
        }

    def inventory(self, timeout: float = 2.0) -> list[DeviceRecord]:
        """Identify every simulated device through its real transport (as discovery does)."""
        records: list[DeviceRecord] = []

        def attempt(kind: str, address: str, fn: Any) -> None:
            try:
                records.append(fn())
            except Exception as exc:  # report the failure in the listing instead of aborting it
                records.append(
                    DeviceRecord(kind, address, {}, simulated=True, status="error", detail=str(exc))
                )

        if self.rig_port:
            port = self.rig_port
            attempt("rig", port, lambda: probe_rig(port, timeout=timeout, simulated=True))
        if self.scale_port:
            sport = self.scale_port
            attempt("scale", sport, lambda: probe_scale(sport, timeout=timeout, simulated=True))
        if self.phone_address:
            addr = self.phone_address

            def phone() -> DeviceRecord:
                from devices.phone import AdbTcpTransport

                host, _, port_s = addr.rpartition(":")
                transport = AdbTcpTransport(host, int(port_s), timeout=timeout)
                try:
                    return probe_phone_transport(transport, simulated=True)
                finally:
                    transport.close()

            attempt("phone", addr, phone)
        if self.camera is not None:
            cam = self.camera
            attempt("camera", cam.source, lambda: probe_camera(cam, simulated=True))
        if self.side_camera is not None:
            side = self.side_camera
            attempt("side_camera", side.source, lambda: probe_camera(side, simulated=True))
        return records
