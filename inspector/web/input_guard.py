"""One app-wide refusal of input no database can store and no JSON response can carry.

Python's ``json`` reads ``1e400`` as ``inf``, ``NaN`` as ``nan`` and ``"\\ud800"`` as a lone
surrogate; PostgreSQL refuses NUL characters in text; neither database holds an integer beyond
64 bits. Each of these passed validation somewhere and ended as a 500 (a response that could
not be encoded, a driver error). ``refuse_unstorable_input`` is a dependency of the whole app
(``create_app``), so every route refuses them the same way, before its handler runs: a 422 in
FastAPI's validation shape that says where the bad value is and never repeats it.

It reads the URL path, the query string, and the JSON or URL-encoded body of routes that
declare one (FastAPI has read those into memory already, so the check adds no read of its
own); routes that read their own forms apply the same rule to each field (``SafeStr``,
``FormText``, ``warranty.web.forms.field``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from email.message import Message
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from inspector.web.params import MAX_INT64, unstorable_text

Location = tuple[str | int, ...]
MAX_NAME_IN_LOC = 40  # a field name shown in an error is cut here: errors never repeat whole input


def _value_problems(value: Any, loc: Location) -> Iterator[tuple[Location, str]]:
    """Every unstorable value in a decoded JSON document, with where it is (iterative: no depth limit)."""
    stack: list[tuple[Any, Location]] = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = unstorable_text(item)
            if problem:
                yield where, problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_INT64 - 1 <= item <= MAX_INT64:
                yield where, "number is out of range (integers must fit in 64 bits)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                yield where, "number must be finite (no NaN, Infinity or overflowing exponents)"
        elif isinstance(item, dict):
            for key, sub in item.items():
                problem = unstorable_text(key)
                if problem:
                    yield where, f"field name: {problem}"
                else:
                    stack.append((sub, (*where, key[:MAX_NAME_IN_LOC])))
        elif isinstance(item, list):
            stack.extend((sub, (*where, i)) for i, sub in enumerate(item))


def _media_type(request: Request) -> tuple[str, str]:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_maintype(), message.get_content_subtype()


async def _body_problems(request: Request) -> list[tuple[Location, str]]:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return []  # a route that reads no body, or reads its own (multipart: ``SafeStr`` fields)
    # FastAPI has read the body of such a route into memory already: checking it costs no more.
    main, sub = _media_type(request)
    if main != "application":
        return []
    if sub == "json" or sub.endswith("+json"):
        if not await request.body():
            return []
        try:
            document = await request.json()
        except (ValueError, RecursionError):
            return []  # not JSON at all: FastAPI's own body parsing answers that
        return list(_value_problems(document, ("body",)))
    if sub == "x-www-form-urlencoded":
        form = await request.form()  # the form FastAPI parsed, not the (consumed) stream
        problems: list[tuple[Location, str]] = []
        for name, value in form.multi_items():
            problem = unstorable_text(name) or (unstorable_text(value) if isinstance(value, str) else None)
            if problem:
                shown = name[:MAX_NAME_IN_LOC] if not unstorable_text(name) else "?"
                problems.append((("body", shown), problem))
        return problems
    return []


async def refuse_unstorable_input(request: Request) -> None:
    """App-wide dependency: 422 for NUL or lone surrogates in text, non-finite or over-64-bit numbers."""
    problems: list[tuple[Location, str]] = []
    path_problem = unstorable_text(request.scope.get("path", ""))
    if path_problem:
        problems.append((("path",), path_problem))
    for name, value in request.query_params.multi_items():
        problem = unstorable_text(name) or unstorable_text(value)
        if problem:
            shown = name[:MAX_NAME_IN_LOC] if not unstorable_text(name) else "?"
            problems.append((("query", shown), problem))
    problems.extend(await _body_problems(request))
    if problems:
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": msg, "input": None} for loc, msg in problems[:20]]
        )
