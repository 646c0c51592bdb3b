"""What the station's pages say, in each language, without a browser or a station."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from inspector.i18n import N_, AppLocale
from inspector.station.flows import FLOWS
from inspector.station.notices import PublicNotice
from inspector.station.said import english, said, say, say_all
from inspector.station.script_strings import script_messages, script_strings
from inspector.station.service import StationError
from inspector.station.wording import defect_parts, grade_name, inspection_shown, step_shown

STATIC = Path(__file__).resolve().parents[2] / "inspector" / "station" / "static"
ZH, EN = AppLocale.ZH_CN, AppLocale.EN


def test_a_summary_is_stored_in_english_and_shown_in_chinese() -> None:
    """A stored summary reads as before in English; its parts, words inside them included (a
    battery health code, a list of metals), say the same in Chinese."""
    parts = [
        said(N_("%(level)s%% charged"), level=64),
        said(N_("health %(health)s"), health=said("good")),
        said(
            N_("%(field)s must be one of: %(choices)s"),
            field=said("Metal"),
            choices=[said("gold"), said("silver")],
        ),
    ]
    assert english(parts) == "64% charged; health good; Metal must be one of: gold, silver"
    assert say_all(parts, ZH) == "电量 64%；健康度 良好；材质只能是：黄金、银"  # noqa: RUF001


def test_a_message_the_catalogue_does_not_know_is_shown_as_written() -> None:
    """Model names and old records come through unchanged rather than failing the page."""
    assert say(said("google Pixel 6"), ZH) == "google Pixel 6"
    assert say(said("50% off"), ZH) == "50% off"  # no values: nothing is formatted


def test_a_refusal_is_english_for_programs_and_chinese_for_the_console() -> None:
    err = StationError(N_("no certificate %(id)s: check the id on the item's label"), 422, id="7KQ2M9X4TR")
    assert str(err) == "no certificate 7KQ2M9X4TR: check the id on the item's label"
    assert err.reason(ZH) == "没有证书 7KQ2M9X4TR：请核对物品标签上的编号" and err.status == 422  # noqa: RUF001


def test_phone_grades_have_their_trade_names_in_chinese_only() -> None:
    assert [grade_name(ZH, "phone", g) for g in "ABCD"] == ["99新", "95新", "9成新", "8成新及以下"]
    assert [grade_name(EN, "phone", g) for g in "ABCD"] == ["A", "B", "C", "D"]
    assert grade_name(ZH, "jewelry", "A") == "A"


def test_measured_defects_become_whole_sentences_per_side() -> None:
    """A phone's defects are named per side with their lengths and areas; nothing measured is said
    as such; a jewel's come from the photo that set its grade."""
    photos = [
        {
            "side": "screen",
            "grade": "B",
            "measurements": {"scratch": {"count": 1, "total_length_um": 12_600}},
        },
        {
            "side": "back",
            "grade": "D",
            "measurements": {
                "crack": {"count": 3, "total_length_um": 68_000},
                "chip": {"count": 2, "total_area_um2": 3_250_000},
                "damage_score_pct": 91,
            },
        },
    ]
    parts = defect_parts("phone", photos)
    assert [say(p, EN) for p in parts] == [
        "Screen: 1 scratch, 13 mm long",
        "Back: 3 cracks, 68 mm in total",
        "Back: 2 chips/dents, 3.2 mm² in total",
    ]
    assert [say(p, ZH) for p in parts][:2] == [
        "屏幕：划痕 1 处，长 13 毫米",  # noqa: RUF001
        "背面：裂痕 3 处，总长 68 毫米",  # noqa: RUF001
    ]
    clean = [{"side": "screen", "grade": "A", "measurements": {"scratch": {"count": 0}}}]
    assert [say(p, ZH) for p in defect_parts("phone", clean)] == ["未发现瑕疵"]
    jewel = [
        {"side": "top", "angle": 0, "grade": "A", "measurements": {"scratch": {"count": 0}}},
        {"side": "top", "angle": 90, "grade": "D", "measurements": {"missing_stone": {"count": 1}}},
    ]
    assert [say(p, EN) for p in defect_parts("jewelry", jewel)] == ["1 missing stone"]


def test_the_stream_is_told_a_fixed_notice_and_the_operator_what_stopped() -> None:
    """An interruption: the overlay's words are the fixed notice; the console names the step in the
    reader's language and keeps the device's own words as the detail, without the English label."""

    def shown(public: bool) -> dict[str, Any]:
        return inspection_shown(
            ZH,
            kind="jewelry",
            status="interrupted",
            identity={},
            grade=None,
            verdict=None,
            notice=PublicNotice.interrupted,
            error="Light box on: device lost: rig controller is not connected",
            error_step="Light box on",
            graded_photos=None,
            public=public,
        )

    public = shown(public=True)
    assert public["error"] == "检测已暂停，工位稍后会继续。" and "error_detail" not in public  # noqa: RUF001
    operator = shown(public=False)
    assert operator["error"].startswith("检测停在“打开灯箱”")
    assert operator["error_detail"] == "device lost: rig controller is not connected"
    assert operator["status"] == "已中断" and operator["kind"] == "珠宝首饰"


def test_every_step_label_hint_and_choice_of_the_flows_is_translated() -> None:
    """What the flows store in English is shown in Chinese on the console (labels, hints, fields)."""
    for steps in FLOWS.values():
        for spec in steps:
            shown = step_shown(
                ZH,
                label=spec.label,
                status="pending",
                result={},
                params=spec.params,
                error=None,
                notice=None,
                public=False,
            )
            assert shown["label"] != spec.label, spec.label
            if spec.params.get("hint"):
                assert shown["hint"] != spec.params["hint"]
            for field in shown["fields"]:
                assert not re.search("[A-Za-z]", field["label"]), field
                for value, word in field["choices"] or []:
                    assert word != value, value


def test_every_word_a_station_script_marks_reaches_its_page() -> None:
    """Babel's extractor misses a `_("...")` nested in some template literals; such a word would
    never reach the catalogue. Every marked word of each script is extracted, and the page hands
    the script its Chinese (English needs nothing: the words are written in it)."""
    for script in sorted(STATIC.glob("*.js")):
        marked = set(re.findall(r'\b_\("((?:[^"\\]|\\.)*)"', script.read_text(encoding="utf-8")))
        extracted = set(script_messages(script))
        assert marked and marked <= extracted, (script.name, sorted(marked - extracted))
        assert script_strings(script, EN) == {}
    assert script_strings(STATIC / "console.js", ZH)["Pass"] == "合格"
    assert script_strings(STATIC / "overlay.js", ZH)["Not graded"] == "未评级"
