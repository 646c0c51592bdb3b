"""A tiny stand-in for the phone's ``/system/bin/sh``: answers the commands the probe sends.

It is deliberately literal: output formats copy what real Android builds print (``getprop``,
``dumpsys battery``, toybox/toolbox ``df``, ``service call`` parcel dumps), so the probe's parsers
are exercised on realistic text. Unknown commands fail like ``sh`` does (exit 127).
"""

from __future__ import annotations

import shlex
import struct
import threading
from dataclasses import dataclass

from .profiles import PhoneProfile

SHELL_PACKAGE = "com.android.shell"

# Key codes ``input keyevent`` takes by name or number (android.view.KeyEvent).
KEYCODES = {
    "KEYCODE_POWER": 26,
    "KEYCODE_SLEEP": 223,
    "KEYCODE_WAKEUP": 224,
    "KEYCODE_HOME": 3,
    "KEYCODE_BACK": 4,
}
INJECT_DENIED = (
    "java.lang.SecurityException: Injecting input events requires the caller (or the source of the "
    "instrumentation, if any) to have the INJECT_EVENTS permission.\n"
)


@dataclass
class ShellOutput:
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    # stdout and stderr interleaved in the order written: what a v1 (pty-less) shell stream carries.
    combined: bytes | None = None

    def merged(self) -> bytes:
        return self.combined if self.combined is not None else self.stdout + self.stderr

    def extend(self, other: ShellOutput) -> None:
        self.combined = self.merged() + other.merged()
        self.stdout += other.stdout
        self.stderr += other.stderr
        self.exit_code = other.exit_code


def format_parcel(data: bytes) -> str:
    """Render a reply parcel the way ``service call`` prints it (Parcel::print + HexDump)."""
    if len(data) % 4:
        data += b"\0" * (4 - len(data) % 4)
    words = [struct.unpack_from("<I", data, i)[0] for i in range(0, len(data), 4)]

    def ascii_of(chunk: bytes) -> str:
        return "".join(chr(b) if 32 <= b < 127 and b != 0x27 else "." for b in chunk)

    if len(data) <= 16:
        return f"Result: Parcel({' '.join(f'{w:08x}' for w in words)} '{ascii_of(data)}')\n"
    lines = ["Result: Parcel("]
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hexpart = " ".join(f"{w:08x}" for w in words[off // 4 : off // 4 + 4])
        lines.append(f"  0x{off:08x}: {hexpart:<35} '{ascii_of(chunk):<16}'")
    return "\n".join(lines) + ")\n"


def string16_parcel(value: str | None, exception: int = 0, message: str = "") -> bytes:
    """A binder reply: int32 exception code, then a String16 (or the exception message)."""
    # String16 lengths count UTF-16 code units, not code points.
    if exception:
        units = message.encode("utf-16-le", "surrogatepass")
        payload = struct.pack("<ii", exception, len(units) // 2) + units + b"\0\0"
    elif value is None:
        payload = struct.pack("<ii", 0, -1)
    else:
        units = value.encode("utf-16-le", "surrogatepass")
        payload = struct.pack("<ii", 0, len(units) // 2) + units + b"\0\0"
    if len(payload) % 4:
        payload += b"\0" * (4 - len(payload) % 4)
    return payload


def imei_slot_for_call(sdk: int, args: list[str]) -> int | None:
    """Which SIM slot's IMEI a ``service call iphonesubinfo`` invocation asks for on this release.

    Mirrors the method order of IPhoneSubInfo.aidl: ``getDeviceId`` is transaction 1 everywhere;
    ``getDeviceIdForPhone(phoneId, ...)`` is 3 on Android 6-10 and 4 from Android 11, when
    ``getDeviceIdWithFeature`` was inserted before it. Returns None for anything else.
    """
    if not args:
        return None
    code = args[0]
    if code == "1":
        return 0
    per_phone = "3" if 23 <= sdk <= 29 else "4" if sdk >= 30 else None
    if code == per_phone and len(args) >= 3 and args[1] == "i32":
        try:
            return int(args[2])
        except ValueError:
            return None
    return None


class FakeShell:
    """The phone's shell and the little state it changes: whether the display is lit."""

    def __init__(self, profile: PhoneProfile) -> None:
        self.profile = profile
        self._display_on = True  # a phone put on the station has just been handled: it is awake
        self._state_lock = threading.Lock()  # every host connection runs in its own thread

    @property
    def display_on(self) -> bool:
        """Is the screen lit (what a camera photographing the glass sees)? Dozing counts as lit."""
        return self._display_on

    def display_wakefulness(self) -> str:
        """PowerManagerService's word for the state: Awake, Asleep or Dozing."""
        if self._display_on:
            return "Awake"
        return "Dozing" if self.profile.always_on_display else "Asleep"

    def run(self, command: str) -> ShellOutput:
        """Run a ``;``-separated command line; ``echo`` expands ``$?`` like sh."""
        out = ShellOutput()
        last = 0
        for part in command.split(";"):
            if not part.strip():
                continue
            try:
                argv = shlex.split(part)
            except ValueError:
                res = ShellOutput(b"", b"/system/bin/sh: syntax error: unterminated quoted string\n", 2)
            else:
                argv = [a for a in argv if a not in ("2>/dev/null", "2>&1")]
                argv = [a.replace("$?", str(last)) for a in argv]
                res = self._one(argv) if argv else ShellOutput()
            out.extend(res)
            last = res.exit_code
        return out

    # -- individual commands ------------------------------------------------------------
    def _one(self, argv: list[str]) -> ShellOutput:
        p = self.profile
        cmd, args = argv[0], argv[1:]
        if cmd == "echo":
            return ShellOutput(" ".join(args).encode() + b"\n")
        if cmd == "true":
            return ShellOutput()
        if cmd == "getprop":
            if args:
                return ShellOutput(p.props.get(args[0], "").encode() + b"\n")
            text = "".join(f"[{k}]: [{v}]\n" for k, v in sorted(p.props.items()))
            return ShellOutput(text.encode())
        if cmd == "input":
            return self._input(args)
        if cmd == "dumpsys" and args[:1] == ["power"]:
            return ShellOutput(self._power_dump().encode())
        if cmd == "dumpsys" and args[:1] == ["battery"]:
            text = "Current Battery Service state:\n" + "".join(f"  {k}: {v}\n" for k, v in p.battery.items())
            return ShellOutput(text.encode())
        if cmd == "dumpsys" and args[:1] == ["iphonesubinfo"]:
            if p.imei_dumpsys and p.imeis:
                text = f"Phone Subscriber Info:\n  Phone Type = GSM\n  Device ID = {p.imeis[0]}\n"
                return ShellOutput(text.encode())
            return ShellOutput(b"Permission Denial: can't dump iphonesubinfo from from pid=4242, uid=2000\n")
        if cmd == "dumpsys" and args[:1] == ["account"]:
            lines = [f"Accounts: {p.google_accounts}"]
            lines += [
                f"    Account {{name=user{i}@gmail.com, type=com.google}}" for i in range(p.google_accounts)
            ]
            return ShellOutput(("\n".join(lines) + "\n").encode())
        if cmd == "service" and args[:2] == ["call", "iphonesubinfo"]:
            return self._service_call(args[2:])
        if cmd == "df":
            return self._df([a for a in args if not a.startswith("-")])
        if cmd == "cat":
            return self._cat(args)
        if cmd in ("which", "command"):
            names = [a for a in args if not a.startswith("-")]
            found = [path for name in names for path in p.su_paths if path.rsplit("/", 1)[-1] == name]
            return ShellOutput(("".join(f"{f}\n" for f in found[:1])).encode(), b"", 0 if found else 1)
        if cmd == "pm" and args[:2] == ["list", "packages"]:
            flt = args[2] if len(args) > 2 else ""
            text = "".join(f"package:{pkg}\n" for pkg in p.packages if flt in pkg)
            return ShellOutput(text.encode())
        if cmd == "dumpsys" and args[:1] == ["lock_settings"]:
            return ShellOutput(self._lock_settings_dump().encode())
        if cmd == "settings" and len(args) == 3 and args[0] == "get":
            return ShellOutput(p.settings.get(f"{args[1]}/{args[2]}", "null").encode() + b"\n")
        return ShellOutput(b"", f"/system/bin/sh: {cmd}: inaccessible or not found\n".encode(), 127)

    def _input(self, args: list[str]) -> ShellOutput:
        """``input [source] keyevent CODE...``: the display keys change the state, others do nothing."""
        if args[1:2] == ["keyevent"]:
            args = args[1:]  # an input source ("input keyboard keyevent ...")
        if args[:1] != ["keyevent"] or len(args) < 2:
            usage = "Usage: input [<source>] <command> [<arg>...]\n"
            return ShellOutput(usage.encode(), b"", 1)
        codes: list[int] = []
        for name in args[1:]:
            code = KEYCODES.get(name) if not name.isdigit() else int(name)
            if code is None:
                return ShellOutput(b"", f"Error: Unknown keycode {name}\n".encode(), 1)
            codes.append(code)
        if not self.profile.input_injection:
            return ShellOutput(b"", INJECT_DENIED.encode(), 1)
        with self._state_lock:
            for code in codes:
                if code == KEYCODES["KEYCODE_SLEEP"]:
                    self._display_on = False
                elif code == KEYCODES["KEYCODE_WAKEUP"]:
                    self._display_on = True
                elif code == KEYCODES["KEYCODE_POWER"]:
                    self._display_on = not self._display_on
        return ShellOutput()

    def _power_dump(self) -> str:
        """The start and the display line of PowerManagerService.dumpInternal(), as Android 10-14 print
        them; a profile that does not report the state prints the dump without those lines."""
        level = self.profile.battery.get("level", "50")
        report = self.profile.reports_display_state
        with self._state_lock:
            wakefulness = self.display_wakefulness()
        display = {"Awake": "ON", "Asleep": "OFF", "Dozing": "DOZE"}[wakefulness]
        lines = [
            "POWER MANAGER (dumpsys power)",
            "",
            "Power Manager State:",
            "  Settings power_manager_constants:",
            "    no_cached_wake_locks=true",
            "  mDirty=0x0",
            *([f"  mWakefulness={wakefulness}"] if report else []),
            "  mWakefulnessChanging=false",
            "  mIsPowered=true",
            "  mPlugType=2",
            f"  mBatteryLevel={level}",
            "  mBatteryLevelWhenDreamStarted=0",
            "  mDockState=0",
            "  mStayOn=false",
            "  mProximityPositive=false",
            "  mBootCompleted=true",
            "  mSystemReady=true",
            "  mHalAutoSuspendModeEnabled=false",
            "  mHalInteractiveModeEnabled=true",
            f"  mWakeLockSummary=0x{0x20 if wakefulness == 'Awake' else 0:x}",
            f"  mUserActivitySummary=0x{1 if wakefulness == 'Awake' else 0:x}",
            "  mRequestWaitForNegativeProximity=false",
            "  mSandmanScheduled=false",
            "  mBatteryLowWarning=false",
            "  mLowPowerModeEnabled=false",
            "  mDisplayReady=true",
            "  mHoldingWakeLockSuspendBlocker=false",
            f"  mHoldingDisplaySuspendBlocker={'true' if wakefulness == 'Awake' else 'false'}",
            "",
            "Settings and Configuration:",
            "  mDecoupleHalAutoSuspendModeFromDisplayConfig=false",
            "  mScreenOffTimeoutSetting=30000",
            "  mStayOnWhilePluggedInSetting=0",
            "",
            "Wake Locks: size=0",
            "",
            "Suspend Blockers: size=4",
            "  PowerManagerService.WakeLocks: ref count=0",
            f"  PowerManagerService.Display: ref count={1 if wakefulness == 'Awake' else 0}",
            "  PowerManagerService.Broadcasts: ref count=0",
            "  PowerManagerService.WirelessChargerDetector: ref count=0",
            "",
            *([f"Display Power: state={display}"] if report else []),
            "",
        ]
        return "\n".join(lines)

    def _lock_settings_dump(self) -> str:
        """LockSettingsService.dump(); the per-user CredentialType line exists from Android 11."""
        p = self.profile
        if p.sdk < 30:
            return "Current lock settings service state:\n  SP Enabled = true\n"
        kind = {"none": "None", "pin": "Pin", "password": "Password", "pattern": "Pattern"}[p.lock_type]
        quality = {"none": 0, "pin": 131072, "password": 262144, "pattern": 65536}[p.lock_type]
        return (
            "Current lock settings service state:\n\n"
            "User State:\n"
            "  User 0\n"
            f"    SID: {'0' if p.lock_type == 'none' else '6b3f0a91c2d4e5f7'}\n"
            f"    Quality: {quality}\n"
            f"    CredentialType: {kind}\n"
            "    SeparateChallenge: false\n"
        )

    def _service_call(self, args: list[str]) -> ShellOutput:
        p = self.profile
        slot = imei_slot_for_call(p.sdk, args)
        if not p.imei_service_call:
            msg = "getDeviceId: The user 2000 does not meet the requirements to access device identifiers."
            parcel = string16_parcel(None, exception=-1, message=msg)
        elif slot is None:
            # Another method of the interface: answers something that is not an IMEI.
            parcel = string16_parcel(None)
        else:
            parcel = string16_parcel(p.imeis[slot] if slot < len(p.imeis) else None)
        return ShellOutput(format_parcel(parcel).encode())

    def _df(self, paths: list[str]) -> ShellOutput:
        p = self.profile
        total, used, avail = p.data_kb
        target = paths[0] if paths else "/data"
        if target not in ("/data", "/data/"):
            return ShellOutput(b"", f"df: {target}: No such file or directory\n".encode(), 1)
        if p.df_style == "toolbox":

            def human(kb: int) -> str:
                return f"{kb / 1024 / 1024:.1f}G"

            text = (
                "Filesystem               Size     Used     Free   Blksize\n"
                f"/data {human(total):>20} {human(used):>8} {human(avail):>8}   4096\n"
            )
        else:
            pct = round(used * 100 / total) if total else 0
            text = (
                "Filesystem      1K-blocks     Used Available Use% Mounted on\n"
                f"/dev/block/dm-5 {total:>9} {used:>8} {avail:>9} {pct:>3}% /data\n"
            )
        return ShellOutput(text.encode())

    def _cat(self, paths: list[str]) -> ShellOutput:
        out = ShellOutput()
        for path in paths:
            if path in self.profile.files:
                out.stdout += self.profile.files[path].encode()
            else:
                out.stderr += f"cat: {path}: No such file or directory\n".encode()
                out.exit_code = 1
        return out
