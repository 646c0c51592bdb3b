"""Exceptions of the phone driver: one per situation an operator must act on differently."""

from __future__ import annotations


class PhoneError(Exception):
    """Base class of every phone driver error."""


class PhoneNotFound(PhoneError):
    """No phone with the requested serial is attached (or the address refuses connections)."""


class PhoneUnauthorized(PhoneError):
    """The phone is attached but has not accepted this station's ADB key ("Allow USB debugging?")."""


class PhoneDisconnected(PhoneError):
    """The phone went away (cable pulled, adbd died) or stopped answering within the timeout."""


class PhoneProbeError(PhoneError):
    """The phone answered, but not in a way the probe can use (protocol error, unexpected reply)."""


class PhoneRefused(PhoneError):
    """The phone answered but would not do what was asked (e.g. a ROM that blocks injected keys)."""
