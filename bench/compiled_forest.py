"""Compiled forest vs LightGBM: ``python bench/compiled_forest.py [EXPORT] [--reps 5] [--model PATH]``.

Scores the feature matrix of a real export (default: the generated ~245k-link export, seed 2024,
700 sites x 300 links, made in a temporary folder) in 50,000-row chunks on one thread, as the
audit's model thread does, with each engine in turn, repetitions interleaved; prints per engine the
largest absolute difference of its raw scores from ``booster.predict(X, raw_score=True)``, how many
differ at all, and the median time per 50,000 rows. Engines:

- ``pred_leaf + leaf sums``: the LightGBM path judge() took before (leaves for every row, then the
  leaf values summed tree by tree);
- ``booster.predict``: LightGBM's own raw scores;
- ``tl2cgen``: the forest compiled to C by treelite and tl2cgen (what the model now uses);
- ``lleaves``: the forest compiled by LLVM (only if lleaves is installed; lleaves 1.3.0 needs
  ``llvmlite<0.45``: ``uv pip install lleaves "llvmlite<0.45"``).

Then the leaves (what the contributions of the flagged rows are read from): LightGBM's ``pred_leaf``
against the second compiled build, the one that gives leaf numbers; and the whole of judge()
(scores, verdicts, contributions of the flagged rows) three ways: LightGBM only, compiled scores
with LightGBM's leaves, compiled scores and leaves.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from toxiclinks.model import featurize, judge, load, write_seed_data
from toxiclinks.reading import read_export

CHUNK = 50_000


def feature_matrix(export: str | None, model) -> np.ndarray:
    if export is None:
        folder = Path(tempfile.mkdtemp(prefix="toxiclinks-bench-"))
        export = str(write_seed_data(folder, 700, 300, seed=2024, labels=False)[0])
    return featurize(model, read_export(export).links)[0]


def lleaves_engine(model, folder: Path):
    """lleaves' compiled forest, or the reason it cannot be had."""
    try:
        import lleaves
    except ImportError:
        return None, "not installed"
    try:
        model.booster.save_model(folder / "model.txt")
        started = time.perf_counter()
        compiled = lleaves.Model(model_file=str(folder / "model.txt"))
        compiled.compile(cache=str(folder / "lleaves.o"), raw_score=True)
        seconds = time.perf_counter() - started
    except Exception as exc:  # e.g. lleaves 1.3.0 with llvmlite >= 0.45 (no PassManagerBuilder)
        return None, f"fails: {type(exc).__name__}: {exc}"
    return (lambda X: compiled.predict(X.astype(np.float64), n_jobs=1)), f"compiled in {seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", nargs="?", help="an export to read (default: a generated one)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    model = load(args.model)
    with mock.patch("shutil.which", return_value=None):  # no compiler: LightGBM scores every batch
        plain = load(args.model)
        assert plain.compiled_forest() is None
    X = feature_matrix(args.export, model)
    chunks = [X[i:i + CHUNK] for i in range(0, len(X), CHUNK)]
    started = time.perf_counter()
    forest = model.compiled_forest(wait=True)
    print(f"{len(X)} rows x {X.shape[1]} features ({X.dtype}), {np.isnan(X).mean():.1%} missing; "
          f"{model.booster.num_trees()} trees")
    if forest is None:
        raise SystemExit("the compiled forest could not be built (see the log)")
    print(f"tl2cgen: built (or found) and checked in {time.perf_counter() - started:.1f} s: {forest.path}")
    started = time.perf_counter()
    leaf_forest = model.compiled_leaves(wait=True)
    if leaf_forest is None:
        raise SystemExit("the compiled leaf forest could not be built (see the log)")
    print(f"tl2cgen leaves: built (or found) and checked in {time.perf_counter() - started:.1f} s: {leaf_forest.path}")
    scores_only = load(args.model)
    scores_only.__dict__["_compiled_leaves"] = None  # compiled scores, LightGBM's leaves
    assert scores_only.compiled_forest(wait=True) is not None and scores_only.compiled_leaves() is None

    engines = {
        "pred_leaf + leaf sums": lambda part: plain.leaf_score(plain.leaves(part, 1)),
        "booster.predict": lambda part: model.booster.predict(part, raw_score=True, num_threads=1),
        "tl2cgen": lambda part: forest.raw_score(part, 1),
    }
    leaf_engines = {
        "pred_leaf (LightGBM)": lambda part: model.booster.predict(part, pred_leaf=True, num_threads=1),
        "tl2cgen leaves": lambda part: leaf_forest.leaves(part, 1),
    }
    lleaves_fn, lleaves_note = lleaves_engine(model, Path(tempfile.mkdtemp(prefix="toxiclinks-lleaves-")))
    print(f"lleaves: {lleaves_note}")
    if lleaves_fn is not None:
        engines["lleaves"] = lleaves_fn

    reference = model.booster.predict(X, raw_score=True, num_threads=1)
    raw_of = {
        "pred_leaf + leaf sums": lambda: _leaf_raw(plain, X),
        "booster.predict": lambda: reference,
        "tl2cgen": lambda: forest.raw_score(X, 1),
        "lleaves": lambda: lleaves_fn(X),
    }
    none = np.zeros(CHUNK, dtype=bool)
    judges = {
        "judge(), LightGBM path": lambda part: judge(plain, part, none[:len(part)], none[:len(part)], "flagged", 1),
        "judge(), compiled scores": lambda part: judge(scores_only, part, none[:len(part)], none[:len(part)],
                                                       "flagged", 1),
        "judge(), compiled both": lambda part: judge(model, part, none[:len(part)], none[:len(part)], "flagged", 1),
    }
    times: dict[str, list[float]] = {name: [] for name in [*engines, *leaf_engines, *judges]}
    for _ in range(args.reps):
        for name, fn in [*engines.items(), *leaf_engines.items(), *judges.items()]:
            started = time.perf_counter()
            for part in chunks:
                fn(part)
            times[name].append((time.perf_counter() - started) * 1000 * CHUNK / len(X))

    first, second = judge(plain, X, np.zeros(len(X), bool), np.zeros(len(X), bool), "flagged", 1), \
        judge(model, X, np.zeros(len(X), bool), np.zeros(len(X), bool), "flagged", 1)
    same = (np.array_equal(first.proba, second.proba) and np.array_equal(first.explained, second.explained)
            and np.array_equal(first.contrib, second.contrib))
    base = statistics.median(times["pred_leaf + leaf sums"])
    print(f"\n{'engine':26} {'max |raw - predict|':>20} {'rows differing':>15} {'ms / 50k rows':>14} {'speed-up':>9}")
    for name in engines:
        raw = raw_of[name]()
        ms = statistics.median(times[name])
        print(f"{name:26} {np.abs(raw - reference).max():20.3g} {int(np.count_nonzero(raw != reference)):15d} "
              f"{ms:14.1f} {base / ms:8.2f}x")
    leaves = model.booster.predict(X, pred_leaf=True, num_threads=1)
    base = statistics.median(times["pred_leaf (LightGBM)"])
    for name, fn in leaf_engines.items():
        ms = statistics.median(times[name])
        print(f"{name:26} {'rows differing:':>20} {int(np.count_nonzero((fn(X) != leaves).any(axis=1))):15d} "
              f"{ms:14.1f} {base / ms:8.2f}x")
    base = statistics.median(times["judge(), LightGBM path"])
    for name in judges:
        ms = statistics.median(times[name])
        print(f"{name:26} {'':>20} {'':>15} {ms:14.1f} {base / ms:8.2f}x")
    print(f"\njudge() both ways: probabilities, explained rows and contributions identical: {same} "
          f"({len(second.explained)} of {len(X)} rows explained); median of {args.reps} interleaved repetitions")


def _leaf_raw(model, X: np.ndarray) -> np.ndarray:
    """The raw scores of the leaf path: the leaf values summed tree by tree, as leaf_score adds them."""
    leaves = model.leaves(X, 1)
    values = model._paths()[3]  # the leaf values, numbered as leaves() numbers them
    by_tree = np.ascontiguousarray(leaves.T)
    total = values[by_tree[0]].copy()
    for tree in by_tree[1:]:
        total += values[tree]
    return total


if __name__ == "__main__":
    main()
