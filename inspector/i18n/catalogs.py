"""Where each component keeps its translations, and the merged catalogue a page reads.

Each component (package) owns one gettext domain: ``<package>/locale/zh_CN/LC_MESSAGES/<domain>.po``
is the source, written by translators and reviewed in git; the ``.mo`` beside it is compiled by
``python -m inspector.i18n compile`` (``make setup`` runs it) and is not committed. English is the
source language: message ids are the English text, so English needs no catalogue.
"""

from __future__ import annotations

import gettext
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.support import Translations

from inspector.i18n.locales import AppLocale

SOURCE_LOCALE = AppLocale.EN
TRANSLATED_LOCALES = tuple(loc for loc in AppLocale if loc is not SOURCE_LOCALE)


class CatalogMissing(RuntimeError):
    """A compiled catalogue is not there: the translations were not built."""


@dataclass(frozen=True)
class Component:
    """One package's messages: its Python code, its templates and its browser scripts."""

    package: str
    domain: str
    sources: tuple[str, ...] = ("",)  # folders inside the package to extract from ("" is all of it)

    @property
    def root(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise CatalogMissing(f"package {self.package} not found")
        return Path(next(iter(spec.submodule_search_locations)))

    def po_path(self, locale: AppLocale) -> Path:
        return self.root / "locale" / locale.value / "LC_MESSAGES" / f"{self.domain}.po"

    def mo_path(self, locale: AppLocale) -> Path:
        return self.po_path(locale).with_suffix(".mo")


# Words several pages share come first (grade names, criteria and defect names live with the
# grade scales); a later component's catalogue is merged over the earlier ones.
COMPONENTS: tuple[Component, ...] = (
    Component("inspector.grading", "grading"),
    Component("inspector.web", "web"),
    Component("inspector.station", "station"),
    Component("inspector.certificates", "certificates"),
    Component("inspector.platform", "platform"),
    Component("warranty", "warranty"),
)


@cache
def translations(locale: AppLocale) -> gettext.NullTranslations:
    """Every component's messages in ``locale``, merged; the source locale translates to itself."""
    if locale is SOURCE_LOCALE:
        return gettext.NullTranslations()
    merged = Translations()
    for component in COMPONENTS:
        mo = component.mo_path(locale)
        if not mo.is_file():
            if not component.po_path(locale).is_file():
                continue  # this component has no messages yet
            raise CatalogMissing(
                f"the {locale.tag} translations are not compiled ({mo} is missing): "
                "run `make setup` or `python -m inspector.i18n compile`"
            )
        with mo.open("rb") as fp:
            catalog = Translations(fp, domain=component.domain)
        merged.merge(catalog)
        merged.plural = catalog.plural  # merge() keeps the empty start's English rule (n != 1)
    return merged
