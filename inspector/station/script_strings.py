"""The words a browser script shows, translated, for its page to hand over as JSON.

Scripts mark their words with ``_("...")`` (``python -m inspector.i18n update`` extracts them);
the page puts ``{message: translation}`` in a ``<script type="application/json">`` block, which
the strict Content-Security-Policy allows where it forbids inline code, and the script reads it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.extract import extract

from inspector.i18n import AppLocale, translations


@cache
def script_messages(script: Path) -> tuple[str, ...]:
    """The messages ``script`` marks with ``_()``, in order, once each."""
    with script.open("rb") as fp:
        found = (m for _, m, _, _ in extract("javascript", fp, keywords={"_": None}))
        return tuple(dict.fromkeys(m for m in found if isinstance(m, str)))


def script_strings(script: Path, locale: AppLocale) -> dict[str, str]:
    """``{message: translation}`` of the script's messages in ``locale`` (none for English)."""
    catalogue = translations(locale)
    pairs = ((m, catalogue.gettext(m)) for m in script_messages(script))
    return {m: t for m, t in pairs if t != m}
