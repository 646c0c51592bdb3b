"""A message the station says, kept as its English message id and values so any page can say it.

Step summaries and refusals are stored and answered in English (the record, the API, the signed
certificate). A page in another language needs the message before its values were filled in, so
each summary is also stored as ``said`` parts: ``{"msg": "%(level)s%% charged", "values": {...}}``.
A value is text, a number, another part (a word to translate, such as a battery health code), or a
list of either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from inspector.i18n import AppLocale, translations

# How a locale joins the parts of one summary, and the items of a list inside a message.
PART_SEPARATOR = {AppLocale.EN: "; ", AppLocale.ZH_CN: "\N{FULLWIDTH SEMICOLON}"}
LIST_SEPARATOR = {AppLocale.EN: ", ", AppLocale.ZH_CN: "、"}


class Said(TypedDict):
    """One message and the values of its ``%(name)s`` placeholders."""

    msg: str
    values: dict[str, Any]
    ctx: NotRequired[str]  # a message context (``pgettext``), e.g. the scale of a grade letter


def said(msg: str, **values: Any) -> Said:
    """The message ``msg`` (mark it with ``N_`` where it is written) with its values."""
    return {"msg": msg, "values": values}


def said_in(context: str, msg: str) -> Said:
    """A word that means different things in different contexts (a grade letter of one scale)."""
    return {"msg": msg, "values": {}, "ctx": context}


def is_said(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("msg"), str) and "values" in value


def _value(value: Any, locale: AppLocale) -> str:
    if is_said(value):
        return say(value, locale)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR[locale].join(_value(v, locale) for v in value)
    return str(value)


def say(part: Mapping[str, Any], locale: AppLocale) -> str:
    """One part in ``locale``; a message the catalogue does not know is said as written."""
    catalogue = translations(locale)
    context = part.get("ctx")
    text = catalogue.pgettext(context, part["msg"]) if context else catalogue.gettext(part["msg"])
    values = {name: _value(v, locale) for name, v in (part.get("values") or {}).items()}
    if not values:
        return text
    try:
        return text % values
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder: the English
        return str(part["msg"]) % values


def say_all(parts: Iterable[Mapping[str, Any]], locale: AppLocale) -> str:
    """The parts of one summary, joined as the locale writes them."""
    return PART_SEPARATOR[locale].join(say(p, locale) for p in parts)


def english(parts: Sequence[Said]) -> str:
    """The parts as they are stored: the English summary."""
    return say_all(parts, AppLocale.EN)
