# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""What the buyer's page says about measurements and checks, in both languages.

The measurements come from the real grader through the station's own adapter and certificate
request (so every key a real certificate carries is covered), the check summaries in the shapes
the station writes them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.certificates.check_wording import Outcome, check_lines
from inspector.certificates.matching import in_words
from inspector.certificates.measured import Place, deciding_photo, findings, weak_classes
from inspector.certificates.testing import issue_sample_certificate
from inspector.certificates.wording import defect_sentence, weak_classes_note
from inspector.config import Settings
from inspector.db import session_scope
from inspector.grading import Grader
from inspector.grading.scales import default_scale
from inspector.i18n import AppLocale
from inspector.station.certificate_requests import certificate_request
from inspector.station.hardware import GraderAdapter
from models.synth.scene import render_scene

ZH, EN = AppLocale.ZH_CN, AppLocale.EN
SIGNED_KEY = re.compile(r"^(?P<side>[a-z]+)_(?P<angle>\d+)_(?P<what>[a-z_]+)$")


@pytest.fixture(scope="module")
def grader() -> GraderAdapter:
    return GraderAdapter(Grader.load())


def _signed_measurements(grader: GraderAdapter, kind: str, shots: list[tuple[str, int, list[str]]]) -> Any:
    """Grade rendered photos as the station does and return the grade it signs."""
    photos = []
    for side, angle, defects in shots:
        shown = side if kind == "phone" else "screen"  # a jewel is photographed from above only
        scene = render_scene(kind, seed=7, defects=defects, side=shown, angle_deg=angle)
        out = grader.grade(scene.image, kind, side)
        photos.append({"sha256": "ab" * 32, "side": side, "angle": angle, "measurements": out.measurements})
    record = {
        "item_kind": kind,
        "inspection_id": 1,
        "station_id": "station-1",
        "operator": "op",
        "identity": {},
        "photos": photos,
    }
    request = certificate_request(lambda **fields: fields, record, Settings(data_dir=Path("unused")))
    return request["grade"]["measurements"]


@pytest.mark.parametrize(
    ("kind", "shots"),
    [
        ("phone", [("screen", 0, ["scratch"]), ("back", 180, ["crack"])]),
        ("jewelry", [("top", 0, ["missing_stone"]), ("top", 90, ["scratch", "dent"])]),
    ],
)
def test_every_measurement_a_station_signs_is_a_sentence_or_left_out(
    grader: GraderAdapter, kind: str, shots: list[tuple[str, int, list[str]]]
) -> None:
    """Each signed key is a defect class of the scale (read as a sentence when something was found)
    or the model's damage score (never shown); nothing is left to print as a raw dict."""
    signed = _signed_measurements(grader, kind, shots)
    scale = default_scale(kind)
    for key, value in signed.items():
        match = SIGNED_KEY.match(key)
        assert match is not None, key
        assert match["what"] in scale.classes or match["what"] == "damage_score_pct", key
        assert isinstance(value, dict) == (match["what"] != "damage_score_pct"), key
    found = findings(signed)
    assert sum(f.count for p in found for f in p.found) == sum(
        v["count"] for v in signed.values() if isinstance(v, dict)
    )
    for photo in found:
        for f in photo.found:
            zh, en = (
                defect_sentence(f, photo.place.side, scale, ZH),
                defect_sentence(f, photo.place.side, scale, EN),
            )
            assert not re.search(r"[A-Za-z{}%]", zh), zh  # all Chinese, no placeholder
            assert str(f.count) in en and "{" not in en and "%(" not in en, en


def test_defect_sentences_in_both_languages() -> None:
    """Counts, lengths and areas with units and the place, in each language's word order."""
    from inspector.certificates.measured import Found

    phone, jewel = default_scale("phone"), default_scale("jewelry")
    scratches = Found("scratch", 2, 18_400, 1_250_000)
    assert defect_sentence(scratches, "screen", phone, EN) == "2 scratches, 18 mm in total, on the screen"
    assert defect_sentence(scratches, "screen", phone, ZH) == "屏幕上有 2 处划痕，总长 18 毫米"
    crack = Found("crack", 1, 4_200, 900_000)
    assert defect_sentence(crack, "back", phone, EN) == "1 crack, 4.2 mm long, on the back glass"
    chips = Found("chip", 3, 0, 3_460_000)
    assert defect_sentence(chips, "back", phone, EN) == "3 chips/dents, 3.5 mm² in total, on the frame edge"
    assert defect_sentence(chips, "back", phone, ZH) == "中框边缘有 3 处磕碰/凹痕，总面积 3.5 平方毫米"
    missing = Found("missing_stone", 1, 13_177, 41_285_339)
    assert defect_sentence(missing, "top", jewel, EN) == "1 missing stone, at a setting"
    assert defect_sentence(missing, "top", jewel, ZH) == "镶口处有 1 处缺石"


def test_the_grade_is_explained_by_the_worst_photo_and_the_caveat_becomes_advice() -> None:
    """The photo that set the grade is the one whose own grade is the item's, not the first one."""
    reasons = [
        "screen 0°: A: no defects found",
        "back 180°: D: 1 crack, 22 mm long, on the back glass",
        "back 180°: not C: cracks: 1 found, at most 0 allowed",
        "not reliably detected by this model (share found in tests): scratches 15 %, chips/dents 0 %",
    ]
    photos = [Place("screen", 0), Place("back", 180)]
    assert deciding_photo("D", reasons, photos) == Place("back", 180)
    assert deciding_photo("B", ["B: 1 scratch, 4 mm long, on the back"], [Place("back", 180)]) == Place(
        "back", 180
    )
    note = weak_classes_note(weak_classes(reasons), default_scale("phone"), ZH)
    assert (
        note
        == "相机检测对划痕（测试中检出 15%）和磕碰/凹痕（测试中检出 0%）识别不够可靠，请自行查看照片确认。"
    )


def _check(name: str, detail: str, status: str = "pass", **extra: str) -> dict[str, Any]:
    return {"name": name, "label": name, "status": status, "detail": detail, **extra}


def test_checks_are_named_for_buyers_and_keep_internals_out() -> None:
    """Station-only steps are left out, summaries become sentences with their numbers, and a step
    the page does not know shows its label and outcome but never the station's free text."""
    checks = [
        _check("connect", "connected (AdbTcpTransport 127.0.0.1:38331)"),
        _check("light", "light 80%, turntable homed"),
        _check("battery", "41% charged, health overheat, capacity 72%, 612 cycles", "fail"),
        _check("lock", "FRP locked to an owner account; rooted; screen lock set (pin)", "fail"),
        _check("identity", "warning: Apple iPhone 13, IMEI unknown"),
        _check(
            "weigh", "5.732 g / 28.660 ct; +300 mg against certificate 7KQ2M9X4TR (tolerance 50 mg)", "fail"
        ),
        _check("check_touch", "FAIL", "fail", by="op-1", at="2026-11-25T10:00:00Z"),
        {
            "name": "radio",
            "label": "Wi-Fi and Bluetooth",
            "status": "pass",
            "detail": "bound to wlan0 at /dev/x",
        },
    ]
    en = {c.key: c for c in check_lines(checks, EN)}
    zh = {c.key: c for c in check_lines(checks, ZH)}
    assert list(en) == ["battery", "lock", "identity", "weigh", "check_touch", "radio"]
    assert en["battery"].detail == "Health: overheating, 72% of its original capacity, 612 charge cycles"
    assert zh["battery"].detail == "健康状况：过热，最大容量 72%，充电循环 612 次"
    assert zh["lock"].detail == "已绑定原机主账户（激活锁/FRP），已 Root（系统被改动），仍设有锁屏密码"
    assert en["identity"].outcome is Outcome.noted and "did not report" in en["identity"].detail
    assert en["weigh"].detail == "5.732 g (0.300 g heavier than on certificate 7KQ2M9X4TR)"
    assert zh["weigh"].detail == "5.732 克（比证书 7KQ2M9X4TR 记录的重 0.300 克）"
    assert "ct" not in en["weigh"].detail
    assert en["check_touch"].by == "op-1" and zh["check_touch"].outcome_words == "未通过"
    assert en["radio"].name == "Wi-Fi and Bluetooth" and en["radio"].detail == ""


def test_waiting_times_are_said_in_the_readers_language() -> None:
    """Chinese has one plural form: the merged catalogue must use it, not English's two."""
    assert in_words(300, ZH) == "约 5 分钟后"
    assert in_words(1, ZH) == "一两分钟后"
    assert in_words(300, EN) == "in about 5 minutes"
    assert in_words(3 * 86400, ZH) == "约 3 天后"


def test_an_ungraded_item_says_so_and_points_to_the_photos(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """A station without a grading model signs "ungraded": the page says it was not graded and why,
    rather than showing an empty grade or a legend with nothing marked."""
    ungraded = {"grade": "ungraded", "reasons": [], "measurements": {}}
    with session_scope(engine) as session:
        hid = issue_sample_certificate(session, settings, grade=ungraded).human_id
    page = client.get(f"/c/{hid}", headers={"Accept-Language": "zh-CN"}).text
    assert "未评级" in page and "请根据照片自行判断成色" in page
    assert 'aria-current="true"' not in page.split('data-section="grade"')[1].split("</section>")[0]
