"""Jinja2 templates shared by all pages: each component's ``templates`` folder is searched."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from inspector.auth.csrf import CSRF_FIELD, request_csrf_token

# Packages whose ``templates/`` folder holds pages; a page extends "base.html" from here.
_TEMPLATE_PACKAGES = ["inspector.web", "inspector.certificates", "inspector.station", "warranty"]


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
)


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
