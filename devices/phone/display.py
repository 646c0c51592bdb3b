"""The phone's display: read whether it is lit, and switch it off and on over the ADB shell.

The station photographs the glass with the display off: a lit screen shows wallpapers, icons and
text that look like cracks, while dark glass under the light box shows a crack as a bright line.
Switching uses the standard key events (``KEYCODE_SLEEP`` / ``KEYCODE_WAKEUP``, Android 4.4W+),
which unlike ``KEYCODE_POWER`` do nothing when the display is already in the wanted state. The
state comes from PowerManagerService's dump (``dumpsys power``), whose lines are parsed here with
the same rule as :mod:`devices.phone.parsers`: a value or a :class:`ParseError` saying why not.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum

from .errors import PhoneRefused
from .parsers import ParseError
from .transport import AdbTransport

STATE_COMMAND = "dumpsys power"
SLEEP_COMMAND = "input keyevent KEYCODE_SLEEP"
WAKEUP_COMMAND = "input keyevent KEYCODE_WAKEUP"
# The key event is handled after ``input`` returns: poll the state this long for it to take effect.
SETTLE_S = 3.0
POLL_S = 0.1


class DisplayState(StrEnum):
    """What the display shows, as far as a photo of the glass is concerned."""

    ON = "on"
    """Lit: the screen content is in the photo (also a screensaver, Android's "Dreaming")."""
    OFF = "off"
    """Dark glass (Android's "Asleep")."""
    DOZING = "dozing"
    """Always-on display: the phone sleeps but a dim clock and icons stay on the glass."""


# PowerManagerService dump: "  mWakefulness=Awake" (Android 4.2+): Asleep, Awake, Dreaming, Dozing.
_WAKEFULNESS = re.compile(r"^\s*mWakefulness=(\w+)\s*$", re.MULTILINE)
# Its display power line: "Display Power: state=ON" (OFF, DOZE, DOZE_SUSPEND, ON_SUSPEND, VR).
_DISPLAY_POWER = re.compile(r"^\s*Display Power: state=(\w+)\s*$", re.MULTILINE)
WAKEFULNESS_STATES = {
    "awake": DisplayState.ON,
    "dreaming": DisplayState.ON,
    "asleep": DisplayState.OFF,
    "dozing": DisplayState.DOZING,
}
DISPLAY_POWER_STATES = {
    "on": DisplayState.ON,
    "vr": DisplayState.ON,
    "on_suspend": DisplayState.ON,
    "off": DisplayState.OFF,
    "doze": DisplayState.DOZING,
    "doze_suspend": DisplayState.DOZING,
}


def parse_display_power(text: str) -> DisplayState:
    """The display's state from ``dumpsys power``.

    ``mWakefulness`` decides; ``Display Power: state=`` is read only when a build leaves it out.
    """
    if "Permission Denial" in text:
        raise ParseError("dumpsys power: permission denied to the shell user")
    for pattern, states, what in (
        (_WAKEFULNESS, WAKEFULNESS_STATES, "wakefulness"),
        (_DISPLAY_POWER, DISPLAY_POWER_STATES, "display state"),
    ):
        m = pattern.search(text)
        if m:
            state = states.get(m.group(1).lower())
            if state is None:
                raise ParseError(f"dumpsys power: {what} {m.group(1)[:20]!r} not recognised")
            return state
    raise ParseError("dumpsys power does not report the display state on this phone")


@dataclass(frozen=True)
class DisplayReading:
    """The display's state, or ``state=None`` and why the phone did not say."""

    state: DisplayState | None
    source: str = STATE_COMMAND
    unknown: str | None = None

    @property
    def known(self) -> bool:
        return self.state is not None


def read_display(transport: AdbTransport, timeout: float | None = None) -> DisplayReading:
    """Whether the display is lit. A phone that does not say gives an unknown reading, not an error;
    PhoneDisconnected still propagates (the phone went away)."""
    res = transport.run(STATE_COMMAND, timeout)
    if res.exit_code != 0:
        return DisplayReading(None, unknown=f"`{STATE_COMMAND}` failed (exit {res.exit_code})")
    try:
        return DisplayReading(parse_display_power(res.output))
    except ParseError as exc:
        return DisplayReading(None, unknown=str(exc))


def screen_off(
    transport: AdbTransport, timeout: float | None = None, settle_s: float = SETTLE_S
) -> DisplayReading:
    """Put the display to sleep; the state the phone reports afterwards (OFF, or DOZING on a phone
    with an always-on display, or unknown). Raises PhoneRefused when the key event is refused."""
    return _switch(transport, SLEEP_COMMAND, (DisplayState.OFF, DisplayState.DOZING), timeout, settle_s)


def screen_on(
    transport: AdbTransport, timeout: float | None = None, settle_s: float = SETTLE_S
) -> DisplayReading:
    """Wake the display; the state the phone reports afterwards. Raises PhoneRefused as ``screen_off``."""
    return _switch(transport, WAKEUP_COMMAND, (DisplayState.ON,), timeout, settle_s)


def _switch(
    transport: AdbTransport,
    command: str,
    wanted: tuple[DisplayState, ...],
    timeout: float | None,
    settle_s: float,
) -> DisplayReading:
    res = transport.run(command, timeout)
    # `input` prints a Java exception (and on some builds still exits 0) when injection is blocked.
    if res.exit_code != 0 or "Exception" in res.output:
        first = next((ln.strip() for ln in res.output.splitlines() if ln.strip()), "")
        raise PhoneRefused(f"`{command}` refused (exit {res.exit_code}): {first[:160]}".rstrip(": "))
    deadline = time.monotonic() + settle_s
    while True:
        reading = read_display(transport, timeout)
        if reading.state in wanted or not reading.known or time.monotonic() >= deadline:
            return reading
        time.sleep(POLL_S)
