"""One app-wide refusal of input no database can store and no JSON response can carry.

Python's ``json`` reads ``1e400`` as ``inf``, ``NaN`` as ``nan`` and ``"\\ud800"`` as a lone
surrogate; PostgreSQL refuses NUL characters in text; neither database holds an integer beyond
64 bits. Each of these passed validation somewhere and ended as a 500 (a response that could
not be encoded, a driver error). ``refuse_unstorable_input`` is a dependency of the whole app
(``create_app``), so every route refuses them the same way, before its handler runs: a 422 in
FastAPI's validation shape that says where the bad value is and never repeats it.

It reads the URL path, the query string and bodies sent as JSON or as a URL-encoded form
(both already held in memory by then); multipart fields are read by their handlers, whose
text types (``inspector.web.params.SafeStr``) apply the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from email.message import Message
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from inspector.web.params import MAX_INT64

Location = tuple[str | int, ...]
MAX_NAME_IN_LOC = 40  # a field name shown in an error is cut here: errors never repeat whole input


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "text must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (no lone surrogates)"
    return None


def _value_problems(value: Any, loc: Location) -> Iterator[tuple[Location, str]]:
    """Every unstorable value in a decoded JSON document, with where it is (iterative: no depth limit)."""
    stack: list[tuple[Any, Location]] = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
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
                problem = _text_problem(key)
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
        body = await request.body()
        if b"\x00" in body or b"%00" in body:
            return [(("body",), "text must not contain NUL characters")]
    return []


async def refuse_unstorable_input(request: Request) -> None:
    """App-wide dependency: 422 for NUL or lone surrogates in text, non-finite or over-64-bit numbers."""
    problems: list[tuple[Location, str]] = []
    path_problem = _text_problem(request.scope.get("path", ""))
    if path_problem:
        problems.append((("path",), path_problem))
    for name, value in request.query_params.multi_items():
        problem = _text_problem(name) or _text_problem(value)
        if problem:
            shown = name[:MAX_NAME_IN_LOC] if not _text_problem(name) else "?"
            problems.append((("query", shown), problem))
    problems.extend(await _body_problems(request))
    if problems:
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": msg, "input": None} for loc, msg in problems[:20]]
        )
