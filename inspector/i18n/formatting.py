"""Dates, numbers and money as a reader of each locale writes them (CLDR data through Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision

from inspector.i18n.locales import AppLocale


def money(amount_minor: int, currency: str, locale: AppLocale) -> str:
    """``129900, "CNY"`` is ``¥1,299.00`` in zh-CN and ``CN¥1,299.00`` in English."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(amount_minor).scaleb(-digits), currency, locale=locale.value)


def number(value: int | float | Decimal, locale: AppLocale, *, decimals: int | None = None) -> str:
    """A number with the locale's grouping; ``decimals`` fixes the fraction digits."""
    if decimals is None:
        return format_decimal(value, locale=locale.value)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale.value)


def when(moment: datetime, locale: AppLocale, tz: ZoneInfo) -> str:
    """A moment in the station's time zone (naive values are UTC, as the database stores them)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return _format_datetime(aware, format="medium", tzinfo=tz, locale=locale.value)


def day(value: date | datetime, locale: AppLocale, tz: ZoneInfo) -> str:
    """A calendar day (a warranty's end, a sale), in the station's time zone for moments."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        value = aware.astimezone(tz).date()
    return _format_date(value, format="long", locale=locale.value)
