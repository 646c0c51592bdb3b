"""The languages pages are written in, and which one a reader gets.

Readers are buyers, streamers and warehouse staff in mainland China, so Simplified Chinese is
the default; English is the other. Every other tag maps to the closest of the two (any Chinese
to zh-CN, anything else to English), so a reader never gets a page in a language we do not have.
"""

from __future__ import annotations

from enum import StrEnum

MAX_ACCEPT_LANGUAGE_CHARS = 1000  # a header longer than this is cut: no real browser sends one


class AppLocale(StrEnum):
    """A language the pages are written in. The value is the gettext/Babel name."""

    ZH_CN = "zh_CN"
    EN = "en"

    @property
    def tag(self) -> str:
        """The BCP 47 tag (``<html lang>``, cookies, URLs)."""
        return self.value.replace("_", "-")

    @property
    def native_name(self) -> str:
        """How the language calls itself, for the language switch."""
        return {AppLocale.ZH_CN: "中文", AppLocale.EN: "English"}[self]


DEFAULT_LOCALE = AppLocale.ZH_CN


def parse_locale(tag: str) -> AppLocale | None:
    """The locale for a language tag (``zh``, ``zh-CN``, ``zh_Hans_CN``, ``en-US`` ...); None for
    tags in neither language, and for ``*``."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    if primary == "zh":
        return AppLocale.ZH_CN
    if primary == "en":
        return AppLocale.EN
    return None


def negotiate(accept_language: str | None) -> AppLocale | None:
    """The reader's preferred locale from an ``Accept-Language`` header (RFC 9110 weights), or
    None when it names neither of our languages (then the station's default applies)."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, AppLocale]] = []
    for position, part in enumerate(accept_language[:MAX_ACCEPT_LANGUAGE_CHARS].split(",")):
        tag, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        locale = parse_locale(tag)
        if locale is not None and weight > 0:
            ranked.append((-weight, position, locale))
    return min(ranked)[2] if ranked else None
