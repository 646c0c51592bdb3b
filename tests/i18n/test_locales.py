"""Which language a reader gets, and how values are written in it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from inspector.i18n import AppLocale, negotiate, parse_locale
from inspector.i18n.formatting import day, money, when


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", AppLocale.ZH_CN),
        ("en-US,en;q=0.9", AppLocale.EN),
        ("zh-TW", AppLocale.ZH_CN),  # any Chinese reader is closer to zh-CN than to English
        ("fr-FR,en;q=0.5,zh;q=0.4", AppLocale.EN),
        ("en;q=0.2, zh-Hans-CN;q=0.8", AppLocale.ZH_CN),
        ("fr, de", None),  # neither language: the station's default applies
        ("zh;q=0, en;q=abc", None),  # refused and malformed weights count for nothing
        ("", None),
        ("x" * 10_000, None),
    ],
)
def test_the_browser_language_is_honoured(header: str, expected: AppLocale | None) -> None:
    assert negotiate(header) == expected


def test_tags_are_read_in_every_common_spelling() -> None:
    assert parse_locale("zh_CN") is parse_locale("zh-Hans") is AppLocale.ZH_CN
    assert parse_locale("EN-gb") is AppLocale.EN and parse_locale("*") is None


def test_money_dates_and_days_read_as_each_locale_writes_them() -> None:
    """CNY is ¥ with 2 decimals in zh-CN; times are shown in the station's zone, not UTC."""
    assert money(129_900, "CNY", AppLocale.ZH_CN) == "¥1,299.00"
    assert money(129_900, "CNY", AppLocale.EN) == "CN¥1,299.00"
    shanghai = ZoneInfo("Asia/Shanghai")
    moment = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)
    assert when(moment, AppLocale.ZH_CN, shanghai).startswith("2026年12月7日 01:30")
    assert "Dec 7, 2026" in when(moment, AppLocale.EN, shanghai)
    assert day(moment, AppLocale.ZH_CN, shanghai) == "2026年12月7日"
