"""Every message a person reads has a zh-CN translation, and the catalogues build."""

from __future__ import annotations

from inspector.i18n import AppLocale, translate
from inspector.i18n.build import conflicts, gaps, stale


def test_every_marked_message_has_a_chinese_translation() -> None:
    """A message marked in code, a template or a script with no zh-CN text (or a fuzzy or obsolete
    one) fails here, naming it: run `make messages`, translate, `make translations`."""
    found = gaps()
    assert not found, "\n".join(f"{g.component}: {g.problem}: {g.msgid!r}" for g in found)


def test_the_same_english_reads_the_same_in_every_component() -> None:
    """One merged catalogue serves every page, so a word two components translate differently
    would show one component's meaning on the other's page ("Back" the side, "Back" the link)."""
    found = conflicts()
    assert not found, "\n".join(f"{g.component}: {g.msgid!r} {g.problem}" for g in found)


def test_the_compiled_catalogues_are_current_and_the_ones_pages_read() -> None:
    """A .po edited without `make translations` would leave pages showing the old words."""
    assert stale() == [], "run `make translations`"
    assert translate(AppLocale.ZH_CN, "Sign in") == "登录"
    assert translate(AppLocale.EN, "Sign in") == "Sign in"
