"""The real-photo figures of issue 28: what each share counts, per split and per folder."""

from __future__ import annotations

import pytest

from models.evaluate_real import Verdict, figures, markdown, shipped_trained_on, table
from models.real_split import Label, RealPhoto, Split


def _photo(i: int, folder: str, label: Label, split: Split = Split.TEST) -> RealPhoto:
    sub = {Label.DAMAGED: "damaged", Label.INTACT: "intact", Label.OIL_STAIN: "oil"}[label]
    return RealPhoto(f"{folder}/{sub}/{i}.jpg", folder, label, "", "src", f"{i:064x}", split)


def test_figures_count_each_share_on_its_own_label() -> None:
    photos = [_photo(i, "a", Label.DAMAGED) for i in range(4)]
    photos += [_photo(10 + i, "a", Label.INTACT) for i in range(5)]
    photos += [_photo(20 + i, "s", Label.OIL_STAIN) for i in range(10)]
    v = {}
    for i, p in enumerate(photos[:4]):  # damaged: 3 of 4 lowest, all scored above the intact ones
        v[p.file] = Verdict(0.9, True, i < 3, item_found=True)
    for i, p in enumerate(photos[4:9]):  # intact: 2 below best, 1 of them lowest
        v[p.file] = Verdict(0.1 * i, i < 2, i == 0, item_found=i != 4)
    for i, p in enumerate(photos[9:]):  # oil/stain: 1 of 10 called damage
        v[p.file] = Verdict(0.95, i == 0, False)  # high scores do not enter the phone AUROC
    f = figures("x", photos, v)
    assert (f.n_damaged, f.n_intact, f.n_oil_stain) == (4, 5, 10)
    assert f.auroc == pytest.approx(1.0)
    assert f.intact_below_best == pytest.approx(0.4)
    assert f.intact_lowest == pytest.approx(0.2)
    assert f.damaged_lowest == pytest.approx(0.75)
    assert f.oil_stain_damage == pytest.approx(0.1)
    assert f.item_found == pytest.approx(8 / 9)


def test_table_keeps_to_the_split_and_groups_by_folder() -> None:
    photos = [
        _photo(1, "a", Label.DAMAGED),
        _photo(2, "a", Label.INTACT),
        _photo(3, "b", Label.INTACT),
        _photo(4, "b", Label.DAMAGED, Split.TRAIN),  # not in the test rows
    ]
    v = {p.file: Verdict(float(p.label == Label.DAMAGED), False, False) for p in photos}
    rows = table(photos, v, "test", lambda p: p.folder)
    assert [r.rows for r in rows] == ["test split", "test: a", "test: b"]
    assert (rows[0].n_damaged, rows[0].n_intact) == (1, 2)
    assert rows[2].auroc is None  # no damaged phone in b's test part: no AUROC, not a made-up one
    text = markdown(rows)
    assert "| test: b | 0 / 1 / 0 | - |" in text


def test_shipped_model_fine_tuning_half_is_the_sorted_first_half() -> None:
    photos = [
        RealPhoto(f"phones-real/good/{i:04d}.jpg", "phones-real", Label.INTACT, "", "", "0" * 64, Split.TEST)
        for i in (3, 1, 2, 0)
    ]
    assert shipped_trained_on(photos) == {"phones-real/good/0000.jpg", "phones-real/good/0001.jpg"}
