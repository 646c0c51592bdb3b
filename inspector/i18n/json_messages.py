"""Messages that live in data files: grade scales and warranty plans (a Babel extraction method).

A grade's letter is extracted with the context ``grade <kind>`` so each scale can have a name of
its own in each language (a phone's A is 99新 in the trade, a jewel's is not); titles, criteria,
defect names and plan texts are extracted as they are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

TEXT_KEYS = frozenset({"name", "title", "description", "label", "plural", "where", "text", "reference"})


def grade_context(kind: str) -> str:
    """The message context of the grade letters of one scale (``pgettext(grade_context(k), "A")``)."""
    return f"grade {kind}"


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str) and value.strip():
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def extract_json(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: dict[str, Any]
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """Babel's extraction interface: ``(lineno, funcname, message, comments)`` per message."""
    data = json.loads(fileobj.read().decode("utf-8"))
    for text in _texts(data):
        yield 0, "gettext", text, []
    kind = data.get("kind") if isinstance(data, dict) else None
    for grade in data.get("grades", []) if isinstance(data, dict) else []:
        if isinstance(kind, str) and isinstance(grade, dict) and isinstance(grade.get("grade"), str):
            yield 0, "pgettext", (grade_context(kind), grade["grade"]), ["a grade letter of this scale"]
