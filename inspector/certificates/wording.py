"""Measured facts as a buyer reads them: quantities with units, sides of the item, defect sentences.

The certificate signs codes and integers in stated units (micrometres, milligrams); this module
is where they become words in the reader's language. Defect names and where they are come from
the grade scale (``inspector/grading/scales/*.json``), translated in the ``grading`` catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from babel.lists import format_list
from babel.numbers import format_percent

from inspector.certificates.measured import Found, Place, WeakClass
from inspector.grading.scales import Scale
from inspector.i18n import AppLocale, translate, translate_plural, translations
from inspector.i18n.formatting import number


def millimetres(length_um: int, locale: AppLocale) -> str:
    """``18400`` -> "18 mm"; under 10 mm one decimal is kept ("4.2 mm")."""
    mm = Decimal(length_um) / 1000
    decimals = 0 if mm >= 10 else 1
    return translate(locale, "%(value)s mm", value=number(mm, locale, decimals=decimals))


def square_millimetres(area_um2: int, locale: AppLocale) -> str:
    return translate(locale, "%(value)s mm²", value=number(Decimal(area_um2) / 1_000_000, locale, decimals=1))


def grams(weight_mg: int, locale: AppLocale) -> str:
    """A piece's weight: grams with milligram precision ("5.432 g"), never carats."""
    return translate(locale, "%(value)s g", value=number(Decimal(weight_mg) / 1000, locale, decimals=3))


def percent(value: int, locale: AppLocale) -> str:
    return format_percent(Decimal(value) / 100, locale=locale.value)


def and_list(items: Sequence[str], locale: AppLocale) -> str:
    """ "a, b and c" / "a、b和c"."""
    return format_list(list(items), locale=locale.value) if items else ""


def side_name(side: str, locale: AppLocale) -> str:
    """A side of the item inside a sentence ("on the back glass")."""
    t = translations(locale)
    names = {
        "screen": t.pgettext("side of the item", "screen"),
        "back": t.pgettext("side of the item", "back"),
        "top": t.pgettext("side of the item", "top"),
        "edge": t.pgettext("side of the item", "frame edge"),
    }
    return names.get(side, side)


def photo_caption(place: Place, locale: AppLocale, *, turned: bool) -> str:
    """A photo's caption: its side, and the turntable's angle when the item was photographed turning."""
    t = translations(locale)
    captions = {
        "screen": t.pgettext("photo of the item", "Screen"),
        "back": t.pgettext("photo of the item", "Back"),
        "top": t.pgettext("photo of the item", "From above"),
        "edge": t.pgettext("photo of the item", "Frame edge"),
    }
    caption = captions.get(place.side, place.side)
    if turned and place.angle is not None:
        return translate(locale, "%(side)s, turned %(angle)s°", side=caption, angle=place.angle)
    return caption


def defect_sentence(found: Found, side: str, scale: Scale, locale: AppLocale) -> str:
    """ "2 scratches, 18 mm in total, on the screen", in the reader's language and word order."""
    spec = scale.classes.get(found.cls)
    t = translations(locale)
    if spec is None:  # a class this scale does not know: say what was counted, no more
        return translate_plural(locale, "%(num)s defect", "%(num)s defects", found.count)
    name = t.gettext(spec.label if found.count == 1 else spec.plural)
    where = t.gettext(spec.where).format(side=side_name(side, locale))
    n = found.count
    if spec.measure == "length":
        length = millimetres(found.length_um, locale)
        return translate_plural(
            locale,
            "%(num)s %(name)s, %(length)s long, %(where)s",
            "%(num)s %(name)s, %(length)s in total, %(where)s",
            n,
            name=name,
            length=length,
            where=where,
        )
    if spec.measure == "area":
        area = square_millimetres(found.area_um2, locale)
        return translate_plural(
            locale,
            "%(num)s %(name)s, %(area)s, %(where)s",
            "%(num)s %(name)s, %(area)s in total, %(where)s",
            n,
            name=name,
            area=area,
            where=where,
        )
    return translate_plural(
        locale, "%(num)s %(name)s, %(where)s", "%(num)s %(name)s, %(where)s", n, name=name, where=where
    )


def weak_classes_note(weak: Sequence[WeakClass], scale: Scale, locale: AppLocale) -> str:
    """The grader's caveat as advice: which defects to look for on the photos yourself."""
    by_plural = {spec.plural: spec for spec in scale.classes.values()}
    t = translations(locale)
    items = [
        translate(
            locale,
            "%(defects)s (%(share)s found in tests)",
            defects=t.gettext(by_plural[w.plural].plural) if w.plural in by_plural else w.plural,
            share=percent(w.found_pct, locale),
        )
        for w in weak
    ]
    if not items:
        return ""
    return translate(
        locale,
        "The camera does not reliably find %(defects)s: look for them on the photos yourself.",
        defects=and_list(items, locale),
    )


def metal_name(metal: str, locale: AppLocale) -> str:
    """A declared metal (the station's choices); anything else is shown as it was typed."""
    t = translations(locale)
    names = {
        "gold": t.pgettext("metal", "gold"),
        "white gold": t.pgettext("metal", "white gold"),
        "rose gold": t.pgettext("metal", "rose gold"),
        "silver": t.pgettext("metal", "silver"),
        "platinum": t.pgettext("metal", "platinum"),
        "palladium": t.pgettext("metal", "palladium"),
        "other": t.pgettext("metal", "other"),
    }
    name = names.get(metal.strip().lower(), metal)
    return name[:1].upper() + name[1:]
