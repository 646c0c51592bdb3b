"""Station rig controller: light box, turntable, lid switch and start button.

``RigDriver`` talks to the controller (real board or simulator) over any pyserial port;
``RigSimulator`` is the same device in Python behind a real pty.  Wire protocol:
``hardware/PROTOCOL.md``.

    from devices.rig import RigDriver, RigSimulator
    with RigSimulator() as sim, RigDriver(str(sim.link)) as rig:
        rig.home(); rig.set_light(80); rig.rotate_to(90)
"""

from devices.rig.driver import (
    USB_IDS,
    ButtonPressed,
    Connected,
    DeviceBooted,
    Disconnected,
    HomeDone,
    LidClosed,
    LidOpened,
    MoveDone,
    RigDisconnected,
    RigDriver,
    RigError,
    RigEvent,
    RigProtocolError,
    RigTimeout,
    probe,
)
from devices.rig.protocol import ErrorCode, Identity, Status
from devices.rig.simulator import RigFaults, RigSimulator

__all__ = [
    "USB_IDS",
    "ButtonPressed",
    "Connected",
    "DeviceBooted",
    "Disconnected",
    "ErrorCode",
    "HomeDone",
    "Identity",
    "LidClosed",
    "LidOpened",
    "MoveDone",
    "RigDisconnected",
    "RigDriver",
    "RigError",
    "RigEvent",
    "RigFaults",
    "RigProtocolError",
    "RigSimulator",
    "RigTimeout",
    "Status",
    "probe",
]
