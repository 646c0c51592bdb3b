"""The real-photo split: by hash, deterministic, disjoint, labelled from the manifests, checked."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from models.real_split import (
    SPLIT_CSV,
    Label,
    Split,
    SplitError,
    derive,
    main,
    read_csv,
    split_of,
    write_csv,
)


def _jpg(path: Path, content: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    for i in range(30):
        _jpg(d / "phones-real" / "good" / f"{i:04d}.jpg", f"good {i}".encode())
        _jpg(d / "screen-surface" / "oil" / f"Oil_{i}.jpg", f"oil {i}".encode())
    rows = []
    for i in range(20):
        label = "damaged" if i % 4 == 0 else "intact"
        sha = _jpg(d / "phones-collected" / label / f"src__{i}.jpg", f"collected {i}".encode())
        rows.append(
            {
                "file": f"{label}/src__{i}.jpg",
                "label": label,
                "subtype": "front_view",
                "source_repo": "someone/repo",
                "sha256": sha,
            }
        )
    with (d / "phones-collected" / "manifest.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return d


def test_split_follows_the_hash_alone() -> None:
    assert split_of("00000000" + "f" * 56) == Split.TRAIN
    assert split_of("99999999" + "0" * 56) == Split.TRAIN  # 0.6 - 1/2**32
    assert split_of("9a000000" + "0" * 56) == Split.VALIDATION
    assert split_of("cd000000" + "0" * 56) == Split.TEST
    assert split_of("ffffffff" + "0" * 56) == Split.TEST


def test_derive_is_deterministic_labels_from_manifest_and_table(data: Path, tmp_path: Path) -> None:
    a, b = derive(data), derive(data)
    assert a == b and len(a) == 80
    by_file = {p.file: p for p in a}
    assert by_file["phones-collected/damaged/src__0.jpg"].label == Label.DAMAGED
    assert by_file["phones-collected/intact/src__1.jpg"].label == Label.INTACT
    assert by_file["phones-collected/intact/src__1.jpg"].source == "someone/repo"
    assert by_file["phones-real/good/0000.jpg"].label == Label.INTACT
    assert by_file["screen-surface/oil/Oil_0.jpg"].label == Label.OIL_STAIN
    assert {p.folder for p in a} == {"phones-real", "phones-collected", "screen-surface"}
    assert {p.split for p in a} == set(Split)  # 80 hashes fill all three parts
    out = tmp_path / "split.csv"
    write_csv(a, out)
    assert read_csv(out) == a
    # renaming a file keeps its split: the split is a function of the bytes
    (data / "phones-real" / "good" / "0000.jpg").rename(data / "phones-real" / "good" / "renamed.jpg")
    assert {p.sha256: p.split for p in derive(data)} == {p.sha256: p.split for p in a}


def test_check_fails_when_the_data_changed(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "split.csv"
    assert main(["--data", str(data), "--csv", str(out), "--write"]) == 0
    assert main(["--data", str(data), "--csv", str(out)]) == 0
    (data / "phones-real" / "good" / "0003.jpg").write_bytes(b"other bytes")
    assert main(["--data", str(data), "--csv", str(out)]) == 1


def test_unlabelled_folder_or_manifest_mismatch_is_an_error(data: Path) -> None:
    _jpg(data / "phones-collected" / "intact" / "not_listed.jpg", b"x")
    with pytest.raises(SplitError, match="not in"):
        derive(data)
    (data / "phones-collected" / "intact" / "not_listed.jpg").unlink()
    _jpg(data / "phones-real" / "mystery" / "a.jpg", b"y")
    with pytest.raises(SplitError, match="no label"):
        derive(data)


def test_committed_split_is_disjoint_and_test_hashes_stay_out_of_fitting() -> None:
    photos = read_csv(SPLIT_CSV)
    assert len({p.file for p in photos}) == len(photos)
    assert all(p.split == split_of(p.sha256) for p in photos)
    parts = {s: {p.sha256 for p in photos if p.split == s} for s in Split}
    assert not parts[Split.TEST] & (parts[Split.TRAIN] | parts[Split.VALIDATION])
    assert not parts[Split.TRAIN] & parts[Split.VALIDATION]
    for s in Split:  # every part has damaged, intact and oil/stain photos to score
        assert {p.label for p in photos if p.split == s} == set(Label)
