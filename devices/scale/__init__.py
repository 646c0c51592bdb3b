"""Laboratory balance over MT-SICS: driver, reply parser and a pty-backed simulator."""

from devices.scale.driver import (
    MtSicsScale,
    ScaleBusy,
    ScaleCommandError,
    ScaleDisconnected,
    ScaleError,
    ScaleIdentity,
    ScaleOverload,
    ScaleProtocolError,
    ScaleTimeout,
    ScaleUnderload,
)
from devices.scale.sics import SicsParseError, SicsReply, Weight, format_reply, parse_reply, parse_weight

__all__ = [
    "MtSicsScale",
    "ScaleBusy",
    "ScaleCommandError",
    "ScaleDisconnected",
    "ScaleError",
    "ScaleIdentity",
    "ScaleOverload",
    "ScaleProtocolError",
    "ScaleTimeout",
    "ScaleUnderload",
    "SicsParseError",
    "SicsReply",
    "Weight",
    "format_reply",
    "parse_reply",
    "parse_weight",
]
