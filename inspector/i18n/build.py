"""Extract, update, check and compile the message catalogues (``python -m inspector.i18n``).

``update`` collects every marked message of a component (``_()``/``N_()`` in Python,
``{{ _() }}`` and ``{% trans %}`` in templates, ``_()`` in browser scripts) and merges it into
the component's ``.po`` files, keeping what translators wrote. ``check`` fails when a message has
no translation, is fuzzy, or is obsolete; ``compile`` writes the ``.mo`` files pages read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from inspector.i18n.catalogs import COMPONENTS, TRANSLATED_LOCALES, Component
from inspector.i18n.locales import AppLocale

KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "pgettext": ((1, "c"), 2),
    "translate": (2,),
    "translate_plural": (2, 3),
}
METHOD_MAP = [
    ("**/locale/**", "ignore"),
    ("**/scales/*.json", "inspector.i18n.json_messages:extract_json"),
    ("**/plans/*.json", "inspector.i18n.json_messages:extract_json"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/static/**.js", "javascript"),
]
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}


@dataclass(frozen=True)
class Gap:
    """A message a reader would see untranslated."""

    component: str
    locale: AppLocale
    msgid: str
    problem: str  # "missing", "fuzzy" or "obsolete"


def extract(component: Component) -> Catalog:
    """Every message the component's code, templates and scripts mark for translation."""
    catalog = Catalog(project="inspector", domain=component.domain)
    options = {"**/templates/**.html": JINJA_OPTIONS}
    for source in component.sources:
        folder = component.root / source
        for filename, lineno, message, comments, context in extract_from_dir(
            folder, METHOD_MAP, options, KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
        ):
            catalog.add(
                message,
                None,
                [(str(Path(source) / filename), lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def _read(path: Path, locale: AppLocale, domain: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale.value, domain=domain)


def _messages(catalog: Catalog) -> list[tuple[object, object, object]]:
    return sorted(((m.id, m.context, m.string) for m in catalog if m.id), key=repr)


def update(components: Iterable[Component] = COMPONENTS) -> list[Path]:
    """Merge freshly extracted messages into each ``.po`` (new ones empty, gone ones obsolete)."""
    written = []
    for component in components:
        template = extract(component)
        for locale in TRANSLATED_LOCALES:
            path = component.po_path(locale)
            if path.is_file():
                catalog = _read(path, locale, component.domain)
            elif len(template):
                catalog = Catalog(locale=locale.value, domain=component.domain, project="inspector")
            else:
                continue
            before, created = _messages(catalog), catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            if path.is_file() and _messages(catalog) == before:
                continue  # nothing new: leave the file (and its dates) alone, no churn in git
            catalog.creation_date = created
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fp:
                write_po(fp, catalog, width=100, omit_header=False, sort_output=True)
            written.append(path)
    return written


def gaps(components: Iterable[Component] = COMPONENTS) -> list[Gap]:
    """Messages in the code with no usable translation, and translations of messages no longer used."""
    found: list[Gap] = []
    for component in components:
        used = {m.id for m in extract(component) if m.id}
        for locale in TRANSLATED_LOCALES:
            path = component.po_path(locale)
            catalog = _read(path, locale, component.domain) if path.is_file() else Catalog()
            have = {m.id: m for m in catalog if m.id}
            for msgid in sorted(used, key=str):
                message = have.get(msgid)
                text = msgid if isinstance(msgid, str) else msgid[0]
                if (
                    message is None
                    or not message.string
                    or (isinstance(message.string, tuple) and not all(message.string))
                ):
                    found.append(Gap(component.domain, locale, text, "missing"))
                elif message.fuzzy:
                    found.append(Gap(component.domain, locale, text, "fuzzy"))
            for msgid in sorted(set(have) - used, key=str):
                text = msgid if isinstance(msgid, str) else msgid[0]
                found.append(Gap(component.domain, locale, text, "obsolete"))
    return found


def conflicts(components: Iterable[Component] = COMPONENTS) -> list[Gap]:
    """Messages two components translate differently. The catalogues are merged into one, so only
    one translation can win: the same English must read the same everywhere (a glossary), and a
    word with two meanings needs a context (``pgettext``) or different English."""
    found: list[Gap] = []
    for locale in TRANSLATED_LOCALES:
        seen: dict[tuple[str | None, str], tuple[str, str]] = {}
        for component in components:
            path = component.po_path(locale)
            if not path.is_file():
                continue
            for message in _read(path, locale, component.domain):
                if not message.id or not message.string:
                    continue
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                text = message.string if isinstance(message.string, str) else message.string[0]
                key = (message.context, msgid)
                if key in seen and seen[key][1] != text:
                    other = seen[key][0]
                    found.append(Gap(component.domain, locale, msgid, f"translated differently in {other}"))
                seen.setdefault(key, (component.domain, text))
    return found


def compiled(component: Component, locale: AppLocale) -> bytes:
    """The ``.mo`` bytes of a component's ``.po`` (what ``compile`` writes)."""
    buffer = io.BytesIO()
    write_mo(buffer, _read(component.po_path(locale), locale, component.domain))
    return buffer.getvalue()


def stale(components: Iterable[Component] = COMPONENTS) -> list[Path]:
    """``.mo`` files missing or older in content than their ``.po`` (pages would show old words)."""
    found = []
    for component in components:
        for locale in TRANSLATED_LOCALES:
            if not component.po_path(locale).is_file():
                continue
            mo = component.mo_path(locale)
            if not mo.is_file() or mo.read_bytes() != compiled(component, locale):
                found.append(mo)
    return found


def compile_all(components: Iterable[Component] = COMPONENTS) -> list[Path]:
    """Write each ``.po`` as the ``.mo`` the pages load."""
    written = []
    for component in components:
        for locale in TRANSLATED_LOCALES:
            if component.po_path(locale).is_file():
                mo = component.mo_path(locale)
                mo.write_bytes(compiled(component, locale))
                written.append(mo)
    return written
