"""Re-inspection evidence: new and worse defects are told apart from the certified ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from warranty.certificate_lookup import CertificateView
from warranty.evidence import Defect, Reinspection, compare_defects, parse_defects


def _d(**kw: object) -> Defect:
    return Defect.model_validate(kw)


def test_new_worse_unchanged_and_not_found() -> None:
    """A crack that was not certified is new; a scratch that grew is worse; a gone one is listed."""
    original = [
        _d(kind="scratch", region="back", bbox=[100, 100, 200, 50], length_um=4000),
        _d(kind="dent", region="frame", length_um=800),
        _d(kind="scuff", region="corner"),
    ]
    found = [
        _d(kind="scratch", region="back", bbox=[110, 105, 190, 40], length_um=9000),
        _d(kind="dent", region="frame", length_um=820),
        _d(kind="crack", region="back", bbox=[300, 600, 300, 200]),
        _d(kind="scratch", region="back", bbox=[700, 800, 100, 50]),  # same kind, elsewhere: new
    ]
    diffs = compare_defects(original, found)
    status = [(d.status, d.defect.kind) for d in diffs]
    assert status == [
        ("worse", "scratch"),
        ("unchanged", "dent"),
        ("new", "crack"),
        ("new", "scratch"),
        ("not_found", "scuff"),
    ]
    assert [d.highlighted for d in diffs] == [True, False, True, True, False]


def test_certificate_measurements_become_defects() -> None:
    """Certificates that carry measurements instead of a defect list still give a baseline."""
    from datetime import UTC, datetime

    cert = CertificateView(
        human_id="X",
        item_kind="phone",
        issued_at=datetime.now(UTC),
        station_id="s",
        grade="B",
        status="valid",
        credential={
            "credentialSubject": {"grade": {"measurements": {"longest_scratch_um": 4200, "battery": 91}}}
        },
    )
    defects = parse_defects(cert.defects)
    assert len(defects) == 1 and defects[0].kind == "scratch" and defects[0].measure() == 4200


def test_reinspection_input_is_validated() -> None:
    """Bad photo digests, a bbox outside the photo, or a missing grade are refused with the reason."""
    with pytest.raises(ValidationError, match="SHA-256"):
        Reinspection(grade="B", photos=["not-a-digest"])
    with pytest.raises(ValidationError, match="bbox"):
        Reinspection(grade="B", defects=[{"kind": "crack", "bbox": [0.9, 0.9, 0.5, 0]}])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        Reinspection.model_validate({"photos": []})
    ok = Reinspection(grade="C", photos=["sha256:" + "A" * 64])
    assert ok.photos == ["a" * 64]
