"""The template environment of the warranty pages, with filters that show a claim's stored codes
and the service's messages in the page's language.

Codes (states, outcomes, problems, roles) and the audit log's automatic notes stay English in the
database; ``|w_state``, ``|w_note`` and the others translate them where they are shown, and
``|w_text`` renders a ``Message`` (a refusal, a reason) in the page's locale and time zone.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context

from inspector.i18n import translate, translations
from inspector.i18n.json_messages import grade_context
from inspector.web.templating import page_locale, templates
from warranty.messages import Message, recognise, text
from warranty.service import NOTES
from warranty.tables import ClaimEvent
from warranty.words import (
    ACTION_WORDS,
    CERTIFICATE_STATUS_WORDS,
    DEFECT_STATUS_WORDS,
    DEFECT_WORDS,
    KIND_WORDS,
    OUTCOME_WORDS,
    PROBLEM_WORDS,
    REGION_WORDS,
    ROLE_WORDS,
    STATE_WORDS,
    word,
)

__all__ = ["templates"]


def _zone(context: Context) -> ZoneInfo:
    request: Any = context.get("request")
    return request.app.state.settings.zone if request is not None else ZoneInfo("UTC")


@pass_context
def w_text(context: Context, value: Message | str | None) -> str:
    return text(value, page_locale(context), _zone(context)) if value is not None else ""


def _code_filter(words: dict[str, str]) -> Any:
    @pass_context
    def show(context: Context, code: str | None) -> str:
        return text(word(words, code), page_locale(context), None)

    return show


def note(event: ClaimEvent) -> Message | str:
    """An audit entry's note: the service's automatic wording translated, a person's as written."""
    reason = event.reason or ""
    if event.action == "open" and reason in PROBLEM_WORDS:  # a claim opened with no description
        return Message(PROBLEM_WORDS[reason])
    return recognise(reason, NOTES) or reason


@pass_context
def w_note(context: Context, event: ClaimEvent) -> str:
    return text(note(event), page_locale(context), _zone(context))


@pass_context
def w_msg(context: Context, msgid: str) -> str:
    """A catalogue message held in a variable: a plan's texts, a button's label."""
    return translate(page_locale(context), msgid)


@pass_context
def w_grade(context: Context, grade: str | None, kind: str) -> str:
    """A grade letter as the trade names it for this kind of item (a phone's B is 95新)."""
    return translations(page_locale(context)).pgettext(grade_context(kind), grade) if grade else ""


templates.env.filters.update(
    w_grade=w_grade,
    w_text=w_text,
    w_note=w_note,
    w_msg=w_msg,
    w_state=_code_filter(STATE_WORDS),
    w_outcome=_code_filter(OUTCOME_WORDS),
    w_problem=_code_filter(PROBLEM_WORDS),
    w_role=_code_filter(ROLE_WORDS),
    w_kind=_code_filter(KIND_WORDS),
    w_action=_code_filter(ACTION_WORDS),
    w_cert_status=_code_filter(CERTIFICATE_STATUS_WORDS),
    w_defect=_code_filter(DEFECT_WORDS),
    w_defect_status=_code_filter(DEFECT_STATUS_WORDS),
    w_region=_code_filter(REGION_WORDS),
)
