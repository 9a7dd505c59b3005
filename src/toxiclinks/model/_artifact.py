"""The fitted pipeline as one artifact: features + LightGBM + calibration, with integrity checks.

A model folder holds ``model.joblib`` (the pickled :class:`ToxicityModel`) and ``model.json``
(format version, versions of the libraries, SHA-256 of the pickle, metrics). :func:`load` refuses
a file whose checksum, format version or library versions do not match, with a message that says
which. Batch audits, the HTTP service and MLflow all load this same object, so the numbers cannot
drift apart.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
from scipy import sparse

from ..config import settings
from ..errors import ModelError, ModelIntegrityError
from ..features import LinkFeatures
from ..safeio import atomic_open, sha256_file
from ._compiled import CompiledForest, CompileState

FORMAT_VERSION = 1
MODEL_FILE, META_FILE = "model.joblib", "model.json"
_LOG = logging.getLogger(__name__)
#: Batches of this many rows and more are scored by the compiled forest (below it, one LightGBM
#: pass gives both the scores and the contributions, and the compiled call would save nothing).
COMPILED_ROWS = 1_000


@dataclass
class ToxicityModel:
    """Features, booster and calibration map: canonical links in, calibrated P(toxic) out."""

    features: LinkFeatures
    booster: lgb.Booster
    calib_x: np.ndarray  # isotonic calibration as a piecewise-linear map of the raw score
    calib_y: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """Model input columns, in order."""
        # Asked for several times per live request; sklearn's fitted check is not free.
        fitted = getattr(self.features, "feature_names_out_", None)
        cached = self.__dict__.get("_names_cache")
        if fitted is None or cached is None or cached[0] is not fitted:
            cached = self.__dict__["_names_cache"] = (fitted, tuple(self.features.get_feature_names_out()))
        return list(cached[1])

    def transform(self, links: pd.DataFrame) -> np.ndarray:
        """Feature matrix for canonical links."""
        return self.features.transform(links)

    def raw_score(self, X: np.ndarray, threads: int | None = None) -> np.ndarray:
        """Uncalibrated booster probability for a feature matrix (``threads``: LightGBM's, else chosen by size)."""
        if len(X) == 0:
            return np.empty(0)
        if self.scores_compiled(X):  # the same bits as the booster's (checked when the forest is loaded)
            return _sigmoid(self.compiled_forest().raw_score(X, threads or _threads(len(X))))
        return _sigmoid(self.booster.predict(X, raw_score=True, num_threads=threads or _threads(len(X))))

    def scores_compiled(self, X: np.ndarray) -> bool:
        """Whether :meth:`raw_score` scores ``X`` with the compiled forest (:meth:`compiled_forest`):
        a batch of :data:`COMPILED_ROWS` rows or more that it reads exactly, once it is built."""
        if len(X) < COMPILED_ROWS:
            return False
        forest = self.compiled_forest()
        return forest is not None and forest.reads(X)

    def compiled_forest(self, wait: bool = False) -> CompiledForest | None:
        """The booster compiled to machine code, or ``None`` while it is being built or if it cannot be.

        Only a model :func:`load` gave has one (a model being trained or cross-validated, or
        unpickled elsewhere, is scored by LightGBM: no compiler runs for a throwaway forest).

        Batches of :data:`COMPILED_ROWS` and more are scored by the forest compiled to C (treelite
        and tl2cgen, with the C compiler of the machine): about three times LightGBM's speed, with
        raw scores identical to the bit. The shared library is built once per forest into
        ``$TOXICLINKS_HOME/compiled/`` by a compiler process started at the first such batch,
        while LightGBM scores the batches until it is ready (``wait``: build it now). It is used
        only after it gave the booster's very bits on a probe matrix (every split threshold, the
        values beside it, each category, missing values); without a compiler, or if building or
        that check fails, LightGBM scores every batch (the same numbers, slower).
        """
        state = self.__dict__.get("_compiled")
        return None if state is None else state.forest(wait)

    def compiled_leaves(self, wait: bool = False) -> CompiledForest | None:
        """The forest compiled to give leaf numbers (LightGBM's ``pred_leaf``; see
        :meth:`compiled_forest`), or ``None`` while it is being built or if it cannot be.

        It is built once the scores' forest is ready (one compiler process at a time), at the
        first batch of :data:`COMPILED_ROWS` rows or more whose leaves are asked for (the rows
        whose reasons are written), and used after it gave ``pred_leaf``'s very numbers on the
        probe matrix.
        """
        state = self.__dict__.get("_compiled_leaves")
        if state is None or self.compiled_forest(wait) is None:
            return None
        return state.forest(wait)

    def _leaf_forest(self, X: np.ndarray) -> CompiledForest | None:
        """:meth:`compiled_leaves` for a batch of :data:`COMPILED_ROWS` rows or more that it reads exactly."""
        if len(X) < COMPILED_ROWS:
            return None
        forest = self.compiled_leaves()
        return forest if forest is not None and forest.reads(X) else None

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map raw booster probabilities to calibrated probabilities."""
        return np.clip(np.interp(raw, self.calib_x, self.calib_y), 0.0, 1.0)

    def predict_proba(self, links: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each link is toxic."""
        return self.calibrate(self.raw_score(self.transform(links)))

    def leaves(self, X: np.ndarray, threads: int | None = None, chunk: int = 10_000) -> np.ndarray:
        """The leaf each row reaches in every tree, numbered across the trees (int32, rows × trees).

        One pass through the trees gives both the scores (:meth:`leaf_score`) and the
        contributions (:meth:`leaf_contributions`), so explained rows are not traversed twice.
        Large batches go through :meth:`compiled_leaves` once it is built, the rest through LightGBM.
        """
        offsets = self._paths()[1]
        out = np.empty((len(X), len(offsets)), dtype=np.int32)
        forest = self._leaf_forest(X)
        for start in range(0, len(X), chunk):  # LightGBM's own buffer is float64: chunks bound it
            if forest is not None:  # the same leaves (checked when the forest is loaded)
                out[start:start + chunk] = forest.leaves(X[start:start + chunk], threads or _threads(len(X)))
                continue
            part = X[start:start + chunk]
            out[start:start + chunk] = self.booster.predict(part, pred_leaf=True,
                                                            num_threads=threads or _threads(len(part)))
        out += offsets
        return out

    def leaf_score(self, leaves: np.ndarray, chunk: int = 10_000) -> np.ndarray:
        """:meth:`raw_score` from :meth:`leaves`: the leaf values added tree by tree in LightGBM's order,
        so the raw scores are bit-identical to the booster's (tested)."""
        values = self._paths()[3]
        raw = np.empty(len(leaves))
        for start in range(0, len(leaves), chunk):
            part = leaves[start:start + chunk]
            if len(part) < 1_000:  # a small request: one call, not a Python step per tree
                raw[start:start + chunk] = np.add.accumulate(values[part], axis=1)[:, -1]
                continue
            # Many rows: tree by tree, each step a vectorised add over the rows (faster at 10k rows).
            by_tree = np.ascontiguousarray(part.T)
            total = values[by_tree[0]]
            for tree in by_tree[1:]:
                total += values[tree]
            raw[start:start + chunk] = total
        return _sigmoid(raw)

    def contributions(self, X: np.ndarray, threads: int | None = None) -> np.ndarray:
        """Per-feature contributions (log-odds) for rows of ``X``; the last column is the bias.

        Path attribution (Saabas): along each tree's decision path, the change in the node value
        at every split is credited to the split's feature. The contributions plus the bias add
        up exactly to the raw score, like TreeSHAP's, at about a hundredth of the cost: one leaf
        lookup per tree, then the sum of the precomputed per-leaf path credits.
        """
        return self.leaf_contributions(self.leaves(X, threads))

    def leaf_contributions(self, leaves: np.ndarray, chunk: int = 10_000) -> np.ndarray:
        """:meth:`contributions` of the rows whose :meth:`leaves` are given."""
        bias, dense = self._paths()[2], self._dense_paths()
        n_features = dense.shape[1]
        out = np.empty((len(leaves), n_features + 1))
        out[:, n_features] = bias
        if len(leaves) <= _FEW_ROWS:
            # A live request: summing the rows of the dense credits, tree by tree, adds the same
            # numbers in the same order as the product below, without its set-up (tested equal).
            out[:, :n_features] = dense[leaves].sum(axis=1)
            return out
        # The indicator matrix takes ~5 KB per row: chunks bound memory.
        for start in range(0, len(leaves), chunk):
            part = leaves[start:start + chunk]
            # One leaf per tree and row, already in column order: the arrays are a valid CSR as they are.
            indicator = sparse.csr_matrix((len(part), len(dense)))
            indicator.data, indicator.indices = np.ones(part.size), part.ravel()
            indicator.indptr = np.arange(0, part.size + 1, part.shape[1], dtype=np.int32)
            # Against the dense credits (a few MB): the same sums in the same order as a sparse
            # product, without building a sparse result (a fifth to a third less time).
            out[start:start + chunk, :n_features] = indicator @ dense
        return out

    def _dense_paths(self) -> np.ndarray:
        """:meth:`_paths`' per-leaf credits as a dense array (leaves × features, a few MB)."""
        dense = self.__dict__.get("_dense_path_cache")
        if dense is None:
            dense = self.__dict__["_dense_path_cache"] = self._paths()[0].toarray()
        return dense

    def _paths(self) -> tuple[sparse.csr_matrix, np.ndarray, float, np.ndarray]:
        """Per-leaf path credits, each tree's first leaf number, the bias, and the leaf values
        (computed once per loaded model)."""
        cached = self.__dict__.get("_path_cache")
        if cached is not None:
            return cached
        trees = self.booster.dump_model()["tree_info"]
        rows, cols, vals, offsets, leaf_values, bias, offset = [], [], [], [], [], 0.0, 0
        for tree in trees:
            root = tree["tree_structure"]
            offsets.append(offset)
            if "leaf_index" in root:  # a single-leaf tree credits nothing
                bias += root["leaf_value"]
                leaf_values.append(root["leaf_value"])
                offset += 1
                continue
            bias += root["internal_value"]
            values = [0.0] * tree["num_leaves"]
            stack = [(root, [])]
            while stack:
                node, credits = stack.pop()
                if "leaf_index" in node:
                    values[node["leaf_index"]] = node["leaf_value"]
                    for feature, delta in credits:
                        rows.append(offset + node["leaf_index"])
                        cols.append(feature)
                        vals.append(delta)
                    continue
                for child in (node["left_child"], node["right_child"]):
                    value = child.get("internal_value", child.get("leaf_value"))
                    stack.append((child, [*credits, (node["split_feature"], value - node["internal_value"])]))
            leaf_values += values
            offset += tree["num_leaves"]
        paths = sparse.csr_matrix((vals, (rows, cols)), shape=(offset, len(self.feature_names)))
        self.__dict__["_path_cache"] = (paths, np.array(offsets, dtype=np.int32), bias,
                                        np.array(leaf_values, dtype=np.float64))
        return self.__dict__["_path_cache"]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_path_cache", None)  # derived; rebuilt on first use
        state.pop("_dense_path_cache", None)
        state.pop("_names_cache", None)
        state.pop("_compiled", None)  # a loaded library, or a compiler process: rebuilt on first use
        state.pop("_compiled_leaves", None)
        return state

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "toxiclinks"))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "local"))


_FEW_ROWS = 16  # contributions of up to this many rows come from the dense credits


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    """LightGBM's binary objective's link function (sigmoid 1), in numpy: the score and the leaf
    routes give the same bits."""
    return 1.0 / (1.0 + np.exp(-raw))


def _threads(rows: int) -> int:
    """LightGBM threads for a batch: one for a few rows (waking idle OpenMP threads costs more than a
    small batch gains), else up to 4 cores."""
    return 1 if rows < 200 else max(1, min(4, os.cpu_count() or 1))


def _versions() -> dict[str, str]:
    from .. import __version__

    return {"toxiclinks": __version__, "lightgbm": lgb.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "pandas": pd.__version__}


def save(model: ToxicityModel, folder: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model.joblib`` and ``model.json`` into ``folder`` atomically; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_open(folder / MODEL_FILE, "wb") as fh:
        joblib.dump(model, fh, compress=3)
    digest = sha256_file(folder / MODEL_FILE)
    meta = {"format_version": FORMAT_VERSION, "sha256": digest, "versions": _versions(),
            "feature_names": model.feature_names, **model.metadata, **(extra or {})}
    with atomic_open(folder / META_FILE) as fh:
        json.dump(meta, fh, indent=2, default=str)
        fh.write("\n")
    return folder


def default_model_path() -> Path:
    """The shipped default model: ``TOXICLINKS_MODEL`` or ``models/default`` of the package."""
    configured = settings().model
    if configured:
        return Path(configured)
    from importlib import resources

    packaged = Path(str(resources.files("toxiclinks").joinpath("data/model")))
    if (packaged / META_FILE).exists():
        return packaged
    return Path(__file__).resolve().parents[3] / "models" / "default"


def load(location: str | Path | None = None) -> ToxicityModel:
    """Load a model folder, a ``model.joblib`` path or ``models:/NAME@ALIAS`` from MLflow."""
    if location is None:
        location = default_model_path()
    text = str(location)
    if text.startswith(("models:/", "runs:/")):
        return _load_mlflow(text)
    path = Path(text)
    folder = path.parent if path.suffix == ".joblib" else path
    meta_path, model_path = folder / META_FILE, folder / MODEL_FILE
    if not model_path.exists():
        raise ModelError(f"no model at {folder} (expected {MODEL_FILE} and {META_FILE}); train one "
                         "with 'toxiclinks train' or pass --model")
    if not meta_path.exists():
        raise ModelIntegrityError(f"{meta_path} is missing, so {model_path} cannot be verified")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{meta_path} is not valid JSON: {exc}") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelIntegrityError(f"{model_path} has format version {meta.get('format_version')!r}; "
                                  f"this toxiclinks reads version {FORMAT_VERSION}. Retrain the model.")
    actual = sha256_file(model_path)
    if actual != meta.get("sha256"):
        raise ModelIntegrityError(f"{model_path} is corrupt or was changed: SHA-256 {actual[:12]}… "
                                  f"does not match {str(meta.get('sha256'))[:12]}… in {META_FILE}")
    built = meta.get("versions", {})
    for lib in ("lightgbm", "scikit-learn"):
        if built.get(lib, "").split(".")[:2] != _versions()[lib].split(".")[:2]:
            raise ModelIntegrityError(f"{model_path} was built with {lib} {built.get(lib)}, but "
                                      f"{_versions()[lib]} is installed; retrain or install the same version")
    try:
        model = joblib.load(model_path)
    except Exception as exc:  # unpickling can fail in many ways; all mean the same to the user
        raise ModelIntegrityError(f"{model_path} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, ToxicityModel):
        raise ModelIntegrityError(f"{model_path} holds a {type(model).__name__}, not a toxiclinks model")
    model.metadata = {**model.metadata, **{k: meta[k] for k in ("name", "version") if k in meta}}
    model.__dict__["_compiled"] = CompileState(model.booster)  # built or found at the first large batch
    model.__dict__["_compiled_leaves"] = CompileState(model.booster, leaves=True)
    return model


def _load_mlflow(uri: str) -> ToxicityModel:
    """Download a registered model's artifacts and load the native pipeline (not the pyfunc)."""
    from . import _tracking as tracking

    tracking.setup()
    import mlflow

    tmp = Path(tempfile.mkdtemp(prefix="toxiclinks-model-"))
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp)))
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"cannot fetch {uri} from the MLflow tracking server "
                         f"{mlflow.get_tracking_uri()}: {exc}") from None
    found = next(local.rglob(META_FILE), None)
    if found is None:
        raise ModelError(f"{uri} holds no toxiclinks model ({META_FILE} not found)")
    model = load(found.parent)
    name, _, alias = uri.removeprefix("models:/").partition("@")
    try:
        client = mlflow.MlflowClient()
        mv = client.get_model_version_by_alias(name, alias) if alias else None
        if mv is not None:
            model.metadata.update(name=name, version=str(mv.version))
    except Exception:  # noqa: S110 - the version label is cosmetic; the model itself loaded
        pass
    shutil.rmtree(tmp, ignore_errors=True)
    return model
