"""Jinja2 templates shared by all pages: each component's ``templates`` folder is searched."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

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
templates = Jinja2Templates(env=env)
