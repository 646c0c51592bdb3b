"""Chinese and English for every page and message a person reads.

Mark a message where it is written: ``_("...")`` in templates and browser scripts; ``N_("...")``
in Python for text that is translated later, where the reader's locale is known (a page, a
console message); ``translate(locale, "...")`` when it is known already. Keys and codes that are
signed or stored (grades, check keys, claim states) stay English; pages translate them.
"""

from __future__ import annotations

from typing import Any

from inspector.i18n.catalogs import COMPONENTS, CatalogMissing, translations
from inspector.i18n.locales import DEFAULT_LOCALE, AppLocale, negotiate, parse_locale

__all__ = [
    "COMPONENTS",
    "DEFAULT_LOCALE",
    "N_",
    "AppLocale",
    "CatalogMissing",
    "negotiate",
    "parse_locale",
    "translate",
    "translate_plural",
    "translations",
]


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here."""
    return message


def translate(locale: AppLocale, message: str, **values: Any) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled from ``values``."""
    text = translations(locale).gettext(message)
    return text % values if values else text


def translate_plural(locale: AppLocale, singular: str, plural: str, n: int, **values: Any) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``locale``; ``%(num)s`` is ``n``."""
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **values}
