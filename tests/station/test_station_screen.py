"""The phone's screen is dark for the photo of its glass, lit again afterwards, and the record says so;
a phone that cannot switch it still gets photographed and graded, with the reason on the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station_helpers import Station, running_sqlite_station

from inspector.i18n import AppLocale
from inspector.station.said import say_all


def _inspect_until_operator_checks(station: Station) -> dict[str, dict[str, Any]]:
    """Start a phone inspection and let its automatic steps run; the steps by key."""
    events = station.events()
    iid = station.start_phone()
    station.pass_review(iid)
    with station.client() as c:
        events.wait_for(lambda e: e["type"] == "step.waiting" and e["step"] == "check_buttons")
        view = c.get(f"/api/station/inspections/{iid}").json()
    return {s["key"]: s for s in view["steps"]}


def test_screen_is_off_for_the_screen_photo_and_on_again(tmp_path: Path) -> None:
    """The station puts the phone's display to sleep over ADB for the screen photo, wakes it for the
    operator checks, and records both on the step in English and in Chinese."""
    with running_sqlite_station(tmp_path) as station:
        steps = _inspect_until_operator_checks(station)
        phone = station.sim.phone
        commands = list(phone.commands)
        assert phone.display_on  # lit again for the buttons, speaker and touch checks
    shot = steps["photo_screen"]
    assert shot["status"] == "passed"
    assert shot["result"]["screen"]["off"]["state"] == "off"
    assert shot["result"]["screen"]["on"]["state"] == "on"
    assert [p["screen"] for p in shot["result"]["photos"]] == ["off"]
    assert "screen" not in steps["photo_back"]["result"]["photos"][0]  # the back needs no switching
    assert shot["summary"] == "1 photo; screen off for the photo"
    assert say_all(shot["result"]["said"], AppLocale.ZH_CN) == "1 张照片；拍照时屏幕已熄灭"  # noqa: RUF001
    sleep = next(i for i, cmd in enumerate(commands) if "KEYCODE_SLEEP" in cmd)
    wake = next(i for i, cmd in enumerate(commands) if "KEYCODE_WAKEUP" in cmd)
    assert sleep < wake
    assert steps["grade"]["status"] in ("passed", "skipped")


def test_phone_that_refuses_is_photographed_lit_with_the_reason(tmp_path: Path) -> None:
    """A phone whose ROM blocks injected keys: the screen photo is still taken and graded, the step is a
    warning (not a failure) and says the screen could not be turned off and why."""
    with running_sqlite_station(tmp_path) as station:
        station.sim.phone.profile.input_injection = False
        steps = _inspect_until_operator_checks(station)
        commands = list(station.sim.phone.commands)
        lit = station.sim.phone.display_on
    shot = steps["photo_screen"]
    assert shot["status"] == "warning"
    assert shot["summary"] == "1 photo; screen could not be turned off: the phone refused"
    assert shot["result"]["screen"]["on"] is None  # it never went dark: nothing to wake
    assert lit
    assert "INJECT_EVENTS" in shot["result"]["screen"]["off"]["detail"]
    assert shot["result"]["photos"][0]["screen"] == "unknown"
    assert not any("KEYCODE_WAKEUP" in cmd for cmd in commands)
    zh = say_all(shot["result"]["said"], AppLocale.ZH_CN)
    assert zh == "1 张照片；未能熄灭屏幕：手机拒绝了该操作"  # noqa: RUF001
    assert steps["grade"]["status"] in ("passed", "skipped") and steps["grade"]["result"]["photos"]


def test_phone_unplugged_at_the_switch_does_not_stop_the_photo(tmp_path: Path) -> None:
    """The cable comes out as the station asks for the screen to go dark: the photo is still taken and
    the inspection goes on to grading, with 'phone not connected' on the record."""
    with running_sqlite_station(tmp_path) as station:
        station.sim.phone.faults.unplug_on = "KEYCODE_SLEEP"
        steps = _inspect_until_operator_checks(station)
    shot = steps["photo_screen"]
    assert shot["status"] == "warning" and len(shot["result"]["photos"]) == 1
    assert "screen could not be turned off: phone not connected" in shot["summary"]
    assert "screen could not be turned back on: phone not connected" in shot["summary"]
    assert steps["grade"]["status"] in ("passed", "skipped")
