"""The model: training, the fitted artifact (features + LightGBM + calibration), and scoring.

:func:`train` fits a :class:`ToxicityModel` on the seed data, the casebook and any labelled
exports; :func:`save` and :func:`load` keep it as one checked artifact (a folder, or an MLflow
``models:/`` URI); :func:`score` and :func:`score_one` turn canonical links into toxicity,
verdicts and plain-words reasons. The seed-data generator, the casebook, cross-validation and
MLflow tracking are private modules behind this face.
"""

from __future__ import annotations

from ._artifact import ToxicityModel, default_model_path, load, save
from ._casebook import load as load_casebook
from ._evaluate import markdown_table, scores
from ._params import TrainingParams, load_params
from ._score import (
    PLACEMENTS,
    VERDICTS,
    featurize,
    judge,
    score,
    score_one,
    scored_table,
    scoring_features,
    thresholds,
)
from ._synth import write as write_seed_data
from ._tracking import log_model, set_alias
from ._train import (
    TrainResult,
    fit_model,
    labelled_links,
    split_by_site,
    train,
)
from ._validation import folds as site_folds
from ._views import apply_views

__all__ = [
    "PLACEMENTS", "VERDICTS", "ToxicityModel", "TrainResult", "TrainingParams", "apply_views", "default_model_path", "featurize",
    "fit_model", "judge", "labelled_links", "load", "load_casebook", "load_params", "log_model", "markdown_table", "save",
    "score", "score_one", "scored_table", "scoring_features", "scores", "set_alias", "site_folds", "split_by_site", "thresholds", "train",
    "write_seed_data",
]

# Pickled models name the class by its public home, so moving a private module never breaks one.
ToxicityModel.__module__ = __name__
