"""The phone's display over ADB: reading whether it is lit, switching it off and on.

Parsers are fed text in the format real phones print; the switching runs against the simulated phone
through the pure-Python ADB transport (the adb-server path is in test_phone_adb.py).
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.phone import (
    AdbTcpTransport,
    DisplayState,
    PhoneRefused,
    PhoneSimulator,
    get_profile,
    read_display,
    screen_off,
    screen_on,
)
from devices.phone.display import parse_display_power
from devices.phone.parsers import ParseError

TIMEOUT = 5.0

# The head of `adb shell dumpsys power` on an Android 13 handset (other lines cut).
PIXEL_DUMP = """POWER MANAGER (dumpsys power)

Power Manager State:
  Settings power_manager_constants:
    no_cached_wake_locks=true
  mDirty=0x0
  mWakefulness={wakefulness}
  mWakefulnessChanging=false
  mIsPowered=true
  mPlugType=2
  mBatteryLevel=64
  mBatteryLevelWhenDreamStarted=0
  mDockState=0
  mStayOn=false
  mProximityPositive=false
  mBootCompleted=true
  mSystemReady=true

Display Power: state={display}
"""


def _transport(sim: PhoneSimulator) -> AdbTcpTransport:
    return AdbTcpTransport(sim.host, sim.port, timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("wakefulness", "display", "state"),
    [
        ("Awake", "ON", DisplayState.ON),
        ("Asleep", "OFF", DisplayState.OFF),
        ("Dozing", "DOZE", DisplayState.DOZING),
        ("Dreaming", "ON", DisplayState.ON),
    ],
)
def test_wakefulness_in_a_real_dump_gives_the_display_state(
    wakefulness: str, display: str, state: DisplayState
) -> None:
    """Each of Android's wakefulness words maps to what a photo of the glass would show."""
    assert parse_display_power(PIXEL_DUMP.format(wakefulness=wakefulness, display=display)) == state


def test_display_power_line_is_used_when_wakefulness_is_missing() -> None:
    """A build without the mWakefulness line is still read from its Display Power line."""
    text = "POWER MANAGER (dumpsys power)\n\nPower Manager State:\n  mDirty=0x0\n\nDisplay Power: state=OFF\n"
    assert parse_display_power(text) == DisplayState.OFF


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Power Manager State:\n  mDirty=0x0\n  mIsPowered=true\n", "does not report the display state"),
        (
            "Permission Denial: can't dump PowerManager from from pid=4242, uid=2000\n",
            "permission denied",
        ),
        ("Power Manager State:\n  mWakefulness=Sideways\n", "'Sideways' not recognised"),
        ("", "does not report the display state"),
    ],
)
def test_a_dump_without_a_usable_state_says_why(text: str, reason: str) -> None:
    """No state, a refusal or an unknown word is a ParseError naming the problem, never a guess."""
    with pytest.raises(ParseError, match=reason):
        parse_display_power(text)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_display_parser_never_crashes(text: str) -> None:
    """Arbitrary text gives a DisplayState or ParseError, nothing else."""
    with contextlib.suppress(ParseError):
        assert parse_display_power(text) in DisplayState
    with contextlib.suppress(ParseError):
        parse_display_power(f"  mWakefulness={text}\nDisplay Power: state={text}\n")


@pytest.mark.parametrize("phone", ["pixel-6", "old-rooted"], indirect=True)
def test_simulated_phone_turns_its_screen_off_and_on(phone: PhoneSimulator) -> None:
    """Over ADB (shell v2 and v1 phones), the screen goes dark and lights again, and says so."""
    t = _transport(phone)
    try:
        assert read_display(t).state == DisplayState.ON
        off = screen_off(t)
        assert off.state == DisplayState.OFF and off.source == "dumpsys power"
        assert not phone.display_on  # what the station camera will render
        assert read_display(t).state == DisplayState.OFF
        assert screen_off(t).state == DisplayState.OFF  # asking twice does not wake it (unlike POWER)
        assert screen_on(t).state == DisplayState.ON
        assert phone.display_on
    finally:
        t.close()


def test_always_on_display_reports_dozing_not_off() -> None:
    """A phone with an always-on display dozes: the station learns the glass is not dark."""
    profile = get_profile("galaxy-s21")
    profile.always_on_display = True
    with PhoneSimulator(profile) as sim:
        t = _transport(sim)
        try:
            assert screen_off(t).state == DisplayState.DOZING
            assert screen_on(t).state == DisplayState.ON
        finally:
            t.close()


def test_phone_blocking_injected_keys_is_refused_and_stays_lit() -> None:
    """A ROM that blocks `input keyevent` from the shell gives PhoneRefused with the phone's words."""
    profile = get_profile("pixel-6")
    profile.input_injection = False
    with PhoneSimulator(profile) as sim:
        t = _transport(sim)
        try:
            with pytest.raises(PhoneRefused, match="INJECT_EVENTS"):
                screen_off(t)
            assert sim.display_on
            assert read_display(t).state == DisplayState.ON
        finally:
            t.close()


def test_phone_not_reporting_its_display_gives_unknown_not_a_crash() -> None:
    """When `dumpsys power` has no display state, the reading is unknown with the reason."""
    profile = get_profile("pixel-6")
    profile.reports_display_state = False
    with PhoneSimulator(profile) as sim:
        t = _transport(sim)
        try:
            reading = read_display(t)
            assert reading.state is None and not reading.known
            assert reading.unknown is not None and "does not report the display state" in reading.unknown
            after = screen_off(t, settle_s=0.0)
            assert after.state is None and after.unknown == reading.unknown
            assert not sim.display_on  # the key worked; only the report is missing
        finally:
            t.close()
