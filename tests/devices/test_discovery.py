"""Discovery and the simulated station: devices are found and identified through real transports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.discovery import (
    discover,
    identify_serial_port,
    list_cameras,
    list_serial_ports,
    mask_imei,
    usb_candidates,
)
from devices.scale.simulator import ScaleSimulator
from devices.simulated_station import SimulatedStation
from inspector.config import Settings


@pytest.fixture(scope="module")
def station() -> Iterator[SimulatedStation]:
    with SimulatedStation(camera_size=(320, 180), scale_settle_s=0.0) as st:
        yield st


def test_usb_ids_only_name_candidates() -> None:
    """An Arduino Uno is a rig candidate, a CP210x may be either, a Mettler Toledo id a balance."""
    assert usb_candidates(0x2341, 0x0043) == ("Arduino Uno R3 (ATmega16U2)", ("rig",))
    assert usb_candidates(0x10C4, 0xEA60)[1] == ("scale", "rig")
    assert usb_candidates(0x0EB8, 0x1234)[1] == ("scale",)
    assert usb_candidates(0x1234, 0x5678) == (None, ("scale", "rig"))
    assert usb_candidates(None, None) == (None, ())


def test_list_serial_ports_runs_on_any_machine() -> None:
    """Listing ports never fails, whatever the machine has plugged in."""
    for port in list_serial_ports():
        assert port.device
        assert port.usb_id is None or len(port.usb_id) == 9


def test_imei_is_masked_to_last_four() -> None:
    """Listings show enough of an IMEI to match the phone in hand, not the whole number."""
    assert mask_imei("356740119876549") == "***********6549"
    assert mask_imei("35-674011-987654-9") == "***********6549"


def test_identify_tells_scale_from_rig(station: SimulatedStation) -> None:
    """The same probe sequence recognises a balance and a rig controller by their own identify."""
    assert station.scale_port and station.rig_port
    scale = identify_serial_port(station.scale_port, ("rig", "scale"), timeout=0.5)
    # the record's detail says why each probe failed: a failure here once in a slow CI run had no reason
    assert scale.kind == "scale", scale.detail
    assert scale.identity["serial"] == "B947023614"
    rig = identify_serial_port(station.rig_port, ("scale", "rig"), timeout=0.5)
    assert rig.kind == "rig", rig.detail
    assert rig.identity["model"] == "RIG-SIM"


def test_silent_device_is_unidentified_not_a_hang() -> None:
    """A port where nothing answers is listed as unidentified with the reasons, after bounded waits."""
    with ScaleSimulator() as sim:
        sim.faults.drop_rate = 1.0
        rec = identify_serial_port(sim.path, ("scale",), timeout=0.2)
    assert rec.status == "unidentified"
    assert rec.detail and "no reply" in rec.detail


def test_discover_configured_ports(station: SimulatedStation) -> None:
    """Ports named in the settings are probed for their role even without a USB id."""
    settings = Settings(scale_port=station.scale_port, rig_port=station.rig_port)
    records = {r.kind: r for r in discover(settings, adb=False, cameras=False)}
    assert records["scale"].status == "ok" and records["scale"].address == station.scale_port
    assert records["rig"].status == "ok" and records["rig"].identity["serial"] == "52470001"


def test_discover_reports_a_configured_port_that_is_missing(tmp_path: Path) -> None:
    """A configured balance that is not there is listed as an error, not silently dropped."""
    settings = Settings(scale_port=str(tmp_path / "ttyGONE"))
    records = discover(settings, adb=False, cameras=False)
    gone = [r for r in records if r.address.endswith("ttyGONE")]
    assert gone and gone[0].kind == "scale" and gone[0].status == "error"


def test_list_cameras_opens_file_sources(tmp_path: Path) -> None:
    """A camera source that opens is listed with its real resolution; a missing one with the reason."""
    video = tmp_path / "cam.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (160, 120))
    for _ in range(3):
        writer.write(np.full((120, 160, 3), 128, np.uint8))
    writer.release()
    ok, missing = list_cameras([str(video), str(tmp_path / "none.mp4")])
    assert ok.status == "ok" and (ok.identity["width"], ok.identity["height"]) == (160, 120)
    assert missing.status == "error" and "no such video file" in (missing.detail or "")


def test_station_inventory_identifies_all_four(station: SimulatedStation) -> None:
    """A simulated station lists rig, balance, phone and camera with their identities."""
    recs = {r.kind: r for r in station.inventory()}
    assert set(recs) == {"rig", "scale", "phone", "camera"}
    assert all(r.status == "ok" and r.simulated for r in recs.values())
    assert recs["phone"].identity["model"] == "Pixel 6"
    assert recs["phone"].identity["imei"][0].endswith("6549")
    assert "*" in recs["phone"].identity["imei"][0]


def test_station_camera_follows_the_rig(station: SimulatedStation) -> None:
    """Turning the simulated turntable through the rig driver turns the camera picture."""
    from devices.rig import RigDriver

    assert station.camera is not None and station.rig_port
    station.put_phone(seed=11)
    with RigDriver(station.rig_port, timeout=2.0) as rig:
        rig.home()
        rig.set_light(100)
        rig.rotate_to(0)
        a = station.camera.capture()
        rig.rotate_to(120)
        b = station.camera.capture()
    assert a.meta["angle_deg"] == pytest.approx(0.0, abs=0.2)
    assert b.meta["angle_deg"] == pytest.approx(120.0, abs=0.2)
    assert b.meta["light_level"] == pytest.approx(1.0)
    assert not np.array_equal(a.image, b.image)


def test_station_jewelry_is_weighed_and_seen(station: SimulatedStation) -> None:
    """Putting jewelry on the station loads the balance and shows it to the camera."""
    from devices.scale import MtSicsScale

    assert station.scale_port and station.camera is not None
    station.put_jewelry(mg=4_120, seed=2)
    with MtSicsScale(station.scale_port) as scale:
        assert scale.stable_weight(timeout=5).mg == 4_120
    assert station.camera.capture().meta["item"]["kind"] == "jewelry"
    station.clear()
    assert station.camera.item is None
