"""Choose the damage backbone by measurement on the real split (``models/real_split.csv``).

For each candidate in ``models.backbones.BACKBONES``: features of the real photos (whole image + 3 x 3
tiles, cached in ``models/work/features/``), a logistic head fitted on the train part only (damaged
against intact phones and oil/stain crops; ``--painted``: plus the train intact phones with and without
a painted crack), its threshold chosen on the validation part only (the lowest score that keeps the
validation intact phones flagged <= 3 % and oil/stain crops <= 2 %), and figures on validation, overall
and per folder; on the validation intact phones with a crack painted on; and held out by source folder
or repository (fitted without it, scored on its train and validation photos). ``--test NAME`` scores
the chosen candidate once on the test part; until then no test photo is even read. The head is plain
weights (``LinearHead``, JSON) that numpy applies without scikit-learn.

    python -m models.backbone_choice [--painted] [--data DIR]     # extract (cached), fit, validation figures
    python -m models.backbone_choice --test efficientnet_lite0 --painted
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from inspector.grading.item_damage import LinearHead
from models.backbones import BACKBONES, GRID, SIZE, Backbone, head_input, image_features, session
from models.evaluate_real import TARGETS, Figures, Verdict, figures, markdown, table
from models.painted import base_image, paint_crack
from models.real_split import SPLIT_CSV, Label, RealPhoto, Split, read_csv, read_image, shared_data_dir

WORK = Path(__file__).resolve().parent / "work"
FEATURES_DIR = WORK / "features"
MAX_INTACT_FLAGGED = 0.03
MAX_OIL_STAIN_FLAGGED = 0.02
THRESHOLD_MARGIN = 1e-3
C = 0.05  # inverse L2 strength on standardised features; fixed, not searched


def fit_head(backbone: str, x: np.ndarray, y: np.ndarray) -> LinearHead:
    """Logistic regression on the standardised features, balanced classes (threshold set later)."""
    from sklearn.linear_model import LogisticRegression  # train extra

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    lr.fit((x - mean) / scale, y)
    return LinearHead(
        backbone, mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0]), 0.5
    )


def choose_threshold(
    intact: np.ndarray,
    oil_stain: np.ndarray,
    shares: tuple[float, float] = (MAX_INTACT_FLAGGED, MAX_OIL_STAIN_FLAGGED),
) -> float:
    """The lowest threshold (P >= t is damage) that flags at most ``shares`` (3 % and 2 %) of the intact
    phones and the oil/stain crops given: just above the score of the photo ranked at the limit."""
    limits = []
    for scores, share in zip((intact, oil_stain), shares, strict=True):
        if len(scores):
            allowed = int(np.floor(share * len(scores)))  # photos that may stay above the threshold
            ranked = np.sort(scores)[::-1]
            if allowed >= len(ranked):
                limits.append(0.0)
                continue
            # a little above the photo at the limit (half the gap to the next, at most 0.001): scores
            # computed with another thread count differ in the last digits and must not cross it
            room = float(ranked[allowed - 1] - ranked[allowed]) / 2 if allowed else 1.0
            limits.append(float(ranked[allowed]) + max(min(room, THRESHOLD_MARGIN), 1e-7))
    return max(limits, default=0.5)


PAINTED = "#crack"  # suffix of a photo's copy with a crack painted on (``models.painted``)
BASE = "#base"  # suffix of the same photo at the painted copies' size, no crack


def painted_copies(photos: Iterable[RealPhoto], split: Split) -> list[RealPhoto]:
    """The intact phones of ``split``, each twice: as it is (intact) and with a crack painted on
    (damaged). Their features are keyed by the photo's hash plus the suffix."""
    out = []
    for p in photos:
        if p.split == split and p.label == Label.INTACT:
            out.append(replace(p, file=p.file + BASE, sha256=p.sha256 + BASE))
            out.append(
                replace(
                    p,
                    file=p.file + PAINTED,
                    label=Label.DAMAGED,
                    subtype="painted",
                    sha256=p.sha256 + PAINTED,
                )
            )
    return out


def _load(data: Path, p: RealPhoto) -> np.ndarray:
    file, _, copy = p.file.partition("#")
    img = read_image(data, file)
    if not copy:
        return img
    return base_image(img) if "#" + copy == BASE else paint_crack(img, int(p.sha256[:8], 16))[0]


def extract(
    backbone: Backbone,
    photos: list[RealPhoto],
    data: Path,
    view: Callable[[np.ndarray], np.ndarray] | None = None,
    tag: str = "",
    grid: int = GRID,
    size: int = SIZE,
    rows: int | None = None,
) -> dict[str, np.ndarray]:
    """(1 + tiles) x dim features per photo hash (and painted copy), computed once and cached on disk
    (``tag`` names the cache of another ``view`` or grid: what the backbone is shown)."""
    cache = FEATURES_DIR / f"{backbone.name}{tag}.npz"
    feats: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as z:
            feats = dict(zip(z["sha256"].tolist(), z["features"], strict=True))
    todo = [p for p in photos if p.sha256 not in feats]
    if todo:
        sess = session(backbone)
        FEATURES_DIR.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(todo, 1):
            image = _load(data, p)
            feats[p.sha256] = image_features(sess, backbone, view(image) if view else image, grid, size, rows)
            if i % 50 == 0 or i == len(todo):
                np.savez(cache, sha256=np.array(list(feats)), features=np.stack(list(feats.values())))
                print(f"{backbone.name}: {i}/{len(todo)} photos", flush=True)
    return feats


def _xy(photos: Iterable[RealPhoto], feats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ps = list(photos)
    x = np.stack([head_input(feats[p.sha256]) for p in ps])
    return x, np.array([p.label == Label.DAMAGED for p in ps])


def fit_and_threshold(
    name: str, fit_on: list[RealPhoto], tune_on: list[RealPhoto], feats: dict[str, np.ndarray]
) -> LinearHead:
    head = fit_head(name, *_xy(fit_on, feats))
    x, _ = _xy(tune_on, feats)
    p = head.probability(x)
    intact = np.array([q.label == Label.INTACT for q in tune_on])
    oil = np.array([q.label == Label.OIL_STAIN for q in tune_on])
    return LinearHead(**{**asdict(head), "threshold": choose_threshold(p[intact], p[oil])})


def verdicts(head: LinearHead, photos: list[RealPhoto], feats: dict[str, np.ndarray]) -> dict[str, Verdict]:
    """A probability alone grades two ways: the lowest grade at or above the threshold, else the best."""
    p = head.probability(_xy(photos, feats)[0])
    flagged = p >= head.threshold
    return {q.file: Verdict(float(s), bool(f), bool(f)) for q, s, f in zip(photos, p, flagged, strict=True)}


def held_out_groups(photos: list[RealPhoto]) -> list[tuple[Callable[[RealPhoto], str], str]]:
    """Each source folder, then each source repository within one, that has damaged and intact phones:
    fitted without it, scored on it, a figure says whether the head learnt damage or that group's style."""
    out: list[tuple[Callable[[RealPhoto], str], str]] = []
    seen: list[set[str]] = []
    for name_of in (_folder, _source):
        for key in sorted({name_of(p) for p in photos}):
            group = {p.file for p in photos if name_of(p) == key}
            labels = {p.label for p in photos if p.file in group}
            rest = {p.label for p in photos if p.file not in group}
            if {Label.DAMAGED, Label.INTACT} <= labels & rest and group not in seen:
                seen.append(group)
                out.append((name_of, key))
    return out


def _folder(p: RealPhoto) -> str:
    return p.folder


def _source(p: RealPhoto) -> str:
    return p.source


def evaluate_candidate(
    name: str, photos: list[RealPhoto], feats: dict[str, np.ndarray], painted: bool = False
) -> tuple[LinearHead, list[Figures]]:
    """Fit on train (``painted``: plus its intact phones with and without a painted crack), threshold on
    validation; validation figures, the validation intact phones with a crack painted on (the same
    photos with and without damage), then each source group held out."""
    train = [p for p in photos if p.split == Split.TRAIN]
    val = [p for p in photos if p.split == Split.VALIDATION]
    extra = painted_copies(train, Split.TRAIN) if painted else []
    head = fit_and_threshold(name, train + extra, val, feats)
    rows = table(val, verdicts(head, val, feats), Split.VALIDATION, lambda p: p.folder)
    probe = painted_copies(val, Split.VALIDATION)
    probe_v = verdicts(head, probe, feats)
    rows += [
        replace(f, rows=f.rows.replace("validation", "validation intact, crack painted on", 1))
        for f in table(probe, probe_v, Split.VALIDATION, lambda p: p.folder)
    ]
    for name_of, key in held_out_groups(train + val):
        held = [p for p in train + val if name_of(p) == key]
        fit_on = [p for p in train + extra if name_of(p) != key]
        h = fit_and_threshold(name, fit_on, [p for p in val if name_of(p) != key], feats)
        rows.append(figures(f"{key} held out (fit without it)", held, verdicts(h, held, feats)))
    return head, rows


def photos_to_read(photos: list[RealPhoto], test: bool) -> list[RealPhoto]:
    """The photos and painted copies whose features a run needs: the test part only for the one
    candidate chosen, so the others never see it."""
    out = [p for p in photos if test or p.split != Split.TEST]
    return out + painted_copies(photos, Split.VALIDATION) + painted_copies(photos, Split.TRAIN)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="real photos (default ../shared/data)")
    ap.add_argument("--csv", type=Path, default=SPLIT_CSV)
    ap.add_argument("--backbones", nargs="+", choices=sorted(BACKBONES), default=sorted(BACKBONES))
    ap.add_argument("--test", choices=sorted(BACKBONES), default=None, help="score this one on the test part")
    ap.add_argument("--painted", action="store_true", help="fit on painted cracks too")
    ap.add_argument("--extract-only", action="store_true")
    args = ap.parse_args(argv)
    photos = read_csv(args.csv)
    data = args.data or shared_data_dir()
    names = [args.test] if args.test else args.backbones
    needed = photos_to_read(photos, test=args.test is not None)
    for name in names:
        feats = extract(BACKBONES[name], needed, data)
        if args.extract_only:
            continue
        head, rows = evaluate_candidate(name, photos, feats, args.painted)
        tag = f"{name}{'_painted' if args.painted else ''}"
        (WORK / f"head_{tag}.json").write_text(head.to_json())
        print(f"\n### {tag} (threshold {head.threshold:.3f}, chosen on validation)\n")
        if args.test:
            test = [p for p in photos if p.split == Split.TEST]
            rows = table(test, verdicts(head, test, feats), Split.TEST, lambda p: p.folder)
            print(TARGETS)
        print(markdown(rows))


if __name__ == "__main__":
    main()
