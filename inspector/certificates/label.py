"""Parcel label as a PDF (62 x 100 mm, the common thermal label width) with the certificate's QR code.

The QR code is drawn from segno's module matrix as vector squares, so it prints sharp at any
resolution; text uses the built-in Helvetica (Latin-1), other characters are replaced.
"""

from __future__ import annotations

import segno
from fpdf import FPDF

from inspector.certificates import humanid
from inspector.certificates.service import CertificateRecord

WIDTH_MM, HEIGHT_MM = 62.0, 100.0


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def item_title(record: CertificateRecord) -> str:
    ident = record.credential.get("credentialSubject", {}).get("identity", {})
    if record.item_kind == "phone":
        parts = [str(ident.get("make", "")), str(ident.get("model", ""))]
        if ident.get("storage_gb"):
            parts.append(f"{ident['storage_gb']} GB")
        return " ".join(p for p in parts if p)
    grams = int(ident.get("weight_mg", 0)) / 1000
    return f"{ident.get('metal', 'Jewelry')} {grams:.3f} g".strip()


def label_pdf(record: CertificateRecord, url: str) -> bytes:
    pdf = FPDF(unit="mm", format=(WIDTH_MM, HEIGHT_MM))
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    pdf.add_page()
    pdf.set_creator("inspector")
    pdf.set_title(_latin1(f"Certificate {record.human_id}"))
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "INSPECTED & CERTIFIED", align="C", new_x="LMARGIN", new_y="NEXT")
    qr = segno.make(url, error="m", micro=False)
    matrix = list(qr.matrix)
    border = 2
    n = len(matrix) + 2 * border
    size = WIDTH_MM - 12
    module = size / n
    x0, y0 = (WIDTH_MM - size) / 2, 11.0
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x0 + (c + border) * module, y0 + (r + border) * module, module, module, style="F")
    y = y0 + size + 2
    pdf.set_xy(4, y)
    pdf.set_font("Courier", "B", 14)
    pdf.cell(0, 7, humanid.pretty(record.human_id), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin1(item_title(record))[:40], align="C", new_x="LMARGIN", new_y="NEXT")
    grade = record.grade.get("grade", "?")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(
        0,
        5,
        _latin1(f"Grade {grade}  |  {record.issued_at:%Y-%m-%d}"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 6.5)
    pdf.multi_cell(0, 3, _latin1(f"Scan or open {url} to verify the signature and warranty."), align="C")
    return bytes(pdf.output())
