"""Run a training experiment written down as a JSON file: stages in order, each one ``models.train.train``
with its own settings, a stage continuing from (``init``) or mining with (``mine_with``) an earlier one.

The model cards' experiments (v7-v11, jewelry card history) ran from throw-away drivers that were
lost with their machines, so a result could be read but not rerun. A file in ``models/experiments/``
is the recipe itself; the whole file is checked before the first minute of training is spent.

    python -m models.experiment models/experiments/jewelry_v11_n2b.json --out models/work/n2b
    python -m models.experiment FILE --out DIR --dry-run      # check the file, print the plan

Each stage writes ``DIR/STAGE/KIND_defects.onnx``, its training state ``DIR/STAGE/state.pt`` and what
it did ``DIR/STAGE/info.json``; ``--skip-done`` keeps stages that already have all three (a run cut
off part-way goes on from where it stopped). Calibrate, evaluate and probe the last stage with the
commands printed at the end.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.checkpoint import fingerprint
from models.synth.scene_mix import SceneMix
from models.train import CLASSES, LANDMARKS, default_real_negatives, real_negative_photos, train

RESERVED = (
    "kind",
    "n_train",
    "minutes",
    "steps",
    "out",
    "threads",
    "init",
    "mine_with",
    "state_path",
    "checkpoint",
    "real_negatives",
)
"""``train`` arguments the experiment file sets through its own keys, not through a stage's ``train``."""

TUPLE_SETTINGS = ("rare_classes", "rare_landmarks", "classes", "widths")


class ExperimentError(ValueError):
    """The experiment file cannot run as written; the message names the stage and the setting."""


@dataclass(frozen=True)
class Stage:
    """One ``train`` call: a budget of ``steps`` (a recipe: the same run on every machine) or, for an
    experiment, of ``minutes``."""

    name: str
    minutes: float
    settings: dict[str, Any]
    init: str | None = None
    mine_with: str | None = None
    steps: int = 0

    @property
    def budget(self) -> str:
        return f"{self.steps:,} steps" if self.steps else f"{self.minutes:g} min"


@dataclass(frozen=True)
class Experiment:
    kind: str
    n_train: int
    threads: int
    stages: list[Stage] = field(default_factory=list)
    real_negatives: bool = False


def _train_settings() -> set[str]:
    return set(inspect.signature(train).parameters) - set(RESERVED)


def parse(doc: Any) -> Experiment:
    """The experiment a decoded JSON document describes, or an ``ExperimentError`` saying what is wrong."""
    if not isinstance(doc, dict):
        raise ExperimentError("an experiment file is a JSON object with kind, n_train, threads and stages")
    unknown_top = set(doc) - {"kind", "n_train", "threads", "stages", "why", "real_negatives", "version"}
    if unknown_top:
        raise ExperimentError(
            f"unknown keys {sorted(unknown_top)} (an experiment has kind, n_train, threads, stages, "
            "real_negatives, version)"
        )
    # the model version its ONNX metadata says (the card's); every stage exports with it
    version = doc.get("version")
    if version is not None and not (isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version)):
        raise ExperimentError(f'version must be a string like "6.0.0", not {version!r}')
    kind = doc.get("kind")
    if kind not in CLASSES:
        raise ExperimentError(f"kind must be one of {sorted(CLASSES)}, not {kind!r}")
    n_train, threads = doc.get("n_train", 2000), doc.get("threads", 2)
    if not isinstance(n_train, int) or n_train < 1 or not isinstance(threads, int) or threads < 1:
        raise ExperimentError("n_train and threads must be whole numbers of at least 1")
    raw_stages = doc.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ExperimentError("stages must be a non-empty list")
    allowed = _train_settings()
    stages: list[Stage] = []
    for i, raw in enumerate(raw_stages):
        if not isinstance(raw, dict):
            raise ExperimentError(f"stage {i + 1} must be an object")
        name = raw.get("name")
        where = f"stage {name!r}" if name else f"stage {i + 1}"
        if not isinstance(name, str) or not name.isidentifier():
            raise ExperimentError(f"{where}: name must be a word (letters, digits, _), used as a folder name")
        if any(s.name == name for s in stages):
            raise ExperimentError(f"{where}: the name is used twice")
        if ("minutes" in raw) == ("steps" in raw):
            raise ExperimentError(f"{where}: give its budget as either steps (a recipe) or minutes")
        minutes, steps = raw.get("minutes", 0), raw.get("steps", 0)
        if "minutes" in raw and (not isinstance(minutes, int | float) or minutes <= 0):
            raise ExperimentError(f"{where}: minutes must be a number above 0, not {minutes!r}")
        if "steps" in raw and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise ExperimentError(f"{where}: steps must be a whole number of at least 1, not {steps!r}")
        extra = set(raw) - {"name", "minutes", "steps", "train", "init", "mine_with", "why"}
        if extra:
            raise ExperimentError(f"{where}: unknown keys {sorted(extra)}")
        refs: dict[str, str | None] = {}
        for key in ("init", "mine_with"):
            ref = raw.get(key)
            if ref is not None and not any(s.name == ref for s in stages):
                raise ExperimentError(f"{where}: {key} {ref!r} is not an earlier stage")
            refs[key] = ref
        settings = dict(raw.get("train", {}))
        if version is not None:
            settings.setdefault("version", version)
        unknown = set(settings) - allowed
        if unknown:
            raise ExperimentError(
                f"{where}: {sorted(unknown)} are not settings of models.train.train "
                f"(it takes {sorted(allowed)})"
            )
        for key in TUPLE_SETTINGS:
            if key in settings:
                settings[key] = tuple(settings[key])
        named = [*settings.get("rare_classes", ()), *settings.get("classes", ())]
        named += list(settings.get("weight_floor", {}))
        wrong = [c for c in named if c not in CLASSES[kind]]
        if wrong:
            raise ExperimentError(f"{where}: {wrong} are not {kind} classes ({list(CLASSES[kind])})")
        wrong = [n for n in settings.get("rare_landmarks", ()) if n not in LANDMARKS[kind]]
        if wrong:
            raise ExperimentError(f"{where}: {wrong} are not {kind} landmarks ({list(LANDMARKS[kind])})")
        try:
            SceneMix.parse(settings.get("scene_mix"))
        except (ValueError, TypeError) as exc:
            raise ExperimentError(f"{where}: {exc}") from None
        if "hard_windows" in settings and refs["mine_with"] is None:
            raise ExperimentError(f"{where}: hard_windows needs mine_with (the stage whose marks are mined)")
        stages.append(Stage(name, float(minutes), settings, refs["init"], refs["mine_with"], steps))
    real_negatives = doc.get("real_negatives", False)
    if not isinstance(real_negatives, bool):
        raise ExperimentError("real_negatives must be true or false")
    return Experiment(kind, n_train, threads, stages, real_negatives)


def load(path: Path) -> Experiment:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ExperimentError(f"{path} not found") from None
    except json.JSONDecodeError as exc:
        raise ExperimentError(f"{path} is not JSON: {exc}") from None
    return parse(doc)


def stage_files(out: Path, exp: Experiment, stage: Stage) -> tuple[Path, Path, Path]:
    """(ONNX model, training state, info) of one stage."""
    d = out / stage.name
    return d / f"{exp.kind}_defects.onnx", d / "state.pt", d / "info.json"


def stage_key(exp: Experiment, stage: Stage, earlier: dict[str, str]) -> str:
    """What a stage's result depends on: the experiment's data, the stage as written and the keys of
    the stages it starts from or mines with. A stage done for another key is trained again."""
    doc = {
        "kind": exp.kind,
        "n_train": exp.n_train,
        # which real photos, so a stage trained on other ones (another split) trains again
        "real_negatives": [p.sha256 for p in real_negative_photos()] if exp.real_negatives else False,
        "stage": [stage.name, stage.steps, stage.minutes, stage.settings],
        "from": [earlier.get(stage.init or ""), earlier.get(stage.mine_with or "")],
    }
    return fingerprint(doc, [])


def _recorded_key(info_path: Path) -> str | None:
    try:
        return str(json.loads(info_path.read_text()).get("key"))
    except (OSError, ValueError, AttributeError):
        return None


def real_negatives(exp: Experiment) -> Path | None:
    """The real photos a phone experiment mixes into its batches, when it asks for them: the shared
    data beside the repository. A recipe that asks for them and cannot have them stops here, since
    without them it would train another model than the one it names."""
    if not exp.real_negatives:
        return None
    data = default_real_negatives()
    if data is None:
        raise ExperimentError("real_negatives: the shared data (../shared/data) is not beside the repository")
    return data


def run(exp: Experiment, out: Path, skip_done: bool = False, threads: int | None = None) -> None:
    """Train every stage in order; each stage's info.json records what ``train`` reports plus its links.
    A stage with a step budget saves itself to its folder as it trains and, run again, goes on from
    there; ``threads`` overrides the file's (it changes the speed, not the steps)."""
    negatives = real_negatives(exp)
    keys: dict[str, str] = {}
    for i, stage in enumerate(exp.stages, 1):
        model, state, info_path = stage_files(out, exp, stage)
        keys[stage.name] = key = stage_key(exp, stage, keys)
        if skip_done and model.is_file() and state.is_file() and _recorded_key(info_path) == key:
            print(f"[{stage.name}] stage {i} of {len(exp.stages)} done already: {model}", flush=True)
            continue
        model.parent.mkdir(parents=True, exist_ok=True)
        init = stage_files(out, exp, _stage(exp, stage.init))[1] if stage.init else None
        mine_with = stage_files(out, exp, _stage(exp, stage.mine_with))[0] if stage.mine_with else None
        print(
            f"[{stage.name}] stage {i} of {len(exp.stages)}: {stage.budget}, from {stage.init or 'scratch'}",
            flush=True,
        )
        info = train(
            exp.kind,
            exp.n_train,
            stage.minutes,
            model,
            threads=threads or exp.threads,
            init=init,
            mine_with=mine_with,
            state_path=state,
            real_negatives=negatives,
            steps=stage.steps,
            checkpoint=model.parent / "checkpoint.pt" if stage.steps else None,
            **stage.settings,
        )
        info = {"stage": stage.name, "init": stage.init, "mine_with": stage.mine_with, "key": key, **info}
        info_path.write_text(json.dumps(info, indent=1))


def _stage(exp: Experiment, name: str) -> Stage:
    return next(s for s in exp.stages if s.name == name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path, help="the recipe or experiment, e.g. models/recipes/phone.json")
    ap.add_argument("--out", type=Path, required=True, help="folder for the stages' models (not models/)")
    ap.add_argument("--dry-run", action="store_true", help="check the file and print the plan, train nothing")
    ap.add_argument("--skip-done", action="store_true", help="keep stages that already finished in --out")
    ap.add_argument(
        "--threads", type=int, help="torch threads, instead of the file's (the speed, not the steps)"
    )
    ap.add_argument(
        "--copy-last-to",
        type=Path,
        metavar="DIR",
        help="copy the last stage's model into DIR when all is done",
    )
    args = ap.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be at least 1")
    try:
        exp = load(args.file)
        real_negatives(exp)
    except ExperimentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    budgets = [s.budget for s in exp.stages]
    threads = args.threads or exp.threads
    print(
        f"{exp.kind}: {len(exp.stages)} stages ({', '.join(budgets)}), {threads} threads, "
        f"{exp.n_train} scenes"
    )
    for s in exp.stages:
        links = ", ".join(f"{k} {v}" for k, v in (("init", s.init), ("mine_with", s.mine_with)) if v)
        print(f"  {s.name}: {s.budget}{' (' + links + ')' if links else ''} {json.dumps(s.settings)}")
    if args.dry_run:
        return 0
    run(exp, args.out, args.skip_done, args.threads)
    last = stage_files(args.out, exp, exp.stages[-1])[0]
    if args.copy_last_to is not None:
        args.copy_last_to.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(last, args.copy_last_to / last.name)
        print(f"copied {last} to {args.copy_last_to / last.name}", flush=True)
        return 0
    print("next:")
    print(f"  python -m models.calibrate --models-dir {last.parent} --kind {exp.kind}")
    print(
        f"  python -m models.evaluate --models-dir {last.parent} --kind {exp.kind} "
        f"--out {last.parent}/eval.json"
    )
    shipped = f"{args.out}/shipped_eval.json"
    print(f"  python -m models.evaluate --kind {exp.kind} --out {shipped}  # the shipped model")
    print(
        f"  python -m models.promote --candidate {last.parent} --shipped-eval {shipped} "
        f"--kind {exp.kind}  # ships it only where it is not worse"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
