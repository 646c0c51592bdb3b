# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""The printed label in the station's language: its lines, its PDF in a CJK font, a missing font."""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.certificates import IssuedCertificate, get_certificate, label
from inspector.certificates.label import LabelFontMissing, label_pdf, label_text
from inspector.certificates.testing import issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope
from inspector.i18n import AppLocale
from inspector.web.app import create_app

ZONE = ZoneInfo("Asia/Shanghai")


def _mapped_characters(pdf: bytes) -> set[str]:
    """The characters the PDF's embedded fonts can be read back as (their ToUnicode maps)."""
    chars: set[str] = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text = zlib.decompress(stream).decode("latin-1")
        except zlib.error:  # fpdf2 leaves the maps uncompressed
            text = stream.decode("latin-1")
        if "beginbfchar" in text:
            chars |= {chr(int(code, 16)) for code in re.findall(r"<[0-9A-F]+> <([0-9A-F]{4})>", text)}
    return chars


def test_the_pdf_label_is_set_in_a_chinese_font_at_a_chinese_station(
    engine: Engine, settings: Settings, issued: IssuedCertificate
) -> None:
    """Every character of the zh label (95新, the date, the heading) is in the embedded Noto Sans
    CJK font, and the piece's weight is in grams on a jewel's label."""
    with session_scope(engine) as session:
        record = get_certificate(session, issued.human_id)
        jewel = get_certificate(session, issue_sample_certificate(session, settings, "jewelry").human_id)
    assert record is not None and jewel is not None
    lines = label_text(record, issued.url, AppLocale.ZH_CN, ZONE)
    assert lines.heading == "已检测认证" and lines.grade == "成色：95新"
    assert label_text(jewel, issued.url, AppLocale.ZH_CN, ZONE).item == "金 · Au750 · 5.230 克"
    assert label_text(jewel, issued.url, AppLocale.EN, ZONE).item == "Gold · Au750 · 5.230 g"
    pdf = label_pdf(record, issued.url, AppLocale.ZH_CN, ZONE)
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf
    shown = "".join((lines.heading, lines.item, lines.grade, lines.issued, lines.pretty_id)).replace(" ", "")
    assert set(shown) <= _mapped_characters(pdf), set(shown) - _mapped_characters(pdf)


def test_a_missing_cjk_font_is_refused_naming_the_package(
    engine: Engine,
    settings: Settings,
    issued: IssuedCertificate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without Noto Sans CJK the label is not drawn with empty boxes: the error names the package,
    and the label's URL answers 503 with it."""
    with session_scope(engine) as session:
        record = get_certificate(session, issued.human_id)
    assert record is not None
    with pytest.raises(LabelFontMissing, match="install the Debian package fonts-noto-cjk"):
        label_pdf(record, issued.url, AppLocale.EN, ZONE, font_dir=tmp_path)
    monkeypatch.setattr(label, "FONT_DIR", tmp_path)  # a station where the package is not installed
    with TestClient(create_app(settings, engine=engine)) as client:
        refused = client.get(f"/c/{issued.human_id}/label.pdf")
    assert refused.status_code == 503 and "fonts-noto-cjk" in refused.text
