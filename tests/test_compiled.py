"""The compiled forest (treelite + tl2cgen, built with the machine's C compiler) gives LightGBM's raw
scores to the bit on real feature matrices (categorical features, missing values), and every way of
not having it (no compiler, a build that fails, values it cannot read) gives the same answer."""

from __future__ import annotations

import os
import pickle
import stat

import numpy as np
import pytest

from toxiclinks.model import featurize, judge, load, write_seed_data
from toxiclinks.reading import read_export

CATEGORICAL = ("anchor__class", "anchor__money_category", "placement__link_type", "placement__region")


@pytest.fixture(scope="module")
def model():
    mdl = load()
    assert mdl.compiled_forest(wait=True) is not None, "the forest did not compile (is gcc installed?)"
    return mdl


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The same model on a machine without a C compiler (an empty PATH): LightGBM scores every batch."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", str(tmp_path_factory.mktemp("no-compiler")))
        mdl = load()
        assert mdl.compiled_forest() is None
    return mdl


@pytest.fixture(scope="module")
def matrix(model, tmp_path_factory):
    """A generated export's feature matrix, with more missing values and unseen categories mixed in."""
    export = write_seed_data(tmp_path_factory.mktemp("compiled"), 30, 120, seed=7, labels=False)[0]
    X = featurize(model, read_export(export).links)[0]
    rng = np.random.default_rng(3)
    X = np.vstack([X, X[rng.integers(0, len(X), 2000)]])
    X[rng.random(X.shape) < 0.05] = np.nan
    names = model.feature_names
    for name in CATEGORICAL:
        column = names.index(name)
        picked = rng.random(len(X)) < 0.05
        X[picked, column] = rng.choice(np.array([-1, 0, 1, 2, 3, 7, 8, 40], dtype=X.dtype), picked.sum())
    X[rng.random(X.shape) < 0.002] = np.float32(1e-36)  # LightGBM reads it as 0
    assert X.dtype == np.float32 and len(X) >= 3000
    return X


def test_compiled_raw_scores_are_the_boosters(model, matrix):
    expected = model.booster.predict(matrix, raw_score=True, num_threads=1)
    names = model.feature_names
    for name in CATEGORICAL[:3]:
        assert len(np.unique(matrix[:, names.index(name)][~np.isnan(matrix[:, names.index(name)])])) > 3
    assert np.isnan(matrix).any()
    for threads in (1, 2):
        raw = model.compiled_forest().raw_score(matrix, threads)
        assert np.abs(raw - expected).max() <= 1e-9
        assert np.array_equal(raw, expected)  # in fact to the bit
    assert model.scores_compiled(matrix)
    assert np.array_equal(model.raw_score(matrix, 1), 1 / (1 + np.exp(-expected)))


def test_the_fallback_judges_the_same(model, plain, matrix):
    none = np.zeros(len(matrix), dtype=bool)
    assert not plain.scores_compiled(matrix)
    for explain in ("flagged", "all"):
        compiled, lightgbm = (judge(m, matrix, none, none, explain, 1) for m in (model, plain))
        assert np.array_equal(compiled.proba, lightgbm.proba)
        assert np.array_equal(compiled.verdict, lightgbm.verdict)
        assert np.array_equal(compiled.explained, lightgbm.explained) and len(compiled.explained)
        assert np.array_equal(compiled.contrib, lightgbm.contrib)


def test_doubles_it_cannot_read_go_to_lightgbm(model, plain, matrix):
    # tl2cgen takes a double whose low 32 bits are all ones for a missing value.
    X = matrix.astype(np.float64)
    X[5, model.feature_names.index("domain__traffic_per_refdomain")] = np.array([0xBFE8AA4EFFFFFFFF]).view(np.float64)[0]
    assert model.scores_compiled(matrix.astype(np.float64)) and not model.scores_compiled(X)
    assert np.array_equal(model.raw_score(X, 1), plain.raw_score(X, 1))
    with pytest.raises(ValueError):
        model.compiled_forest().raw_score(X)


def test_small_batches_are_scored_by_lightgbm(model, matrix):
    assert not model.scores_compiled(matrix[:10])


def test_a_build_that_fails_leaves_lightgbm_scoring(tmp_path, monkeypatch, plain, matrix):
    fake = tmp_path / "bin" / "gcc"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho no >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TOXICLINKS_HOME", str(tmp_path / "home"))
    broken = load()
    assert broken.compiled_forest(wait=True) is None
    assert list((tmp_path / "home" / "compiled").glob("*.failed"))
    assert not list((tmp_path / "home" / "compiled").glob("*.so"))
    none = np.zeros(len(matrix), dtype=bool)
    assert np.array_equal(judge(broken, matrix, none, none).proba, judge(plain, matrix, none, none).proba)


def test_a_model_with_its_compiled_forest_pickles(model, matrix):
    copy = pickle.loads(pickle.dumps(model))
    assert "_compiled" not in copy.__dict__
    assert np.array_equal(copy.raw_score(matrix, 1), model.raw_score(matrix, 1))


def test_a_checked_library_is_not_checked_again_and_a_broken_one_is_not_used(tmp_path, monkeypatch, model,
                                                                              plain, matrix):
    home = tmp_path / "home"
    (home / "compiled").mkdir(parents=True)
    library = model.compiled_forest().path
    copied = home / "compiled" / library.name
    copied.write_bytes(library.read_bytes())
    copied.with_suffix(".sha256").write_bytes(library.with_suffix(".sha256").read_bytes())
    monkeypatch.setenv("TOXICLINKS_HOME", str(home))
    first = load()
    assert first.compiled_forest() is not None  # checked against the booster, and noted
    checked = copied.with_suffix(".checked")
    assert checked.exists()
    noted = checked.stat().st_mtime_ns
    assert load().compiled_forest() is not None
    assert checked.stat().st_mtime_ns == noted  # found checked: not checked (nor noted) again
    # A truncated library: never loaded (mapping it would crash the process), removed so that the
    # next run builds it again; LightGBM scores meanwhile.
    copied.unlink()  # (never written over in place: the loaded library is mapped from it)
    copied.write_bytes(library.read_bytes()[:1000])
    broken = load()
    assert broken.compiled_forest() is None and not broken.scores_compiled(matrix)
    assert not copied.exists() and not list((home / "compiled").glob("*.failed"))
    none = np.zeros(len(matrix), dtype=bool)
    assert np.array_equal(judge(broken, matrix, none, none).proba, judge(plain, matrix, none, none).proba)


def test_compiled_leaves_are_lightgbms(model, plain, matrix):
    """The second build of the trees gives pred_leaf's numbers, so the reasons' contributions of
    large batches are the same as LightGBM's."""
    forest = model.compiled_leaves(wait=True)
    assert forest is not None, "the leaf forest did not compile"
    expected = model.booster.predict(matrix, pred_leaf=True, num_threads=1)
    assert np.array_equal(forest.leaves(matrix), expected)
    assert np.array_equal(model.leaves(matrix), plain.leaves(matrix))
    assert np.array_equal(model.contributions(matrix[:3000]), plain.contributions(matrix[:3000]))


def test_the_leaf_forest_text_keeps_the_trees_and_numbers_the_leaves(model):
    import lightgbm as lgb

    from toxiclinks.model._compiled import leaf_forest_text

    trees = model.booster.num_trees()
    numbered = lgb.Booster(model_str=leaf_forest_text(model.booster.model_to_string(), trees))
    assert numbered.num_trees() == trees and numbered.num_model_per_iteration() == trees
    rows = np.random.default_rng(0).random((50, model.booster.num_feature())).astype(np.float32)
    assert np.array_equal(numbered.predict(rows, raw_score=True), model.booster.predict(rows, pred_leaf=True))
