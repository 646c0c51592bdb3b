"""Every message a person reads has a zh-CN translation, and the catalogues build."""

from __future__ import annotations

from inspector.i18n import AppLocale, translate
from inspector.i18n.build import compile_all, gaps
from inspector.i18n.catalogs import COMPONENTS


def test_every_marked_message_has_a_chinese_translation() -> None:
    """A message marked in code, a template or a script with no zh-CN text (or a fuzzy or obsolete
    one) fails here, naming it: run `make messages`, translate, `make translations`."""
    found = gaps()
    assert not found, "\n".join(f"{g.component}: {g.problem}: {g.msgid!r}" for g in found)


def test_the_compiled_catalogues_are_the_ones_pages_read(tmp_path: object) -> None:
    """Compiling writes one .mo per component with messages, and a page's words come from it."""
    written = compile_all()
    assert {p.stem for p in written} <= {c.domain for c in COMPONENTS} and written
    assert translate(AppLocale.ZH_CN, "Sign in") == "登录"
    assert translate(AppLocale.EN, "Sign in") == "Sign in"
