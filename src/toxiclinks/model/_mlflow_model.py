"""MLflow "model from code": the pyfunc wrapper logged with every trained toxiclinks model.

MLflow executes this file when it loads the model (never imported by toxiclinks itself), so generic
MLflow tooling (``mlflow models predict``, ``pyfunc.load_model``) can score links. toxiclinks
itself always loads the native pipeline (:func:`toxiclinks.model.load`), without the wrapper's
per-call conversions.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ToxiclinksPyfunc(PythonModel):
    """Canonical links in, ``toxicity`` (0-100) out."""

    def load_context(self, context) -> None:
        from toxiclinks.model import load

        self.model = load(Path(context.artifacts["model"]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        proba = self.model.predict_proba(model_input)
        return pd.DataFrame({"toxicity": (proba * 100).round(1)})


mlflow.models.set_model(ToxiclinksPyfunc())
