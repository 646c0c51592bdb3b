"""Checks that a page a person reads is in the language it claims (import ``from page_language``).

``visible_text(html)`` is what a reader sees (no tags, scripts, styles or attribute values);
``untranslated(html)`` lists the catalogue's English messages a zh-CN page still shows.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from inspector.i18n import AppLocale, translations
from inspector.i18n.build import extract
from inspector.i18n.catalogs import COMPONENTS

_HIDDEN = {"script", "style", "template", "title"}
_PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*\}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


@cache
def english_messages() -> frozenset[str]:
    """Every English message the catalogues translate to something else, as fixed text fragments
    (placeholders split them); fragments too short to be telling (a letter, "IMEI") are left out."""
    zh = translations(AppLocale.ZH_CN)
    found: set[str] = set()
    for component in COMPONENTS:
        for message in extract(component):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            for msgid in ids:
                if zh.gettext(msgid) == msgid and not message.context:
                    continue  # no translation yet: the catalogue test reports it
                for fragment in _PLACEHOLDER.split(msgid):
                    fragment = fragment.strip(" .,:;()")
                    if len(fragment) >= 12 and " " in fragment:
                        found.add(fragment)
    return frozenset(found)


def untranslated(html: str) -> list[str]:
    """English messages a zh-CN page shows instead of their translation."""
    text = visible_text(html)
    return sorted(m for m in english_messages() if m in text)
