# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""What the console says about the sync with the platform, in each language, from the stored state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from inspector.i18n import AppLocale
from inspector.station.sync_wording import SyncFacts, sync_shown

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 16:30 in the station's zone
IDLE = SyncFacts(
    condition="idle",
    platform_url="https://verify.example.com",
    waiting_certificates=0,
    waiting_photos=0,
    refused_certificates=0,
    condition_since=None,
    last_error=None,
    last_error_kind="",
)


def test_a_backlog_is_counted_in_whole_sentences_in_both_languages() -> None:
    """Three certificates waiting read as a sentence with the right plural; when all went out, the
    console says so; the platform is named by its address."""
    waiting = replace(IDLE, condition="sending", waiting_certificates=3, waiting_photos=12)
    en = sync_shown(waiting, AppLocale.EN, SHANGHAI, NOW)
    assert (en.tone, en.headline) == ("busy", "3 certificates waiting for the platform")
    assert en.problem is None and en.platform == "Sends to verify.example.com"
    one = sync_shown(replace(waiting, waiting_certificates=1), AppLocale.EN, SHANGHAI, NOW)
    assert one.headline == "1 certificate waiting for the platform"
    assert sync_shown(waiting, AppLocale.ZH_CN, SHANGHAI, NOW).headline == "3 份证书待同步到平台"
    done = sync_shown(IDLE, AppLocale.ZH_CN, SHANGHAI, NOW)
    assert (done.tone, done.headline) == ("good", "所有证书均已同步到平台")


def test_an_unreachable_platform_says_since_when_in_the_stations_time_and_why() -> None:
    """Since 14:02 station time today (the date too when it began another day), the reason in the
    reader's words and the technical detail for whoever fixes it."""
    away = replace(
        IDLE,
        condition="offline",
        waiting_certificates=1,
        condition_since=datetime(2026, 12, 7, 6, 2, tzinfo=UTC),
        last_error="https://verify.example.com: ConnectError: [Errno 111] Connection refused",
        last_error_kind="no_connection",
    )
    zh = sync_shown(away, AppLocale.ZH_CN, SHANGHAI, NOW)
    assert zh.tone == "warn"
    assert zh.problem == "自 14:02 起无法连接平台：网络不通或平台未运行"
    assert zh.detail == "详情：https://verify.example.com: ConnectError: [Errno 111] Connection refused"
    en = sync_shown(replace(away, last_error_kind="timeout"), AppLocale.EN, SHANGHAI, NOW)
    assert en.problem == "Platform unreachable since 2:02\u202fPM: it takes too long to answer"
    yesterday = replace(away, condition_since=datetime(2026, 12, 6, 6, 2, tzinfo=UTC))
    assert "2026/12/6 14:02" in (sync_shown(yesterday, AppLocale.ZH_CN, SHANGHAI, NOW).problem or "")


def test_a_refused_station_is_told_why_and_what_to_do() -> None:
    """A revoked key: the station keeps its certificates and needs a new enrolment; a wrong clock:
    set it right and sending resumes; certificates refused one by one are counted apart."""
    refused = replace(
        IDLE,
        condition="refused",
        waiting_certificates=2,
        refused_certificates=1,
        last_error="station key z6Mk... was revoked: laptop stolen",
        last_error_kind="station_key_revoked",
    )
    en = sync_shown(refused, AppLocale.EN, SHANGHAI, NOW)
    assert (en.tone, en.problem) == ("bad", "The platform refused this station: its key was revoked")
    assert en.advice is not None and "new enrolment code" in en.advice
    zh = sync_shown(refused, AppLocale.ZH_CN, SHANGHAI, NOW)
    assert zh.problem == "平台拒绝了本工位：其签名密钥已被吊销"
    clock = sync_shown(replace(refused, last_error_kind="stale_request"), AppLocale.ZH_CN, SHANGHAI, NOW)
    assert clock.problem == "平台拒绝了本工位：本工位时钟误差超过 5 分钟"
    assert clock.advice == "请校准本工位的时钟，校准后会自动继续上传。"


def test_a_certificate_refused_for_good_is_named_with_the_platforms_reason() -> None:
    """One certificate the platform will never take: the console says so with the reason in the
    reader's words and which certificate it is; a refusal the station has no words for shows the
    platform's own."""
    refused = replace(
        IDLE,
        refused_certificates=1,
        refused_id="7KQ2M9XW4T",
        refused_kind="tampered",
        refused_reason="Tampered: the signature does not match the content",
    )
    en = sync_shown(refused, AppLocale.EN, SHANGHAI, NOW)
    assert en.headline == "Nothing is waiting for the platform"  # not "all are on the platform"
    assert en.refused == "1 certificate refused by the platform: it was changed after it was signed"
    assert en.refused_detail == "Certificate 7KQ2M9XW4T is kept on this station; its QR code is never shown."
    zh = sync_shown(refused, AppLocale.ZH_CN, SHANGHAI, NOW)
    assert zh.refused == "1 份证书被平台拒收：签名后内容被改动过"
    assert zh.refused_detail is not None and zh.refused_detail.startswith("证书 7KQ2M9XW4T 保留在本工位")
    two = sync_shown(
        replace(refused, refused_certificates=2, refused_kind="conflict"), AppLocale.EN, SHANGHAI, NOW
    )
    assert two.refused == (
        "2 certificates refused by the platform, the last: "
        "the platform holds another certificate under its number"
    )
    odd = sync_shown(
        replace(refused, refused_kind="", refused_reason="photo gone"), AppLocale.EN, SHANGHAI, NOW
    )
    assert odd.refused == "1 certificate refused by the platform: photo gone"
    assert sync_shown(IDLE, AppLocale.EN, SHANGHAI, NOW).refused is None
