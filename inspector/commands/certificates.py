"""``inspector certificates``: show, revoke, suspend, reinstate a certificate; save its label PDF."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from inspector.certificates import (
    CertificateError,
    CertificateRecord,
    certificate_url,
    get_certificate,
    reinstate_certificate,
    revoke_certificate,
    suspend_certificate,
    verify_stored,
)
from inspector.certificates.label import LabelFontMissing, label_pdf
from inspector.certificates.service import STATUS_PURPOSES, status_list_credential
from inspector.certificates.tables import Certificate
from inspector.cli import CommandError
from inspector.commands.keys import _engine
from inspector.config import get_settings
from inspector.db import session_scope


def _certificate(session: Session, ref: str) -> CertificateRecord:
    record = get_certificate(session, ref)
    if record is None:
        raise CommandError(f"no certificate {ref!r}")
    return record


def _show(args: argparse.Namespace) -> int:
    settings = get_settings()
    with session_scope(_engine()) as session:
        record = _certificate(session, args.id)
        if args.json:
            print(json.dumps(record.credential, indent=2, ensure_ascii=False))
            return 0
        result = verify_stored(session, settings, record.human_id)
        assert result is not None
        print(
            f"{record.human_id}  {record.item_kind}  grade {record.grade.get('grade')}  "
            f"station {record.station_id}"
        )
        print(
            f"issued {record.issued_at:%Y-%m-%d %H:%M} UTC  status {record.status}  key {record.key_status}"
        )
        if record.status_reason:
            print(f"reason: {record.status_reason}")
        print(f"verdict: {result.verdict.value} - {result.message}")
        print(certificate_url(settings, record.human_id))
    return 0


def _status(action: str) -> Callable[[argparse.Namespace], int]:
    funcs = {"revoke": revoke_certificate, "suspend": suspend_certificate, "reinstate": reinstate_certificate}

    def handle(args: argparse.Namespace) -> int:
        try:
            with session_scope(_engine()) as session:
                record = funcs[action](session, args.id, args.reason or "")
        except CertificateError as exc:
            raise CommandError(str(exc)) from exc
        print(f"{record.human_id}: {record.status}")
        return 0

    return handle


def _label(args: argparse.Namespace) -> int:
    settings = get_settings()
    with session_scope(_engine()) as session:
        record = _certificate(session, args.id)
        out = Path(args.output or f"label-{record.human_id}.pdf")
        try:
            url = certificate_url(settings, record.human_id)
            out.write_bytes(label_pdf(record, url, settings.locale, settings.zone))
        except LabelFontMissing as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot write the label: {exc.strerror}") from exc
    print(f"wrote {out}")
    return 0


def _export_status(args: argparse.Namespace) -> int:
    """Save every signed status list, for ``inspector verify --offline --status-list FILE``."""
    settings = get_settings()
    out = Path(args.directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with session_scope(_engine()) as session:
            last = session.exec(select(func.max(Certificate.status_list))).one() or 1
            for list_no in range(1, int(last) + 1):
                for purpose in STATUS_PURPOSES:
                    doc = status_list_credential(session, settings, purpose, list_no)
                    path = out / f"{purpose}-{list_no}.json"
                    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
                    print(f"wrote {path}")
    except OSError as exc:
        raise CommandError(f"cannot write the status lists: {exc.strerror}") from exc
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certificates", help="show, revoke or suspend certificates; print labels", description=__doc__
    )
    cs = p.add_subparsers(dest="certificates_command", metavar="ACTION", required=True)
    s = cs.add_parser("show", help="summary and verification verdict of a certificate")
    s.add_argument("id")
    s.add_argument("--json", action="store_true", help="print the signed credential")
    s.set_defaults(handler=_show)
    for action, text in (
        ("revoke", "revoke for good (e.g. item found misgraded)"),
        ("suspend", "suspend pending review"),
        ("reinstate", "lift a suspension"),
    ):
        a = cs.add_parser(action, help=text)
        a.add_argument("id")
        a.add_argument(
            "--reason", required=action != "reinstate", help="shown to the buyer on the verify page"
        )
        a.set_defaults(handler=_status(action))
    lb = cs.add_parser("label", help="save the parcel label PDF")
    lb.add_argument("id")
    lb.add_argument("-o", "--output", metavar="FILE")
    lb.set_defaults(handler=_label)
    ex = cs.add_parser("export-status", help="save the signed status lists for offline verification")
    ex.add_argument("directory")
    ex.set_defaults(handler=_export_status)
