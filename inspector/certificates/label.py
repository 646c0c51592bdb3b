"""The parcel label (62 x 100 mm, the common thermal label width): its words, and the PDF.

A label is printed at the station and read by whoever holds the parcel, so it is written in the
station's language. The HTML label and the PDF say the same lines (``label_text``). The PDF sets
every line in Noto Sans CJK (Debian ``fonts-noto-cjk``), which has the Latin letters too; without
that font it refuses with a message naming the package instead of printing empty boxes. The QR
code is drawn from segno's module matrix as vector squares, so it prints sharp at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from fontTools.ttLib import TTCollection, TTLibError
from fpdf import FPDF

from inspector.certificates import humanid
from inspector.certificates.service import CertificateError, CertificateRecord
from inspector.certificates.wording import grams, metal_name
from inspector.i18n import AppLocale, translate, translations
from inspector.i18n.formatting import day
from inspector.i18n.json_messages import grade_context
from inspector.refusal import Refused

WIDTH_MM, HEIGHT_MM = 62.0, 100.0
MARGIN_MM = 4.0
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_FAMILY = "Noto Sans CJK SC"  # Simplified Chinese forms; one face of each .ttc collection
FONT_PACKAGE = "fonts-noto-cjk"


class LabelFontMissing(CertificateError, Refused):
    """The CJK font the PDF label is set in is not installed: answered 503, the message says which."""

    status = 503
    code = "label_font_missing"


@dataclass(frozen=True)
class LabelText:
    """The lines of a label, in the station's language."""

    heading: str
    pretty_id: str
    item: str
    grade: str
    issued: str
    scan: str


def _item(record: CertificateRecord, locale: AppLocale) -> str:
    ident: dict[str, Any] = record.credential.get("credentialSubject", {}).get("identity", {})
    if record.item_kind == "phone":
        make = str(ident.get("make") or "")
        parts = [make[:1].upper() + make[1:] if make.islower() else make, str(ident.get("model") or "")]
        name = " ".join(p for p in parts if p)
        if isinstance(ident.get("storage_gb"), int):
            name = translate(locale, "%(name)s, %(gb)s GB", name=name, gb=ident["storage_gb"])
        return name
    parts = []
    if ident.get("metal"):
        parts.append(metal_name(str(ident["metal"]), locale))
    if ident.get("hallmark"):
        parts.append(str(ident["hallmark"]))
    if isinstance(ident.get("weight_mg"), int):
        parts.append(grams(ident["weight_mg"], locale))  # the piece in grams: carats are for stones
    return " · ".join(parts) or translations(locale).gettext("Jewelry")


def _grade(record: CertificateRecord, locale: AppLocale) -> str:
    letter = str(record.grade.get("grade", ""))
    if not letter or letter == "ungraded":
        return translate(locale, "Not graded")
    name = translations(locale).pgettext(grade_context(record.item_kind), letter)
    return translate(locale, "Grade %(grade)s", grade=name)


def label_text(record: CertificateRecord, url: str, locale: AppLocale, zone: ZoneInfo) -> LabelText:
    return LabelText(
        heading=translate(locale, "Inspected and certified"),
        pretty_id=humanid.pretty(record.human_id),
        item=_item(record, locale),
        grade=_grade(record, locale),
        issued=translate(locale, "Inspected %(day)s", day=day(record.issued_at, locale, zone)),
        scan=translate(
            locale, "Scan the code or open %(url)s to check the certificate and its warranty.", url=url
        ),
    )


@cache
def _face(path: Path, family: str) -> int:
    """The number of ``family`` in a font collection (.ttc)."""
    try:
        collection = TTCollection(str(path), lazy=True)
    except (OSError, TTLibError) as exc:
        raise LabelFontMissing(
            f"the label font {path} cannot be read ({exc}); reinstall the Debian package {FONT_PACKAGE}"
        ) from exc
    for number, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == family:
            return number
    raise LabelFontMissing(f"{path} has no {family} face; reinstall the Debian package {FONT_PACKAGE}")


def _add_font(pdf: FPDF, style: str, path: Path) -> None:
    if not path.is_file():
        raise LabelFontMissing(
            f"the label needs the Noto Sans CJK font ({path} is missing): "
            f"install the Debian package {FONT_PACKAGE}"
        )
    pdf.add_font("label", style, str(path), collection_font_number=_face(path, FONT_FAMILY))


def _qr(pdf: FPDF, url: str, top: float, size: float) -> None:
    matrix = list(segno.make(url, error="m", micro=False).matrix)
    border = 2
    module = size / (len(matrix) + 2 * border)
    left = (WIDTH_MM - size) / 2
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(left + (c + border) * module, top + (r + border) * module, module, module, style="F")


def label_pdf(
    record: CertificateRecord, url: str, locale: AppLocale, zone: ZoneInfo, font_dir: Path | None = None
) -> bytes:
    """The label as a one-page PDF; ``LabelFontMissing`` when the CJK font is not installed."""
    font_dir = font_dir or FONT_DIR
    text = label_text(record, url, locale, zone)
    pdf = FPDF(unit="mm", format=(WIDTH_MM, HEIGHT_MM))
    _add_font(pdf, "", font_dir / "NotoSansCJK-Regular.ttc")
    _add_font(pdf, "B", font_dir / "NotoSansCJK-Bold.ttc")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.add_page()
    pdf.set_creator("inspector")
    pdf.set_title(f"{text.heading} {text.pretty_id}")
    pdf.set_font("label", "B", 11)
    pdf.cell(0, 6, text.heading, align="C", new_x="LMARGIN", new_y="NEXT")
    size = WIDTH_MM - 12
    _qr(pdf, url, 11.0, size)
    pdf.set_xy(MARGIN_MM, 11.0 + size + 1.5)
    pdf.set_font("label", "B", 14)
    pdf.set_char_spacing(0.6)
    pdf.cell(0, 7, text.pretty_id, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_char_spacing(0)
    pdf.set_font("label", "", 9)
    pdf.multi_cell(0, 4.2, text.item, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("label", "B", 10)
    pdf.multi_cell(0, 5, text.grade, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("label", "", 8)
    pdf.multi_cell(0, 4, text.issued, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("label", "", 6.5)
    pdf.multi_cell(0, 3, text.scan, align="C")
    return bytes(pdf.output())
