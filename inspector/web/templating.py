"""Jinja2 templates shared by all pages: each component's ``templates`` folder is searched.

Every page speaks the reader's language: ``{{ _("...") }}`` and ``{% trans %}`` translate through
the merged catalogue of ``inspector.i18n``; ``|money``, ``|when``, ``|day`` and ``|number`` write
values as the locale does. A page's locale is ``locale`` from its context when the route sets one
(the overlay and labels use the station's), else the reader's (``inspector.web.language``).
"""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from inspector.auth.csrf import CSRF_FIELD, request_csrf_token
from inspector.config import Settings
from inspector.i18n import AppLocale, formatting, translations
from inspector.web.language import request_locale
from inspector.web.safe_redirect import safe_next

# Packages whose ``templates/`` folder holds pages; a page extends "base.html" from here.
_TEMPLATE_PACKAGES = [
    "inspector.web",
    "inspector.certificates",
    "inspector.station",
    "inspector.platform",
    "warranty",
]


def _template_dirs() -> list[str]:
    dirs = []
    for name in _TEMPLATE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            dirs += [str(Path(p) / "templates") for p in spec.submodule_search_locations]
    return dirs


env = Environment(
    loader=ChoiceLoader([FileSystemLoader(d) for d in _template_dirs()]),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
)


def page_locale(context: Context) -> AppLocale:
    """The locale this page is rendered in (see the module docstring)."""
    chosen = context.get("locale")
    if isinstance(chosen, AppLocale):
        return chosen
    request: Any = context.get("request")
    return request_locale(request) if request is not None else AppLocale.EN


def _settings(context: Context) -> Settings | None:
    request: Any = context.get("request")
    return request.app.state.settings if request is not None else None


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(page_locale(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(page_locale(context)).ngettext(singular, plural, n)


@pass_context
def _money(context: Context, amount_minor: int, currency: str = "CNY") -> str:
    return formatting.money(amount_minor, currency, page_locale(context))


@pass_context
def _number(context: Context, value: int | float, decimals: int | None = None) -> str:
    return formatting.number(value, page_locale(context), decimals=decimals)


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    settings = _settings(context)
    zone = settings.zone if settings is not None else ZoneInfo("UTC")
    return formatting.when(moment, page_locale(context), zone) if moment is not None else ""


@pass_context
def _day(context: Context, value: date | None) -> str:
    settings = _settings(context)
    zone = settings.zone if settings is not None else ZoneInfo("UTC")
    return formatting.day(value, page_locale(context), zone) if value is not None else ""


@pass_context
def _html_lang(context: Context) -> str:
    return page_locale(context).tag


def _this_page(request: Any) -> str:
    """This page's path and query, to come back to after switching; a ``next`` parameter in the
    query is passed on only as a path on this site (a hostile one is never written into a page)."""
    query = [
        (name, safe_next(value) if name == "next" else value)
        for name, value in parse_qsl(request.url.query, keep_blank_values=True)
    ]
    return request.url.path + (f"?{urlencode(query, safe='/')}" if query else "")


@pass_context
def _language_links(context: Context) -> list[dict[str, Any]]:
    """The language switch: one link per locale, back to this page, the current one marked."""
    request: Any = context.get("request")
    here = _this_page(request) if request is not None else "/"
    current = page_locale(context)
    return [
        {
            "tag": loc.tag,
            "name": loc.native_name,
            "current": loc is current,
            "href": f"/lang/{loc.tag}?{urlencode({'next': here})}",
        }
        for loc in AppLocale
    ]


env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters.update(money=_money, number=_number, when=_when, day=_day)
env.globals.update(html_lang=_html_lang, language_links=_language_links)


@pass_context
def csrf_token(context: Context) -> str:
    """The page's CSRF token ("" for anonymous visitors): ``<meta name="csrf-token">`` for scripts."""
    request: Any = context.get("request")
    return request_csrf_token(request) if request is not None else ""


@pass_context
def csrf_input(context: Context) -> Markup:
    """``{{ csrf_input() }}`` inside every ``<form method="post">``."""
    field = Markup('<input type="hidden" name="{}" value="{}">')
    return field.format(CSRF_FIELD, csrf_token(context))


env.globals["csrf_token"] = csrf_token
env.globals["csrf_input"] = csrf_input
templates = Jinja2Templates(env=env)
