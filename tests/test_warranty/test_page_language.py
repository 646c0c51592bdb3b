# ruff: noqa: RUF001  (Chinese text is written with Chinese punctuation)
"""The warranty pages speak the reader's language: the service's refusals, the audit log's own notes,
plan terms, money and days (in the station's time zone) reach a Chinese reader in Chinese, while
the JSON API and the CSV exports keep their English codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from page_language import untranslated, visible_text
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from wty_helpers import STAFF, add_user, buyer_claim, make_cert, sell

from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.ratelimit import attempt_table
from warranty.evidence import Defect, Reinspection
from warranty.service import record_sale, transition

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One app on SQLite whose station is in Shanghai, with a staff and a supervisor token."""
    from inspector.web.app import create_app

    tmp: Path = tmp_path_factory.mktemp("wlang")
    url = f"sqlite:///{tmp / 'w.db'}"
    migrate(url)
    engine = make_engine(url)
    tokens = {role: add_user(engine, f"l-{role}", role) for role in ("staff", "supervisor")}
    app = create_app(Settings(data_dir=tmp, database_url=url, timezone="Asia/Shanghai"), engine=engine)
    with TestClient(app) as client:
        yield {"engine": engine, "client": client, "tokens": tokens}
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_attempt_limits(world: dict[str, Any]) -> None:
    with world["engine"].begin() as conn:
        conn.execute(delete(attempt_table))


def _staff(world: dict[str, Any], role: str = "staff", lang: dict[str, str] = ZH) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][role]}", **lang}


def _chinese_page(html: str) -> str:
    """The page's visible text, after checking that no English catalogue message is left on it."""
    assert untranslated(html) == []
    return visible_text(html)


def test_a_refused_claim_reaches_a_chinese_buyer_in_chinese_and_the_api_stays_english(
    world: dict[str, Any],
) -> None:
    """A wrong order reference: the form says why in Chinese; the JSON API says it in English."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    form = {"cert": cert.human_id, "order_ref": "ORD-WRONG", "problem": "functional_fault"}
    page = c.post("/claims/new", data=form, headers=ZH)
    assert page.status_code == 403
    assert "订单号与该证书的销售记录不符" in _chinese_page(page.text)
    api = c.post("/api/warranty/claims", json=form, headers=ZH)
    assert api.status_code == 403 and "does not match" in api.json()["detail"]


def test_a_refused_photo_and_an_expired_window_are_explained_in_chinese(world: dict[str, Any]) -> None:
    """The photo checker's reason and the warranty's end day (a value inside the message) are Chinese."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    form = {"cert": cert.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
    r = c.post("/claims/new", data=form, files={"photos": ("x.txt", b"hello", "text/plain")}, headers=ZH)
    assert r.status_code == 422 and "第 1 张照片：该文件不是 JPEG、PNG 或 WebP 格式的照片" in _chinese_page(
        r.text
    )
    old = make_cert(issued_days_ago=300)
    sell(world["engine"], old, days_ago=200)
    r = c.post("/claims/new", data={**form, "cert": old.human_id}, headers=ZH)
    ended = (datetime.now(UTC) - timedelta(days=20)).astimezone(SHANGHAI)
    assert r.status_code == 409
    assert f"质保已于 {ended.year}年{ended.month}月{ended.day}日 到期" in _chinese_page(r.text)


def test_the_claim_form_shows_plan_terms_money_and_days_as_a_chinese_buyer_reads_them(
    world: dict[str, Any],
) -> None:
    """180天 and 7天无理由退货, the shipping compensation as ¥10.00, and the warranty's first day
    in Shanghai: sold at 20:00 UTC, it starts the next calendar day there."""
    c: TestClient = world["client"]
    cert = make_cert(issued_days_ago=20)
    sold = (datetime.now(UTC) - timedelta(days=5)).replace(hour=20, minute=0, second=0, microsecond=0)
    with session_scope(world["engine"]) as s:
        record_sale(
            s,
            STAFF,
            cert_human_id=cert.human_id,
            order_ref="ORD-SH",
            price_minor=99900,
            currency="CNY",
            sold_at=sold,
        )
    text = _chinese_page(c.get(f"/claims/new?cert={cert.human_id}", headers=ZH).text)
    assert "180天功能质保" in text and "7天无理由退货" in text and re.search(r"剩余 \d+ 天", text)
    assert "运费险" in text and "¥10.00" in text
    local = (sold + timedelta(days=1)).date()
    assert f"{local.year}年{local.month}月{local.day}日 至" in text
    jewel = make_cert("jewelry")
    sell(world["engine"], jewel)
    assert "假一赔十" in _chinese_page(c.get(f"/claims/new?cert={jewel.human_id}", headers=ZH).text)
    english = visible_text(c.get(f"/claims/new?cert={cert.human_id}", headers=EN).text)
    assert "180-day functional warranty" in english and "CN¥10.00" in english


def test_staff_read_refusals_states_and_automatic_notes_in_chinese(world: dict[str, Any]) -> None:
    """The wrong phone at the returns desk is refused in Chinese; the audit log shows the service's
    own notes translated and a person's note as they wrote it; the refund shows as ¥."""
    c: TestClient = world["client"]
    engine: Engine = world["engine"]
    cert = make_cert()
    sell(engine, cert, price=199900)
    ref, _ = buyer_claim(engine, cert.human_id)
    with session_scope(engine) as s:
        version = transition(s, ref, "accept", STAFF).version
    wrong = {"action": "receive", "version": str(version), "identity_value": "490154203237518"}
    page = c.post(f"/staff/claims/{ref}/act", data=wrong, headers=_staff(world))
    assert page.status_code == 409
    text = _chinese_page(page.text)
    assert "商品不符：***********7518 不是证书" in text and "待寄回" in text
    with session_scope(engine) as s:
        transition(s, ref, "receive", STAFF, identity_value="356938035643809")
        found = Reinspection(grade="C", defects=[Defect(kind="crack")])
        transition(s, ref, "reinspect", STAFF, reinspection=found)
        transition(s, ref, "approve", STAFF, outcome="refund", note="屏幕自然开裂，同意退款")
    text = _chinese_page(c.get(f"/staff/claims/{ref}", headers=_staff(world)).text)
    assert "已受理，等待买家寄回商品" in text and "已收货；IMEI/序列号与证书一致" in text
    assert "屏幕自然开裂，同意退款" in text and "已批准：退款，金额 ¥2,009.00" in text


def test_role_refusal_names_the_permission_in_the_readers_language(world: dict[str, Any]) -> None:
    """Warehouse staff opening the reports are told in Chinese who may."""
    page = world["client"].get("/staff/reports", headers=_staff(world))
    assert page.status_code == 403
    assert "仓库员工无权查看报表；需要以下角色：主管" in _chinese_page(page.text)


def test_csv_exports_keep_their_english_columns_and_codes_for_a_chinese_reader(world: dict[str, Any]) -> None:
    """Spreadsheets and scripts read the same columns and state codes whatever the reader's language."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    buyer_claim(world["engine"], cert.human_id)
    zh = c.get("/staff/reports/claims.csv", headers=_staff(world, "supervisor"))
    en = c.get("/staff/reports/claims.csv", headers=_staff(world, "supervisor", EN))
    assert zh.text == en.text and zh.text.startswith("ref,cert_human_id,order_ref")
    assert ",submitted," in zh.text
    rates = c.get("/staff/reports/rates.csv", headers=_staff(world, "supervisor")).text
    assert rates.splitlines()[0] == "dimension,value,sold,claims,approved,denied,claim_rate"
    page = c.get("/staff/reports", headers=_staff(world, "supervisor")).text
    assert "按成色统计的售后率" in _chinese_page(page)
