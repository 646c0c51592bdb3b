"""Text for people, kept as its English message and values until a reader's language is known.

The service refuses and explains in English (the API, the CLI and the audit log read that), but a
page shows the same refusal in its reader's language. So an error carries a ``Message``: the
catalogue's message id (marked with ``N_``) and its values; ``str()`` is the English text and
``render(locale, zone)`` the reader's. Values may be messages themselves (a state's name), lists
of them, or moments (shown as a day in the station's time zone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from inspector.i18n import N_, AppLocale, translate
from inspector.i18n.formatting import day

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_LIST_SEPARATOR = N_(", ")


@dataclass(frozen=True)
class Message:
    """A catalogue message (``msgid``, marked with ``N_`` where it is written) and its values."""

    msgid: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.render(AppLocale.EN, None)

    def render(self, locale: AppLocale, zone: ZoneInfo | None) -> str:
        """The text in ``locale``; moments are days in ``zone`` (ISO days in UTC without one)."""
        if not self.values:
            return translate(locale, self.msgid)
        shown = {k: _shown(v, locale, zone) for k, v in self.values.items()}
        return translate(locale, self.msgid, **shown)


def _shown(value: object, locale: AppLocale, zone: ZoneInfo | None) -> str:
    if isinstance(value, Message):
        return value.render(locale, zone)
    if isinstance(value, datetime):
        if zone is None:
            return f"{value.astimezone(UTC):%Y-%m-%d}"
        return day(value, locale, zone)
    if isinstance(value, tuple):
        return translate(locale, _LIST_SEPARATOR).join(_shown(v, locale, zone) for v in value)
    return str(value)


def text(value: Message | str, locale: AppLocale, zone: ZoneInfo | None) -> str:
    """A message in ``locale``; plain text (a person's own words) as it is."""
    return value.render(locale, zone) if isinstance(value, Message) else value


@cache
def _pattern(msgid: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(msgid)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(pattern + r"\Z", re.DOTALL)


def recognise(written: str, msgids: tuple[str, ...]) -> Message | None:
    """The message (with its values) that English ``written`` was made from, if it is one of
    ``msgids``: notes the service wrote into the audit log are shown translated this way."""
    for msgid in msgids:
        match = _pattern(msgid).match(written)
        if match:
            return Message(msgid, match.groupdict())
    return None
